"""App benchmark (`make bench-app`): the cost of row-level security, and of presigning an upload.

    python -m bench.app [--requests 500] [--concurrency 4] [--rounds 6] [--workers 2] [--keep-db]

1. Row-level security. A throw-away database (KAKOI_BENCH_DB, default `kakoi_bench`; never the
   dev database `kakoi`) on the local PostgreSQL gets the roles (core.dbroles, as
   `ensure_db_roles` does), the migrations (as kakoi_owner) and data: 20 companies with one
   member and 200 ready recordings each. gunicorn serves the app with production settings
   (bench/app_settings.py: production.py with the database TLS switched off for loopback) as
   kakoi_web, on 127.0.0.1. A separate load process (http.client, one connection per thread)
   sends signed-in `GET /media/` requests with the headers the load balancer adds
   (X-Forwarded-Proto: https, X-Forwarded-For) and measures requests per second and latency.
   The same requests run with the RLS policies in force and with them switched off
   (ALTER TABLE ... NO FORCE / DISABLE ROW LEVEL SECURITY on every tenant table of the bench
   database), alternating, several rounds each. The queries are identical in both modes (the
   app filters by tenant itself too), so the difference is the policies' cost. Goal: RLS costs
   under 5 % of throughput. The state of RLS is verified before each round (as kakoi_web with no
   tenant: no rows when on, all rows when off).
2. Presigning. CPU time (time.process_time) of media.objects.presign_upload, i.e.
   boto3's generate_presigned_post with the app's conditions, for a 1 KiB and for the largest
   allowed file, interleaved. Goal: the same for both (presigning signs a policy; it never
   touches the file), within 5 %.

Not part of the tests: speed goals live here. Requires the local PostgreSQL superuser
(KAKOI_BENCH_DB_ADMIN_USER, default postgres; KAKOI_BENCH_DB_ADMIN_PASSWORD) on DATABASE_HOST
(default 127.0.0.1):DATABASE_PORT (5432). Writes logs under build/bench-app/.
"""

# app/ is put on sys.path at run time (below / by bench/app.py), not in pyright's search path.
# pyright: reportMissingImports=false

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
OUT = ROOT / "build" / "bench-app"
HOST_HEADER = "kakoi.bench"
RLS_GOAL = 0.05
PRESIGN_GOAL = 0.05
COMPANIES = 20
RECORDINGS_PER_USER = 200
FORBIDDEN_DATABASES = {"kakoi", "postgres", "template0", "template1"}

if str(APP) not in sys.path:
    sys.path.insert(0, str(APP))


