"""AUDIT-1: the auditor's sheet in Japanese (docs/controls.ja.md/.html, tools/controls_ja.py).

The sheet comes back in its own order and columns (種別 / 評価項目 / 内容 / 対応状況), every
row answered from the same evidence as the English report, with links to it.
"""

from __future__ import annotations

import re
from pathlib import Path

from policies.kakoi_policy.levels import ADVISORY, ADVISORY_JA
from tests.conftest import rendered_doc
from tests.policies.mutations import mutated
from tools import controls_ja
from tools.controls import build, config_for, parse_sheet
from tools.sheet_ja import ROWS, STATUS_JA, SUMMARY_JA

ROOT = Path(__file__).resolve().parent.parent.parent
KANA = re.compile(r"[\u3040-\u30ff]")


def _report(doc=None):
    return build(doc or rendered_doc("prod"), "prod", config=config_for("prod"), source="offline render of prod")


def _table_rows(md: str) -> list[list[str]]:
    start = md.index("| 種別 | 評価項目 | 内容 | 対応状況 |")
    lines = md[start:].split("\n\n", 1)[0].splitlines()[2:]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]] for line in lines]


def test_audit1_docs_controls_ja_is_up_to_date() -> None:
    """AUDIT-1: docs/controls.ja.md and docs/controls.ja.html equal a fresh Japanese report of prod."""
    md_path, html_path, _ = controls_ja.outputs_for("prod")
    rep = _report()
    stale = f"is out of date: regenerate it with `{controls_ja.REGENERATE}` and commit it"
    assert md_path.read_text(encoding="utf-8") == controls_ja.to_markdown(rep), f"docs/controls.ja.md {stale}"
    assert html_path.read_text(encoding="utf-8") == controls_ja.to_html(rep), f"docs/controls.ja.html {stale}"


def test_audit1_every_sheet_id_has_its_rows_its_japanese_answer_and_its_evidence() -> None:
    """AUDIT-1: each ID of the sheet appears in a row of the original, has a Japanese summary and an evidence section."""
    ids = [i.id for i in parse_sheet()]
    row_ids = {sid for row in ROWS for sid in row.ids}
    assert row_ids == set(ids) and set(SUMMARY_JA) == set(ids)
    assert all(KANA.search(text) for text in SUMMARY_JA.values())
    md = controls_ja.to_markdown(_report())
    for sid in ids:
        assert f"\n### {sid}\n" in md and f"](#{sid.lower()})" in md, sid


def test_audit1_rows_keep_the_original_order_columns_and_wording() -> None:
    """AUDIT-1: the table has the sheet's four columns and one row per item of the original, in its order, in its words."""
    rows = _table_rows(controls_ja.to_markdown(_report()))
    assert len(rows) == len(ROWS) == 56
    for got, row in zip(rows, ROWS, strict=True):
        assert got[:2] == [row.kind, row.item]
        assert got[2].startswith(row.content.replace("|", "\\|"))
        if row.published:
            assert f"（シートの回答: {row.published}）" in got[2]
    # the original's summary table first (with its own answers), then its sections in order
    assert [r.item for r in ROWS[:7]] == [
        "公的認証取得状況",
        "第三者評価",
        "情報取扱い環境",
        "通信の暗号化レベル",
        "ウィルス対策",
        "バックアップデータ",
        "利用企業間のデータ分離",
    ]
    assert all(r.published for r in ROWS[:7]) and not any(r.published for r in ROWS[7:])
    kinds = list(dict.fromkeys(r.kind for r in ROWS[7:]))
    assert kinds == ["データ保護", "可用性", "サポート体制", "ユーザー管理", "ウェブアプリケーションセキュリティ"]


def test_audit1_every_row_is_answered_from_the_evidence_on_prod() -> None:
    """AUDIT-1: every 対応状況 names a status and links its evidence; on prod nothing is 未対応."""
    rows = _table_rows(controls_ja.to_markdown(_report()))
    labels = set(STATUS_JA.values())
    for cells, row in zip(rows, ROWS, strict=True):
        answer = cells[3]
        assert any(answer.startswith(f"**{label}**") for label in labels), answer
        for sid in row.ids:
            assert f"[{sid}](#{sid.lower()})" in answer
        assert "未対応" not in answer
    statuses = {r.item: cells[3].split("**")[1] for r, cells in zip(ROWS, rows, strict=True)}
    assert statuses["公的認証取得状況"] == "組織的対応" and statuses["通信の暗号化レベル"] == "対応済み"


def test_enc1_a_failing_mandatory_policy_makes_the_row_unanswered() -> None:
    """ENC-1: when a TLS 1.3 policy fails, the rows of ENC-1 say 未対応 and name the policy."""
    rep = _report(mutated(rendered_doc("prod"), "kakoi-enc-alb-tls13-only"))
    md = controls_ja.to_markdown(rep)
    rows = {r.content: cells[3] for r, cells in zip(ROWS, _table_rows(md), strict=True)}
    assert rows["通信の暗号化強度"].startswith("**未対応**")
    assert "必須ポリシーに違反しています: `kakoi-enc-alb-tls13-only`" in md


def test_audit1_links_point_at_files_that_exist() -> None:
    """AUDIT-1: every link to code, policies, tests and runbooks resolves from docs/."""
    md = controls_ja.to_markdown(_report())
    targets = re.findall(r"\]\(([^)#][^)]*)\)", md)
    assert len(targets) > 100
    for target in targets:
        path = (ROOT / "docs" / target.split("#", 1)[0]).resolve()
        assert path.is_file(), target
    assert "(../policies/kakoi_policy/edge.py#L" in md and "(../components/network.py)" in md


def test_audit1_japanese_html_is_self_contained_and_in_japanese() -> None:
    """AUDIT-1: the page declares lang=ja and a CJK font, and loads nothing (inline CSS, no scripts or images)."""
    page = controls_ja.to_html(_report())
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ja">' in page and "Noto Sans CJK JP" in page
    assert not re.search(r"<(script|link|img|iframe)\b", page)


def test_audit1_advisory_reasons_exist_in_japanese_too() -> None:
    """AUDIT-1: every advisory exception has its reason in Japanese for the auditor's sheet."""
    assert {s: set(v) for s, v in ADVISORY_JA.items()} == {s: set(v) for s, v in ADVISORY.items()}
    assert all(KANA.search(t) for v in ADVISORY_JA.values() for t in v.values())


def test_audit1_the_pdf_embeds_a_japanese_font(tmp_path: Path) -> None:
    """AUDIT-1: headless Chromium prints the HTML to a PDF that embeds Noto Sans CJK JP (Debian's fonts-noto-cjk)."""
    page = tmp_path / "controls.ja.html"
    page.write_text(controls_ja.to_html(_report()), encoding="utf-8")
    pdf = controls_ja.write_pdf(page, tmp_path / "controls.ja.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 100_000
    assert re.search(rb"/FontName\s*/[A-Z]{6}\+NotoSansCJKjp-Regular", data)
