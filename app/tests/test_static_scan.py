"""Static checks over the app's source (AST), not just its behaviour.

CMD-1: no process is started: no subprocess/pty/os.system/os.popen/os.exec*/os.spawn*/shell=True.
SQL-2: SQL reaching execute/executemany/raw/extra/RawSQL/RunSQL is a literal (or a psycopg.sql
       composition, or tenancy/rls.py's row-level security SQL: literal templates, identifiers
       checked there): no f-strings, %, + or str.format building SQL, directly or through a variable.
PATH-2: no view reads or writes files of the web server (open, read_text, FileResponse, static.serve).
BOF-1: no ctypes/cffi/mmap.
XSS-1: no mark_safe / SafeString in code, no |safe or autoescape off in templates.
HDR-1: no raw WSGI start_response or sockets: headers only through Django's response API.
The scanner is tested on bad samples too, so a broken scanner fails.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1]
SHEET_ID = re.compile(r"^[A-Z]+-\d+$")

SQL_SINK_METHODS = {"execute", "executemany", "raw", "extra"}
SQL_SINK_CALLABLES = {"RawSQL", "RunSQL"}
SQL_KEYWORDS = {"sql", "reverse_sql", "where", "select", "tables", "raw_query"}
#: tenancy/rls.py's builders: literal templates, and they refuse anything but plain lower-case identifiers
RLS_SQL_BUILDERS = {"enable_sql", "disable_sql"}
RLS_MODULE = Path("tenancy") / "rls.py"
FORBIDDEN_MODULES = {"subprocess", "pty", "pexpect", "commands", "popen2", "ctypes", "cffi", "mmap", "socket"}
FORBIDDEN_OS = re.compile(r"^(system|popen\d?|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?|fork|forkpty|startfile)$")
FORBIDDEN_CALLS = {"mark_safe", "SafeString", "SafeText", "start_response", "FileResponse", "serve"}
FILE_IO_ATTRS = {"read_text", "read_bytes", "write_text", "write_bytes"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}"


def app_sources() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "tests" not in p.relative_to(APP).parts and "staticfiles" not in p.parts)


class Scanner(ast.NodeVisitor):
    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.findings: list[Finding] = []
        self.scopes: list[ast.AST] = [tree]

    # -- helpers -------------------------------------------------------------------------------
    def flag(self, node: ast.AST, rule: str) -> None:
        self.findings.append(Finding(self.path, getattr(node, "lineno", 0), rule))

    def assignments(self, name: str) -> list[ast.expr]:
        """Values assigned to `name` in the innermost scope that assigns it (function, then module)."""
        for scope in reversed(self.scopes):
            values: list[ast.expr] = []
            for node in ast.walk(scope):
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                    values.append(node.value)
                elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                    values.append(ast.BinOp(node.target, node.op, node.value))
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name and node.value:
                    values.append(node.value)
            if values:
                return values
        return []

    def is_static_sql(self, expr: ast.expr, seen: frozenset[str] = frozenset()) -> bool:
        """A literal string, a sequence of them, a name bound only to them, or a psycopg.sql composition."""
        if isinstance(expr, ast.Constant):
            return isinstance(expr.value, str | bytes) or expr.value is None
        if isinstance(expr, ast.List | ast.Tuple):
            return all(self.is_static_sql(e, seen) for e in expr.elts)
        if isinstance(expr, ast.Name):
            if expr.id in seen:
                return False
            values = self.assignments(expr.id)
            return bool(values) and all(self.is_static_sql(v, seen | {expr.id}) for v in values)
        if isinstance(expr, ast.Call):
            return self.is_psycopg_composition(expr) or self.is_rls_builder(expr)
        return False

    @staticmethod
    def is_rls_builder(call: ast.Call) -> bool:
        """enable_sql(...)/disable_sql(...) (tenancy/rls.py; test_sql2_rls_builders_are_only_tenancy_rls checks it is theirs)."""
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name in RLS_SQL_BUILDERS

    def is_psycopg_composition(self, call: ast.Call) -> bool:
        """sql.SQL("literal") or sql.SQL("literal").format(<Composables>), as psycopg documents it."""
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "SQL" and isinstance(func.value, ast.Name) and func.value.id == "sql":
            return len(call.args) == 1 and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)
        if isinstance(func, ast.Attribute) and func.attr in {"format", "join"} and isinstance(func.value, ast.Call):
            return self.is_psycopg_composition(func.value)
        return False

    # -- visitors ------------------------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scopes.append(node)
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 (ast.NodeVisitor's naming)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                self.flag(node, f"import {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.split(".")[0] in FORBIDDEN_MODULES:
            self.flag(node, f"from {module} import")
        if module == "os" and any(FORBIDDEN_OS.match(a.name) for a in node.names):
            self.flag(node, "from os import <process function>")
        if module == "django.views.static":
            self.flag(node, "django.views.static (serves files from disk)")
        if module == "asyncio" and any(a.name.startswith("create_subprocess") for a in node.names):
            self.flag(node, "asyncio subprocess")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id == "os" and FORBIDDEN_OS.match(func.attr):
                self.flag(node, f"os.{func.attr}")
            if func.value.id == "asyncio" and func.attr.startswith("create_subprocess"):
                self.flag(node, f"asyncio.{func.attr}")
        if any(k.arg == "shell" for k in node.keywords):
            self.flag(node, "shell= keyword")
        if name in FORBIDDEN_CALLS:
            self.flag(node, f"{name}()")
        if isinstance(func, ast.Name) and func.id == "open":
            self.flag(node, "open() of a local file")
        io_module = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in {"io", "os", "codecs"}
        if isinstance(func, ast.Attribute) and (func.attr in FILE_IO_ATTRS or (func.attr == "open" and io_module)):
            self.flag(node, f".{func.attr}() file access")
        if (isinstance(func, ast.Attribute) and func.attr in SQL_SINK_METHODS) or name in SQL_SINK_CALLABLES:
            sql_args = list(node.args[:2] if name == "RunSQL" else node.args[:1])
            sql_args += [k.value for k in node.keywords if k.arg in SQL_KEYWORDS]
            for arg in sql_args:
                if not self.is_static_sql(arg):
                    self.flag(arg, f"SQL passed to {name}() is not a literal or psycopg.sql composition")
        self.generic_visit(node)


def scan_source(source: str, path: str = "<sample>") -> list[Finding]:
    tree = ast.parse(source)
    scanner = Scanner(path, tree)
    scanner.visit(tree)
    return scanner.findings


def scan_app() -> list[Finding]:
    findings: list[Finding] = []
    for path in app_sources():
        findings += scan_source(path.read_text(), str(path.relative_to(APP)))
    return findings


# --- the scanner finds what it should ------------------------------------------------------

BAD_SAMPLES = {
    "CMD-1 subprocess": "import subprocess\nsubprocess.run(['ls'])",
    "CMD-1 from subprocess": "from subprocess import run",
    "CMD-1 os.system": "import os\nos.system('ls')",
    "CMD-1 os.popen": "import os\nos.popen('ls')",
    "CMD-1 os.execvp": "import os\nos.execvp('ls', ['ls'])",
    "CMD-1 from os import system": "from os import system",
    "CMD-1 pty": "import pty",
    "CMD-1 shell=True": "run('x', shell=True)",
    "CMD-1 asyncio": "import asyncio\nasyncio.create_subprocess_shell('ls')",
    "SQL-2 f-string": "def f(c, t):\n    c.execute(f'SELECT * FROM x WHERE t = {t}')",
    "SQL-2 percent": "def f(c, t):\n    c.execute('SELECT * FROM x WHERE t = %s' % t)",
    "SQL-2 concat": "def f(c, t):\n    c.execute('SELECT * FROM x WHERE t = ' + t)",
    "SQL-2 format": "def f(c, t):\n    c.execute('SELECT * FROM x WHERE t = {}'.format(t))",
    "SQL-2 through a variable": "def f(c, t):\n    q = f'DELETE FROM x WHERE t = {t}'\n    c.execute(q)",
    "SQL-2 augmented": "def f(c, t):\n    q = 'SELECT 1'\n    q += t\n    c.execute(q)",
    "SQL-2 raw": "def f(M, t):\n    M.objects.raw(f'SELECT * FROM x WHERE t = {t}')",
    "SQL-2 extra": "def f(qs, t):\n    qs.extra(where=[f't = {t}'])",
    "SQL-2 RawSQL": "def f(t):\n    RawSQL('SELECT %s' % t, [])",
    "SQL-2 RunSQL": "T = 'x'\nmigrations.RunSQL(f'ALTER TABLE {T} ENABLE ROW LEVEL SECURITY')",
    "SQL-2 RunSQL reverse": "migrations.RunSQL('SELECT 1', 'DROP TABLE ' + name)",
    "SQL-2 parameter": "def f(c, query):\n    c.execute(query)",
    "SQL-2 sql.SQL of an f-string": "def f(c, t):\n    c.execute(sql.SQL(f'SELECT {t}'))",
    "PATH-2 open": "open('/etc/passwd')",
    "PATH-2 read_text": "Path('x').read_text()",
    "PATH-2 FileResponse": "FileResponse(x)",
    "PATH-2 static.serve": "from django.views.static import serve",
    "BOF-1 ctypes": "import ctypes",
    "XSS-1 mark_safe": "mark_safe(user_input)",
    "HDR-1 start_response": "start_response('200 OK', [])",
}

GOOD_SAMPLES = {
    "literal with params": "def f(c, t):\n    c.execute('SELECT * FROM x WHERE t = %s', [t])",
    "literal via variable": "Q = 'SELECT 1'\ndef f(c):\n    c.execute(Q)",
    "psycopg composition": "def f(c, r):\n    c.execute(sql.SQL('ALTER ROLE {} LOGIN').format(sql.Identifier(r)))",
    "static RunSQL": "RLS = '''ALTER TABLE t ENABLE ROW LEVEL SECURITY'''\nmigrations.RunSQL(RLS, 'SELECT 1')",
    "tenancy.rls builders": "migrations.RunSQL(rls.enable_sql(T), rls.disable_sql(T))",
    "logging format": "logger.info('x %s', y)",
}


@pytest.mark.parametrize("name", sorted(BAD_SAMPLES))
def test_cmd1_sql2_scanner_flags_bad_code(name: str):
    """CMD-1/SQL-2/PATH-2/BOF-1/XSS-1/HDR-1: each forbidden pattern is caught by the scanner."""
    assert scan_source(BAD_SAMPLES[name]), name


@pytest.mark.parametrize("name", sorted(GOOD_SAMPLES))
def test_sql2_scanner_accepts_parameterized_sql(name: str):
    """SQL-2: placeholders with parameters and psycopg.sql compositions are accepted."""
    assert scan_source(GOOD_SAMPLES[name]) == [], name


# --- the app itself --------------------------------------------------------------------------


def test_sql2_rls_builders_are_only_tenancy_rls():
    """SQL-2: the scanner trusts enable_sql/disable_sql; no module but tenancy/rls.py may define (or rebind) them."""
    where = set()
    for path in app_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            defined = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name in RLS_SQL_BUILDERS
            bound = isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in RLS_SQL_BUILDERS for t in node.targets)
            imported = (
                isinstance(node, ast.ImportFrom)
                and node.module != "tenancy.rls"
                and any((a.asname or a.name) in RLS_SQL_BUILDERS for a in node.names)
            )
            if defined or bound or imported:
                where.add(path.relative_to(APP))
    assert where == {RLS_MODULE}


def test_cmd1_sql2_app_source_starts_no_process_and_builds_no_sql_from_strings():
    """CMD-1, SQL-2, PATH-2, BOF-1, XSS-1, HDR-1: the scan of every app module (migrations included) finds nothing."""
    sources = app_sources()
    assert any(p.name == "dbroles.py" for p in sources) and any("migrations" in p.parts for p in sources)
    findings = scan_app()
    assert findings == [], "\n".join(map(str, findings))


def test_xss1_templates_never_turn_autoescaping_off():
    """XSS-1: no template marks anything safe or turns autoescape off."""
    templates = sorted((APP / "templates").rglob("*.html"))
    assert templates
    for template in templates:
        text = template.read_text()
        for pattern in (r"\|\s*safe\b", r"\|\s*safeseq\b", r"{%\s*autoescape\s+off"):
            assert not re.search(pattern, text), f"{template}: {pattern}"


def test_xss1_templates_have_no_inline_script_or_style():
    """XSS-1: CSP default-src 'self' forbids inline code, so the templates have none (no 'unsafe-inline' needed)."""
    for template in sorted((APP / "templates").rglob("*.html")):
        text = template.read_text().lower()
        inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", text) if "src=" not in tag]
        assert inline_scripts == [], template
        assert "<style" not in text and not re.search(r"\sstyle\s*=", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template  # no inline event handlers


def test_controls_literals_cover_the_app_sheet_items():
    """Every app sheet item is claimed by a module's CONTROLS literal (parsed with ast.literal_eval, never imported)."""
    claimed: set[str] = set()
    for path in app_sources():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.AnnAssign):
                targets, literal = [node.target], node.value
            elif isinstance(node, ast.Assign):
                targets, literal = node.targets, node.value
            else:
                continue
            if any(isinstance(t, ast.Name) and t.id == "CONTROLS" for t in targets):
                assert literal is not None
                value = ast.literal_eval(literal)
                assert isinstance(value, dict) and value, path
                for key, text in value.items():
                    assert SHEET_ID.match(key) and isinstance(text, str) and text, (path, key)
                claimed |= set(value)
    required = {
        "ISO-1", "USR-1", "USR-2", "PWD-1", "PWD-2", "SQL-1", "SQL-2", "SQL-3", "CMD-1", "CMD-2",
        "PATH-1", "PATH-2", "PATH-3", "SES-1", "SES-2", "SES-3", "SES-4", "XSS-1", "XSS-3", "XSS-4",
        "CSRF-1", "CSRF-2", "CSRF-3", "HDR-1", "CJ-1", "CJ-2", "CJ-3", "BOF-1", "AUTHZ-1", "AUTHZ-2",
    }  # fmt: skip
    assert required <= claimed, sorted(required - claimed)