# --- shared -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def django_env(*, dbname: str, user: str, password: str, secret: str, static_root: Path) -> dict[str, str]:
    """The environment production settings require, for the benchmark's processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "KAKOI_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(APP), str(ROOT)]),
        DJANGO_SETTINGS_MODULE="bench.app_settings",
        DJANGO_SECRET_KEY=secret,
        DJANGO_ALLOWED_HOSTS=HOST_HEADER,
        DJANGO_CSRF_TRUSTED_ORIGINS=f"https://{HOST_HEADER}",
        DATABASE_HOST=os.environ.get("DATABASE_HOST", "127.0.0.1"),
        DATABASE_PORT=os.environ.get("DATABASE_PORT", "5432"),
        DATABASE_NAME=dbname,
        DATABASE_USER=user,
        DATABASE_PASSWORD=password,
        DATABASE_SSLROOTCERT="/nonexistent/rds-ca-bundle.pem",  # required by production.py; TLS is off here (see app_settings)
        AWS_REGION="ap-northeast-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        KAKOI_MEDIA_BUCKET="kakoi-bench-media",
        KAKOI_EMAIL_FROM="kakoi@kakoi.bench",
        KAKOI_STATIC_ROOT=str(static_root),
        KAKOI_LOG_LEVEL="WARNING",
        KAKOI_TURN_URLS=os.environ.get("KAKOI_BENCH_TURN_URL", "turns:127.0.0.1:5349?transport=tcp"),
        KAKOI_TURN_SECRET=os.environ.get("KAKOI_BENCH_TURN_SECRET", secret),
    )
    return env


def run_django(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=APP, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(args)}` failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


# --- inner: seed (runs with Django set up, as kakoi_web) -------------------------------------


def seed() -> dict[str, Any]:
    import django

    django.setup()
    from accounts.models import Role, User, UserSession
    from accounts.sessions import AUTH_AT_KEY, BACKEND, SEEN_AT_KEY
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone
    from media.models import Recording, Status
    from storage import s3
    from tenancy.db import tenant_context
    from tenancy.models import Company

    first_user: Any = None
    now = timezone.now()
    for n in range(COMPANIES):
        company_id = uuid.uuid4()
        with tenant_context(company_id):
            company = Company.objects.create(pk=company_id, name=f"Bench company {n}")
            user = User.objects.create_user(f"member{n}@kakoi.bench", None, company=company, role=Role.MEMBER)
            Recording.objects.bulk_create(
                Recording(
                    company=company,
                    owner=user,
                    object_key=s3.new_object_key(company_id, user.pk),
                    version_id=uuid.uuid4().hex,
                    content_type="audio/wav",
                    size_bytes=1000 + i,
                    display_name=f"Recording {i} of company {n}",
                    status=Status.READY,
                    scan_result="NO_THREATS_FOUND",
                    confirmed_at=now,
                    ready_at=now,
                )
                for i in range(RECORDINGS_PER_USER)
            )
        first_user = first_user or user
    # A signed-in session of the first member, as accounts.sessions.complete_login leaves it.
    session = SessionStore()
    session[SESSION_KEY] = str(first_user.pk)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = first_user.get_session_auth_hash()
    session[AUTH_AT_KEY] = session[SEEN_AT_KEY] = int(time.time())
    session.create()
    with tenant_context(first_user.company_id):
        UserSession.objects.create(company_id=first_user.company_id, user=first_user, session_key=session.session_key)
    return {"session": session.session_key, "recordings": COMPANIES * RECORDINGS_PER_USER}


# --- inner: presign CPU time (Django set up, no database) -------------------------------------


def presign(iterations: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from media import objects
    from storage import s3

    company, user = uuid.uuid4(), uuid.uuid4()
    sizes = {"small (1 KiB)": 1024, f"large ({settings.MEDIA_MAX_UPLOAD_BYTES} B)": int(settings.MEDIA_MAX_UPLOAD_BYTES)}
    client = objects.shared_client()
    samples: dict[str, list[float]] = {name: [] for name in sizes}
    for _ in range(100):  # warm-up: imports, the client's first signatures
        for size in sizes.values():
            objects.presign_upload(s3.new_object_key(company, user), "audio/wav", size, s3=client)
    for _ in range(iterations):
        for name, size in sizes.items():  # interleaved, so drift hits both alike
            key = s3.new_object_key(company, user)
            started = time.process_time()
            objects.presign_upload(key, "audio/wav", size, s3=client)
            samples[name].append(time.process_time() - started)
    return {
        name: {"mean_us": 1e6 * statistics.fmean(v), "median_us": 1e6 * statistics.median(v), "p99_us": 1e6 * percentile(v, 0.99)}
        for name, v in samples.items()
    }


# --- inner: load generator (a separate process; no Django) ------------------------------------


def load(port: int, session: str, total: int, concurrency: int, max_seconds: float) -> dict[str, Any]:
    headers = {
        "Host": HOST_HEADER,
        "X-Forwarded-Proto": "https",  # what the load balancer adds after terminating TLS
        "X-Forwarded-For": "192.0.2.10",
        "Cookie": f"__Host-sessionid={session}",
        "Accept": "text/html",
    }
    lock = threading.Lock()
    issued = 0
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        nonlocal issued
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        while True:
            with lock:
                if issued >= total or time.perf_counter() > deadline:
                    break
                issued += 1
            started = time.perf_counter()
            try:
                conn.request("GET", "/media/", headers=headers)
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200 and b"Recording 199 of company" in body
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                ok, response = False, None
                with lock:
                    errors.append(repr(exc))
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                elif response is not None:
                    errors.append(f"HTTP {response.status}")
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"ok": len(latencies), "errors": len(errors), "first_errors": errors[:3], "wall": wall, "latencies": latencies}


# --- the orchestrator -------------------------------------------------------------------------


class Database:
    """The bench database, administered as the local superuser."""

    def __init__(self, name: str) -> None:
        from core import dbroles

        if name in FORBIDDEN_DATABASES:
            raise SystemExit(f"refusing to benchmark in the database {name!r}: use a throw-away one (KAKOI_BENCH_DB)")
        self.admin = dbroles.Connection(
            host=os.environ.get("DATABASE_HOST", "127.0.0.1"),
            port=int(os.environ.get("DATABASE_PORT", "5432")),
            dbname=name,
            user=os.environ.get("KAKOI_BENCH_DB_ADMIN_USER", "postgres"),
            password=os.environ.get("KAKOI_BENCH_DB_ADMIN_PASSWORD", ""),
        )
        self.web_password = ""

    def recreate(self) -> tuple[str, str]:
        from core import dbroles
        from psycopg import sql

        with self.admin.connect(dbname="postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.admin.dbname)))
        result = dbroles.provision(self.admin, secret_arns={}, create_database=True)
        self.web_password = result.web_password
        return result.owner_password, result.web_password

    def drop(self) -> None:
        from psycopg import sql

        with self.admin.connect(dbname="postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.admin.dbname)))

    def tenant_tables(self) -> list[str]:
        from core import dbroles

        with self.admin.connect() as conn:
            rows = conn.execute(
                "SELECT c.relname FROM pg_policies p JOIN pg_class c ON c.relname = p.tablename "
                "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = p.schemaname WHERE p.schemaname = %s ORDER BY 1",
                [dbroles.SCHEMA],
            ).fetchall()
        return sorted({row[0] for row in rows})

    def set_rls(self, on: bool) -> None:
        from core import dbroles
        from psycopg import sql

        with self.admin.connect() as conn, conn.transaction():
            for table in self.tenant_tables():
                name = sql.Identifier(dbroles.SCHEMA, table)
                if on:
                    conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(name))
                    conn.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(name))
                else:
                    conn.execute(sql.SQL("ALTER TABLE {} NO FORCE ROW LEVEL SECURITY").format(name))
                    conn.execute(sql.SQL("ALTER TABLE {} DISABLE ROW LEVEL SECURITY").format(name))

    def web_backends(self) -> list[int]:
        """The PostgreSQL server processes of kakoi_web's connections to the bench database."""
        from core import dbroles

        with self.admin.connect() as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND usename = %s", [self.admin.dbname, dbroles.WEB_ROLE]
            ).fetchall()
        return [int(row[0]) for row in rows]

    def rows_visible_without_tenant(self) -> int:
        """What kakoi_web sees of the recordings with no tenant set: 0 under RLS, everything without."""
        from core import dbroles

        conn_info = dbroles.Connection(
            host=self.admin.host, port=self.admin.port, dbname=self.admin.dbname, user=dbroles.WEB_ROLE, password=self.web_password
        )
        with conn_info.connect() as conn:
            row = conn.execute("SELECT count(*) FROM kakoi.media_recording").fetchone()
        return int(row[0]) if row else -1


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def cpu_of(pids: list[int]) -> dict[int, float]:
    return {pid: t for pid in pids if (t := proc_cpu_seconds(pid)) is not None}


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two readings by the processes alive at both (backends do not come and go: persistent connections)."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


