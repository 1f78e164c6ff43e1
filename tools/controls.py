"""The auditor's controls report: every sheet ID with its status, what implements it,
which policies enforce it and which tests prove it.

    python -m tools.controls --stack prod [--file build/prod.stack.json] [--md docs/controls.md] [--html docs/controls.html]

Sources, all read without running the program:
* docs/security-sheet.md: the sheet IDs, what they say and where they live;
* the stack export (the offline render, or `--file` for a real export);
* components/*.py and the app's modules (app/**/*.py, tests and migrations left out):
  each module's `CONTROLS` literal (and `EXCEPTIONS`: known, reasoned deviations from a
  sheet item, per ID), parsed with `ast` (never imported), and the components of that
  module found in the stack;
* docs/runbooks/*.md and docs/*.md: the documents that name the ID (ops items);
* the CrossGuard pack, evaluated on the export with policies/config.<stack>.json;
* tests/ and app/tests/: test functions whose name (test_enc1_...) or docstring
  ("ENC-1") names the ID.

Status: organisational (the sheet says org), fail (a mandatory policy for it fails,
an infra item nothing implements, or an app item no test proves), pass (its
policies pass / components implement it), tested (an app item: implemented by the
app modules listed and proven by the tests listed, which CI runs), documented (an
ops item: the runbooks listed cover it), not applicable (none of these apply). The output is deterministic: docs/controls.md is the prod
report and a test fails when it is stale (regenerate with `make controls STACK=prod`).
"""

from __future__ import annotations

import argparse
import ast
import html
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pulumi_policy import EnforcementLevel  # noqa: E402

from policies.kakoi_policy import KakoiPolicy, all_policies  # noqa: E402
from policies.kakoi_policy.levels import advisory_for  # noqa: E402
from tools.check import CheckError, PolicyConfig, Report, evaluate, load_config, read_export  # noqa: E402
from tools.report_parts import html_head, html_list, md_list, shown, stack_parser  # noqa: E402

SHEET = ROOT / "docs" / "security-sheet.md"
COMPONENTS = ROOT / "components"
APP = ROOT / "app"
DOCS = ROOT / "docs"
TEST_DIRS = (ROOT / "tests", ROOT / "app" / "tests")
REGENERATE = "make controls STACK=prod"
ID_RE = re.compile(r"^[A-Z]+-\d+$")


# --- sources -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SheetItem:
    id: str
    section: str
    says: str
    where: str
    done: str

    @property
    def organisational(self) -> bool:
        return self.where.strip().lower().startswith("org")

    @property
    def infra(self) -> bool:
        return "infra" in self.where


def parse_sheet(path: Path = SHEET) -> list[SheetItem]:
    items: list[SheetItem] = []
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and ID_RE.match(cells[0]):
            cells += [""] * (4 - len(cells))
            items.append(SheetItem(cells[0], section, cells[1], cells[2], cells[3]))
    return items


@dataclass(frozen=True)
class ModuleControls:
    module: str  # components/<module>.py
    path: str
    controls: dict[str, str]
    #: known, reasoned exceptions to a sheet item (ID -> why, and what limits it): `EXCEPTIONS = {...}`
    exceptions: dict[str, str] = field(default_factory=dict)


def _module_files(directory: Path) -> list[Path]:
    if directory == COMPONENTS:
        return sorted(directory.glob("*.py"))
    return sorted(p for p in directory.rglob("*.py") if not {"tests", "migrations", "staticfiles"} & set(p.relative_to(directory).parts))


def parse_controls(directory: Path = COMPONENTS) -> list[ModuleControls]:
    """Each module's `CONTROLS: dict[str, str] = {...}`, read with ast.literal_eval."""
    out: list[ModuleControls] = []
    for path in _module_files(directory):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        literals: dict[str, dict[str, str]] = {}
        for node in tree.body:
            target = (
                node.target
                if isinstance(node, ast.AnnAssign)
                else node.targets[0]
                if isinstance(node, ast.Assign) and len(node.targets) == 1
                else None
            )
            value = node.value if isinstance(node, (ast.AnnAssign, ast.Assign)) else None
            if isinstance(target, ast.Name) and target.id in ("CONTROLS", "EXCEPTIONS") and value is not None:
                found = ast.literal_eval(value)
                if isinstance(found, dict):
                    literals[target.id] = {str(k): str(v) for k, v in found.items()}
        if "CONTROLS" in literals:
            out.append(ModuleControls(path.stem, shown(path), literals["CONTROLS"], literals.get("EXCEPTIONS", {})))
    return out


