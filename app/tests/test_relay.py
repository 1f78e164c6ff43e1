"""The TURN relay as the repository configures it (relay/turnserver.conf through relay/entrypoint.sh),
asked directly (ENC-1, AUTHZ-2): its one listener speaks TLS 1.3 only; there is no plain TCP, UDP or
DTLS service; credentials are the app's TURN REST credentials, and an expired or forged one is
refused; a permission toward a private, loopback, link-local or metadata address is refused while
the relay range itself is allowed. A private relay on free ports per module (relay_servers.py);
no packet is sent to any of the refused addresses (CreatePermission only asks the relay).
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from calls import turn
from django.test import override_settings
from relay_servers import HOST, RELAY, Relay, relay_server
from turn_client import BINDING, TurnClient, encode

USER = uuid.uuid4()


@pytest.fixture(scope="module")
def relay() -> Iterator[Relay]:
    with relay_server() as server:
        yield server


def credentials(relay: Relay, *, secret: str | None = None, now: float | None = None, ttl: int = 600) -> tuple[str, str]:
    with override_settings(KAKOI_TURN_SECRET=secret or relay.secret, KAKOI_TURN_URLS=[relay.url], KAKOI_TURN_CREDENTIAL_TTL_SECONDS=ttl):
        server = turn.ice_servers(USER, now=now)["iceServers"][0]
    return server["username"], server["credential"]


def client(relay: Relay, username: str, password: str) -> TurnClient:
    return TurnClient(HOST, relay.port, relay.tls_context(), username, password)


def test_enc1_the_listener_refuses_tls12(relay: Relay):
    """ENC-1: a client that offers at most TLS 1.2 is refused (protocol version alert)."""
    context = ssl.create_default_context(cafile=str(relay.ca))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection((HOST, relay.port), timeout=5) as raw, pytest.raises(ssl.SSLError) as refused:
        context.wrap_socket(raw, server_hostname=HOST)
    assert "PROTOCOL_VERSION" in str(refused.value).upper() or "VERSION" in str(refused.value).upper(), refused.value


def test_enc1_the_listener_accepts_tls13_with_the_relays_certificate(relay: Relay):
    """ENC-1: TLS 1.3 connects, and the certificate verifies for the relay's name (the browser checks it too)."""
    context = ssl.create_default_context(cafile=str(relay.ca))
    with socket.create_connection((HOST, relay.port), timeout=5) as raw, context.wrap_socket(raw, server_hostname=HOST) as tls:
        assert tls.version() == "TLSv1.3"


def test_enc1_no_plain_tcp_or_udp_stun_service(relay: Relay):
    """ENC-1: a STUN request in clear over TCP or UDP to the relay's port gets no STUN answer."""
    request = encode(BINDING, [])
    with socket.create_connection((HOST, relay.port), timeout=3) as plain:
        plain.sendall(request)
        try:
            answer = plain.recv(1024)
        except (TimeoutError, ConnectionResetError):
            answer = b""
    assert not answer.startswith(b"\x01\x01"), "a STUN success over plain TCP"
    assert answer == b"" or answer[:1] == b"\x15", answer[:8]  # nothing, or a TLS alert record
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(1.5)
        udp.sendto(request, (HOST, relay.port))
        with pytest.raises((TimeoutError, ConnectionRefusedError)):
            udp.recvfrom(1024)


def test_enc1_the_generated_config_has_only_the_tls_listener(relay: Relay):
    """ENC-1: the configuration coturn runs with disables every other listener and every protocol below TLS 1.3."""
    conf = (relay.directory / "run" / "turnserver.conf").read_text()
    lines = {line.strip() for line in conf.splitlines() if line.strip() and not line.startswith("#")}
    assert {
        "no-udp",
        "no-tcp",
        "no-dtls",
        "no-tlsv1",
        "no-tlsv1_1",
        "no-tlsv1_2",
        "no-cli",
        "no-multicast-peers",
        "use-auth-secret",
    } <= lines
    assert f"tls-listening-port={relay.port}" in lines and "alt-tls-listening-port=0" in lines
    assert not any(line.startswith(("listening-port", "alt-listening-port", "web-admin", "prometheus", "cli-")) for line in lines)
    assert oct((relay.directory / "run" / "turnserver.conf").stat().st_mode & 0o777) == "0o600"


def test_authz2_the_apps_credentials_allocate(relay: Relay):
    """AUTHZ-2: a credential made by the app (calls.turn) allocates a relay address over TLS 1.3."""
    username, password = credentials(relay)
    assert username.endswith(f":{USER}") and int(username.split(":")[0]) > time.time()
    with client(relay, username, password) as turn_client:
        answer = turn_client.allocate()
        assert answer.ok, answer
        assert turn_client.sock.version() == "TLSv1.3"


def test_authz2_an_expired_credential_is_refused(relay: Relay):
    """AUTHZ-2: a credential whose expiry has passed gets 401."""
    username, password = credentials(relay, now=time.time() - 3600, ttl=60)
    with client(relay, username, password) as turn_client:
        assert turn_client.allocate().error == 401


