"""AUDIT-1: the controls report an auditor re-runs (docs/controls.md is the prod report)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import rendered_doc
from tests.policies.support import augmented, del_prop, one
from tools.controls import REGENERATE, build, config_for, outputs_for, parse_controls, parse_sheet, scan_tests, to_html, to_markdown
from tools.controls import tests_for as find_tests

ROOT = Path(__file__).resolve().parent.parent.parent


def _prod_report():
    return build(rendered_doc("prod"), "prod", config=config_for("prod"), source="offline render of prod")


def test_audit1_docs_controls_md_is_up_to_date() -> None:
    """AUDIT-1: docs/controls.md and docs/controls.html equal a fresh report of the prod stack."""
    md_path, html_path = outputs_for("prod")
    report = _prod_report()
    stale = f"is out of date: regenerate it with `{REGENERATE}` and commit it"
    assert md_path.is_file() and md_path.read_text(encoding="utf-8") == to_markdown(report), f"docs/controls.md {stale}"
    assert html_path.is_file() and html_path.read_text(encoding="utf-8") == to_html(report), f"docs/controls.html {stale}"


def test_audit1_report_is_deterministic_and_lists_every_sheet_id() -> None:
    """AUDIT-1: two builds give identical output; every ID of docs/security-sheet.md has a section and a status."""
    first, second = _prod_report(), _prod_report()
    md = to_markdown(first)
    assert md == to_markdown(second) and to_html(first) == to_html(second)
    ids = [i.id for i in parse_sheet()]
    assert len(ids) == len(set(ids)) >= 40
    for sheet_id in ids:
        assert f"\n## {sheet_id}\n" in md
    statuses = {i.item.id: i.status for i in first.items}
    assert statuses["CERT-1"] == statuses["SUP-2"] == "organisational"
    assert statuses["NET-1"] == statuses["ENC-1"] == "pass"
    assert statuses["USR-1"] == statuses["ISO-1"] == "tested"
    assert statuses["MNT-2"] == "documented"


def test_audit1_every_sheet_item_is_covered_on_prod() -> None:
    """AUDIT-1: on prod, every sheet item passes its policies, is tested in the app, is documented (ops)
    or is organisational: none fails and none is left without evidence."""
    report = _prod_report()
    gaps = {i.item.id: (i.status, i.reason) for i in report.items if i.status not in {"pass", "tested", "documented", "organisational"}}
    assert gaps == {}


def test_audit1_an_app_item_without_a_test_fails() -> None:
    """AUDIT-1: an app item whose tests disappear is reported as failing, not as not applicable."""
    tests = [t for t in scan_tests() if "PWD-1" not in t.doc and "pwd1" not in t.name.lower()]
    report = build(rendered_doc("prod"), "prod", config=config_for("prod"), tests=tests)
    pwd1 = next(i for i in report.items if i.item.id == "PWD-1")
    assert pwd1.status == "fail" and "no test" in pwd1.reason


def test_enc1_a_failing_mandatory_policy_fails_the_item() -> None:
    """ENC-1: when the TLS policy is dropped from the listener, the report shows ENC-1 as fail, naming the policy."""
    doc = augmented("prod")
    del_prop(one(doc, "aws:lb/listener:Listener", "edge-https"), "sslPolicy")
    report = build(doc, "prod", config=config_for("prod"))
    enc1 = next(i for i in report.items if i.item.id == "ENC-1")
    assert enc1.status == "fail" and "kakoi-enc-alb-tls13-only" in enc1.reason
    assert "**Status: fail**" in to_markdown(report)


def test_log1_item_lists_components_policies_and_tests() -> None:
    """LOG-1: the item names the log archive component with its resources, the policies and the tests."""
    log1 = next(i for i in _prod_report().items if i.item.id == "LOG-1")
    modules = {impl.module.module: impl for impl in log1.implementations}
    assert "log_archive" in modules and modules["log_archive"].components
    assert modules["log_archive"].components[0][0] == "kakoi:log_archive:LogArchive"
    assert {p.name for p, _, _ in log1.policies} >= {"kakoi-log-alb-access-logs", "kakoi-log-archive-keeps-logs"}
    assert any(t.name.startswith("test_log1_") for t in log1.tests)


def test_audit1_controls_literals_are_parsed_not_imported(tmp_path: Path) -> None:
    """AUDIT-1: CONTROLS is read with ast (a module that would fail on import still reports)."""
    (tmp_path / "broken.py").write_text('import does_not_exist\nCONTROLS: dict[str, str] = {"NET-1": "x"}\n', encoding="utf-8")
    (tmp_path / "plain.py").write_text('CONTROLS = {"LOG-1": "y"}\n', encoding="utf-8")
    parsed = {m.module: m.controls for m in parse_controls(tmp_path)}
    assert parsed == {"broken": {"NET-1": "x"}, "plain": {"LOG-1": "y"}}
    real = {m.module for m in parse_controls()}
    assert {"log_archive", "edge"} <= real


def test_audit1_tests_are_found_by_name_or_docstring() -> None:
    """AUDIT-1: test_enc1_... names and "ENC-1" docstrings count; ENC-10 or enc12 would not."""
    tests = scan_tests()
    found = {t.name for t in find_tests("ENC-1", tests)}
    assert "test_enc1_pack_tls_allow_list_equals_the_programs" in found
    assert "test_enc1_prod_config_file_is_valid_and_used_by_default" in found
    from tools.controls import TestRef as Ref

    fake = [Ref("t.py", "test_enc12_x", "ENC-12 only"), Ref("t.py", "test_x", "covers ENC-1."), Ref("t.py", "test_enc1", "")]
    assert [t.name for t in find_tests("ENC-1", fake)] == ["test_x", "test_enc1"]


def test_audit1_html_is_self_contained() -> None:
    """AUDIT-1: the HTML page needs nothing from the network (inline CSS, no scripts, no external links)."""
    page = to_html(_prod_report())
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"<(script|link|img)\b", page)


def test_enc1_known_exceptions_are_carried_into_the_report() -> None:
    """ENC-1: a module's EXCEPTIONS literal (media_bucket: the two service roles exempt from the TLS 1.3 deny) is
    read with ast and printed under its sheet ID in the Markdown and HTML reports, and only there."""
    media = next(m for m in parse_controls() if m.module == "media_bucket")
    assert "ENC-1" in media.exceptions and "aws:PrincipalArn" in media.exceptions["ENC-1"]
    report = _prod_report()
    md, page = to_markdown(report), to_html(report)
    enc1 = md.split("\n## ENC-1\n", 1)[1].split("\n## ", 1)[0]
    assert "Known, reasoned exceptions:" in enc1 and "guardduty-malware-scan" in enc1 and "media-replication" in enc1
    assert md.count("Known, reasoned exceptions:") == sum(len(m.exceptions) for m in parse_controls())
    assert "Known, reasoned exceptions:" in page.split('id="enc-1"', 1)[1].split("</section>", 1)[0]


def test_audit1_shared_report_parts_leave_out_empty_lists_and_escape_the_title() -> None:
    """AUDIT-1: both reports (English and Japanese) build their evidence lists and page head from tools/report_parts.py."""
    from tools.report_parts import html_head, html_list, md_list

    assert md_list("Enforced by:", []) == [] and html_list("Enforced by:", []) == []
    assert md_list("Enforced by:", ["- `a`"]) == ["Enforced by:", "- `a`", ""]
    assert html_list("T:", ["a", "b"]) == ["<p>T:</p><ul>", "<li>a</li>", "<li>b</li>", "</ul>"]
    assert html_list("T:", ["a", "b"], one_line=True) == ["<p>T:</p><ul><li>a</li><li>b</li></ul>"]
    head = html_head("en", "report: <x>", "p{}")
    assert head[2] == "<title>report: &lt;x&gt;</title>" and head[-1] == "<h1>report: &lt;x&gt;</h1>"