@dataclass(frozen=True)
class TestRef:
    path: str
    name: str
    doc: str

    @property
    def ref(self) -> str:
        return f"{self.path}::{self.name}"


def scan_tests(dirs: tuple[Path, ...] = TEST_DIRS) -> list[TestRef]:
    refs: list[TestRef] = []
    for base in dirs:
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("test_*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                    refs.append(TestRef(str(path.relative_to(ROOT)), node.name, ast.get_docstring(node) or ""))
    return sorted(set(refs), key=lambda t: (t.path, t.name))


def docs_for(sheet_id: str, directory: Path = DOCS) -> list[str]:
    """Hand-written documents (not the sheet copy nor the generated reports) that name the ID."""
    pattern = re.compile(rf"(?<![A-Z0-9-]){re.escape(sheet_id)}(?![0-9])")
    skip = {"security-sheet.md", "controls.md", "controls.ja.md", "architecture.md"}  # the sheet copy and the generated reports
    return [
        str(p.relative_to(ROOT))
        for p in sorted(directory.rglob("*.md"))
        if p.name not in skip and pattern.search(p.read_text(encoding="utf-8"))
    ]


def tests_for(sheet_id: str, tests: list[TestRef]) -> list[TestRef]:
    token = sheet_id.replace("-", "").lower()
    name_re = re.compile(rf"(^|_){token}(_|$)")
    doc_re = re.compile(rf"(?<![A-Z0-9-]){re.escape(sheet_id)}(?![0-9])")
    return [t for t in tests if name_re.search(t.name.lower()) or doc_re.search(t.doc)]


# --- the report model -------------------------------------------------------------------------
@dataclass
class Implementation:
    module: ModuleControls
    how: str
    components: list[tuple[str, str, Counter[str]]] = field(default_factory=list)  # (type, name, resource types)


@dataclass
class ItemReport:
    item: SheetItem
    status: str
    reason: str
    implementations: list[Implementation]
    policies: list[tuple[KakoiPolicy, str, int]]  # (policy, status, findings)
    tests: list[TestRef]
    docs: list[str] = field(default_factory=list)


@dataclass
class ControlsReport:
    stack: str
    source: str
    config_source: str
    items: list[ItemReport]
    check: Report

    def counts(self) -> Counter[str]:
        return Counter(i.status for i in self.items)


def _descendants(resources: list[dict[str, Any]], urn: str) -> list[dict[str, Any]]:
    children: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        children.setdefault(r.get("parent") or "", []).append(r)
    out: list[dict[str, Any]] = []
    todo = [urn]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child["urn"])
    return out


