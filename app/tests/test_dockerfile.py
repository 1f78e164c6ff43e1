"""The container image definition (no Docker engine here: the Dockerfile is parsed and checked).

CMD-1: no shell in the runtime image, exec-form entrypoint; BOF-2: base image pinned by digest,
hashed binary-only dependencies; SQL-3: the web command never migrates; plus the read-only
root filesystem properties (TMPDIR, no .pyc writes, static files collected at build time).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kakoi import contract

APP = Path(__file__).resolve().parents[1]
DOCKERFILE = APP / "Dockerfile"


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse() -> tuple[dict[str, str], list[Stage]]:
    text = DOCKERFILE.read_text()
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        lines.append(current + raw.strip())
        current = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not stages:
            name, _, value = rest.partition("=")
            args[name] = value
        elif keyword == "FROM":
            match = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.IGNORECASE)
            assert match
            base = match.group(1)
            for name, value in args.items():
                base = base.replace("${" + name + "}", value)
            stages.append(Stage(match.group(2) or str(len(stages)), base))
        else:
            stages[-1].instructions.append((keyword, rest.strip()))
    return args, stages


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


@pytest.fixture(autouse=True)
def _entrypoint_leaves_no_command_behind():
    """entrypoint.main publishes its command in os.environ (KAKOI_COMMAND): keep it out of later tests."""
    before = os.environ.get(contract.Env.KAKOI_COMMAND)
    yield
    if before is None:
        os.environ.pop(contract.Env.KAKOI_COMMAND, None)
    else:
        os.environ[contract.Env.KAKOI_COMMAND] = before


def runtime_env(runtime: Stage) -> dict[str, str]:
    """The runtime stage's ENV settings (KEY=VALUE pairs)."""
    return dict(pair.split("=", 1) for env in runtime.all("ENV") for pair in env.split())


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse()[1]


@pytest.fixture(scope="module")
def runtime(stages: list[Stage]) -> Stage:
    return stages[-1]


def test_bof2_base_image_is_pinned_by_digest(stages: list[Stage]):
    """BOF-2: every stage starts from python:3.12-slim-bookworm pinned by a sha256 digest."""
    assert len(stages) >= 2, "multi-stage"
    for stage in stages:
        assert re.fullmatch(r"python:3\.12-slim-bookworm@sha256:[0-9a-f]{64}", stage.base), stage.base


def test_bof2_dependencies_are_installed_from_hashes_as_binary_wheels(stages: list[Stage]):
    """BOF-2: pip installs the hashed lock file, binary wheels only (no compiler needed anywhere)."""
    runs = [exec_form(run) for stage in stages for run in stage.all("RUN")]
    installs = [run for run in runs if "pip" in run and "install" in run]
    assert installs
    for command in installs:
        assert "--require-hashes" in command and "--only-binary=:all:" in command and "--no-deps" in command
        assert "/build/requirements.txt" in command


def test_cmd1_runtime_runs_as_a_non_root_user(runtime: Stage):
    """CMD-1: the final USER is the contract's numeric non-root uid:gid (the task definitions run it as that user)."""
    users = runtime.all("USER")
    assert users and users[-1] == contract.APP_USER
    assert contract.APP_UID != 0 and contract.APP_GID != 0
    runs = [exec_form(run) for run in runtime.all("RUN")]
    assert ["groupadd", "--system", "--gid", str(contract.APP_GID), "kakoi"] in runs
    assert any(run[:1] == ["useradd"] and run[run.index("--uid") + 1] == str(contract.APP_UID) for run in runs)


def test_enc1_image_environment_is_the_contract(runtime: Stage):
    """ENC-1 / CMD-1: the image's settings module, port, writable path and RDS CA bundle are the contract's."""
    env = runtime_env(runtime)
    assert env["DJANGO_SETTINGS_MODULE"] == contract.PRODUCTION_SETTINGS
    assert env["PORT"] == str(contract.DEFAULT_APP_PORT)
    assert env["TMPDIR"] == env["HOME"] == contract.WRITABLE_PATH
    assert env["DATABASE_SSLROOTCERT"] == contract.RDS_CA_BUNDLE
    adds = [a for a in runtime.all("ADD") if contract.RDS_CA_BUNDLE in a]
    assert adds and adds[0].split()[-1] == contract.RDS_CA_BUNDLE
    assert str(contract.DEFAULT_APP_PORT) in runtime.all("EXPOSE")


