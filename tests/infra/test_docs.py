"""AUDIT-1: the documents auditors read stay true to their sources."""

from __future__ import annotations

import re

from tools.stackfiles import ROOT

SHEET = ROOT / "docs" / "security-sheet.md"
#: the published sheet as handed to the project (beside the checkout, as CI lays it out)
SHARED_SHEET = ROOT.parent / "shared" / "security-sheet.md"


def test_audit1_sheet_copy_matches_the_published_sheet() -> None:
    """AUDIT-1: docs/security-sheet.md, which the controls report reads, is the published sheet, with every ID once."""
    text = SHEET.read_text(encoding="utf-8")
    ids = re.findall(r"^\| ([A-Z]+-\d+) \|", text, re.MULTILINE)
    assert len(ids) == len(set(ids)) == 50
    if SHARED_SHEET.is_file():
        assert text == SHARED_SHEET.read_text(encoding="utf-8"), "docs/security-sheet.md differs from ../shared/security-sheet.md"


def test_audit1_runbooks_name_only_config_keys_that_exist() -> None:
    """AUDIT-1: every `kakoi:<key>` a runbook or README tells an operator to set is a real project setting."""
    from tools.stackfiles import project_schema

    keys = {k.split(":", 1)[1] for k in project_schema()}
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for doc in docs:
        # config keys are camelCase: `kakoi:<x>:` is a type token and `kakoi:data-class` a tag key (components/data_class.py)
        for key in re.findall(r"kakoi:([a-zA-Z][a-zA-Z0-9]+)(?![\w:$-])", doc.read_text(encoding="utf-8")):
            assert key in keys, f"{doc.relative_to(ROOT)} names kakoi:{key}, which Pulumi.yaml does not declare"