def build(
    doc: dict[str, Any],
    stack: str,
    *,
    config: PolicyConfig | None = None,
    source: str = "",
    sheet: list[SheetItem] | None = None,
    modules: list[ModuleControls] | None = None,
    tests: list[TestRef] | None = None,
) -> ControlsReport:
    pack = all_policies()
    check = evaluate(doc, config, policies=pack, source=source or f"render of {stack}")
    sheet = sheet if sheet is not None else parse_sheet()
    modules = modules if modules is not None else parse_controls() + parse_controls(APP)
    tests = tests if tests is not None else scan_tests()
    resources = doc["deployment"]["resources"]
    items: list[ItemReport] = []
    for item in sheet:
        impls: list[Implementation] = []
        for mod in modules:
            if item.id not in mod.controls:
                continue
            impl = Implementation(mod, mod.controls[item.id])
            prefix = f"kakoi:{mod.module}:"
            for comp in resources:
                if str(comp.get("type", "")).startswith(prefix):
                    kinds = Counter(str(r["type"]).split(":")[-1] for r in _descendants(resources, comp["urn"]) if r.get("custom"))
                    impl.components.append((comp["type"], comp["urn"].split("::")[-1], kinds))
            impls.append(impl)
        enforcing = [p for p in pack if item.id in p.info.sheet_ids]
        policies = [(p, check.status(p), len(check.for_policy(p.name))) for p in enforcing]
        failing = [p.name for p, status, _ in policies if status == "fail"]
        in_stack = any(impl.components for impl in impls)
        proven_by = tests_for(item.id, tests)
        documents = docs_for(item.id)
        if item.organisational:
            status, reason = "organisational", "a company process; no code can satisfy it"
        elif failing:
            status, reason = "fail", "mandatory policy violations: " + ", ".join(failing)
        elif item.infra and not (in_stack or policies):
            status, reason = "fail", "nothing in the stack implements it"
        elif policies or (item.infra and in_stack):
            status = "pass"
            reason = "enforced by policies that pass on this stack" if policies else "implemented by the components listed"
            undecided = [p.name for p, s, _ in policies if s == "undecided"]
            if undecided:
                reason += "; undecided: " + ", ".join(undecided)
        elif "app" in item.where and impls and proven_by:
            status, reason = "tested", "implemented by the app modules listed and proven by the tests listed (CI runs them)"
        elif "app" in item.where and not proven_by:
            status, reason = "fail", "no test names this app item"
        elif "ops" in item.where and documents:
            status, reason = "documented", "covered by the documents listed"
        else:
            status, reason = "not applicable", "nothing in the stack or the app to judge; see the tests listed"
        items.append(ItemReport(item, status, reason, impls, policies, proven_by, documents))
    return ControlsReport(stack, source or f"render of {stack}", (config or PolicyConfig()).source, items, check)


# --- enforcement levels per stack ---------------------------------------------------------------
@dataclass(frozen=True)
class StackLevels:
    stack: str
    config: str
    mandatory: int
    advisory: list[tuple[str, str]]  # (policy, reason)


def stack_levels() -> list[StackLevels]:
    """For every stack with a policy config: how many policies are mandatory, and each advisory one with its reason."""
    out: list[StackLevels] = []
    pack = all_policies()
    for path in sorted((ROOT / "policies").glob("config.*.json")):
        stack = path.name[len("config.") : -len(".json")]
        given = load_config(path, pack).levels
        levels = {p.name: (given.get(p.name) or p.enforcement_level or EnforcementLevel.ADVISORY).value for p in pack}
        reasons = advisory_for(stack)
        advisory = [
            (n, reasons.get(n, "(no reason listed in policies/kakoi_policy/levels.py)")) for n, lvl in levels.items() if lvl == "advisory"
        ]
        mandatory = sum(1 for lvl in levels.values() if lvl == "mandatory")
        out.append(StackLevels(stack, f"policies/{path.name}", mandatory, advisory))
    return out


def levels_markdown() -> list[str]:
    lines = [
        "## Enforcement levels per stack",
        "",
        'Every stack\'s policy config starts with `"all": "mandatory"`, so a weakening of anything the program has '
        "fails the check. A policy stays advisory only where that stack's config legitimately differs, for the reason given "
        "(policies/kakoi_policy/levels.py; a test fails when the config and the list disagree).",
        "",
        "| stack | config | mandatory | advisory | advisory policy: reason |",
        "|---|---|---|---|---|",
    ]
    for sl in stack_levels():
        reasons = "<br>".join(f"`{name}`: {reason}" for name, reason in sl.advisory) or "none"
        lines.append(f"| {sl.stack} | `{sl.config}` | {sl.mandatory} | {len(sl.advisory)} | {reasons} |")
    lines.append("")
    return lines


# --- rendering --------------------------------------------------------------------------------------
STATUS_MARK = {
    "pass": "pass",
    "fail": "FAIL",
    "tested": "tested",
    "documented": "documented",
    "not applicable": "n/a",
    "organisational": "org",
}


def _summary(c: Counter[str]) -> str:
    return ", ".join(f"{c[k]} {k}" for k in STATUS_MARK if c[k] or k in ("pass", "fail"))


def _kinds(kinds: Counter[str]) -> str:
    return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in sorted(kinds.items())) or "no resources"


