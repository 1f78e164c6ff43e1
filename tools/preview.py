"""A readable preview of what a stack would declare, without credentials or the CLI.

    python -m tools.preview --stack prod [--no-check]

Renders the stack offline (tools.render), writes build/<stack>.stack.json, and
prints the resources as a tree grouped by component, with counts per component
and per type. Then runs the offline policy check (tools.check) on the render and
prints its report, and writes the controls report for the stack to
build/controls.<stack>.md/.html; exits 1 when a mandatory policy fails.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

from tools.render import RenderError, dumps, render
from tools.stackview import Res, StackView


def _label(r: Res) -> str:
    extra = ""
    if r.region and r.type.startswith("aws:"):
        extra = f" [{r.region}]"
    if r.protect:
        extra += " (protected)"
    kind = f"provider {r.type.split(':')[-1]}" if r.type.startswith("pulumi:providers:") else r.type.split(":")[-1]
    return f"{kind} {r.name}{extra}"


def tree(view: StackView) -> list[str]:
    lines: list[str] = []
    kids: dict[str, list[Res]] = collections.defaultdict(list)
    for r in view:
        kids[r.parent].append(r)

    def count(r: Res) -> int:
        return sum((1 if c.custom else 0) + count(c) for c in kids[r.urn])

    def walk(r: Res, prefix: str, last: bool) -> None:
        branch = "└─ " if last else "├─ "
        if r.custom:
            lines.append(f"{prefix}{branch}{_label(r)}")
        else:
            lines.append(f"{prefix}{branch}{r.type} {r.name}  ({count(r)} resources)")
        children = sorted(kids[r.urn], key=lambda c: (c.custom, c.type, c.name))
        for i, c in enumerate(children):
            walk(c, prefix + ("   " if last else "│  "), i == len(children) - 1)

    roots = [r for r in view if not r.parent]
    for root in roots:
        lines.append(f"{root.type} {root.name}  ({count(root)} resources)")
        children = sorted(kids[root.urn], key=lambda c: (c.custom, c.type, c.name))
        for i, c in enumerate(children):
            walk(c, "", i == len(children) - 1)
    return lines


def summary(view: StackView) -> list[str]:
    by_type = collections.Counter(r.type for r in view if r.custom)
    regions = collections.Counter(r.region or "global" for r in view if r.custom and r.type.startswith("aws:"))
    lines = [
        f"{sum(by_type.values())} resources of {len(by_type)} types; by region: "
        + ", ".join(f"{k} {v}" for k, v in sorted(regions.items()))
    ]
    width = max((len(t) for t in by_type), default=0)
    for typ, n in sorted(by_type.items()):
        lines.append(f"  {typ.ljust(width)}  {n}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools.preview", description="Offline preview: render, tree, policy report.")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--no-check", action="store_true", help="skip the policy check")
    args = parser.parse_args(argv)
    print(f"== rendering stack {args.stack} offline (Pulumi mock runtime, no credentials)", file=sys.stderr)
    started = time.perf_counter()
    try:
        doc = render(args.stack)
    except RenderError as exc:
        print(f"preview {args.stack}: {exc}", file=sys.stderr)
        return exc.exit_code
    out = Path("build") / f"{args.stack}.stack.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dumps(doc), encoding="utf-8")
    view = StackView(doc)
    print(f"== {args.stack}: rendered in {time.perf_counter() - started:.2f}s -> {out}")
    print("\n".join(tree(view)))
    print()
    print("\n".join(summary(view)))
    if args.no_check:
        return 0
    from tools import check, controls

    print(f"\n== policy check of {out} (policies/config.{args.stack}.json when present)", flush=True)
    code = int(check.main([str(out)]))
    md, html = Path("build") / f"controls.{args.stack}.md", Path("build") / f"controls.{args.stack}.html"
    controls.main(["--stack", args.stack, "--file", str(out), "--md", str(md), "--html", str(html)])
    print(f"\n== controls report: {md} and {html}")
    return code


if __name__ == "__main__":
    sys.exit(main())
