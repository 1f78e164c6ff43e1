"""AUDIT-1: tools/report.py: per-policy status, exit code and the text, JSON and Markdown renderings."""

from __future__ import annotations

import json

from pulumi_policy import EnforcementLevel

from policies.kakoi_policy import all_policies
from tools.report import FORMATS, Finding, Report, format_json, format_markdown, format_text, summary_counts

PACK = all_policies()[:3]


def _report(*findings: Finding) -> Report:
    levels = {p.name: EnforcementLevel.MANDATORY for p in PACK}
    levels[PACK[2].name] = EnforcementLevel.DISABLED
    return Report("x.json", "cfg.json", 7, list(PACK), levels, list(findings), {}, {p.name: 1 for p in PACK}, 0)


def test_audit1_status_and_exit_code() -> None:
    """AUDIT-1: fail only on a mandatory violation; undecided and disabled are their own statuses."""
    a, b, _ = PACK
    report = _report(
        Finding(a.name, "mandatory", "high", "urn:a", "bad", "violation"), Finding(b.name, "advisory", "", "urn:b", "?", "undecided")
    )
    assert [report.status(p) for p in PACK] == ["fail", "undecided", "disabled"]
    assert report.exit_code == 1
    counts = summary_counts(report)
    assert (counts["failed"], counts["undecided"], counts["disabled"], counts["mandatoryViolations"]) == (1, 1, 1, 1)
    assert _report().exit_code == 0 and summary_counts(_report())["passed"] == 2


def test_audit1_renderings_name_policy_resource_and_remediation() -> None:
    """AUDIT-1: text, JSON and Markdown carry the verdict, the URN, the message and the remediation."""
    a = PACK[0]
    report = _report(Finding(a.name, "mandatory", "high", "urn:pulumi:prod::kakoi::t::res|1", "bad | thing", "violation"))
    text = format_text(report)
    assert f"FAIL {a.name}" in text and "x urn:pulumi:prod::kakoi::t::res|1" in text and "remediation:" in text
    assert text.rstrip().splitlines()[-1].startswith("FAIL: 1 mandatory violation(s)")
    data = json.loads(format_json(report))
    assert data["exitCode"] == 1 and data["findings"][0]["remediation"] == a.remediation_steps and "seconds" not in data
    md = format_markdown(report)
    assert "❌" in md and "`res\\|1`" in md and "bad \\| thing" in md
    assert set(FORMATS) == {"text", "json", "markdown"}
