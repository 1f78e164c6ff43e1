"""The app's side of the platform contract (kakoi/contract.py).

The production settings (base included) and gunicorn's config are loaded in a fresh interpreter
whose os.environ records every name read. For each process of the image (web, migrate,
db-provision, scan-consumer) the platform sets exactly `Process.names`
(tests/infra/test_contract.py proves that on the rendered task definitions); here:

* every such name is read (the platform sets nothing the app ignores),
* the process starts with exactly those names, refuses to start without each of `required`
  (naming it) and starts without any of the others (`required` is exact),
* everything production can read at all is `contract.APP_ENV`, no more, no less.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from kakoi import contract
from kakoi.contract import Env

APP = Path(__file__).resolve().parents[1]

#: a value each variable could have in a deployment (the TURN secret long enough, URLs turns:, ...)
VALUES: dict[str, str] = {
    Env.DJANGO_SETTINGS_MODULE: contract.PRODUCTION_SETTINGS,
    Env.DJANGO_SECRET_KEY: "k" * 20 + "a-long-random-secret-key-for-the-check-0123456789",
    Env.DJANGO_ALLOWED_HOSTS: "kakoi.example",
    Env.DJANGO_CSRF_TRUSTED_ORIGINS: "https://kakoi.example",
    Env.DATABASE_HOST: "db.internal.example",
    Env.DATABASE_PORT: str(contract.DB_PORT),
    Env.DATABASE_NAME: contract.DB_NAME,
    Env.DATABASE_USER: contract.DB_WEB_ROLE,
    Env.DATABASE_PASSWORD: "from-the-role-secret",
    Env.DATABASE_SSLMODE: contract.DB_SSLMODE,
    Env.DATABASE_SSLROOTCERT: contract.RDS_CA_BUNDLE,
    Env.DATABASE_MASTER_USER: contract.DB_MASTER_USER,
    Env.DATABASE_MASTER_PASSWORD: "from-the-master-secret",
    Env.DB_OWNER_SECRET_ARN: "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:kakoi/prod/db/owner-AbCdEf",
    Env.DB_WEB_SECRET_ARN: "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:kakoi/prod/db/web-AbCdEf",
    Env.AWS_REGION: "ap-northeast-1",
    Env.KAKOI_MEDIA_BUCKET: "kakoi-media",
    Env.KAKOI_EMAIL_FROM: "no-reply@kakoi.example",
    Env.KAKOI_SES_CONFIGURATION_SET: "kakoi-prod-app",
    Env.KAKOI_SCAN_QUEUE_URL: "https://sqs.ap-northeast-1.amazonaws.com/123456789012/kakoi-prod-scan-results",
    Env.KAKOI_TURN_URLS: "turns:turn.kakoi.example:443?transport=tcp",
    Env.KAKOI_TURN_SECRET: "t" * 40,
    Env.PORT: str(contract.DEFAULT_APP_PORT),
}

#: run in a fresh interpreter: os.environ is replaced by a recording mapping holding exactly the given
#: variables, Django's settings are loaded through DJANGO_SETTINGS_MODULE (as in the container), and
#: gunicorn's config is imported; prints the names read (or the ImproperlyConfigured message) as JSON
RECORDER = r"""
import json, os, sys

class Recording(dict):
    read = set()
    def __getitem__(self, key):
        Recording.read.add(key)
        return super().__getitem__(key)
    def get(self, key, default=None):
        Recording.read.add(key)
        return super().get(key, default)
    def __contains__(self, key):
        Recording.read.add(key)
        return super().__contains__(key)
    def setdefault(self, key, default=None):
        Recording.read.add(key)
        return super().setdefault(key, default)

given = json.loads(sys.argv[1])
os.environ = Recording(given)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
try:
    if given.get("DJANGO_SETTINGS_MODULE"):
        settings.INSTALLED_APPS
        import kakoi.gunicorn_conf
    else:
        import kakoi.settings.base
except ImproperlyConfigured as e:
    print(json.dumps({"error": str(e)}))
else:
    print(json.dumps({"read": sorted(Recording.read)}))
"""


def record(environment: dict[str, str]) -> dict:
    """What the settings read (or the error they raise) under exactly `environment`."""
    proc = subprocess.run(
        [sys.executable, "-c", RECORDER, json.dumps(environment)],
        cwd=APP,
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(APP)},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def given(process: contract.Process) -> dict[str, str]:
    """The environment of `process`: what the platform sets, and the command the entrypoint publishes."""
    values = {name: VALUES[name] for name in process.names}
    if process is contract.MIGRATE:
        values[Env.DATABASE_USER] = contract.DB_OWNER_ROLE
    return {**values, Env.KAKOI_COMMAND: process.command[0]}


PROCESSES = sorted(contract.APP_PROCESSES)


@pytest.fixture(scope="module")
def reads() -> dict[str, set[str]]:
    """Per process, the names its settings read with exactly its environment (one interpreter each)."""
    found: dict[str, set[str]] = {}
    for name in PROCESSES:
        result = record(given(contract.APP_PROCESSES[name]))
        assert "error" not in result, f"{name} does not start with the contract's environment: {result['error']}"
        found[name] = set(result["read"])
    found["base (nothing set)"] = set(record({})["read"])
    return found


@pytest.mark.parametrize("name", PROCESSES)
def test_every_variable_the_platform_sets_is_read(reads: dict[str, set[str]], name: str):
    """Nothing set that the app does not read: each of the process's variables is read by its settings."""
    process = contract.APP_PROCESSES[name]
    assert process.names <= reads[name], sorted(process.names - reads[name])


