"""The PR verdict (tools/verdict.py, .github/workflows/pr-verdict.yml), generated locally on fixtures.

The fixtures are copies of the prod render: the base with a weakening the pull request
fixes (KMS rotation off), the head with a new one (invalid headers kept) and the
database renamed without an alias.
"""

from __future__ import annotations

import copy
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import rendered_doc
from tests.policies.mutations import mutated
from tests.policies.test_diff import DB, _rename
from tools import diff, verdict
from tools.render import dumps

ROOT = Path(__file__).resolve().parents[2]


def _fixtures(tmp_path: Path, *, weaken: bool = True, rename: bool = True) -> tuple[Path, Path]:
    base = mutated(rendered_doc("prod"), "kakoi-kms-key-rotation")
    head = mutated(rendered_doc("prod"), "kakoi-elb-drop-invalid-headers") if weaken else copy.deepcopy(rendered_doc("prod"))
    if rename:
        _rename(head, DB, "db", "db-primary", alias=False)
    bp, hp = tmp_path / "base.json", tmp_path / "head.json"
    bp.write_text(dumps(base), encoding="utf-8")
    hp.write_text(dumps(head), encoding="utf-8")
    return bp, hp


def _verdict(bp: Path, hp: Path, event: dict[str, Any] | None = None) -> verdict.Verdict:
    return verdict.build(str(bp), str(hp), ["prod"], event)


def test_audit1_verdict_reports_new_and_fixed_violations_and_the_change_set(tmp_path: Path) -> None:
    """AUDIT-1: new violations, fixed ones, the unacknowledged database delete and the change set, in one comment body."""
    v = _verdict(*_fixtures(tmp_path))
    (s,) = v.stacks
    assert [f.policy for f in s.new] == ["kakoi-elb-drop-invalid-headers"]
    assert [f.policy for f in s.fixed] == ["kakoi-kms-key-rotation"]
    assert [c.res.name for c in s.unacknowledged] == ["db"]
    assert v.exit_code == 1
    md = verdict.to_markdown(v)
    assert md.startswith(verdict.MARKER + "\n## kakoi PR verdict: ❌ **fails**")
    assert "**New violations (1):**" in md and "| `kakoi-elb-drop-invalid-headers` | mandatory | `edge` |" in md
    assert "**Fixed violations (1):**" in md and "`kakoi-kms-key-rotation`" in md
    assert "**Data loss not acknowledged:**" in md and "delete database `db`" in md
    assert "#### Change set (prod): ❌" in md and "| kakoi:database:Database db | - delete |" in md
    assert "1 mandatory policy violation(s), 1 unacknowledged stateful delete/replace" in md


def test_audit1_label_acknowledges_the_replacement_but_not_a_violation(tmp_path: Path) -> None:
    """AUDIT-1: the label `allow-stateful-replacement` acknowledges data loss; a mandatory violation still fails."""
    event = {"pull_request": {"number": 7, "labels": [{"name": "allow-stateful-replacement"}]}}
    v = _verdict(*_fixtures(tmp_path), event)
    (s,) = v.stacks
    assert not s.unacknowledged and [c.res.name for c in s.acknowledged] == ["db"]
    assert v.exit_code == 1 and s.mandatory
    assert "Acknowledged data loss (label `allow-stateful-replacement`)" in verdict.to_markdown(v)
    ok = _verdict(*_fixtures(tmp_path, weaken=False), event)
    assert ok.exit_code == 0 and verdict.to_markdown(ok).startswith(verdict.MARKER + "\n## kakoi PR verdict: ✅ **passes**")


