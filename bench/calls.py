"""Live-call benchmark (`make bench-app`, after bench.app): connect time, relay CPU, signalling rate.

    python -m bench.calls [--calls 5] [--call-seconds 20] [--rooms 25] [--signal-seconds 15] [--keep-db]

Set-up: a throw-away database (KAKOI_BENCH_CALLS_DB, default `kakoi_bench_calls`) with the roles and
migrations, one company with members and rooms and signed-in sessions; the relay from the repository
(relay/entrypoint.sh + turnserver.conf, local CA) on free ports; gunicorn with ONE uvicorn worker
(bench/calls_settings.py: production settings, but plain http on 127.0.0.1 so a browser can sign in).

1. Connect time: two headless Chromium pages (fake camera and microphone, the CA trusted through an
   NSS database) join the lobby; the time from the second page's join click until both peer
   connections are `connected` (TURN/TLS allocations, ICE through the relay, DTLS), for several calls.
2. Relay CPU per call: turnserver's CPU time (utime+stime from /proc) during a call of
   --call-seconds with audio and 640x480 video both ways, minus the idle rate, as a share of one core.
3. Signalling messages per second per worker: --rooms rooms with a sender and a receiver each (the
   websockets client, in this process); every sender sends candidate messages just under the
   per-socket rate limit; delivered messages per second and the worker's CPU share give the rate one
   worker sustains at full CPU.

Figures go to stdout and build/bench-calls/results.json. Not part of the tests.
"""

# app/ is put on sys.path at run time (below), not in pyright's search path.
# pyright: reportMissingImports=false

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
OUT = ROOT / "build" / "bench-calls"
for path in (APP, APP / "tests", APP / "tests" / "browser"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench.app import Database, django_env, free_port, run_django, wait_ready  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PASSWORD = "bench calls horse battery 7"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# --- inner: seed (Django set up, as kakoi_web) ---------------------------------------------------


def seed(rooms: int) -> dict[str, Any]:
    import django

    django.setup()
    from accounts.models import Role, User, UserSession
    from accounts.sessions import AUTH_AT_KEY, BACKEND, SEEN_AT_KEY
    from calls.models import Room
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from tenancy.db import tenant_context
    from tenancy.models import Company

    company_id = uuid.uuid4()
    sessions: list[str] = []
    with tenant_context(company_id):
        company = Company.objects.create(pk=company_id, name="Bench calls")
        lobby = Room.objects.get(company=company, is_lobby=True)
        room_ids = [str(Room.objects.create(company=company, name=f"Room {n}").pk) for n in range(rooms)]
        for n in range(2 * rooms):
            user = User.objects.create_user(f"caller{n}@kakoi.bench", PASSWORD, company=company, role=Role.MEMBER, name=f"Caller {n}")
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = BACKEND
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session[AUTH_AT_KEY] = session[SEEN_AT_KEY] = int(time.time())
            session.create()
            UserSession.objects.create(company=company, user=user, session_key=session.session_key)
            sessions.append(str(session.session_key))
    return {"lobby": str(lobby.pk), "rooms": room_ids, "sessions": sessions, "emails": ["caller0@kakoi.bench", "caller1@kakoi.bench"]}


# --- 1 + 2: browser calls -----------------------------------------------------------------------


def browser_calls(origin: str, relay: Any, seeded: dict[str, Any], calls: int, call_seconds: float) -> dict[str, Any]:
    from call_page import CALL_ARGS, CHROMIUM_BINARY, INSTRUMENT, STATS
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="kakoi-bench-chromium-"))
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-A", "-n", "kakoi-bench-ca", "-t", "C,,", "-i", str(relay.ca)], check=True)
    launch_env: dict[str, str | float | bool] = {**os.environ, "HOME": str(home)}
    connect_times: list[float] = []
    cpu_share = idle_share = 0.0
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM_BINARY, args=CALL_ARGS, env=launch_env)

            def page_for(email: str) -> Any:
                context = browser.new_context()
                context.add_init_script(INSTRUMENT)
                page = context.new_page()
                page.set_default_timeout(30_000)
                page.goto(f"{origin}/login/")
                page.fill("input[name=email]", email)
                page.fill("input[name=password]", PASSWORD)
                page.click("main button[type=submit]")
                page.wait_for_url(f"{origin}/")
                page.goto(f"{origin}/calls/{seeded['lobby']}/")
                page.wait_for_selector("#call-join:not([disabled])")
                return context, page

            def connected(page: Any) -> bool:
                stats = page.evaluate(STATS)
                return bool(stats) and all(s["state"] == "connected" for s in stats)

            for n in range(calls):
                (ca, a), (cb, b) = page_for(seeded["emails"][0]), page_for(seeded["emails"][1])
                a.click("#call-join")
                a.locator("#call-status", has_text="only one").wait_for()
                started = time.perf_counter()
                b.click("#call-join")
                while not (connected(a) and connected(b)):
                    if time.perf_counter() - started > 30:
                        raise SystemExit("a call did not connect within 30 s")
                    a.wait_for_timeout(20)
                connect_times.append(time.perf_counter() - started)
                print(f"   call {n + 1}: connected in {connect_times[-1]:.2f} s", flush=True)
                if n == calls - 1:
                    cpu_before, wall_before = cpu_seconds(relay.process.pid), time.monotonic()
                    a.wait_for_timeout(call_seconds * 1000)
                    cpu_share = (cpu_seconds(relay.process.pid) - cpu_before) / (time.monotonic() - wall_before)
                ca.close()
                cb.close()
            browser.close()
        cpu_before, wall_before = cpu_seconds(relay.process.pid), time.monotonic()
        time.sleep(5)
        idle_share = (cpu_seconds(relay.process.pid) - cpu_before) / (time.monotonic() - wall_before)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {
        "connect_seconds": {
            "median": statistics.median(connect_times),
            "max": max(connect_times),
            "all": [round(t, 3) for t in connect_times],
        },
        "relay_cpu_per_call_percent_of_one_core": round(100 * max(0.0, cpu_share - idle_share), 2),
        "relay_cpu_idle_percent": round(100 * idle_share, 2),
    }