def wait_ready(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz/ready")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not become ready on port {port} (see {OUT / 'gunicorn.log'})")


def run_load(port: int, session: str, requests: int, concurrency: int, max_seconds: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.app", "load", "--port", str(port), "--session", session]
    cmd += ["--requests", str(requests), "--concurrency", str(concurrency), "--max-seconds", str(max_seconds)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, timeout=max_seconds + 60)
    return json.loads(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.app")
    sub = parser.add_subparsers(dest="command")
    p_load = sub.add_parser("load", help="(internal) the load generator")
    p_load.add_argument("--port", type=int, required=True)
    p_load.add_argument("--session", required=True)
    p_load.add_argument("--requests", type=int, required=True)
    p_load.add_argument("--concurrency", type=int, required=True)
    p_load.add_argument("--max-seconds", type=float, required=True)
    sub.add_parser("seed", help="(internal) create the bench data, print the session key")
    p_presign = sub.add_parser("presign", help="(internal) presign CPU time")
    p_presign.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=500, help="requests per round and mode")
    parser.add_argument("--concurrency", type=int, default=4, help="load generator connections")
    parser.add_argument("--rounds", type=int, default=6, help="rounds per mode (alternating on/off, ABBA order)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (sync)")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="time limit of one round")
    parser.add_argument("--presign-iterations", type=int, default=2000)
    parser.add_argument("--keep-db", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args(argv)

    if args.command == "load":
        print(json.dumps(load(args.port, args.session, args.requests, args.concurrency, args.max_seconds)))
        return 0
    if args.command == "seed":
        print(json.dumps(seed()))
        return 0
    if args.command == "presign":
        print(json.dumps(presign(args.iterations)))
        return 0
    return orchestrate(args)


def orchestrate(args: argparse.Namespace) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    db = Database(os.environ.get("KAKOI_BENCH_DB", "kakoi_bench"))
    secret = uuid.uuid4().hex + uuid.uuid4().hex
    static_root = OUT / "static"
    print(f"== bench database {db.admin.dbname}: roles, migrations (as kakoi_owner), static files, data", flush=True)
    owner_password, web_password = db.recreate()
    owner_env = django_env(dbname=db.admin.dbname, user="kakoi_owner", password=owner_password, secret=secret, static_root=static_root)
    run_django(owner_env, "manage.py", "migrate", "--noinput", "--verbosity", "0")
    run_django(owner_env, "manage.py", "collectstatic", "--noinput", "--verbosity", "0")
    web_env = django_env(dbname=db.admin.dbname, user="kakoi_web", password=web_password, secret=secret, static_root=static_root)
    seeded = json.loads(run_django(web_env, "-m", "bench.app", "seed").strip().splitlines()[-1])

    port = free_port()
    gunicorn_cmd = [sys.executable, "-m", "gunicorn", "--config", "python:kakoi.gunicorn_conf", "--bind", f"127.0.0.1:{port}"]
    gunicorn_cmd += ["--workers", str(args.workers), "kakoi.asgi:application"]
    results: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    checks: dict[str, int] = {}
    with (OUT / "gunicorn.log").open("w") as log:
        server = subprocess.Popen(gunicorn_cmd, cwd=APP, env=web_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(port)
            print(f"== gunicorn ({args.workers} uvicorn workers, production settings) on 127.0.0.1:{port}; warm-up", flush=True)
            warm = run_load(port, seeded["session"], 200, args.concurrency, args.max_seconds)
            if warm["errors"] or not warm["ok"]:
                raise SystemExit(f"warm-up failed: {warm['first_errors']} (see {OUT / 'gunicorn.log'})")
            for round_no in range(args.rounds):
                for mode in ("on", "off") if round_no % 2 == 0 else ("off", "on"):
                    db.set_rls(mode == "on")
                    visible = db.rows_visible_without_tenant()
                    expected = 0 if mode == "on" else seeded["recordings"]
                    if visible != expected:
                        raise SystemExit(f"RLS {mode}: kakoi_web sees {visible} recordings without a tenant, expected {expected}")
                    checks[mode] = visible
                    workers, backends = children(server.pid), db.web_backends()
                    app_before, db_before = cpu_of(workers), cpu_of(backends)
                    result = run_load(port, seeded["session"], args.requests, args.concurrency, args.max_seconds)
                    result["app_cpu"] = cpu_delta(app_before, cpu_of(workers))
                    result["db_cpu"] = cpu_delta(db_before, cpu_of(backends))
                    if result["errors"]:
                        raise SystemExit(f"RLS {mode}: {result['errors']} failed requests: {result['first_errors']}")
                    results[mode].append(result)
                    rps = result["ok"] / result["wall"]
                    cpu_ms = 1000 * (result["app_cpu"] + result["db_cpu"]) / max(result["ok"], 1)
                    print(
                        f"   round {round_no + 1}, RLS {mode:<3}: {result['ok']} requests, {rps:7.1f} req/s, {cpu_ms:6.2f} ms CPU/request",
                        flush=True,
                    )
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            db.set_rls(True)

    presigned = json.loads(run_django(web_env, "-m", "bench.app", "presign", "--iterations", str(args.presign_iterations)).strip())
    if not args.keep_db:
        db.drop()
    report(args, seeded, results, checks, presigned)
    return 0


def report(
    args: argparse.Namespace, seeded: dict[str, Any], results: dict[str, list[dict[str, Any]]], checks: dict[str, int], presigned: dict
) -> None:
    print()
    print(
        f"app benchmark: signed-in GET /media/ (a member's list, 50 of {RECORDINGS_PER_USER} rows per page; "
        f"{seeded['recordings']} recordings in {COMPANIES} companies)"
    )
    print(
        f"gunicorn {args.workers} uvicorn workers, production settings, PostgreSQL on loopback; load: {args.concurrency} connections, separate process"
    )
    print(
        f"{'mode':<8} {'rounds':>6} {'requests':>9} {'req/s':>8} {'(min-max)':>15} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'app CPU ms/req':>15} {'db CPU ms/req':>14}   rows seen without tenant"
    )
    rps: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for mode in ("on", "off"):
        rounds = results[mode]
        latencies = [x for r in rounds for x in r["latencies"]]
        per_round = [r["ok"] / r["wall"] for r in rounds]
        rps[mode] = statistics.median(per_round)
        requests = sum(r["ok"] for r in rounds)
        app_ms = 1000 * sum(r["app_cpu"] for r in rounds) / requests
        db_ms = 1000 * sum(r["db_cpu"] for r in rounds) / requests
        cpu[mode] = app_ms + db_ms
        spread = f"{min(per_round):.0f}-{max(per_round):.0f}"
        print(
            f"RLS {mode:<4} {len(rounds):>6} {requests:>9} {rps[mode]:>8.1f} {spread:>15} "
            f"{1000 * percentile(latencies, 0.5):>8.2f} {1000 * percentile(latencies, 0.99):>8.2f} {app_ms:>15.2f} {db_ms:>14.2f}   {checks.get(mode)}"
        )
    # Paired rounds (on and off run back to back, in ABBA order): the median of the per-pair costs.
    pairs = [
        (off["ok"] / off["wall"] - on["ok"] / on["wall"]) / (off["ok"] / off["wall"])
        for on, off in zip(results["on"], results["off"], strict=True)
    ]
    cost = statistics.median(pairs)
    cpu_cost = (cpu["on"] - cpu["off"]) / cpu["on"]  # the share of the CPU per request that RLS adds
    print(
        f"RLS cost, throughput: {100 * cost:+.1f} % (median of {len(pairs)} paired rounds; goal < {100 * RLS_GOAL:.0f} %): "
        f"{'met' if cost < RLS_GOAL else 'MISSED'}"
    )
    print(
        f"RLS cost, CPU per request (app + database, less sensitive to other load on the machine): {100 * cpu_cost:+.1f} % "
        f"(goal < {100 * RLS_GOAL:.0f} %): {'met' if cpu_cost < RLS_GOAL else 'MISSED'}"
    )
    print()
    print("presigned POST, CPU time per generate_presigned_post (time.process_time, interleaved):")
    print(f"{'file':<26} {'mean us':>9} {'median us':>10} {'p99 us':>9}")
    for name, m in presigned.items():
        print(f"{name:<26} {m['mean_us']:>9.1f} {m['median_us']:>10.1f} {m['p99_us']:>9.1f}")
    medians = [m["median_us"] for m in presigned.values()]
    spread = (max(medians) - min(medians)) / min(medians)
    print(
        f"difference of the medians: {100 * spread:.1f} % (goal: the same, within {100 * PRESIGN_GOAL:.0f} %): {'met' if spread <= PRESIGN_GOAL else 'MISSED'}"
    )


if __name__ == "__main__":
    sys.exit(main())
