"""The relay image definition (relay/Dockerfile; no Docker engine here: parsed and checked), and the
entrypoint run as the image runs it: numeric user 10001 whose only writable path is the run directory.

CONTRACTS.md fixes the interface i15 deploys: Debian base pinned by digest, Debian's coturn, user
10001, read-only root filesystem with /run/kakoi-turn the only writable path, the committed
turnserver.conf, TURN_* environment, health = TCP connect to TURN_LISTEN_PORT.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from components.contract import contract

RELAY = Path(__file__).resolve().parents[1] / "relay"


def instructions() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    current = ""
    for raw in (RELAY / "Dockerfile").read_text().splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        line = current + raw.strip()
        current = ""
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def test_bof2_relay_base_image_is_debian_pinned_by_digest():
    """BOF-2: one stage, debian:bookworm-slim pinned by sha256 digest; coturn pinned to the version the config was proven with."""
    args = dict(rest.split("=", 1) for kw, rest in instructions() if kw == "ARG")
    froms = [rest for kw, rest in instructions() if kw == "FROM"]
    assert froms == ["${DEBIAN_IMAGE}"]
    assert re.fullmatch(r"debian:bookworm-slim@sha256:[0-9a-f]{64}", args["DEBIAN_IMAGE"])
    runs = " ".join(rest for kw, rest in instructions() if kw == "RUN")
    assert "coturn=4.6.1-1" in runs and "--no-install-recommends" in runs and "/var/lib/apt/lists" in runs


def test_cmd1_relay_runs_as_10001_with_only_the_run_directory_writable():
    """CMD-1: numeric non-root user 10001; /run/kakoi-turn is the one volume; exec-form entrypoint; the committed config is used."""
    ins = instructions()
    assert [rest for kw, rest in ins if kw == "USER"] == [contract.APP_USER]
    assert [json.loads(rest) for kw, rest in ins if kw == "VOLUME"] == [["/run/kakoi-turn"]]
    assert [json.loads(rest) for kw, rest in ins if kw == "ENTRYPOINT"] == [["/usr/local/bin/kakoi-turn"]]
    env = " ".join(rest for kw, rest in ins if kw == "ENV")
    assert "TURN_CONFIG=/etc/kakoi-turn/turnserver.conf" in env and "TURN_RUN_DIR=/run/kakoi-turn" in env and "TURN_LISTEN_PORT=5349" in env
    copies = [rest for kw, rest in ins if kw == "COPY"]
    assert copies == [
        "--chmod=0444 turnserver.conf /etc/kakoi-turn/turnserver.conf",
        "--chmod=0555 entrypoint.sh /usr/local/bin/kakoi-turn",
    ]
    assert [rest for kw, rest in ins if kw == "EXPOSE"] == ["5349/tcp"]
    for kw, rest in ins:
        if kw == "RUN":
            json.loads(rest)  # exec form


def test_cmd1_the_entrypoint_works_as_uid_10001_writing_only_its_run_directory():
    """The image's conditions, without an engine: uid/gid 10001 (no passwd entry, no supplementary groups), the
    config and entrypoint read-only, the run directory the only place it may write; the listener answers TLS 1.3."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.fail("this test switches to uid 10001 with setpriv (util-linux): run the suite as root, as CI does")
    base = Path(tempfile.mkdtemp(prefix="kakoi-relay-image-"))
    base.chmod(0o711)
    # As in the image: config and entrypoint owned by root, read-only for the relay's user.
    conf, entrypoint = base / "turnserver.conf", base / "kakoi-turn"
    shutil.copy(RELAY / "turnserver.conf", conf)
    shutil.copy(RELAY / "entrypoint.sh", entrypoint)
    conf.chmod(0o444)
    entrypoint.chmod(0o555)
    run_dir = base / "run"
    run_dir.mkdir()
    os.chown(run_dir, 10001, 10001)
    run_dir.chmod(0o700)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "TURN_CONFIG": str(conf),
        "TURN_RUN_DIR": str(run_dir),
        "TURN_SECRET": "s" * 40,
        "TURN_REALM": "turn.kakoi.test",
        "TURN_LISTEN_PORT": str(port),
        "TURN_LISTEN_IP": "127.0.0.1",
        "TURN_RELAY_IP": "127.0.0.1",
        "TURN_MIN_PORT": "31000",
        "TURN_MAX_PORT": "31010",
        "TURN_ALLOWED_PEER_CIDRS": "10.0.64.0/20",
    }
    before = {p for p in Path("/tmp").iterdir()}
    process = subprocess.Popen(
        ["setpriv", "--reuid", "10001", "--regid", "10001", "--clear-groups", str(entrypoint)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the self-signed pair the entrypoint made (behind a re-encrypting LB)
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as raw, context.wrap_socket(raw) as tls:
                    assert tls.version() == "TLSv1.3"
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode() if process.stdout else ""
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)
    written = {p.name for p in run_dir.iterdir()}
    assert {p.name for p in base.iterdir()} == {"turnserver.conf", "kakoi-turn", "run"}
    assert {"turnserver.conf", "tls.crt", "tls.key"} <= written
    assert all(p.stat().st_uid == 10001 for p in run_dir.iterdir())
    assert {p for p in Path("/tmp").iterdir() if p.stat().st_uid == 10001 and p not in before} == set()
    shutil.rmtree(base)