# --- 3: signalling rate ----------------------------------------------------------------------------


async def signalling(port: int, seeded: dict[str, Any], seconds: float, worker_pid: int, rate: float) -> dict[str, Any]:
    import websockets
    from calls import protocol  # pyright: ignore[reportAttributeAccessIssue]  (app/ is on sys.path at run time)

    origin = f"http://127.0.0.1:{port}"
    url = f"ws://127.0.0.1:{port}/ws/calls/"
    rate = min(rate, protocol.RATE_PER_SECOND * 0.9)
    received = 0
    sent = 0

    async def connect(session: str) -> Any:
        ws = await websockets.connect(url, origin=origin, additional_headers={"Cookie": f"__Host-sessionid={session}"}, max_size=2**20)  # type: ignore[arg-type]
        assert json.loads(await ws.recv())["type"] == "turn"
        return ws

    async def next_of(ws: Any, kind: str) -> dict[str, Any]:
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message

    pairs = []
    for n, room in enumerate(seeded["rooms"]):
        sender, receiver = await connect(seeded["sessions"][2 * n]), await connect(seeded["sessions"][2 * n + 1])
        await sender.send(json.dumps({"type": "join", "room": room}))
        await next_of(sender, "joined")
        await receiver.send(json.dumps({"type": "join", "room": room}))
        target = (await next_of(receiver, "joined"))["self"]["id"]
        await next_of(sender, "peer-joined")
        pairs.append((sender, receiver, target))
    candidate = {
        "kind": "candidate",
        "candidate": {
            "candidate": "candidate:1 1 udp 2 127.0.0.1 40000 typ relay raddr 0.0.0.0 rport 0",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
        },
    }
    stop = time.monotonic() + seconds

    async def send_loop(ws: Any, target: str) -> None:
        nonlocal sent
        message = json.dumps({"type": "signal", "to": target, "data": candidate})
        next_at = time.monotonic()
        while time.monotonic() < stop:
            await ws.send(message)
            sent += 1
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def receive_loop(ws: Any) -> None:
        nonlocal received
        while time.monotonic() < stop + 2:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=max(0.1, stop + 2 - time.monotonic())))
            except TimeoutError:
                return
            if message["type"] == "signal":
                received += 1

    cpu_before, wall_before, client_before = cpu_seconds(worker_pid), time.monotonic(), time.process_time()
    await asyncio.gather(*(send_loop(s, t) for s, _r, t in pairs), *(receive_loop(r) for _s, r, _t in pairs))
    elapsed = time.monotonic() - wall_before
    worker_share = (cpu_seconds(worker_pid) - cpu_before) / elapsed
    client_share = (time.process_time() - client_before) / elapsed
    for sender, receiver, _ in pairs:
        await sender.close()
        await receiver.close()
    return {
        "sockets": 2 * len(pairs),
        "sent": sent,
        "delivered": received,
        "delivered_per_second": round(received / seconds, 1),
        "per_sender_rate": rate,
        "worker_cpu_percent_of_one_core": round(100 * worker_share, 1),
        "load_client_cpu_percent_of_one_core": round(100 * client_share, 1),
        "worker_cpu_ms_per_message": round(1000 * worker_share * elapsed / received, 3) if received else None,
        "messages_per_second_per_worker_at_full_cpu": round((received / seconds) / worker_share) if worker_share > 0 else None,
    }