def _policy_line(p: KakoiPolicy, status: str, findings: int, level: str) -> str:
    sh = f"; Security Hub {', '.join(p.info.securityhub)}" if p.info.securityhub else ""
    extra = f", {findings} finding(s)" if findings else ""
    return f"`{p.name}` ({level}, {p.severity.value if p.severity else '-'}{sh}): **{status}**{extra}. {p.description}"


def to_markdown(rep: ControlsReport) -> str:
    c = rep.counts()
    s = rep.check
    lines = [
        f"# Security controls report: {rep.stack}",
        "",
        f"Generated by `make controls STACK={rep.stack}` (tools/controls.py); do not edit by hand. Sources: "
        f"docs/security-sheet.md, the offline render of the `{rep.stack}` stack, the CrossGuard pack in policies/ "
        f"evaluated with `{rep.config_source}`, the `CONTROLS` of components/*.py and the test suites (tests/, app/tests/).",
        "",
        f"**{len(rep.items)} sheet items:** {_summary(c)}. **Policy check:** {len(s.policies)} policies on {s.resources} resources, "
        f"{len(s.mandatory)} mandatory violation(s), "
        f"{sum(1 for f in s.findings if f.kind == 'violation' and f.level == 'advisory')} advisory finding(s), "
        f"{sum(1 for f in s.findings if f.kind == 'undecided')} undecided.",
        "",
        *levels_markdown(),
        "## Sheet items",
        "",
        "| ID | The sheet says | Where | Status | Policies | Modules | Tests |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| [{i.item.id}](#{i.item.id.lower()}) | {i.item.says} | {i.item.where} | {STATUS_MARK[i.status]} | "
        + " | ".join(map(str, _evidence_counts(i)))
        + " |"
        for i in rep.items
    ]
    lines.append("")
    for i in rep.items:
        lines += [f"## {i.item.id}", "", f"*{i.item.section}.* {i.item.says}. Where: {i.item.where}."]
        if i.item.done:
            lines += ["", f'What "done" means: {i.item.done}']
        lines += ["", f"**Status: {i.status}**: {i.reason}.", ""]
        lines += md_list("Implemented by:", _implementation_md(i, rep.stack))
        lines += md_list("Known, reasoned exceptions:", [f"- `{path}`: {why}" for path, why in _exceptions(i)])
        lines += md_list("Documented in:", [f"- [{d}]({d.removeprefix('docs/')})" for d in i.docs])
        lines += md_list("Enforced by:", [f"- {_policy_line(p, status, n, rep.check.levels[p.name].value)}" for p, status, n in i.policies])
        lines += md_list(f"Proven by ({len(i.tests)}):", [f"- `{t.ref}`" for t in i.tests])
    lines += ["## Security Hub controls", "", "| Control | Policies |", "|---|---|"]
    by_control: dict[str, list[str]] = {}
    for p in rep.check.policies:
        for ctl in p.info.securityhub:
            by_control.setdefault(ctl, []).append(f"`{p.name}`")
    for ctl in sorted(by_control, key=_control_key):
        lines.append(f"| {ctl} | {', '.join(by_control[ctl])} |")
    lines.append("")
    findings = [f for f in rep.check.findings]
    lines += ["## Policy findings on this stack", ""]
    if not findings:
        lines.append("None: every policy passes.")
    for f in findings:
        lines.append(f"- `{f.policy}` ({f.level}, {f.kind}) on `{f.urn.split('::')[-1]}`: {f.message}")
    lines.append("")
    return "\n".join(lines)


def _evidence_counts(i: ItemReport) -> tuple[int, int, int]:
    """The summary table's counts of an item: policies, modules, tests."""
    return len(i.policies), len(i.implementations), len(i.tests)


def implementation_md(
    i: ItemReport, module: Callable[[Implementation], str], component: Callable[[str, str, Counter[str]], str], missing: str
) -> list[str]:
    """The Markdown lines of what implements an item: a line per module (`module`), under it a line per component
    of it in the stack (`component(type, name, resource kinds)`), or `missing` for an infra module the stack lacks."""
    lines: list[str] = []
    for impl in i.implementations:
        lines.append(f"- {module(impl)}")
        lines += [f"  - {component(typ, name, kinds)}" for typ, name, kinds in impl.components]
        if not impl.components and not impl.module.path.startswith("app/"):
            lines.append(f"  - {missing}")
    return lines


