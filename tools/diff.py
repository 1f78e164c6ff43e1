"""What a change would do to a stack, offline: the change set `pulumi preview` would show.

    python -m tools.diff [--from SOURCE] [--to SOURCE] [--stack prod] [--format text|json|markdown] [--output FILE]
    make diff FROM=main TO=. STACK=prod DIFF_FORMAT=text

A SOURCE is a `pulumi stack export` file (the offline render, or the export of a live
stack), a git ref (rendered offline from that commit's tree, extracted into a temporary
directory with `git archive`, so the working tree is never touched; renders are cached
in build/diff/ by commit), or `.` for the working tree (rendered in this process).
Defaults: --from origin/main (main when there is no origin/main, then HEAD; the choice is
printed), --to the working tree.

Resources are matched by URN, or through `aliases`: a resource whose URN changed is a
delete plus a create unless the new one lists the old URN among its aliases. Inputs are
compared property by property (JSON documents such as IAM policies and container
definitions are compared inside); secret values are never printed. A change to a
property that forces a new resource (tools/replacements.py, from the provider's schema)
makes it a replace.

Exit codes: 0 no stateful resource is lost; 1 a protected or stateful resource
(database, bucket, key, vault, secret, registry, audit log group) would be deleted or
replaced (each is named); 2 bad input (unreadable file, unknown ref, a render that fails).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.check import SECRET_SIG, SIG, CheckError, parse_export, read_export  # noqa: E402
from tools.replacements import forces_replacement, stateful_label  # noqa: E402

WORKTREE = "."
CACHE = ROOT / "build" / "diff"
SECRET = "[secret]"  # noqa: S105 - the mask printed instead of a secret value
SENSITIVE_WORDS = ("password", "secretstring", "secretbinary", "privatekey", "token", "passphrase")
KINDS = ("create", "update", "replace", "delete")
SIGN = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


class DiffError(Exception):
    """Bad input: exit code 2."""


# --- sources ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    spec: str
    label: str
    doc: dict[str, Any]


def _git(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    # git from PATH with fixed arguments; the ref is passed as one argument, never through a shell
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=check)  # noqa: S603, S607


def resolve_commit(ref: str) -> str | None:
    proc = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def default_from(log: Any = sys.stderr) -> str:
    """origin/main, else main, else HEAD (and say which when it is not origin/main)."""
    for ref in ("origin/main", "main", "HEAD"):
        if resolve_commit(ref):
            if ref != "origin/main":
                print(f"diff: origin/main does not exist here; comparing against {ref}", file=log)
            return ref
    raise DiffError("no base to compare against: origin/main, main and HEAD do not exist (not a git repository?)")


def render_ref(ref: str, stack: str, log: Any = sys.stderr, cache: Path | None = None) -> tuple[str, dict[str, Any]]:
    """Render `stack` as the tree of git `ref` declares it. Returns (label, export)."""
    cache = cache or CACHE
    sha = resolve_commit(ref)
    if sha is None:
        raise DiffError(f"{ref!r} is neither an existing file nor a git ref (commit, branch or tag)")
    label = f"{ref} ({sha[:10]})" if not sha.startswith(ref) else sha[:10]
    cached = cache / f"{sha}.{stack}.json"
    if cached.is_file():
        print(f"diff: {label}: using the cached render {cached}", file=log)
        return label, read_export(cached)
    print(f"diff: rendering {stack} as {label} declares it (offline, in a temporary copy of that tree)", file=log, flush=True)
    archive = _git("archive", "--format=tar", sha, check=False)
    if archive.returncode != 0:
        raise DiffError(f"git archive {ref}: {archive.stderr.decode().strip()}")
    with tempfile.TemporaryDirectory(prefix="kakoi-diff-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        if not (Path(tmp) / "tools" / "render.py").is_file():
            raise DiffError(f"{label} has no tools/render.py: it cannot be rendered offline; pass an export file instead")
        out = Path(tmp) / "render.json"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        proc = subprocess.run(  # noqa: S603 - this interpreter, fixed module, no shell
            [sys.executable, "-m", "tools.render", "--stack", stack, "--out", str(out)],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise DiffError(f"rendering {stack} at {label} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
        cache.mkdir(parents=True, exist_ok=True)
        text = out.read_text(encoding="utf-8")
        cached.write_text(text, encoding="utf-8")
    return label, json.loads(text)


def render_worktree(stack: str, log: Any = sys.stderr) -> dict[str, Any]:
    from tools.render import RenderError, render

    print(f"diff: rendering {stack} from the working tree (offline)", file=log, flush=True)
    try:
        return render(stack)
    except RenderError as exc:
        raise DiffError(f"rendering {stack} from the working tree failed: {exc}") from exc


def load_source(spec: str, stack: str, log: Any = sys.stderr) -> Source:
    if spec == WORKTREE:
        return Source(spec, "working tree", render_worktree(stack, log))
    path = Path(spec)
    if path.is_file():
        try:
            return Source(spec, str(path), read_export(path))
        except CheckError as exc:
            raise DiffError(str(exc)) from exc
    label, doc = render_ref(spec, stack, log)
    return Source(spec, label, doc)


# --- the change model ---------------------------------------------------------------------------------
def canonical_urn(urn: str) -> str:
    """A URN in a form the offline render and the engine agree on.

    The engine qualifies a type with the parent's whole type chain and leaves the Stack
    out; Pulumi's mock monitor (the render) uses only the parent's own type and keeps
    the Stack. Comparing the last parent type and the resource's type works for both.
    """
    try:
        head, project, qualified, name = urn.split("::", 3)
    except ValueError:
        return urn
    parts = [p for p in qualified.split("$") if p != "pulumi:pulumi:Stack"] or ["pulumi:pulumi:Stack"]
    return "::".join([head, project, "$".join(parts[-2:]), name])


@dataclass
class Res:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: str
    protect: bool
    retain: bool
    aliases: tuple[str, ...]

    @property
    def key(self) -> str:
        return canonical_urn(self.urn)


def _resources(doc: dict[str, Any], source: str) -> dict[str, Res]:
    try:
        parse_export(doc, source)  # validation: a clear message for a malformed export
    except CheckError as exc:
        raise DiffError(str(exc)) from exc
    out: dict[str, Res] = {}
    for r in doc["deployment"].get("resources") or []:
        if r.get("delete") or r.get("external") or str(r["type"]).startswith("pulumi:providers:"):
            continue  # pending deletes, reads and providers are not part of the declared change set
        res = Res(
            urn=r["urn"],
            type=r["type"],
            name=r["urn"].split("::")[-1],
            custom=bool(r.get("custom")),
            inputs=r.get("inputs") or {},
            parent=r.get("parent") or "",
            protect=bool(r.get("protect")),
            retain=bool(r.get("retainOnDelete")),
            aliases=tuple(r.get("aliases") or ()),
        )
        out[res.key] = res
    return out


@dataclass(frozen=True)
class PropChange:
    path: str
    old: Any
    new: Any
    replaces: bool = False


@dataclass
class Change:
    kind: str  # create | update | replace | delete
    res: Res  # the new resource (create/update/replace) or the old one (delete)
    component: str
    props: list[PropChange] = field(default_factory=list)
    old_urn: str = ""  # update/replace through an alias, or the urn of a delete
    reason: str = ""
    stateful: str | None = None

    @property
    def dangerous(self) -> bool:
        return self.kind in ("delete", "replace") and self.stateful is not None


@dataclass
class Diff:
    source: Source
    target: Source
    stack: str
    changes: list[Change]
    unchanged: int

    def counts(self) -> dict[str, int]:
        return {k: sum(1 for c in self.changes if c.kind == k and c.res.custom) for k in KINDS} | {"unchanged": self.unchanged}

    @property
    def dangers(self) -> list[Change]:
        return [c for c in self.changes if c.dangerous]

    @property
    def exit_code(self) -> int:
        return 1 if self.dangers else 0


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG) == SECRET_SIG


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if _is_secret(value):
        yield path, value
        return
    value = _maybe_json(value)
    if isinstance(value, dict) and value:
        for k in sorted(value):
            yield from _flatten(value[k], f"{path}.{k}" if path else str(k))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            yield from _flatten(v, f"{path}[{i}]")
    else:
        yield path, value


def _sensitive(path: str) -> bool:
    low = path.lower().replace("_", "")
    return any(w in low for w in SENSITIVE_WORDS) and "arn" not in low.rsplit(".", 1)[-1]


def _top(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def property_changes(typ: str, old: dict[str, Any], new: dict[str, Any]) -> list[PropChange]:
    a, b = dict(_flatten(old)), dict(_flatten(new))
    out = []
    for path in sorted(set(a) | set(b)):
        va, vb = a.get(path, MISSING), b.get(path, MISSING)
        if va == vb:
            continue
        out.append(PropChange(path, va, vb, forces_replacement(typ, _top(path))))
    return out


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()


def _component_of(res: Res, by_urn: dict[str, Res]) -> str:
    """The top-level component the resource belongs to (`type name`), or "(stack)"."""
    chain: list[Res] = []
    cur: Res | None = res
    while cur is not None:
        chain.append(cur)
        cur = by_urn.get(canonical_urn(cur.parent)) if cur.parent else None
    top = [r for r in chain if r.type != "pulumi:pulumi:Stack"]
    if not top:
        return "(stack)"
    root = top[-1]
    return "(stack)" if root is res and res.custom else f"{root.type} {root.name}"


def compute(source: Source, target: Source, stack: str) -> Diff:
    old = _resources(source.doc, source.label)
    new = _resources(target.doc, target.label)
    renamed: dict[str, str] = {}  # old key -> new key, through aliases
    for key, r in new.items():
        if key in old:
            continue
        for alias in r.aliases:
            ak = canonical_urn(alias)
            if ak in old and ak not in new and ak not in renamed:
                renamed[ak] = key
                break
    matched = {k: k for k in new if k in old} | {v: k for k, v in renamed.items()}  # new key -> old key
    changes: list[Change] = []
    unchanged = 0
    for key, r in new.items():
        component = _component_of(r, new)
        if key not in matched:
            changes.append(Change("create", r, component))
            continue
        before = old[matched[key]]
        props = property_changes(r.type, before.inputs, r.inputs)
        for flag, a, b in (("[protect]", before.protect, r.protect), ("[retainOnDelete]", before.retain, r.retain)):
            if a != b:
                props.append(PropChange(flag, a, b))
        via = before.urn if matched[key] != key else ""
        if not props and not via:
            unchanged += 1 if r.custom else 0
            continue
        if not props and via:
            changes.append(Change("update", r, component, old_urn=via, reason="renamed; the alias keeps the resource"))
            continue
        replacing = [p.path for p in props if p.replaces]
        if replacing and r.custom:
            label = stateful_label(r.type, before.protect or r.protect)
            reason = f"{', '.join(sorted({_top(p) for p in replacing}))} forces replacement"
            changes.append(Change("replace", r, component, props, via, reason, label))
        else:
            changes.append(Change("update", r, component, props, via, "renamed; the alias keeps the resource" if via else ""))
    gone = set(old) - set(matched.values())
    for key in sorted(gone):
        r = old[key]
        reason = "no longer declared"
        twin = _same_physical(r, new, matched)
        if twin:
            reason = f"its URN changed (now {twin}) and no alias covers it: delete, then create"
        stateful = stateful_label(r.type, r.protect) if r.custom else None
        changes.append(Change("delete", r, _component_of(r, old), old_urn=r.urn, reason=reason, stateful=stateful))
        for c in changes:
            if twin and c.kind == "create" and c.res.urn == twin:
                c.reason = f"recreates {r.urn} under a new URN (no alias covers the old one)"
    order = {"(stack)": ""}
    changes.sort(key=lambda c: (order.get(c.component, c.component), KINDS.index(c.kind), c.res.type, c.res.name))
    return Diff(source, target, stack, changes, unchanged)


def _same_physical(r: Res, new: dict[str, Res], matched: dict[str, str]) -> str:
    """The new URN of a deleted resource recreated under another URN (same type, same physical name)."""
    ident = _physical_name(r)
    for key, n in new.items():
        if key in matched or n.type != r.type:
            continue
        if (ident and _physical_name(n) == ident) or n.name == r.name:
            return n.urn
    candidates = [n for k, n in new.items() if k not in matched and n.type == r.type]
    return candidates[0].urn if len(candidates) == 1 else ""


def _physical_name(r: Res) -> str:
    for key in ("identifier", "bucket", "name", "functionName"):
        v = r.inputs.get(key)
        if isinstance(v, str) and v:
            return v
    return ""


# --- output -------------------------------------------------------------------------------------------
def _show(value: Any, path: str) -> str:
    if value is MISSING:
        return "(absent)"
    if _is_secret(value) or _sensitive(path):
        return SECRET
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def _prop_line(p: PropChange) -> str:
    if (_is_secret(p.old) or _is_secret(p.new) or _sensitive(p.path)) and p.old is not MISSING and p.new is not MISSING:
        line = f"{p.path}: {SECRET} changed"
    else:
        line = f"{p.path}: {_show(p.old, p.path)} -> {_show(p.new, p.path)}"
    return line + ("  (forces replacement)" if p.replaces else "")


def _groups(d: Diff) -> list[tuple[str, list[Change]]]:
    out: dict[str, list[Change]] = {}
    for c in d.changes:
        out.setdefault(c.component, []).append(c)
    return list(out.items())


def _count_line(d: Diff) -> str:
    n = d.counts()
    return (
        f"{n['create']} to create, {n['update']} to update, {n['replace']} to replace, {n['delete']} to delete, {n['unchanged']} unchanged"
    )


def _flags(c: Change) -> str:
    tags = []
    if c.stateful:
        tags.append(f"stateful: {c.stateful}")
    if c.res.protect:
        tags.append("protected")
    return f" [{', '.join(tags)}]" if tags else ""


def format_text(d: Diff) -> str:
    lines = [f"kakoi diff of stack {d.stack}: {d.source.label} -> {d.target.label}", f"  {_count_line(d)}", ""]
    for component, changes in _groups(d):
        counts = {k: sum(1 for c in changes if c.kind == k) for k in KINDS}
        summary = ", ".join(f"{SIGN[k]}{v}" for k, v in counts.items() if v)
        lines.append(f"{component}  ({summary})")
        for c in changes:
            kind = c.res.type if c.res.custom else f"{c.res.type} (component)"
            lines.append(f"  {SIGN[c.kind]:<2} {c.kind:<7} {kind} {c.res.name}{_flags(c)}")
            if c.reason:
                lines.append(f"       {c.reason}")
            if c.old_urn and c.kind != "delete":
                lines.append(f"       was {c.old_urn}")
            for p in c.props:
                lines.append(f"       {_prop_line(p)}")
        lines.append("")
    if not d.changes:
        lines += ["No changes.", ""]
    lines += _verdict_lines(d)
    return "\n".join(lines) + "\n"


def _verdict_lines(d: Diff) -> list[str]:
    if not d.dangers:
        return ["OK: no protected or stateful resource would be deleted or replaced."]
    out = [f"DANGER: {len(d.dangers)} protected or stateful resource(s) would be deleted or replaced (data loss):"]
    for c in d.dangers:
        out.append(f"  {SIGN[c.kind]} {c.kind} {c.stateful} {c.res.name} ({c.res.urn}): {c.reason}")
    return out


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_markdown(d: Diff) -> str:
    n = d.counts()
    head = "❌ stateful resources would be deleted or replaced" if d.dangers else "✅ no stateful resource deleted or replaced"
    lines = [
        f"### Change set ({d.stack}): {head}",
        "",
        f"`{d.source.label}` → `{d.target.label}`: **{n['create']}** to create, **{n['update']}** to update, "
        f"**{n['replace']}** to replace, **{n['delete']}** to delete, {n['unchanged']} unchanged.",
        "",
    ]
    if d.dangers:
        lines.append("**Would lose data:**")
        lines += [f"- {c.kind} **{c.stateful}** `{c.res.name}` (`{c.res.type}`): {_md(c.reason)}" for c in d.dangers]
        lines.append("")
    if d.changes:
        lines += ["| component | change | type | resource | details |", "|---|---|---|---|---|"]
        for component, changes in _groups(d):
            for c in changes:
                details = [c.reason] if c.reason else []
                details += [_prop_line(p) for p in c.props[:12]]
                if len(c.props) > 12:
                    details.append(f"... {len(c.props) - 12} more")
                lines.append(
                    f"| {_md(component)} | {SIGN[c.kind]} {c.kind} | `{c.res.type}` | `{_md(c.res.name)}`{_md(_flags(c))} | "
                    f"{'<br>'.join(_md(x) for x in details)} |"
                )
        lines.append("")
    else:
        lines += ["No changes.", ""]
    return "\n".join(lines) + "\n"


def _jsonable(value: Any, path: str) -> Any:
    if value is MISSING:
        return None
    if _is_secret(value) or _sensitive(path):
        return SECRET
    return value


def to_json(d: Diff) -> dict[str, Any]:
    return {
        "stack": d.stack,
        "from": d.source.label,
        "to": d.target.label,
        "summary": d.counts(),
        "exitCode": d.exit_code,
        "changes": [
            {
                "kind": c.kind,
                "component": c.component,
                "urn": c.res.urn,
                "previousUrn": c.old_urn or None,
                "type": c.res.type,
                "name": c.res.name,
                "custom": c.res.custom,
                "protected": c.res.protect,
                "stateful": c.stateful,
                "reason": c.reason,
                "properties": [
                    {
                        "path": p.path,
                        "old": _jsonable(p.old, p.path),
                        "new": _jsonable(p.new, p.path),
                        "absentBefore": p.old is MISSING,
                        "absentAfter": p.new is MISSING,
                        "forcesReplacement": p.replaces,
                    }
                    for p in c.props
                ],
            }
            for c in d.changes
        ],
        "dangers": [{"kind": c.kind, "urn": c.res.urn, "name": c.res.name, "stateful": c.stateful, "reason": c.reason} for c in d.dangers],
    }


def format_json(d: Diff) -> str:
    return json.dumps(to_json(d), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


FORMATS = {"text": format_text, "json": format_json, "markdown": format_markdown}


def run(from_spec: str | None, to_spec: str | None, stack: str, log: Any = sys.stderr) -> Diff:
    from_spec = from_spec or default_from(log)
    to_spec = to_spec or WORKTREE
    source = load_source(from_spec, stack, log)
    target = load_source(to_spec, stack, log)
    return compute(source, target, stack)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools.diff", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--from", dest="from_", metavar="SOURCE", help="export file, git ref or . (default: origin/main, else main)")
    parser.add_argument("--to", metavar="SOURCE", help="export file, git ref or . for the working tree (default)")
    parser.add_argument("--stack", default="prod", help="stack to render for git refs and the working tree (default prod)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text")
    parser.add_argument("--output", help="also write the report to this file")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        d = run(args.from_ or None, args.to or None, args.stack)
    except DiffError as exc:
        print(f"diff: {exc}", file=sys.stderr)
        return 2
    text = FORMATS[args.format](d)
    sys.stdout.write(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
    return d.exit_code


if __name__ == "__main__":
    sys.exit(main())