def test_authz2_a_forged_credential_is_refused(relay: Relay):
    """AUTHZ-2: a credential signed with another secret, or a username changed after signing, gets 401."""
    username, password = credentials(relay, secret="not-the-relays-secret-" + "x" * 20)
    with client(relay, username, password) as turn_client:
        assert turn_client.allocate().error == 401
    username, password = credentials(relay)
    forged = username.split(":")[0] + ":" + str(uuid.uuid4())
    with client(relay, forged, password) as turn_client:
        assert turn_client.allocate().error == 401


REFUSED_PEERS = [
    "10.0.0.5",  # VPC
    "172.16.3.4",
    "192.168.1.1",
    "100.64.0.1",  # shared address space
    "169.254.169.254",  # instance metadata (IMDS)
    "169.254.170.2",  # ECS task metadata / credentials endpoint
    "127.0.0.2",  # loopback outside the allowed relay address
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "255.255.255.255",
    "::1",
    "fd00:ec2::254",  # IMDS over IPv6
    "fe80::1",
    "::ffff:10.0.0.5",  # IPv4-mapped private
]


@pytest.mark.parametrize("peer", REFUSED_PEERS)
def test_authz2_a_permission_to_a_private_loopback_or_metadata_address_is_refused(relay: Relay, peer: str):
    """AUTHZ-2 (the relay is not a way into the VPC): CreatePermission toward the address answers 403."""
    username, password = credentials(relay)
    with client(relay, username, password) as turn_client:
        assert turn_client.allocate().ok
        answer = turn_client.create_permission(peer)
        # 403 Forbidden IP; an IPv6 peer of this IPv4-only relay is refused earlier, 443 (address family mismatch).
        assert not answer.ok and answer.error in ((403, 443) if ":" in peer else (403,)), (peer, answer)


def test_authz2_a_permission_within_the_relay_range_is_granted(relay: Relay):
    """The control: the allowed relay range (127.0.0.1 here, the relay subnets in AWS) is granted, so calls work."""
    username, password = credentials(relay)
    with client(relay, username, password) as turn_client:
        assert turn_client.allocate().ok
        assert turn_client.create_permission(HOST).ok


def _entrypoint(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TURN_RUN_DIR": str(tmp_path / "run")}
    return subprocess.run([str(RELAY / "entrypoint.sh"), "--version"], env={**base, **env}, capture_output=True, text=True, timeout=30)


GOOD_ENV = {"TURN_SECRET": "s" * 40, "TURN_REALM": "turn.kakoi.example", "TURN_ALLOWED_PEER_CIDRS": "10.0.64.0/20, 10.0.80.0/20"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"TURN_SECRET": ""}, "TURN_SECRET"),
        ({"TURN_SECRET": "short"}, "at least 32"),
        ({"TURN_REALM": ""}, "TURN_REALM"),
        ({"TURN_ALLOWED_PEER_CIDRS": ""}, "TURN_ALLOWED_PEER_CIDRS"),
        ({"TURN_ALLOWED_PEER_CIDRS": "10.0.0.0/33"}, "prefix length"),
        ({"TURN_ALLOWED_PEER_CIDRS": "fd00::/64"}, "IPv4"),
        ({"TURN_LISTEN_PORT": "http"}, "TURN_LISTEN_PORT"),
        ({"TURN_LISTEN_PORT": "49200"}, "outside the relay range"),
        ({"TURN_MIN_PORT": "50000", "TURN_MAX_PORT": "40000"}, "TURN_MAX_PORT"),
    ],
)
def test_entrypoint_refuses_bad_configuration_naming_the_variable(tmp_path: Path, change: dict[str, str], message: str):
    result = _entrypoint({**GOOD_ENV, **change}, tmp_path)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_entrypoint_allows_exactly_the_relay_range_and_generates_a_key_pair(tmp_path: Path):
    """The allowed peer ranges are exactly TURN_ALLOWED_PEER_CIDRS; without TURN_TLS_CERT a self-signed pair is made
    in the run directory; loopback peers stay off unless asked for (never in the image)."""
    result = _entrypoint(GOOD_ENV, tmp_path)
    assert result.returncode == 0, result.stderr
    conf = (tmp_path / "run" / "turnserver.conf").read_text()
    allowed = [line for line in conf.splitlines() if line.startswith("allowed-peer-ip")]
    assert allowed == ["allowed-peer-ip=10.0.64.0-10.0.79.255", "allowed-peer-ip=10.0.80.0-10.0.95.255"]
    assert "allow-loopback-peers" not in conf and "static-auth-secret=" + "s" * 40 in conf
    assert (tmp_path / "run" / "tls.crt").exists() and oct((tmp_path / "run" / "tls.key").stat().st_mode & 0o777) == "0o600"
    assert "min-port=49152" in conf and "max-port=49407" in conf and "tls-listening-port=5349" in conf
