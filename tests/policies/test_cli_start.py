"""AUDIT-1: the command-line check starts without the SDK parts it never uses, and judges exactly the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import rendered_doc
from tools import check
from tools.render import dumps

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, runpy, sys
sys.argv = ["tools.check", sys.argv[1], "--format", "json"]
try:
    runpy.run_module("tools.check", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
lazy = {m: type(sys.modules[m]).__name__ for m in ("pulumi.automation", "pulumi.dynamic") if m in sys.modules}
print(json.dumps({"code": code, "lazy": lazy}), file=sys.stderr)
"""


def test_audit1_cli_defers_unused_sdk_modules_and_reports_the_same(tmp_path: Path) -> None:
    """AUDIT-1: `python -m tools.check` leaves pulumi's Automation API and dynamic providers unloaded; its JSON report equals the library's."""
    path = tmp_path / "prod.stack.json"
    path.write_text(dumps(rendered_doc("prod")), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=ROOT, capture_output=True, text=True, check=False)
    status = json.loads(proc.stderr.strip().splitlines()[-1])
    assert status["code"] == 0
    assert status["lazy"] == {"pulumi.automation": "_LazyModule", "pulumi.dynamic": "_LazyModule"}
    assert json.loads(proc.stdout) == json.loads(check.format_json(check.check_file(path)))