def _implementation_md(i: ItemReport, stack: str) -> list[str]:
    return implementation_md(
        i,
        lambda impl: f"`{impl.module.path}`: {impl.how}",
        lambda typ, name, kinds: f"`{typ}` **{name}**: {sum(kinds.values())} resources ({_kinds(kinds)})",
        f"(no component of this module in the {stack} stack)",
    )


def _exceptions(i: ItemReport) -> list[tuple[str, str]]:
    """(module path, why) of each known, reasoned exception to the item in the modules that implement it."""
    return [(impl.module.path, impl.module.exceptions[i.item.id]) for impl in i.implementations if i.item.id in impl.module.exceptions]


def _control_key(ctl: str) -> tuple[str, int]:
    svc, _, num = ctl.partition(".")
    return svc, int(num) if num.isdigit() else 0


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{background:#f6f8fa;padding:0 .2rem;border-radius:3px}
.s-pass{color:#1a7f37;font-weight:600}.s-fail{color:#cf222e;font-weight:700}.s-na{color:#57606a}.s-org{color:#8250df}
section{border-top:1px solid #d0d7de;margin-top:1.5rem}ul{margin:.3rem 0 .8rem}
"""

STATUS_CLASS = {
    "pass": "s-pass",
    "fail": "s-fail",
    "tested": "s-pass",
    "documented": "s-pass",
    "not applicable": "s-na",
    "organisational": "s-org",
}


def to_html(rep: ControlsReport) -> str:
    e = html.escape
    c = rep.counts()
    out = [
        *html_head("en", f"Security controls report: {rep.stack}", CSS),
        f"<p>Generated by <code>make controls STACK={e(rep.stack)}</code>; policy config <code>{e(rep.config_source)}</code>.</p>",
        f"<p><strong>{len(rep.items)} sheet items:</strong> {e(_summary(c))}. "
        f"<strong>Policy check:</strong> {len(rep.check.policies)} policies on {rep.check.resources} resources, "
        f"{len(rep.check.mandatory)} mandatory violation(s).</p>",
        '<h2>Enforcement levels per stack</h2><p>Every stack\'s policy config starts with <code>"all": "mandatory"</code>; '
        "a policy stays advisory only where that stack's config legitimately differs, for the reason given.</p>",
        "<table><thead><tr><th>stack</th><th>config</th><th>mandatory</th><th>advisory</th><th>advisory policy: reason</th></tr></thead><tbody>",
        *[
            f"<tr><td>{e(sl.stack)}</td><td><code>{e(sl.config)}</code></td><td>{sl.mandatory}</td><td>{len(sl.advisory)}</td><td>"
            + ("<br>".join(f"<code>{e(n)}</code>: {e(r)}" for n, r in sl.advisory) or "none")
            + "</td></tr>"
            for sl in stack_levels()
        ],
        "</tbody></table>",
        "<table><thead><tr><th>ID</th><th>The sheet says</th><th>Where</th><th>Status</th><th>Policies</th><th>Modules</th><th>Tests</th></tr></thead><tbody>",
    ]
    out += [
        f'<tr><td><a href="#{e(i.item.id.lower())}">{e(i.item.id)}</a></td><td>{e(i.item.says)}</td><td>{e(i.item.where)}</td>'
        f'<td class="{STATUS_CLASS[i.status]}">{e(i.status)}</td>' + "".join(f"<td>{n}</td>" for n in _evidence_counts(i)) + "</tr>"
        for i in rep.items
    ]
    out.append("</tbody></table>")
    for i in rep.items:
        out.append(f'<section id="{e(i.item.id.lower())}"><h2>{e(i.item.id)}</h2>')
        out.append(f"<p><em>{e(i.item.section)}.</em> {e(i.item.says)}. Where: {e(i.item.where)}.</p>")
        if i.item.done:
            out.append(f"<p>What “done” means: {e(i.item.done)}</p>")
        out.append(f'<p>Status: <span class="{STATUS_CLASS[i.status]}">{e(i.status)}</span>: {e(i.reason)}.</p>')
        out += html_list("Implemented by:", [_implementation_html(impl) for impl in i.implementations])
        out += html_list("Known, reasoned exceptions:", [f"<code>{e(path)}</code>: {e(why)}" for path, why in _exceptions(i)])
        out += html_list("Documented in:", [f"<code>{e(d)}</code>" for d in i.docs])
        out += html_list("Enforced by:", [_policy_html(p, status, n, rep.check.levels[p.name].value) for p, status, n in i.policies])
        out += html_list(f"Proven by ({len(i.tests)}):", [f"<code>{e(t.ref)}</code>" for t in i.tests], one_line=True)
        out.append("</section>")
    out.append("<section><h2>Policy findings on this stack</h2><ul>")
    for f in rep.check.findings:
        out.append(
            f"<li><code>{e(f.policy)}</code> ({e(f.level)}, {e(f.kind)}) on <code>{e(f.urn.split('::')[-1])}</code>: {e(f.message)}</li>"
        )
    if not rep.check.findings:
        out.append("<li>None: every policy passes.</li>")
    out.append("</ul></section></body></html>")
    return "\n".join(out) + "\n"


def _implementation_html(impl: Implementation) -> str:
    e = html.escape
    subs = "".join(
        f"<li><code>{e(t)}</code> <strong>{e(n)}</strong>: {sum(k.values())} resources ({e(_kinds(k))})</li>" for t, n, k in impl.components
    )
    return f"<code>{e(impl.module.path)}</code>: {e(impl.how)}<ul>{subs}</ul>"


def _policy_html(p: KakoiPolicy, status: str, findings: int, level: str) -> str:
    e = html.escape
    extra = f", {findings} finding(s)" if findings else ""
    return (
        f"<code>{e(p.name)}</code> ({e(level)}; Security Hub {e(', '.join(p.info.securityhub) or '-')}): "
        f"<strong>{e(status)}</strong>{e(extra)}. {e(p.description)}"
    )


# --- entry points ------------------------------------------------------------------------------------
def outputs_for(stack: str) -> tuple[Path, Path]:
    """docs/controls.{md,html} for prod; build/controls.<stack>.{md,html} for other stacks."""
    if stack == "prod":
        return ROOT / "docs" / "controls.md", ROOT / "docs" / "controls.html"
    return ROOT / "build" / f"controls.{stack}.md", ROOT / "build" / f"controls.{stack}.html"


def config_for(stack: str) -> PolicyConfig:
    path = ROOT / "policies" / f"config.{stack}.json"
    return load_config(path, all_policies()) if path.is_file() else PolicyConfig()


def report_for(stack: str, doc: dict[str, Any] | None = None, source: str = "") -> ControlsReport:
    """The report of `stack`, from `doc` (an export) or a fresh offline render."""
    if doc is None:
        from tools.render import render

        doc = render(stack)
        source = source or f"offline render of {stack}"
    return build(doc, stack, config=config_for(stack), source=source)


def report_from_args(prog: str, args: argparse.Namespace) -> ControlsReport | None:
    """The report of `args.stack` from `args.file` or an offline render; None (and the reason on stderr) when it cannot be read."""
    try:
        doc = read_export(args.file) if args.file else None
        return report_for(args.stack, doc, source=f"offline render of {args.stack}")
    except CheckError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    parser = stack_parser("tools.controls", __doc__)
    parser.add_argument("--md", help="Markdown output (default: docs/controls.md for prod, build/controls.<stack>.md otherwise)")
    parser.add_argument("--html", help="HTML output (default beside the Markdown)")
    parser.add_argument("--stdout", action="store_true", help="print the Markdown instead of writing files")
    args = parser.parse_args(argv)
    rep = report_from_args("controls", args)
    if rep is None:
        return 2
    md = to_markdown(rep)
    if args.stdout:
        sys.stdout.write(md)
        return 0
    md_path, html_path = outputs_for(args.stack)
    md_path = Path(args.md) if args.md else md_path
    html_path = Path(args.html) if args.html else html_path
    md_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(md, encoding="utf-8")
    html_path.write_text(to_html(rep), encoding="utf-8")
    c = rep.counts()
    print(f"controls {args.stack}: {_summary(c)} -> {shown(md_path)}, {shown(html_path)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