def _built_sql_args(tree: ast.AST, sinks: set[str]) -> list[int]:
    """Lines where a call to a SQL sink gets SQL built right there (f-string, %, + or .format)."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        first = node.args[0]
        built = isinstance(first, ast.JoinedStr) or (isinstance(first, ast.BinOp) and isinstance(first.op, (ast.Mod, ast.Add)))
        built |= (
            isinstance(first, ast.Call)
            and isinstance(first.func, ast.Attribute)
            and first.func.attr == "format"
            and isinstance(first.func.value, ast.Constant)
        )
        if name in sinks and built:
            lines.append(node.lineno)
    return lines


def test_sql2_no_sql_built_from_strings_anywhere_in_the_repository():
    """SQL-2: outside the app too (its tests and their SQL helpers, the benchmarks, the tools), no SQL
    handed to execute() or a test's SQL helper is built from strings (f-string, %, + or str.format)."""
    repo = APP.parent
    sources = [p for d in ("app/tests", "bench", "tools", "tests") for p in sorted((repo / d).rglob("*.py"))]
    assert len(sources) > 10
    sinks = SQL_SINK_METHODS | SQL_SINK_CALLABLES | {"fetch", "query", "fetchone", "fetchall"}
    findings = [f"{p.relative_to(repo)}:{line}" for p in sources for line in _built_sql_args(ast.parse(p.read_text()), sinks)]
    assert findings == [], findings


