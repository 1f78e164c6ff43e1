"""The URN manifest: every URN of each stack, committed, so that a refactor cannot move one unseen.

    python -m tools.urns --write            # re-record tests/infra/urns/<stack>.txt for every stack
    python -m tools.urns --check            # compare the renders with the manifests (exit 1 on a change)
    python -m tools.urns --same-as REF      # the working tree renders exactly what REF renders, resource by
                                            # resource (inputs, parents, providers, dependencies, options, outputs)
    make urns                               # --write, after a change that adds or (with aliases) moves URNs

A resource whose URN changes is deleted and created again by `pulumi up` unless the new
resource lists the old URN among its `aliases` (https://www.pulumi.com/docs/iac/concepts/options/aliases/).
The check (and tests/infra/test_urns.py) fails when:
- a recorded URN is neither in the render nor among the aliases of a rendered resource
  (a deployed resource would be replaced or deleted);
- a rendered URN is not recorded (a new resource: re-record so that the review shows it).

Exit codes: 0 the renders match the manifests, 1 they differ (each URN is named), 2 a render failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.render import RenderError, render  # noqa: E402

MANIFEST_DIR = ROOT / "tests" / "infra" / "urns"
STACKS = ("prod", "staging")
HEADER = (
    "# every URN of the {stack} stack, one per line (python -m tools.urns --write; make urns).\n"
    "# A URN that disappears from here without being an alias of a new one is a resource replaced.\n"
)


@dataclass(frozen=True)
class Comparison:
    """How a render's URNs compare with the recorded ones."""

    #: recorded URNs that no rendered resource has, nor lists among its aliases
    lost: tuple[str, ...]
    #: rendered URNs that are not recorded
    added: tuple[str, ...]
    #: recorded URN -> the rendered URN that carries it as an alias
    moved: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.lost and not self.added


def urns_of(doc: dict[str, Any]) -> dict[str, list[str]]:
    """URN -> aliases of every resource in an export document (the stack itself included)."""
    return {r["urn"]: list(r.get("aliases", [])) for r in doc["deployment"]["resources"]}


def manifest_path(stack: str) -> Path:
    return MANIFEST_DIR / f"{stack}.txt"


def read_manifest(stack: str) -> list[str]:
    path = manifest_path(stack)
    if not path.exists():
        raise FileNotFoundError(f"{path.relative_to(ROOT)} is missing: run `make urns`")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def manifest_text(stack: str, doc: dict[str, Any]) -> str:
    return HEADER.format(stack=stack) + "".join(f"{u}\n" for u in sorted(urns_of(doc)))


def compare(recorded: list[str], doc: dict[str, Any]) -> Comparison:
    current = urns_of(doc)
    alias_of = {alias: urn for urn, aliases in current.items() for alias in aliases}
    lost: list[str] = []
    moved: dict[str, str] = {}
    for urn in recorded:
        if urn in current:
            continue
        if urn in alias_of:
            moved[urn] = alias_of[urn]
        else:
            lost.append(urn)
    recorded_set = set(recorded)
    added = [u for u in current if u not in recorded_set and not set(current[u]) & recorded_set]
    return Comparison(lost=tuple(sorted(lost)), added=tuple(sorted(added)), moved=dict(sorted(moved.items())))


def equivalence(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two export documents, resource by resource (order ignored); [] when equivalent.

    Everything recorded is compared: type, inputs, outputs, parent, provider, dependencies,
    property dependencies and options (protect, retainOnDelete, ignoreChanges, ...). A resource
    that carries an alias to its old URN is compared with the old one, and references to it
    (parents, dependencies) are read as the old URN.
    """
    before = {r["urn"]: r for r in old["deployment"]["resources"]}
    after = {r["urn"]: r for r in new["deployment"]["resources"]}
    renamed = {r["urn"]: a for r in after.values() for a in r.get("aliases", []) if a in before and a not in after}

    def as_before(res: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps({k: v for k, v in res.items() if k not in ("urn", "aliases")}, sort_keys=True)
        for new_urn, old_urn in renamed.items():
            text = text.replace(json.dumps(new_urn)[1:-1], json.dumps(old_urn)[1:-1])
        return json.loads(text)

    problems: list[str] = []
    by_old = {renamed.get(urn, urn): res for urn, res in after.items()}
    for urn, res in sorted(before.items()):
        if urn not in by_old:
            problems.append(f"gone: {urn}")
            continue
        mine, theirs = as_before(by_old[urn]), {k: v for k, v in res.items() if k not in ("urn", "aliases")}
        if urn not in after:
            # moved with an alias: the deployed resource keeps its ID and outputs; the offline mocks
            # derive both from the (new) name, so only the declared side is compared
            for key in ("id", "outputs"):
                mine.pop(key, None)
                theirs.pop(key, None)
        problems.extend(f"{key} differs: {urn}" for key in sorted(set(mine) | set(theirs)) if mine.get(key) != theirs.get(key))
    problems.extend(f"new: {urn}" for urn in sorted(by_old) if urn not in before)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools.urns", description=(__doc__ or "").split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="re-record the manifests from the renders")
    mode.add_argument("--check", action="store_true", help="compare the renders with the manifests")
    mode.add_argument("--same-as", metavar="REF", help="prove the working tree renders what git REF renders")
    parser.add_argument("--stack", action="append", choices=STACKS, help="only this stack (repeatable; default: all)")
    args = parser.parse_args(argv)
    status = 0
    for stack in args.stack or STACKS:
        if args.same_as:
            from tools.diff import DiffError, render_ref

            try:
                _, old = render_ref(args.same_as, stack)
                new = render(stack)
            except (DiffError, RenderError) as exc:
                print(f"render {stack}: {exc}", file=sys.stderr)
                return 2
            problems = equivalence(old, new)
            for line in problems:
                print(f"{stack}: {line}")
            count = len(new["deployment"]["resources"])
            if problems:
                status = 1
            else:
                print(f"{stack}: equivalent to {args.same_as}: {count} resources, every property, option and output")
            continue
        print(f"== rendering {stack}", file=sys.stderr)
        try:
            doc = render(stack)
        except RenderError as exc:
            print(f"render {stack}: {exc}", file=sys.stderr)
            return 2
        if args.write:
            MANIFEST_DIR.mkdir(parents=True, exist_ok=True)
            manifest_path(stack).write_text(manifest_text(stack, doc), encoding="utf-8")
            print(f"{stack}: {len(urns_of(doc))} URNs -> {manifest_path(stack).relative_to(ROOT)}")
            continue
        result = compare(read_manifest(stack), doc)
        for old, new in result.moved.items():
            print(f"{stack}: moved with an alias: {old}\n    -> {new}")
        for urn in result.lost:
            print(f"{stack}: LOST (would be replaced or deleted; add an alias): {urn}")
        for urn in result.added:
            print(f"{stack}: new, not recorded (run `make urns`): {urn}")
        if result.ok:
            print(f"{stack}: {len(urns_of(doc))} URNs match the manifest ({len(result.moved)} moved with aliases)")
        else:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
