"""A private TURN relay for tests: relay/entrypoint.sh with the repository's turnserver.conf, on a
free port of 127.0.0.1, with a certificate from a throw-away local CA (relay/local-ca.sh).

The relay address is 127.0.0.1 here, so the run allows loopback peers and names 127.0.0.1 as the
allowed peer range (TURN_ALLOW_LOOPBACK_PEERS, TURN_ALLOWED_PEER_CIDRS) - the local equivalents of
the relay subnet in production; everything else private stays denied.
"""

from __future__ import annotations

import os
import secrets
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RELAY = REPO / "relay"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def free_port_range(size: int) -> tuple[int, int]:
    """A run of `size` ports that were free a moment ago (relay ports), away from the usual ephemeral range start."""
    for _ in range(50):
        start = 20000 + secrets.randbelow(8000)
        ok = True
        for port in range(start, start + size):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind((HOST, port))
                except OSError:
                    ok = False
                    break
        if ok:
            return start, start + size - 1
    raise RuntimeError("no free relay port range")


@dataclass
class Relay:
    port: int
    secret: str
    realm: str
    ca: Path
    directory: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] | None = None

    def kill(self) -> None:
        """SIGKILL: the relay task vanishes (no goodbye to its clients), as when a task is replaced abruptly."""
        self.process.kill()
        self.process.wait(timeout=10)

    def restart(self) -> None:
        """Start the relay again: same port, secret, certificate and relay range (a replacement task behind the same name)."""
        if self.process.poll() is None:
            self.kill()
        with (self.directory / "turn.log").open("ab") as log:
            self.process = subprocess.Popen([str(RELAY / "entrypoint.sh")], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_for_tls(self.port, self.directory / "ca" / "ca.crt")

    @property
    def url(self) -> str:
        return f"turns:{HOST}:{self.port}?transport=tcp"

    def log(self) -> str:
        return (self.directory / "turn.log").read_text(errors="replace")

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        return context


def wait_for_tls(port: int, ca: Path, timeout: float = 20) -> None:
    context = ssl.create_default_context(cafile=str(ca))
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=2) as raw, context.wrap_socket(raw, server_hostname=HOST):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def relay_server(secret: str | None = None, *, user_quota: int = 12) -> Iterator[Relay]:
    """Start the relay; stop it (and remove its files) afterwards."""
    secret = secret or secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="kakoi-turn-") as tmp:
        directory = Path(tmp)
        subprocess.run([str(RELAY / "local-ca.sh"), str(directory / "ca")], check=True)
        port = free_port()
        low, high = free_port_range(40)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TURN_RUN_DIR": str(directory / "run"),
            "TURN_SECRET": secret,
            "TURN_REALM": "kakoi.test",
            "TURN_LISTEN_PORT": str(port),
            "TURN_LISTEN_IP": HOST,
            "TURN_RELAY_IP": HOST,
            "TURN_MIN_PORT": str(low),
            "TURN_MAX_PORT": str(high),
            "TURN_ALLOWED_PEER_CIDRS": f"{HOST}/32",
            "TURN_ALLOW_LOOPBACK_PEERS": "true",
            "TURN_TLS_CERT": str(directory / "ca" / "tls.crt"),
            "TURN_TLS_KEY": str(directory / "ca" / "tls.key"),
            "TURN_USER_QUOTA": str(user_quota),
            "TURN_TOTAL_QUOTA": "100",
        }
        log = (directory / "turn.log").open("wb")
        process = subprocess.Popen([str(RELAY / "entrypoint.sh")], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                wait_for_tls(port, directory / "ca" / "ca.crt")
            except OSError:
                raise RuntimeError(f"the relay did not start:\n{(directory / 'turn.log').read_text(errors='replace')[-3000:]}") from None
            relay = Relay(
                port=port, secret=secret, realm="kakoi.test", ca=directory / "ca" / "ca.crt", directory=directory, process=process, env=env
            )
            try:
                yield relay
            finally:
                process = relay.process  # the restarted one, if the test restarted it
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
