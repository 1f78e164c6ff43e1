"""The result of a policy check and its three renderings (text, JSON, Markdown).

`Finding` is one violation or one "cannot decide"; `Report` is the whole result with
per-policy status (pass | fail | warn | undecided | disabled), the summary counts and the
exit code (1 when a mandatory policy is violated). `FORMATS` maps the command line's
`--format` choices to their formatter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel

from policies.kakoi_policy import KakoiPolicy


@dataclass(frozen=True)
class Finding:
    policy: str
    level: str  # mandatory | advisory
    severity: str
    urn: str
    message: str
    kind: str  # violation | undecided


@dataclass
class Report:
    source: str
    config_source: str
    resources: int
    policies: list[KakoiPolicy]
    levels: dict[str, EnforcementLevel]
    findings: list[Finding]
    not_applicable: dict[str, str]
    subjects: dict[str, int]
    encrypted_secrets: int
    seconds: float = 0.0

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "mandatory" and f.kind == "violation"]

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory else 0

    def for_policy(self, name: str) -> list[Finding]:
        return [f for f in self.findings if f.policy == name]

    def status(self, policy: KakoiPolicy) -> str:
        """pass | fail | warn | undecided | disabled for one policy."""
        if self.levels[policy.name] == EnforcementLevel.DISABLED:
            return "disabled"
        found = self.for_policy(policy.name)
        if any(f.kind == "violation" and f.level == "mandatory" for f in found):
            return "fail"
        if any(f.kind == "violation" for f in found):
            return "warn"
        if found:
            return "undecided"
        return "pass"

    def to_json(self) -> dict[str, Any]:
        policies = []
        for p in self.policies:
            policies.append(
                {
                    "name": p.name,
                    "kind": p.info.kind,
                    "enforcementLevel": self.levels[p.name].value,
                    "severity": p.severity.value if p.severity else None,
                    "sheetIds": list(p.info.sheet_ids),
                    "securityHub": list(p.info.securityhub),
                    "status": self.status(p),
                    "resourcesJudged": self.subjects.get(p.name, 0),
                    "description": p.description,
                    "remediation": p.remediation_steps,
                }
            )
        by_name = {p.name: p for p in self.policies}
        return {
            "file": self.source,
            "config": self.config_source,
            "resources": self.resources,
            "summary": summary_counts(self),
            "exitCode": self.exit_code,
            "findings": [
                {
                    "policy": f.policy,
                    "kind": f.kind,
                    "enforcementLevel": f.level,
                    "severity": f.severity,
                    "urn": f.urn,
                    "message": f.message,
                    "sheetIds": list(by_name[f.policy].info.sheet_ids),
                    "securityHub": list(by_name[f.policy].info.securityhub),
                    "remediation": by_name[f.policy].remediation_steps,
                }
                for f in self.findings
            ],
            "policies": policies,
        }


def summary_counts(report: Report) -> dict[str, int]:
    statuses = [report.status(p) for p in report.policies]
    return {
        "policies": len(report.policies),
        "passed": statuses.count("pass"),
        "failed": statuses.count("fail"),
        "warned": statuses.count("warn"),
        "undecided": statuses.count("undecided"),
        "disabled": statuses.count("disabled"),
        "mandatoryViolations": len(report.mandatory),
        "advisoryViolations": sum(1 for f in report.findings if f.kind == "violation" and f.level == "advisory"),
        "undecidedFindings": sum(1 for f in report.findings if f.kind == "undecided"),
    }


def _ids(policy: KakoiPolicy) -> str:
    parts = []
    if policy.info.sheet_ids:
        parts.append(", ".join(policy.info.sheet_ids))
    if policy.info.securityhub:
        parts.append("Security Hub " + ", ".join(policy.info.securityhub))
    return " | ".join(parts) or "-"


def _grouped(report: Report) -> list[tuple[KakoiPolicy, list[Finding]]]:
    by_name = {p.name: p for p in report.policies}
    groups: dict[str, list[Finding]] = {}
    for f in report.findings:
        groups.setdefault(f.policy, []).append(f)
    out = [(by_name[name], fs) for name, fs in groups.items()]
    out.sort(key=lambda item: (report.status(item[0]) != "fail", report.status(item[0]) != "warn", item[0].name))
    return out


def format_text(report: Report) -> str:
    s = summary_counts(report)
    lines = [
        f"kakoi policy check: {report.source} ({report.resources} resources, {s['policies']} policies, config {report.config_source})",
        "",
    ]
    for policy, found in _grouped(report):
        status = report.status(policy).upper()
        lines.append(
            f"{status} {policy.name} [{report.levels[policy.name].value}, {policy.severity.value if policy.severity else '-'}] ({_ids(policy)})"
        )
        lines.append(f"  {policy.description}")
        for f in found:
            mark = "?" if f.kind == "undecided" else "x"
            lines.append(f"  {mark} {f.urn}")
            lines.append(f"      {f.message}")
        lines.append(f"  remediation: {policy.remediation_steps}")
        lines.append("")
    if report.encrypted_secrets:
        lines.append(
            f"note: {report.encrypted_secrets} encrypted secret value(s) were treated as unknown; "
            "export with `pulumi stack export --show-secrets` to check them"
        )
    verdict = "FAIL" if report.exit_code else "PASS"
    lines.append(
        f"{verdict}: {s['mandatoryViolations']} mandatory violation(s) in {s['failed']} policy(ies), "
        f"{s['advisoryViolations']} advisory in {s['warned']}, {s['undecidedFindings']} undecided; "
        f"{s['passed']} of {s['policies']} policies passed ({report.seconds:.2f}s)"
    )
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_markdown(report: Report) -> str:
    s = summary_counts(report)
    verdict = "❌ mandatory policy violations" if report.exit_code else "✅ no mandatory policy violation"
    lines = [
        f"### Policy check: {verdict}",
        "",
        f"`{report.source}`: {report.resources} resources, {s['policies']} policies "
        f"({s['passed']} passed, {s['failed']} failed, {s['warned']} advisory warnings, {s['undecided']} undecided).",
        "",
    ]
    grouped = _grouped(report)
    if grouped:
        lines += ["| status | policy | level | sheet / Security Hub | resource | message |", "|---|---|---|---|---|---|"]
        for policy, found in grouped:
            for f in found:
                lines.append(
                    f"| {report.status(policy)} | `{policy.name}` | {f.level} | {_md(_ids(policy))} | `{_md(f.urn.split('::')[-1])}` | {_md(f.message)} |"
                )
        lines.append("")
    return "\n".join(lines) + "\n"


def format_json(report: Report) -> str:
    data = report.to_json()
    data.pop("seconds", None)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[[Report], str]] = {"text": format_text, "json": format_json, "markdown": format_markdown}

__all__ = ["FORMATS", "Finding", "Report", "format_json", "format_markdown", "format_text", "summary_counts"]
