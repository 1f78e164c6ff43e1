"""Offline policy check: run the kakoi CrossGuard pack on a `pulumi stack export` file.

    python -m tools.check build/prod.stack.json [--config policies/config.prod.json] [--format text|json|markdown]

The file may be the offline render (`python -m tools.render --stack prod`) or
the export of a live stack. The policies are called the way the policy SDK's
analyzer calls them during `pulumi preview`: resource policies once per
registered resource with its *inputs* (the Stack, components and providers
included; read-only `external` resources are not analyzed), stack policies once
with every resource's *outputs*, its options, provider, parent and
dependencies. Values are wrapped in `pulumi_policy`'s unknown-checking proxy, so
an unknown (or, offline, an encrypted secret) makes a policy report "cannot
decide" at advisory level, as the engine does.

Policy config is the JSON file `pulumi preview --policy-pack-config` takes
(`{"all": "mandatory", "<policy>": {"enforcementLevel": ..., "<key>": ...}}`).
Without --config, policies/config.<stack>.json is used when it exists (the
stack name is read from the export).

Exit codes: 0 no mandatory violation, 1 at least one mandatory violation,
2 the file or the config cannot be read (a clear message, never a traceback).

This module is the command line and the library entry point (`check_file`, `evaluate`,
the formatters); the work is done by one module per concern, whose names it re-exports:
tools/exports.py (reading the export), tools/check_config.py (validating the policy
config), tools/analyzer.py (calling the policies as the engine does), tools/policy_sdk.py
(the pulumi-policy surface the analyzer relies on), tools/report.py (the result and its formats).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

if __name__ == "__main__":  # the command line: skip the SDK parts only the analyzer server needs (tools/lazy_imports.py)
    from tools.lazy_imports import defer

    defer()

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies.kakoi_policy import PACK_NAME, all_policies  # noqa: E402
from tools.analyzer import evaluate  # noqa: E402
from tools.check_config import LEVELS, POLICY_DIR, PolicyConfig, default_config_path, load_config, parse_config  # noqa: E402
from tools.check_errors import CheckError  # noqa: E402
from tools.exports import (  # noqa: E402
    ARCHIVE_SIG,
    ASSET_SIG,
    RESOURCE_SIG,
    SECRET_SIG,
    SIG,
    ExportResource,
    parse_export,
    read_export,
    stack_name,
)
from tools.report import FORMATS, Finding, Report, format_json, format_markdown, format_text, summary_counts  # noqa: E402

PACK_VERSION = "0.1.0"


def check_file(path: str | Path, config_path: str | Path | None = None) -> Report:
    """Read, configure and evaluate: what `make check` does. Raises CheckError."""
    doc = read_export(path)
    pack = all_policies()
    cfg_path = Path(config_path) if config_path else default_config_path(doc)
    config = load_config(cfg_path, pack) if cfg_path else PolicyConfig()
    return evaluate(doc, config, policies=pack, source=str(path))


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools.check", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("file", help="a `pulumi stack export` file (e.g. build/prod.stack.json)")
    parser.add_argument("--config", help="policy config JSON (default: policies/config.<stack>.json when present)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text")
    parser.add_argument("--output", help="also write the report to this file")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        report = check_file(args.file, args.config)
    except CheckError as exc:
        print(f"check: {exc}", file=sys.stderr)
        return 2
    text = FORMATS[args.format](report)
    sys.stdout.write(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
    return report.exit_code


__all__ = [
    "ARCHIVE_SIG",
    "ASSET_SIG",
    "FORMATS",
    "LEVELS",
    "PACK_NAME",
    "PACK_VERSION",
    "POLICY_DIR",
    "RESOURCE_SIG",
    "SECRET_SIG",
    "SIG",
    "CheckError",
    "ExportResource",
    "Finding",
    "PolicyConfig",
    "Report",
    "check_file",
    "default_config_path",
    "evaluate",
    "format_json",
    "format_markdown",
    "format_text",
    "load_config",
    "main",
    "parse_config",
    "parse_export",
    "read_export",
    "stack_name",
    "summary_counts",
]

if __name__ == "__main__":
    sys.exit(main())