def test_production_reads_exactly_the_contract_env(reads: dict[str, set[str]]):
    """Every name the production settings (base included) and gunicorn's config read is in the contract, and all of it is read."""
    everything = set().union(*reads.values())
    assert everything == contract.APP_ENV, {
        "read, not in the contract": sorted(everything - contract.APP_ENV),
        "never read": sorted(contract.APP_ENV - everything),
    }


def test_platform_env_is_only_contract_names():
    """The platform-facing sets are subsets of what the app reads; tuning variables are not platform-set."""
    for process in contract.APP_PROCESSES.values():
        assert process.required <= process.names <= contract.APP_ENV, process.name
        assert not process.names & contract.APP_TUNING_ENV, process.name
        assert Env.KAKOI_COMMAND not in process.names, "the entrypoint sets KAKOI_COMMAND, never the platform"
        assert process.command[0] in contract.COMMANDS
    assert contract.WEB.required >= contract.CALLS_ENV
    assert not any(p.required >= contract.CALLS_ENV for p in contract.APP_PROCESSES.values() if p is not contract.WEB)


# --- required is exact (in-process: the required checks are all in production.py) ------------------


def load(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> dict:
    for name in contract.APP_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_module(contract.PRODUCTION_SETTINGS)


CASES = [(p, v) for p in PROCESSES for v in sorted(contract.APP_PROCESSES[p].names)]


@pytest.mark.parametrize(("name", "variable"), CASES, ids=[f"{p}-{v}" for p, v in CASES])
def test_each_process_requires_exactly_its_required_variables(monkeypatch: pytest.MonkeyPatch, name: str, variable: str):
    """A required variable missing stops the process naming it (SQL-3: each role's credentials); any other may be missing."""
    process = contract.APP_PROCESSES[name]
    environment = {k: v for k, v in given(process).items() if k != variable}
    if variable in process.required:
        with pytest.raises(ImproperlyConfigured) as refused:
            load(monkeypatch, environment)
        # without the master user the process is a role process, and says which credential it lacks
        named = Env.DATABASE_USER if variable == Env.DATABASE_MASTER_USER else variable
        assert named in str(refused.value)
    else:
        load(monkeypatch, environment)


def test_only_the_web_command_requires_the_relay(monkeypatch: pytest.MonkeyPatch):
    """ENC-1: web refuses to start without the TURN secret; migrate and manage (given no secret) start."""
    for command in sorted(contract.COMMANDS - {contract.COMMAND_WEB}):
        values = load(monkeypatch, {**given(contract.WEB), Env.KAKOI_TURN_SECRET: "", Env.KAKOI_COMMAND: command})
        assert values["KAKOI_COMMAND"] == command
    with pytest.raises(ImproperlyConfigured, match=Env.KAKOI_TURN_SECRET):
        load(monkeypatch, {**given(contract.WEB), Env.KAKOI_TURN_SECRET: ""})
    with pytest.raises(ImproperlyConfigured, match=Env.KAKOI_COMMAND):
        load(monkeypatch, {**given(contract.WEB), Env.KAKOI_COMMAND: "shell"})


@pytest.mark.parametrize("argv", [[], ["web"], ["migrate"], ["migrate", "--rotate"], ["manage", "check"]])
def test_entrypoint_publishes_its_command(monkeypatch: pytest.MonkeyPatch, argv: list[str]):
    """The entrypoint tells the settings which command runs (KAKOI_COMMAND), overriding whatever the environment said."""
    from kakoi import entrypoint

    monkeypatch.setenv(Env.KAKOI_COMMAND, "web" if argv[:1] != ["web"] else "manage")
    seen: list[str | None] = []
    for fn in ("web", "migrate", "manage"):
        monkeypatch.setattr(entrypoint, fn, lambda *a, **k: seen.append(os.environ.get(Env.KAKOI_COMMAND)) or 0)
    assert entrypoint.main(argv) == 0
    assert seen == [argv[0] if argv else contract.COMMAND_WEB]


def test_health_paths_are_the_contract():
    """The health middleware answers the contract's paths (the target group, the canary and the container check use them)."""
    from core import middleware

    assert contract.HEALTH_LIVE_PATH in middleware.LIVE_PATHS and contract.HEALTH_READY_PATH in middleware.READY_PATHS


def test_database_roles_are_the_contract():
    """SQL-3: ensure_db_roles creates the contract's roles and writes their secrets with the contract's JSON keys."""
    from core import dbroles

    assert (dbroles.OWNER_ROLE, dbroles.WEB_ROLE) == (contract.DB_OWNER_ROLE, contract.DB_WEB_ROLE)
    assert set(contract.DB_ROLE_SECRETS.values()) == {dbroles.OWNER_ROLE, dbroles.WEB_ROLE}
    value = json.loads(dbroles.secret_value(host="h", port=contract.DB_PORT, dbname=contract.DB_NAME, username="u", password="p"))
    assert value[contract.SECRET_USERNAME_KEY] == "u" and value[contract.SECRET_PASSWORD_KEY] == "p"