def test_audit1_without_acknowledgement_a_replacement_alone_fails(tmp_path: Path) -> None:
    """AUDIT-1: no policy violation, but the database would be deleted: the verdict fails and says how to acknowledge."""
    v = _verdict(*_fixtures(tmp_path, weaken=False), {"pull_request": {"number": 7, "labels": [{"name": "docs"}]}})
    assert v.exit_code == 1 and not v.stacks[0].mandatory
    assert "add the label `allow-stateful-replacement`" in verdict.to_markdown(v)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_audit1_commit_trailer_acknowledges_the_named_resource(tmp_path: Path) -> None:
    """AUDIT-1: `Allow-Stateful-Replacement: db` in a commit of the pull request acknowledges the database only."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    _git(
        repo,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "rename the database\n\nAllow-Stateful-Replacement: db",
    )
    _git(
        repo,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "other\n\nAllow-Stateful-Replacement: media, logs-archive",
    )
    assert sorted(verdict.trailers(base, "HEAD", repo)) == ["db", "logs-archive", "media"]
    acks = verdict.Acknowledgements(names=frozenset(verdict.trailers(base, "HEAD", repo)))
    bp, hp = _fixtures(tmp_path, weaken=False)
    s = verdict.judge(diff.load_source(str(bp), "prod"), diff.load_source(str(hp), "prod"), "prod", acks)
    assert [c.res.name for c in s.acknowledged] == ["db"] and not s.unacknowledged and not s.failed
    other = verdict.judge(
        diff.load_source(str(bp), "prod"), diff.load_source(str(hp), "prod"), "prod", verdict.Acknowledgements(names=frozenset({"media"}))
    )
    assert [c.res.name for c in other.unacknowledged] == ["db"]


def test_audit1_cli_writes_the_summary_and_the_comment_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """AUDIT-1: the CLI appends to the job summary, writes the comment body and exits 1 (2 on bad input)."""
    bp, hp = _fixtures(tmp_path)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    out = tmp_path / "pr-verdict.md"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3, "labels": []}}), encoding="utf-8")
    code = verdict.main(
        ["--base", str(bp), "--head", str(hp), "--stack", "prod", "--event", str(event), "--summary", str(summary), "--output", str(out)]
    )
    assert code == 1
    body = out.read_text(encoding="utf-8")
    assert summary.read_text(encoding="utf-8") == "earlier step\n" + body
    assert body == capsys.readouterr().out
    assert verdict.main(["--base", str(tmp_path / "nope.json"), "--head", str(hp), "--stack", "prod"]) == 2


class _FakeGitHub(BaseHTTPRequestHandler):
    comments: list[dict[str, Any]] = []
    calls: list[tuple[str, str, str]] = []

    def _reply(self, code: int, data: Any) -> None:
        payload = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path, self.headers.get("Authorization", "")))
        self._reply(200, self.comments)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(("POST", self.path, self.headers.get("Authorization", "")))
        comment = {"id": 100 + len(self.comments), "body": body["body"]}
        self.comments.append(comment)
        self._reply(201, comment)

    def do_PATCH(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(("PATCH", self.path, self.headers.get("Authorization", "")))
        cid = int(self.path.rsplit("/", 1)[1])
        for c in self.comments:
            if c["id"] == cid:
                c["body"] = body["body"]
        self._reply(200, {"id": cid})

    def log_message(self, *args: Any) -> None:
        return


def test_audit1_one_pr_comment_is_created_then_updated_in_place() -> None:
    """AUDIT-1: the first run creates the verdict comment, later runs edit that same comment (found by its marker)."""
    _FakeGitHub.comments = [{"id": 1, "body": "an unrelated review comment"}]
    _FakeGitHub.calls = []
    server = HTTPServer(("127.0.0.1", 0), _FakeGitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        first = verdict.post_comment(verdict.MARKER + "\nrun 1", api=api, repo="o/r", number=5, token="t0k")
        second = verdict.post_comment(verdict.MARKER + "\nrun 2", api=api, repo="o/r", number=5, token="t0k")
    finally:
        server.shutdown()
        server.server_close()
    assert first == ("created", 101) and second == ("updated", 101)
    assert [c["body"] for c in _FakeGitHub.comments] == ["an unrelated review comment", verdict.MARKER + "\nrun 2"]
    assert {auth for _, _, auth in _FakeGitHub.calls} == {"Bearer t0k"}
    assert [(m, p.split("?")[0]) for m, p, _ in _FakeGitHub.calls][-1] == ("PATCH", "/repos/o/r/issues/comments/101")


def test_audit1_pr_verdict_workflow_runs_the_verdict_and_posts_one_comment() -> None:
    """AUDIT-1: the workflow runs on label changes too, with the least permissions, and fails on the verdict's exit code."""
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "pr-verdict.yml").read_text(encoding="utf-8"))
    on = wf.get("on") or wf.get(True)
    assert {"labeled", "unlabeled", "synchronize"} <= set(on["pull_request"]["types"])
    assert wf["permissions"] == {}
    job = wf["jobs"]["verdict"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    runs = [s.get("run", "") for s in job["steps"]]
    assert any("tools.verdict --base" in r and "$GITHUB_STEP_SUMMARY" in r for r in runs)
    post = next(s for s in job["steps"] if "--post-comment" in s.get("run", ""))
    assert post["if"].startswith("always()")