def test_sql2_repository_check_catches_built_sql():
    sinks = {"execute", "fetch"}
    for bad in ("c.execute(f'SELECT {x}')", "fetch('SELECT ' + t)", "c.execute('SELECT %s' % t)", "c.execute('SELECT {}'.format(t))"):
        assert _built_sql_args(ast.parse(bad), sinks) == [1], bad
    assert _built_sql_args(ast.parse("c.execute('SELECT %s', [t])"), sinks) == []


# --- SQL-1 and CMD-2: the ORM and vetted libraries --------------------------------------------

#: the only modules that speak SQL themselves, each for something the ORM cannot express
RAW_SQL_MODULES = {
    "core/dbroles.py": "role and grant DDL (CREATE/ALTER ROLE, GRANT) through psycopg.sql",
    "tenancy/db.py": "set_config('app.tenant_id', ..., true) for row-level security",
    "core/middleware.py": "the readiness probe's SELECT 1",
    "calls/layer.py": "the channel layer: LISTEN/NOTIFY (pg_notify) and its two tables, static SQL with bound parameters",
}
#: third-party libraries the app may import: each is pinned with hashes in app/requirements.txt
VETTED_LIBRARIES = {
    "django",
    "boto3",
    "botocore",
    "psycopg",
    "pyotp",
    "argon2",
    "whitenoise",
    "gunicorn",
    "channels",
    "uvicorn_worker",
    "polib",
}


