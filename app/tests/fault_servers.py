"""Private services for the fault tests, started and stopped by the tests (never the machine's own).

* PrivatePostgres: a throw-away cluster (Debian's initdb/pg_ctl) in a temporary directory, on a free
  port of 127.0.0.1, run as the `postgres` user when the tests run as root (PostgreSQL refuses root).
  The fault tests stop, start and kill backends of this instance only; the shared PostgreSQL that
  other test runs use is never touched.
* AppServer: the app as the container runs it (gunicorn + uvicorn workers, kakoi.gunicorn_conf) with
  production settings (fault_settings: database TLS off on loopback) against that instance.
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from core import dbroles

TESTS = Path(__file__).resolve().parent
APP = TESTS.parent
HOST = "127.0.0.1"
HOST_HEADER = "kakoi.fault"
PROXY_HEADERS = {"Host": HOST_HEADER, "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: apt-get install postgresql (scripts/system-packages.txt)")
    return path


class PrivatePostgres:
    """A PostgreSQL cluster of our own: start(), stop(mode), terminate(application_name), admin()."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="kakoi-faultpg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self._run(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", timeout=120)

    def _run(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.as_postgres:
            command = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=check, cwd=self.directory)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses={HOST} -c fsync=off -c max_connections=60"
        result = self._run(
            pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start", check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"private PostgreSQL did not start: {result.stderr}\n{self.log.read_text(errors='replace')[-2000:]}")

    def stop(self, mode: str = "fast") -> None:
        """fast: what RDS does on a reboot/failover of the old primary; immediate: a crash."""
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def admin(self, dbname: str = "kakoi") -> psycopg.Connection[Any]:
        return psycopg.connect(host=HOST, port=self.port, dbname=dbname, user="postgres", autocommit=True, connect_timeout=3)

    def terminate(self, application_name: str) -> int:
        """pg_terminate_backend every connection of that application (what a failover does to them)."""
        with self.admin() as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()",
                [application_name],
            ).fetchall()
        return len(rows)

    def provision(self) -> dbroles.RoleResult:
        return dbroles.provision(
            dbroles.Connection(host=HOST, port=self.port, dbname="kakoi", user="postgres"), secret_arns={}, create_database=True
        )

    def cleanup(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


def app_env(db: PrivatePostgres, *, user: str, password: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "KAKOI_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(APP), str(TESTS)]),
        DJANGO_SETTINGS_MODULE="fault_settings",
        DJANGO_SECRET_KEY="fault-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS=HOST_HEADER,
        DJANGO_CSRF_TRUSTED_ORIGINS=f"https://{HOST_HEADER}",
        DATABASE_HOST=HOST,
        DATABASE_PORT=str(db.port),
        DATABASE_NAME="kakoi",
        DATABASE_USER=user,
        DATABASE_PASSWORD=password,
        DATABASE_SSLROOTCERT="/nonexistent/rds-ca-bundle.pem",  # required by production.py; TLS is off on loopback
        AWS_REGION="ap-northeast-1",
        AWS_ACCESS_KEY_ID="fault",
        AWS_SECRET_ACCESS_KEY="fault",
        KAKOI_MEDIA_BUCKET="kakoi-fault-media",
        KAKOI_EMAIL_FROM="kakoi@kakoi.fault",
        KAKOI_LOG_LEVEL="WARNING",
        KAKOI_TURN_URLS="turns:127.0.0.1:5349?transport=tcp",
        KAKOI_TURN_SECRET="fault-turn-secret-" + "y" * 32,
    )
    env.update(extra or {})
    return env


def django_run(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    result = subprocess.run([sys.executable, *args], cwd=APP, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class AppServer:
    """gunicorn as the container runs it, one uvicorn worker, on a free port."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self, log: Path) -> None:
        self.log = log
        command = [sys.executable, "-m", "gunicorn", "--config", "python:kakoi.gunicorn_conf", "--bind", f"{HOST}:{self.port}"]
        command += ["--workers", "1", "--access-logfile", "/dev/null", "kakoi.asgi:application"]
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=APP, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz/live").status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the app did not start:\n{log.read_text(errors='replace')[-3000:]}")

    def request(
        self, method: str, path: str, *, session: str | None = None, body: str | None = None, cookies: str = "", timeout: float = 20
    ) -> Response:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        headers = dict(PROXY_HEADERS)
        jar = [f"__Host-sessionid={session}"] if session else []
        if cookies:
            jar.append(cookies)
        if jar:
            headers["Cookie"] = "; ".join(jar)
        if method == "POST":
            headers["Origin"] = f"https://{HOST_HEADER}"
            headers["Referer"] = f"https://{HOST_HEADER}/"
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            headers: dict[str, str] = {}
            for name, value in raw.getheaders():  # repeated headers (Set-Cookie) joined
                headers[name.lower()] = f"{headers[name.lower()]}, {value}" if name.lower() in headers else value
            return Response(raw.status, headers, raw.read().decode(errors="replace"))
        finally:
            conn.close()

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def seed(env: dict[str, str]) -> dict[str, str]:
    return json.loads(django_run(env, "-m", "fault_seed").strip().splitlines()[-1])