def test_contract_module_is_in_the_build_context_and_pure():
    """The contract (kakoi/contract.py) reaches the image (.dockerignore keeps it) and imports nothing of Django."""
    patterns = [line.strip() for line in (APP / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert not any(Path("kakoi/contract.py").match(p) or p in {"kakoi", "kakoi/", "*.py", "**/*.py"} for p in patterns)
    import ast

    tree = ast.parse((APP / "kakoi" / "contract.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "dataclasses", "typing"}, imported
    assert (APP / "kakoi" / "__init__.py").read_text().strip() == "", "kakoi/__init__.py must stay import-safe for the platform"


def test_cmd1_every_run_entrypoint_and_cmd_is_exec_form_and_the_shell_is_removed(stages: list[Stage], runtime: Stage):
    """CMD-1: no instruction goes through /bin/sh; the runtime image deletes its shells."""
    for stage in stages:
        for keyword, args in stage.instructions:
            if keyword in {"RUN", "ENTRYPOINT", "CMD"}:
                exec_form(args)
    removed = {path for run in runtime.all("RUN") for path in exec_form(run)[1:] if exec_form(run)[0] == "rm"}
    assert {"/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "/bin/dash", "/usr/bin/dash"} <= removed
    # Nothing after the removal needs a shell (exec form everywhere, checked above).


def test_cmd1_runtime_has_no_build_tools_or_pip(stages: list[Stage], runtime: Stage):
    """CMD-1/BOF-2: no compiler or package tooling is installed, and pip is removed from the runtime image."""
    text = DOCKERFILE.read_text()
    for tool in ("gcc", "build-essential", "apt-get install", "make ", "g++", "curl", "wget"):
        assert tool not in text, tool
    assert any(exec_form(run)[-2:] == ["--quiet", "pip"] and "uninstall" in exec_form(run) for run in runtime.all("RUN"))
    assert any("--without-pip" in exec_form(run) for run in stages[0].all("RUN"))
    # Only the virtualenv and the app are carried over from the build stage.
    copies = runtime.all("COPY")
    assert sorted(copies) == sorted(["--from=build /opt/venv /opt/venv", "--from=build /app /app"])


def test_readonly_root_filesystem_properties(stages: list[Stage], runtime: Stage):
    """The container can run with a read-only root filesystem: writes only to /tmp, no .pyc, static files pre-built."""
    env = " ".join(runtime.all("ENV"))
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "TMPDIR=/tmp", "HOME=/tmp", "KAKOI_STATIC_ROOT=/app/staticfiles"):
        assert setting in env, setting
    build_runs = [exec_form(run) for run in stages[0].all("RUN")]
    assert any("collectstatic" in run and "DJANGO_SETTINGS_MODULE=kakoi.settings.build" in run for run in build_runs)
    assert any("compileall" in run for run in build_runs)
    from kakoi import gunicorn_conf

    assert gunicorn_conf.worker_tmp_dir == contract.WRITABLE_PATH and gunicorn_conf.control_socket_disable is True


def test_sql3_web_command_never_migrates(runtime: Stage):
    """SQL-3: the default command is `web` (gunicorn); migrations are a separate `migrate` argument."""
    assert exec_form(runtime.all("ENTRYPOINT")[-1]) == ["/opt/venv/bin/python", "-m", "kakoi.entrypoint"]
    assert exec_form(runtime.all("CMD")[-1]) == list(contract.WEB.command)
    from kakoi import entrypoint

    called: list[str] = []
    entrypoint_web = entrypoint.web
    try:
        entrypoint.web = lambda: called.append("web") or 0  # type: ignore[assignment]
        assert entrypoint.main([]) == 0 and called == ["web"]
    finally:
        entrypoint.web = entrypoint_web
    source = (APP / "kakoi" / "entrypoint.py").read_text()
    web_body = source.split("def web()", 1)[1].split("\ndef ", 1)[0]
    assert "migrate" not in web_body and "call_command" not in web_body


def test_sql3_entrypoint_refuses_unknown_commands_and_shell_like_management_commands():
    """CMD-1: the `manage` passthrough allows only purge_objects and check (never dbshell or shell)."""
    from kakoi import entrypoint

    assert entrypoint.main(["manage", "dbshell"]) == 2
    assert entrypoint.main(["manage", "shell"]) == 2
    assert entrypoint.main(["bash"]) == 2
    assert entrypoint.main(["web", "--reload"]) == 2


def test_dockerignore_keeps_tests_and_local_artefacts_out_of_the_image():
    """The build context leaves out tests, bytecode caches and a locally collected static tree."""
    patterns = {line.strip() for line in (APP / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert {"tests", "**/__pycache__", "staticfiles"} <= patterns


def test_web_serves_http_and_websocket_from_the_asgi_app_on_one_port():
    """ENC-1 (signalling through the same TLS 1.3 load balancer): `web` runs gunicorn with uvicorn workers on
    kakoi.asgi, so HTTP and the /ws/ signalling share port 8000; the worker caps WebSocket frames and leaves
    X-Forwarded-* to Django."""
    from kakoi import asgi_worker, entrypoint

    source = (APP / "kakoi" / "entrypoint.py").read_text()
    assert '"kakoi.asgi:application"' in source and "kakoi.wsgi" not in source
    gunicorn_conf = (APP / "kakoi" / "gunicorn_conf.py").read_text()
    assert 'worker_class = "kakoi.asgi_worker.KakoiUvicornWorker"' in gunicorn_conf
    assert asgi_worker.KakoiUvicornWorker.CONFIG_KWARGS["proxy_headers"] is False
    assert asgi_worker.SERVER_OPTIONS["ws_max_size"] == 64 * 1024
    assert asgi_worker.SERVER_OPTIONS["http"] == "h11" and asgi_worker.SERVER_OPTIONS["lifespan"] == "off"
    assert entrypoint.USAGE.startswith("usage:")


def test_the_translation_catalogues_are_compiled_in_the_image_build(stages: list[Stage]):
    """The Japanese catalogue ships compiled: the build stage runs compile_translations (polib, no gettext tools)
    with the build settings, after the sources (and their .po) were copied; no locally compiled .mo enters the context."""
    build = stages[0]
    order = [(kw, args) for kw, args in build.instructions if kw in {"COPY", "RUN"}]
    copy_app = next(i for i, (kw, args) in enumerate(order) if kw == "COPY" and args.startswith(". /app"))
    compiles = [i for i, (kw, args) in enumerate(order) if kw == "RUN" and "compile_translations" in exec_form(args)]
    assert compiles and compiles[0] > copy_app
    command = exec_form(order[compiles[0]][1])
    assert "DJANGO_SETTINGS_MODULE=kakoi.settings.build" in command and command[-2:] == ["manage.py", "compile_translations"]
    patterns = {line.strip() for line in (APP / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert "**/*.mo" in patterns and not any("locale" in p or p.endswith(".po") for p in patterns)
    assert (APP / "locale" / "ja" / "LC_MESSAGES" / "django.po").is_file()
    # The command needs no database and no secret: it runs under the build settings.
    assert "polib" in (APP / "requirements.txt").read_text()