# --- orchestration -------------------------------------------------------------------------------


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "seed"])
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--call-seconds", type=float, default=20)
    parser.add_argument("--rooms", type=int, default=25)
    parser.add_argument("--signal-seconds", type=float, default=15)
    parser.add_argument("--rate", type=float, default=10, help="signal messages per second per sender (under the per-socket limit)")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if args.command == "seed":
        print(json.dumps(seed(args.rooms)))
        return 0

    from relay_servers import relay_server

    OUT.mkdir(parents=True, exist_ok=True)
    db = Database(os.environ.get("KAKOI_BENCH_CALLS_DB", "kakoi_bench_calls"))
    secret = uuid.uuid4().hex + uuid.uuid4().hex
    print(f"== bench database {db.admin.dbname}: roles, migrations (as kakoi_owner), members, rooms, sessions", flush=True)
    owner_password, web_password = db.recreate()
    try:
        with relay_server(user_quota=50) as relay:
            os.environ["KAKOI_BENCH_TURN_URL"], os.environ["KAKOI_BENCH_TURN_SECRET"] = relay.url, relay.secret
            env_args = {"dbname": db.admin.dbname, "secret": secret, "static_root": OUT / "static"}
            owner_env = django_env(user="kakoi_owner", password=owner_password, **env_args)
            owner_env["DJANGO_SETTINGS_MODULE"] = "bench.calls_settings"
            run_django(owner_env, "manage.py", "migrate", "--noinput", "--verbosity", "0")
            run_django(owner_env, "manage.py", "collectstatic", "--noinput", "--verbosity", "0")
            web_env = django_env(user="kakoi_web", password=web_password, **env_args)
            web_env["DJANGO_SETTINGS_MODULE"] = "bench.calls_settings"
            seeded = json.loads(run_django(web_env, "-m", "bench.calls", "seed", "--rooms", str(args.rooms)).strip().splitlines()[-1])
            port = free_port()
            cmd = [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "python:kakoi.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ]
            with (OUT / "gunicorn.log").open("w") as log:
                server = subprocess.Popen([*cmd, "kakoi.asgi:application"], cwd=APP, env=web_env, stdout=log, stderr=subprocess.STDOUT)
                try:
                    wait_ready(port)
                    origin = f"http://127.0.0.1:{port}"
                    print(f"== relay on {relay.url}; gunicorn (1 uvicorn worker) on {origin}", flush=True)
                    print(f"== {args.calls} browser calls (connect time), the last held {args.call_seconds:.0f} s (relay CPU)", flush=True)
                    results: dict[str, Any] = browser_calls(origin, relay, seeded, args.calls, args.call_seconds)
                    print(
                        f"== signalling: {args.rooms} rooms x (sender, receiver), {args.rate:g} messages/s per sender, {args.signal_seconds:.0f} s",
                        flush=True,
                    )
                    results["signalling"] = asyncio.run(signalling(port, seeded, args.signal_seconds, worker_pid(server.pid), args.rate))
                finally:
                    server.terminate()
                    server.wait(timeout=30)
    finally:
        if not args.keep_db:
            db.drop()
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    c, s = results["connect_seconds"], results["signalling"]
    print("== results (build/bench-calls/results.json)")
    print(f"   call connect time: median {c['median']:.2f} s, max {c['max']:.2f} s over {len(c['all'])} calls")
    print(
        f"   relay CPU per audio+video call: {results['relay_cpu_per_call_percent_of_one_core']} % of one core (idle {results['relay_cpu_idle_percent']} %)"
    )
    print(
        f"   signalling: {s['delivered']} of {s['sent']} sent delivered ({s['delivered_per_second']}/s) with the worker at"
        f" {s['worker_cpu_percent_of_one_core']} % of one core ({s['worker_cpu_ms_per_message']} ms CPU per message)"
        f" -> about {s['messages_per_second_per_worker_at_full_cpu']} messages/s per worker at full CPU ({s['sockets']} sockets;"
        f" load client at {s['load_client_cpu_percent_of_one_core']} %)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
