"""A minimal TURN client over TLS (RFC 5389 STUN framing, RFC 5766 Allocate and CreatePermission,
long-term credentials with MESSAGE-INTEGRITY), enough to ask the relay questions and read its
answers (success, 401, 403) exactly. CreatePermission sends nothing to the peer: it only asks the
relay whether it would relay to that address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import socket
import ssl
import struct
from dataclasses import dataclass, field

MAGIC = 0x2112A442
ALLOCATE, CREATE_PERMISSION, BINDING = 0x003, 0x008, 0x001
SUCCESS, ERROR = 0x100, 0x110
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, XOR_PEER_ADDRESS = 0x0006, 0x0008, 0x0009, 0x0012
REALM, NONCE, REQUESTED_TRANSPORT, XOR_RELAYED_ADDRESS = 0x0014, 0x0015, 0x0019, 0x0016


@dataclass
class Answer:
    cls: int
    method: int
    attributes: dict[int, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.cls == SUCCESS

    @property
    def error(self) -> int | None:
        value = self.attributes.get(ERROR_CODE)
        return None if value is None else value[2] * 100 + value[3]


def _attr(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def encode(method: int, attributes: list[tuple[int, bytes]], key: bytes | None = None, transaction: bytes | None = None) -> bytes:
    transaction = transaction or os.urandom(12)
    body = b"".join(_attr(k, v) for k, v in attributes)
    if key is not None:
        header = struct.pack("!HHI", method, len(body) + 24, MAGIC) + transaction
        mac = hmac.new(key, header + body, hashlib.sha1).digest()
        body += _attr(MESSAGE_INTEGRITY, mac)
    return struct.pack("!HHI", method, len(body), MAGIC) + transaction + body


def decode(data: bytes) -> Answer:
    kind, _length, _magic = struct.unpack("!HHI", data[:8])
    attributes: dict[int, bytes] = {}
    offset = 20
    while offset + 4 <= len(data):
        attr, size = struct.unpack("!HH", data[offset : offset + 4])
        attributes.setdefault(attr, data[offset + 4 : offset + 4 + size])
        offset += 4 + size + (-size % 4)
    return Answer(cls=kind & 0x110, method=kind & ~0x110 & 0x3FFF, attributes=attributes)


def xor_address(address: str, port: int, transaction: bytes) -> bytes:
    ip = ipaddress.ip_address(address)
    xport = port ^ (MAGIC >> 16)
    if ip.version == 4:
        return struct.pack("!BBH", 0, 1, xport) + struct.pack("!I", int(ip) ^ MAGIC)
    mask = int.from_bytes(struct.pack("!I", MAGIC) + transaction, "big")
    return struct.pack("!BBH", 0, 2, xport) + (int(ip) ^ mask).to_bytes(16, "big")


class TurnClient:
    """One TLS connection to the relay, with the long-term credential mechanism."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext, username: str, password: str) -> None:
        raw = socket.create_connection((host, port), timeout=10)
        self.sock = context.wrap_socket(raw, server_hostname=host)
        self.username, self.password = username, password
        self.realm = b""
        self.nonce = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> TurnClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the relay closed the connection")
            data += chunk
        return data

    def exchange(self, message: bytes) -> Answer:
        self.sock.sendall(message)
        header = self._read(20)
        (length,) = struct.unpack("!H", header[2:4])
        return decode(header + self._read(length))

    def _key(self) -> bytes:
        return hashlib.md5(f"{self.username}:{self.realm.decode()}:{self.password}".encode()).digest()

    def request(self, method: int, attributes: list[tuple[int, bytes]], transaction: bytes | None = None) -> Answer:
        """An authenticated request; learns realm and nonce from the first 401 (or a 438 stale nonce)."""
        answer = Answer(cls=ERROR, method=method)
        for _ in range(3):
            if not self.nonce:
                answer = self.exchange(encode(method, attributes, transaction=transaction))
            else:
                auth = [(USERNAME, self.username.encode()), (REALM, self.realm), (NONCE, self.nonce)]
                answer = self.exchange(encode(method, attributes + auth, key=self._key(), transaction=transaction))
            if answer.error in (401, 438) and NONCE in answer.attributes and (not self.nonce or answer.error == 438):
                self.realm, self.nonce = answer.attributes.get(REALM, self.realm), answer.attributes[NONCE]
                continue
            return answer
        return answer

    def allocate(self) -> Answer:
        return self.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))])

    def create_permission(self, address: str, port: int = 9) -> Answer:
        transaction = os.urandom(12)
        return self.request(CREATE_PERMISSION, [(XOR_PEER_ADDRESS, xor_address(address, port, transaction))], transaction=transaction)
