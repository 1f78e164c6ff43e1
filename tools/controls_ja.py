"""The auditor's sheet, given back in Japanese: the published security sheet in its own order
and columns (種別 / 評価項目 / 内容 / 対応状況), every row answered from the evidence.

    python -m tools.controls_ja --stack prod [--file build/prod.stack.json] [--pdf]

`make controls STACK=prod` writes docs/controls.ja.md and docs/controls.ja.html beside
the English report (same evidence: tools/controls.py), and docs/controls.ja.pdf when
Chromium is there to print it (Debian's chromium with fonts-noto-cjk; the PDF is not
committed). Rows and wording come from tools/sheet_ja.py; 対応状況 is the status of the
row's sheet ID on the stack (implemented and enforced by policies, implemented in the
app and proven by tests, written down in a runbook, or organisational) with a link to
the evidence: the components and their resources, the policies with their level and
result, the tests and the runbooks. A test fails when the committed files are stale.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies.kakoi_policy import KakoiPolicy  # noqa: E402
from policies.kakoi_policy.levels import ADVISORY_JA  # noqa: E402
from tools.controls import ControlsReport, ItemReport, implementation_md, report_from_args, stack_levels  # noqa: E402
from tools.report_parts import html_head, html_list, md_list, shown, stack_parser  # noqa: E402
from tools.sheet_ja import ROWS, STATUS_JA, STATUS_LEGEND_JA, SUMMARY_JA, Row  # noqa: E402

REGENERATE = "make controls STACK=prod"
POLICY_RESULT_JA = {"pass": "合格", "fail": "違反", "warn": "警告", "undecided": "判定不能", "disabled": "無効"}
LEVEL_JA = {"mandatory": "必須", "advisory": "推奨", "disabled": "無効", "remediate": "修正"}
STATUS_CLASS = {"pass": "ok", "tested": "ok", "documented": "ok", "organisational": "org", "fail": "ng", "not applicable": "na"}


def outputs_for(stack: str) -> tuple[Path, Path, Path]:
    """docs/controls.ja.{md,html,pdf} for prod; build/controls.<stack>.ja.* for other stacks."""
    folder, stem = (ROOT / "docs", "controls.ja") if stack == "prod" else (ROOT / "build", f"controls.{stack}.ja")
    return folder / f"{stem}.md", folder / f"{stem}.html", folder / f"{stem}.pdf"


@cache
def policy_locations() -> dict[str, str]:
    """policy name -> `policies/kakoi_policy/<module>.py#L<line>` where it is declared."""
    out: dict[str, str] = {}
    for path in sorted((ROOT / "policies" / "kakoi_policy").glob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = re.search(r'name="(kakoi-[a-z0-9-]+)"', line) or re.search(r'^\s*"(kakoi-[a-z0-9-]+)",\s*$', line)
            if m and m.group(1) not in out:
                out[m.group(1)] = f"policies/kakoi_policy/{path.name}#L{n}"
    return out


def _link(path: str) -> str:
    """A repository path as a link relative to docs/."""
    return path.removeprefix("docs/") if path.startswith("docs/") else "../" + path


def _kinds(kinds: dict[str, int]) -> str:
    return "、".join(f"{k} ×{n}" if n > 1 else k for k, n in sorted(kinds.items())) or "リソースなし"


# --- the answer per item -------------------------------------------------------------------------------
def counts_ja(i: ItemReport) -> str:
    parts = []
    if i.policies:
        parts.append(f"ポリシー {len(i.policies)} 件で強制")
    if i.implementations and not i.policies:
        comps = sum(len(impl.components) for impl in i.implementations)
        parts.append(f"構成要素 {comps} 件で実装" if comps else f"モジュール {len(i.implementations)} 件で実装")
    if i.tests:
        parts.append(f"テスト {len(i.tests)} 件で検証")
    if i.docs:
        parts.append(f"手順書 {len(i.docs)} 件")
    return "、".join(parts)


def reason_ja(i: ItemReport) -> str:
    if i.status == "organisational":
        return "会社としての手続きであり、コードでは満たせない項目です。"
    if i.status == "fail":
        failing = [p.name for p, status, _ in i.policies if status == "fail"]
        if failing:
            return "必須ポリシーに違反しています: " + "、".join(f"`{n}`" for n in failing) + "。"
        if "no test" in i.reason:
            return "この項目を検証するテストが見つかりません。"
        return "この項目を実装する構成要素が見つかりません。"
    if i.status == "pass":
        undecided = [p.name for p, status, _ in i.policies if status == "undecided"]
        text = (
            f"強制するポリシー {len(i.policies)} 件が、この環境の構成ですべて合格しています。"
            if i.policies
            else "下記の構成要素が実装しています。"
        )
        if undecided:
            text += " ただし次のポリシーは判定できませんでした: " + "、".join(f"`{n}`" for n in undecided) + "。"
        return text
    if i.status == "tested":
        return f"下記のアプリのモジュールが実装し、CI で実行するテスト {len(i.tests)} 件が検証しています。"
    if i.status == "documented":
        return "下記の運用手順書で定めています。"
    return "この環境にもアプリにも判定の対象がありません。"


def answer_md(row: Row, items: dict[str, ItemReport]) -> str:
    parts = []
    for sid in row.ids:
        i = items[sid]
        counts = counts_ja(i)
        parts.append(
            f"**{STATUS_JA[i.status]}**" + (f"（{counts}）" if counts else "") + f" {SUMMARY_JA[sid]} 根拠: [{sid}](#{sid.lower()})"
        )
    return "<br>".join(parts)


# --- Markdown ---------------------------------------------------------------------------------------------
def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _status_counts(rep: ControlsReport) -> str:
    c = rep.counts()
    done = c["pass"] + c["tested"] + c["documented"]
    return f"対応済み {done} 件（うちポリシーで強制 {c['pass']} 件、テストで検証 {c['tested']} 件、手順書 {c['documented']} 件）、組織的対応 {c['organisational']} 件、未対応 {c['fail']} 件"


def _levels_lines() -> list[str]:
    out = []
    for sl in stack_levels():
        reasons = ADVISORY_JA.get(sl.stack, {})
        if sl.advisory:
            listed = "、".join(f"`{name}`（{reasons.get(name, '理由は docs/controls.md')}）" for name, _ in sl.advisory)
            out.append(f"- {sl.stack}: {sl.mandatory} 件が必須、{len(sl.advisory)} 件が推奨: {listed}")
        else:
            out.append(f"- {sl.stack}: {sl.mandatory} 件すべてが必須（`{sl.config}`）")
    return out


def to_markdown(rep: ControlsReport) -> str:
    items = {i.item.id: i for i in rep.items}
    s = rep.check
    lines = [
        f"# セキュリティチェックシート 対応状況（{rep.stack} 環境）",
        "",
        f"`make controls STACK={rep.stack}`（tools/controls_ja.py）が生成する文書です。手で編集しないでください。"
        f"公開されているセキュリティチェックシートの順序と列（種別・評価項目・内容・対応状況）のまま、各行の対応状況を証跡から回答しています。"
        f"証跡は、`{rep.stack}` スタックのオフライン描画（Pulumi のモックランタイム、AWS アカウント不要）、"
        f"policies/ の CrossGuard ポリシーパック（`{rep.config_source}` で評価）、components/ と app/ の実装、"
        f"テスト（tests/、app/tests/）と運用手順書（docs/runbooks/）です。英語版は [controls.md](controls.md) です。",
        "",
        "## 概要",
        "",
        f"- チェックシート {len(ROWS)} 行（項目 ID {len(rep.items)} 件）: {_status_counts(rep)}",
        f"- ポリシー検査: {len(s.policies)} ポリシー、リソース {s.resources} 件、必須ポリシーの違反 {len(s.mandatory)} 件",
        '- 強制レベル（環境ごとのポリシー設定。`"all": "mandatory"` で全ポリシーを必須にしています）:',
        *[f"  {line}" for line in _levels_lines()],
        "- 検証の範囲: AWS に実際にデプロイした結果ではなく、プログラムが宣言する構成をオフラインで検査したものです。"
        "AWS が受け付ける値かどうかは、AWS の文書と照合してコードに出典を記しています。",
        "",
        "## 凡例",
        "",
        "| 対応状況 | 意味 |",
        "|---|---|",
        *[f"| {STATUS_JA[k]} | {v} |" for k, v in _legend()],
        "",
        "## チェックシート",
        "",
        "| 種別 | 評価項目 | 内容 | 対応状況 |",
        "|---|---|---|---|",
    ]
    for row in ROWS:
        content = _md(row.content) + (f"<br>（シートの回答: {_md(row.published)}）" if row.published else "")
        lines.append(f"| {row.kind} | {row.item} | {content} | {_md(answer_md(row, items))} |")
    lines += ["", "## 項目別の根拠", ""]
    for sid in _ids_in_sheet_order():
        lines += _evidence_md(items[sid], rep)
    return "\n".join(lines)


def _legend() -> list[tuple[str, str]]:
    """One line per label: statuses with the same Japanese label share it, their meanings joined."""
    merged: dict[str, tuple[str, list[str]]] = {}
    for key, meaning in STATUS_LEGEND_JA.items():
        merged.setdefault(STATUS_JA[key], (key, []))[1].append(meaning)
    return [(key, "、または".join(meanings)) for key, meanings in merged.values()]


def _ids_in_sheet_order() -> list[str]:
    return list(dict.fromkeys(sid for row in ROWS for sid in row.ids))


def _evidence_md(i: ItemReport, rep: ControlsReport) -> list[str]:
    sid = i.item.id
    rows = [r for r in ROWS if sid in r.ids]
    lines = [f"### {sid}", "", f"**シートの記載**（{rows[0].kind} / {rows[0].item}）: " + " / ".join(r.content for r in rows), ""]
    lines += [f"**対応状況: {STATUS_JA[i.status]}**。{reason_ja(i)} {SUMMARY_JA[sid]}", ""]
    implemented = implementation_md(
        i,
        lambda impl: f"[`{impl.module.path}`]({_link(impl.module.path)})",
        lambda typ, name, kinds: f"`{typ}` **{name}**: リソース {sum(kinds.values())} 件（{_kinds(dict(kinds))}）",
        "（この環境にはこのモジュールの構成要素がありません）",
    )
    lines += md_list("**実装:**", implemented)
    policies = []
    for p, status, n in i.policies:
        where = policy_locations().get(p.name)
        name = f"[`{p.name}`]({_link(where)})" if where else f"`{p.name}`"
        policies.append(f"- {_policy_ja(p, name, rep.check.levels[p.name].value, status, n, str)}")
    lines += md_list("**強制するポリシー:**", policies)
    lines += md_list(f"**検証するテスト（{len(i.tests)} 件）:**", [f"- [`{t.ref}`]({_link(t.path)})" for t in i.tests])
    lines += md_list("**手順書:**", [f"- [{d}]({_link(d)})" for d in i.docs])
    return lines


def _policy_ja(p: KakoiPolicy, name: str, level: str, status: str, findings: int, escape: Callable[[str], str]) -> str:
    """`name` (the policy, as a link) and its level, result, findings and Security Hub controls; `escape` for HTML."""
    sh = f"、Security Hub {escape(', '.join(p.info.securityhub))}" if p.info.securityhub else ""
    extra = f"、指摘 {findings} 件" if findings else ""
    return f"{name}（{LEVEL_JA[level]}、{POLICY_RESULT_JA[status]}{extra}{sh}）"


# --- HTML ------------------------------------------------------------------------------------------------
CSS = """
body{font-family:"Noto Sans CJK JP","Noto Sans JP","Hiragino Sans","Yu Gothic",sans-serif;margin:2rem auto;max-width:78rem;padding:0 1rem;color:#1b1f24;line-height:1.6;font-size:14px}
h1{font-size:1.6rem;border-bottom:3px solid #1f4e79;padding-bottom:.3rem}h2{font-size:1.25rem;margin-top:2rem;color:#1f4e79}h3{font-size:1.05rem;margin:0 0 .4rem}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #b6c2cf;padding:.4rem .55rem;text-align:left;vertical-align:top}
th{background:#1f4e79;color:#fff;font-weight:600}tr:nth-child(even) td{background:#f5f8fb}
th.kind{width:9%}th.item{width:14%}th.content{width:27%}td.rep{color:#8a96a3}a.id{white-space:nowrap}
code{background:#eef2f6;padding:0 .2rem;border-radius:3px;font-size:.92em}
.st{display:inline-block;padding:0 .45rem;border-radius:3px;font-weight:700;white-space:nowrap}
.ok{background:#dcf5e3;color:#11602b}.ng{background:#fde2e1;color:#a40e26}.org{background:#ece6fb;color:#5a32a3}.na{background:#eceff2;color:#4b5560}
.pub{display:block;color:#57606a;font-size:.9em}
section.ev{border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1rem;margin:1rem 0;page-break-inside:avoid}
ul{margin:.3rem 0 .6rem;padding-left:1.4rem}a{color:#0b5cad}
@media print{body{margin:0;max-width:none;font-size:11px}section.ev{page-break-inside:avoid}}
"""


def _answer_html(row: Row, items: dict[str, ItemReport]) -> str:
    e = html.escape
    parts = []
    for sid in row.ids:
        i = items[sid]
        counts = counts_ja(i)
        parts.append(
            f'<span class="st {STATUS_CLASS[i.status]}">{e(STATUS_JA[i.status])}</span>'
            + (f"（{e(counts)}）" if counts else "")
            + f' {e(SUMMARY_JA[sid])} 根拠: <a class="id" href="#{e(sid.lower())}">{e(sid)}</a>'
        )
    return "<br>".join(parts)


def _inline(text: str) -> str:
    """Markdown `code` spans in a Japanese sentence as HTML."""
    return re.sub(r"`([^`]+)`", lambda m: f"<code>{m.group(1)}</code>", html.escape(text))


def to_html(rep: ControlsReport) -> str:
    e = html.escape
    items = {i.item.id: i for i in rep.items}
    s = rep.check
    out = [
        *html_head("ja", f"セキュリティチェックシート 対応状況（{rep.stack} 環境）", CSS),
        f"<p><code>make controls STACK={e(rep.stack)}</code> が生成する文書です。公開されているセキュリティチェックシートの順序と列のまま、"
        f"各行の対応状況を証跡（オフライン描画した構成、<code>{e(rep.config_source)}</code> で評価したポリシーパック、実装、テスト、運用手順書）から回答しています。"
        f'英語版は <a href="controls.html">controls.html</a> です。</p>',
        "<h2>概要</h2><ul>",
        f"<li>チェックシート {len(ROWS)} 行（項目 ID {len(rep.items)} 件）: {e(_status_counts(rep))}</li>",
        f"<li>ポリシー検査: {len(s.policies)} ポリシー、リソース {s.resources} 件、必須ポリシーの違反 {len(s.mandatory)} 件</li>",
        "<li>強制レベル: <ul>" + "".join(f"<li>{_inline(line.removeprefix('- '))}</li>" for line in _levels_lines()) + "</ul></li>",
        "<li>検証の範囲: AWS に実際にデプロイした結果ではなく、プログラムが宣言する構成をオフラインで検査したものです。</li></ul>",
        "<h2>凡例</h2><table><thead><tr><th>対応状況</th><th>意味</th></tr></thead><tbody>",
        *[f'<tr><td><span class="st {STATUS_CLASS[k]}">{e(STATUS_JA[k])}</span></td><td>{e(v)}</td></tr>' for k, v in _legend()],
        "</tbody></table>",
        "<h2>チェックシート</h2>",
        '<table><thead><tr><th class="kind">種別</th><th class="item">評価項目</th><th class="content">内容</th><th>対応状況</th></tr></thead><tbody>',
    ]
    prev: Row | None = None
    for row in ROWS:
        kind_cls = "kind rep" if prev and prev.kind == row.kind else "kind"
        item_cls = "item rep" if prev and prev.kind == row.kind and prev.item == row.item else "item"
        pub = f'<span class="pub">シートの回答: {e(row.published)}</span>' if row.published else ""
        out.append(
            f'<tr><td class="{kind_cls}">{e(row.kind)}</td><td class="{item_cls}">{e(row.item)}</td>'
            f"<td>{e(row.content)}{pub}</td><td>{_answer_html(row, items)}</td></tr>"
        )
        prev = row
    out.append("</tbody></table>")
    out.append("<h2>項目別の根拠</h2>")
    for sid in _ids_in_sheet_order():
        out.append(_evidence_html(items[sid], rep))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _evidence_html(i: ItemReport, rep: ControlsReport) -> str:
    e = html.escape
    sid = i.item.id
    rows = [r for r in ROWS if sid in r.ids]
    parts = [
        f'<section class="ev" id="{e(sid.lower())}"><h3>{e(sid)}　{e(rows[0].item)}</h3>',
        f"<p><strong>シートの記載</strong>（{e(rows[0].kind)}）: {e(' / '.join(r.content for r in rows))}</p>",
        f'<p><strong>対応状況:</strong> <span class="st {STATUS_CLASS[i.status]}">{e(STATUS_JA[i.status])}</span> '
        f"{_inline(reason_ja(i))} {e(SUMMARY_JA[sid])}</p>",
    ]
    implemented = []
    for impl in i.implementations:
        subs = "".join(
            f"<li><code>{e(t)}</code> <strong>{e(n)}</strong>: リソース {sum(k.values())} 件（{e(_kinds(dict(k)))}）</li>"
            for t, n, k in impl.components
        )
        implemented.append(
            f'<a href="{e(_link(impl.module.path))}"><code>{e(impl.module.path)}</code></a>' + (f"<ul>{subs}</ul>" if subs else "")
        )
    parts += html_list("<strong>実装:</strong>", implemented)
    policies = []
    for p, status, n in i.policies:
        where = policy_locations().get(p.name)
        name = f'<a href="{e(_link(where))}"><code>{e(p.name)}</code></a>' if where else f"<code>{e(p.name)}</code>"
        policies.append(_policy_ja(p, name, rep.check.levels[p.name].value, status, n, e))
    parts += html_list("<strong>強制するポリシー:</strong>", policies)
    tests = [f'<a href="{e(_link(t.path))}"><code>{e(t.ref)}</code></a>' for t in i.tests]
    parts += html_list(f"<strong>検証するテスト（{len(i.tests)} 件）:</strong>", tests)
    parts += html_list("<strong>手順書:</strong>", [f'<a href="{e(_link(d))}">{e(d)}</a>' for d in i.docs])
    parts.append("</section>")
    return "\n".join(parts)


# --- PDF -----------------------------------------------------------------------------------------------------
def chromium() -> str | None:
    """The Chromium to print with: KAKOI_CHROMIUM, else Debian's chromium on PATH."""
    given = os.environ.get("KAKOI_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def write_pdf(html_path: Path, pdf_path: Path, browser: str | None = None) -> Path:
    """Print the HTML page to PDF with headless Chromium (the fonts come from Debian's fonts-noto-cjk)."""
    browser = browser or chromium()
    if not browser:
        raise RuntimeError("no Chromium to print the PDF with (install Debian's chromium, or set KAKOI_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="kakoi-pdf-") as profile:
        proc = subprocess.run(  # noqa: S603 - a browser binary with fixed arguments, no shell
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-pdf-header-footer",
                f"--user-data-dir={profile}",
                f"--print-to-pdf={pdf_path}",
                html_path.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if proc.returncode != 0 or not pdf_path.is_file():
        raise RuntimeError(f"chromium could not print {html_path} (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return pdf_path


def write(rep: ControlsReport, md_path: Path, html_path: Path, pdf_path: Path | None = None) -> list[Path]:
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(to_markdown(rep), encoding="utf-8")
    html_path.write_text(to_html(rep), encoding="utf-8")
    written = [md_path, html_path]
    if pdf_path is not None:
        if chromium():
            written.append(write_pdf(html_path, pdf_path))
        else:
            print("controls_ja: no Chromium found, so no PDF (install Debian's chromium and fonts-noto-cjk)", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = stack_parser("tools.controls_ja", __doc__)
    parser.add_argument("--pdf", action="store_true", help="also print the HTML to PDF with headless Chromium")
    args = parser.parse_args(argv)
    rep = report_from_args("controls_ja", args)
    if rep is None:
        return 2
    md, page, pdf = outputs_for(args.stack)
    try:
        written = write(rep, md, page, pdf if args.pdf else None)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"controls_ja: {exc}", file=sys.stderr)
        return 1
    print(f"controls_ja {args.stack}: {len(ROWS)} rows -> {', '.join(shown(p) for p in written)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
