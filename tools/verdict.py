"""The pull-request verdict: the change set and the policy result against the base, in one report.

    python -m tools.verdict --base <ref|export> [--head .] [--stack prod --stack staging]
                            [--event $GITHUB_EVENT_PATH] [--summary $GITHUB_STEP_SUMMARY] [--output build/pr-verdict.md]
    python -m tools.verdict --post-comment build/pr-verdict.md --event $GITHUB_EVENT_PATH   (GITHUB_TOKEN, GITHUB_REPOSITORY)

For each stack: both sides are rendered offline (tools/diff.py: a git ref in a temporary
tree, or an export file), the change set is computed, and the policy pack of the head
(with the head's policies/config.<stack>.json) judges both sides, so the report can say
which violations the pull request introduces and which it fixes.

The verdict fails (exit 1) when the head has a mandatory violation, or when a protected
or stateful resource would be deleted or replaced and nobody acknowledged it: the pull
request's label `allow-stateful-replacement` acknowledges every such change, a commit
trailer `Allow-Stateful-Replacement: <name or URN>` (in a commit between base and head)
acknowledges the resources it names (`*` for all). Exit 2 on bad input.

The report is Markdown with a hidden marker; `--post-comment` creates that one comment
on the pull request or updates it in place (the GitHub REST API, the job's token).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies.kakoi_policy import all_policies  # noqa: E402
from tools import diff  # noqa: E402
from tools.check import CheckError, Finding, PolicyConfig, Report, evaluate, load_config  # noqa: E402

MARKER = "<!-- kakoi-pr-verdict -->"
#: GitHub refuses comment bodies over 65536 characters
MAX_COMMENT = 60000
LABEL = "allow-stateful-replacement"
TRAILER = "Allow-Stateful-Replacement"


@dataclass(frozen=True)
class Acknowledgements:
    label: bool = False
    names: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()

    def covers(self, change: diff.Change) -> bool:
        if self.label or "*" in self.names:
            return True
        return bool({change.res.name, change.res.urn, change.old_urn} & self.names)


def acknowledgements(event: dict[str, Any] | None, base_commit: str | None, head: str = "HEAD") -> Acknowledgements:
    """The label on the pull request (from the event payload) and the trailers of the commits base..head."""
    labels = {str(lbl.get("name")) for lbl in ((event or {}).get("pull_request") or {}).get("labels") or [] if isinstance(lbl, dict)}
    names: set[str] = set()
    sources: list[str] = []
    if LABEL in labels:
        sources.append(f"label `{LABEL}`")
    if base_commit:
        names |= set(trailers(base_commit, head))
        if names:
            sources.append(f"trailer `{TRAILER}: {', '.join(sorted(names))}`")
    return Acknowledgements(LABEL in labels, frozenset(names), tuple(sources))


def trailers(base: str, head: str = "HEAD", repo: Path = ROOT) -> list[str]:
    """The values of every `Allow-Stateful-Replacement:` trailer in the commits base..head (comma-separated lists allowed)."""
    fmt = f"%(trailers:key={TRAILER},valueonly,separator=%x00)"
    proc = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
        ["git", "-C", str(repo), "log", f"--format={fmt}", f"{base}..{head}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return []
    out = []
    for chunk in proc.stdout.replace("\n", "\0").split("\0"):
        out += [v.strip() for v in chunk.split(",") if v.strip()]
    return out


@dataclass
class StackVerdict:
    stack: str
    change_set: diff.Diff
    head_report: Report
    base_report: Report
    new: list[Finding]
    fixed: list[Finding]
    unacknowledged: list[diff.Change]
    acknowledged: list[diff.Change]

    @property
    def mandatory(self) -> list[Finding]:
        return self.head_report.mandatory

    @property
    def failed(self) -> bool:
        return bool(self.mandatory or self.unacknowledged)


@dataclass
class Verdict:
    stacks: list[StackVerdict]
    acks: Acknowledgements
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(s.failed for s in self.stacks)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def _key(f: Finding) -> tuple[str, str, str, str]:
    return (f.policy, diff.canonical_urn(f.urn), f.message, f.kind)


def _config(stack: str) -> PolicyConfig:
    path = ROOT / "policies" / f"config.{stack}.json"
    return load_config(path, all_policies()) if path.is_file() else PolicyConfig()


def judge(base: diff.Source, head: diff.Source, stack: str, acks: Acknowledgements) -> StackVerdict:
    config = _config(stack)
    try:
        base_report = evaluate(base.doc, config, source=base.label)
        head_report = evaluate(head.doc, config, source=head.label)
    except CheckError as exc:
        raise diff.DiffError(str(exc)) from exc
    base_keys = {_key(f) for f in base_report.findings}
    head_keys = {_key(f) for f in head_report.findings}
    new = [f for f in head_report.findings if _key(f) not in base_keys]
    fixed = [f for f in base_report.findings if _key(f) not in head_keys]
    change_set = diff.compute(base, head, stack)
    dangers = change_set.dangers
    return StackVerdict(
        stack,
        change_set,
        head_report,
        base_report,
        new,
        fixed,
        [c for c in dangers if not acks.covers(c)],
        [c for c in dangers if acks.covers(c)],
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _finding_rows(findings: list[Finding]) -> list[str]:
    rows = ["| policy | level | resource | message |", "|---|---|---|---|"]
    for f in findings:
        rows.append(
            f"| `{f.policy}` | {f.level}{' (undecided)' if f.kind == 'undecided' else ''} | `{_md(f.urn.split('::')[-1])}` | {_md(f.message)} |"
        )
    return rows


def to_markdown(v: Verdict) -> str:
    head = "❌ **fails**" if v.failed else "✅ **passes**"
    lines = [MARKER, f"## kakoi PR verdict: {head}", ""]
    for s in v.stacks:
        reasons = []
        if s.mandatory:
            reasons.append(f"{len(s.mandatory)} mandatory policy violation(s)")
        if s.unacknowledged:
            reasons.append(f"{len(s.unacknowledged)} unacknowledged stateful delete/replace")
        n = s.change_set.counts()
        lines.append(
            f"- **{s.stack}**: {'❌ ' + ', '.join(reasons) if reasons else '✅ ok'}; "
            f"change set +{n['create']} ~{n['update']} ±{n['replace']} -{n['delete']}; "
            f"policies: {len(s.new)} new, {len(s.fixed)} fixed, {len(s.mandatory)} mandatory violation(s) on the head"
        )
    lines.append("")
    for s in v.stacks:
        lines += [f"### {s.stack}", ""]
        if s.unacknowledged:
            lines.append("**Data loss not acknowledged:** these would be deleted or replaced:")
            lines += [f"- {c.kind} {c.stateful} `{c.res.name}` (`{c.res.type}`): {_md(c.reason)}" for c in s.unacknowledged]
            lines += [
                "",
                f"If this is intended (e.g. the data was migrated), add the label `{LABEL}` to the pull request, or a commit "
                f"trailer `{TRAILER}: <resource name>`; otherwise add `aliases` so the resource keeps its URN.",
                "",
            ]
        if s.acknowledged:
            lines.append(f"Acknowledged data loss ({', '.join(v.acks.sources) or 'acknowledged'}):")
            lines += [f"- {c.kind} {c.stateful} `{c.res.name}`" for c in s.acknowledged]
            lines.append("")
        lines.append(f"#### Policy result against the base ({len(s.head_report.policies)} policies, `{s.head_report.config_source}`)")
        lines.append("")
        if s.new:
            lines += [f"**New violations ({len(s.new)}):**", "", *_finding_rows(s.new), ""]
        if s.fixed:
            lines += [f"**Fixed violations ({len(s.fixed)}):**", "", *_finding_rows(s.fixed), ""]
        if not s.new and not s.fixed:
            lines += ["No new and no fixed violations.", ""]
        still = [f for f in s.mandatory if _key(f) not in {_key(n) for n in s.new}]
        if still:
            lines += [f"**Mandatory violations already on the base ({len(still)}):**", "", *_finding_rows(still), ""]
        body = diff.format_markdown(s.change_set).replace("### Change set", "#### Change set", 1)
        lines += ["<details><summary>Change set</summary>", "", body, "</details>", ""] if len(body) > 6000 else [body]
    lines += v.notes
    return "\n".join(lines).rstrip() + "\n"


def build(base_spec: str, head_spec: str, stacks: list[str], event: dict[str, Any] | None, log: Any = sys.stderr) -> Verdict:
    base_commit = diff.resolve_commit(base_spec) if not Path(base_spec).is_file() else None
    acks = acknowledgements(event, base_commit)
    out = []
    for stack in stacks:
        base = diff.load_source(base_spec, stack, log)
        head = diff.load_source(head_spec, stack, log)
        out.append(judge(base, head, stack, acks))
    return Verdict(out, acks)


# --- the PR comment ---------------------------------------------------------------------------------
def _request(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise diff.DiffError(f"refusing to call {url}: not an https API URL")
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked above
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Accept", "application/vnd.github+json")
    req.add_header("X-GitHub-Api-Version", "2022-11-28")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
        text = resp.read().decode()
    return json.loads(text) if text else None


def post_comment(body: str, *, api: str, repo: str, number: int, token: str) -> tuple[str, int]:
    """Create the verdict comment, or update the one that carries the marker. Returns (created|updated, id)."""
    if len(body) > MAX_COMMENT:
        body = body[:MAX_COMMENT] + "\n\n... (cut: the whole report is in the job summary)\n"
    page = 1
    while True:
        comments = _request("GET", f"{api}/repos/{repo}/issues/{number}/comments?per_page=100&page={page}", token) or []
        for c in comments:
            if MARKER in str(c.get("body") or ""):
                _request("PATCH", f"{api}/repos/{repo}/issues/comments/{c['id']}", token, {"body": body})
                return "updated", int(c["id"])
        if len(comments) < 100:
            break
        page += 1
    created = _request("POST", f"{api}/repos/{repo}/issues/{number}/comments", token, {"body": body})
    return "created", int(created["id"])


def _event(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise diff.DiffError(f"{path}: cannot read the event payload ({exc})") from exc


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools.verdict", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--base", help="git ref or export of the base (default: origin/main, else main)")
    parser.add_argument("--head", default=diff.WORKTREE, help="git ref or export of the head (default: the working tree)")
    parser.add_argument("--stack", action="append", dest="stacks", help="stack to judge (repeatable; default prod and staging)")
    parser.add_argument("--event", help="the GitHub event payload (GITHUB_EVENT_PATH): labels, pull request number")
    parser.add_argument("--summary", help="append the report to this file (GITHUB_STEP_SUMMARY)")
    parser.add_argument("--output", help="write the report (the PR comment body) to this file")
    parser.add_argument("--post-comment", metavar="FILE", help="post FILE as the single verdict comment of the pull request")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        event = _event(args.event)
        if args.post_comment:
            return _post(args.post_comment, event)
        verdict = build(args.base or diff.default_from(), args.head, args.stacks or ["prod", "staging"], event)
    except diff.DiffError as exc:
        print(f"verdict: {exc}", file=sys.stderr)
        return 2
    text = to_markdown(verdict)
    sys.stdout.write(text)
    for target in (args.summary, args.output):
        if target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            with Path(target).open("a" if target == args.summary else "w", encoding="utf-8") as fh:
                fh.write(text)
    return verdict.exit_code


def _post(path: str, event: dict[str, Any] | None) -> int:
    token = os.environ.get("GITHUB_TOKEN", "")
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    number = ((event or {}).get("pull_request") or {}).get("number")
    if not (token and repo and number):
        raise diff.DiffError("--post-comment needs GITHUB_TOKEN, GITHUB_REPOSITORY and a pull_request event (--event)")
    try:
        body = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise diff.DiffError(f"{path}: {exc}") from exc
    try:
        action, cid = post_comment(body, api=api, repo=repo, number=int(number), token=token)
    except urllib.error.URLError as exc:
        raise diff.DiffError(f"posting the PR comment failed: {exc}") from exc
    print(f"verdict: {action} comment {cid} on {repo}#{number}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