def _talks_sql(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in {"cursor", "raw", "extra", "RawSQL", "execute", "executemany"}:
                return True
    return False


def test_sql1_the_database_is_used_through_the_orm():
    """SQL-1: every app module but the listed few reaches the database through the ORM only."""
    talking = {str(p.relative_to(APP)) for p in app_sources() if "migrations" not in p.parts and _talks_sql(ast.parse(p.read_text()))}
    assert talking == set(RAW_SQL_MODULES), f"modules issuing SQL themselves: {sorted(talking)}"


def _third_party_imports(path: Path, first_party: set[str]) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in first_party and n != "__future__"}


def test_cmd2_app_code_uses_only_vetted_pinned_libraries():
    """CMD-2: work a shell would do (S3, email, hashing, OTP, serving) goes through vetted libraries only:
    the app imports no third-party package outside this list, and each is pinned with hashes."""
    first_party = {p.name for p in APP.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    used = set().union(*(_third_party_imports(p, first_party) for p in app_sources()))
    assert used <= VETTED_LIBRARIES, f"unvetted imports: {sorted(used - VETTED_LIBRARIES)}"
    pinned = (APP / "requirements.txt").read_text()
    for lib in VETTED_LIBRARIES:
        dist = {"argon2": "argon2-cffi", "uvicorn_worker": "uvicorn-worker"}.get(lib, lib)
        assert re.search(rf"^{re.escape(dist)}==\S+ \\", pinned, re.MULTILINE), f"{dist} is not pinned with hashes"
