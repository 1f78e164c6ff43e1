"""policies/config.<stack>.json, generated from the stack config (the single source).

The CrossGuard pack runs in its own virtualenv and sees only its policy config, so
every fact it needs about a stack is written into `policies/config.<stack>.json`
(passed as `pulumi preview --policy-pack policies --policy-pack-config ...`, and
picked up by `make check`). This tool writes those files from:

* the stack config, validated by `stackconfig` (Pulumi.yaml defaults + Pulumi.<stack>.yaml):
  the allowed regions and the DR region (kakoi:aws:region, kakoi:drRegion), the adopted
  GuardDuty detector (kakoi:guardDutyDetectorId);
* stackconfig's constants, which the same config is validated against at load:
  the TLS-1.3-only ELB policies, the HSTS floor, the backup retention floors, the MNT-1
  maintenance start, the log-retention floor of the stack's environment;
* `policies/kakoi_policy/levels.py`: which policies the stack keeps advisory (each with
  its reason); every other policy is mandatory ("all": "mandatory");
* `PACK_ONLY` below: what the pack needs that has no home in stack config, explicit.

    python -m tools.policy_config                # print every stack's config
    python -m tools.policy_config --stack prod   # print one
    python -m tools.policy_config --write        # rewrite policies/config.<stack>.json (make policy-config)
    python -m tools.policy_config --check        # exit 1 when a committed file is stale

The output is deterministic (fixed key order, two-space indent, a final newline) and is
checked against the pack's config schemas (tools.check.parse_config) before it is written.
tests/infra/test_policy_config.py fails when a committed file differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import stackconfig
from stackconfig.data import MAINTENANCE_WINDOW_START, MIN_BACKUP_RETENTION_DAYS, MIN_MONTHLY_RETENTION_DAYS
from stackconfig.detection import min_log_retention_days
from stackconfig.edge import MIN_HSTS_MAX_AGE, TLS13_ONLY_POLICIES
from stackconfig.policy import advisory_policies
from tools.stackfiles import ROOT, available_stacks, stack_values

POLICY_DIR = ROOT / "policies"
COMMAND = "make policy-config"

#: What the pack needs that no stack config key holds: the sheet's minimum GuardDuty protection (AV-1).
#: The program enables more (components/guardduty.py FEATURES adds EBS malware protection); the pack requires
#: at least these, with the ECS Fargate agent managed by GuardDuty so the app's tasks are watched. kakoi's
#: detector is the stack's own or adopted, never managed by an organization administrator.
PACK_ONLY: dict[str, dict[str, Any]] = {
    "kakoi-av-guardduty-features": {
        "requiredFeatures": ["S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "RUNTIME_MONITORING"],
        "requireEcsFargateAgent": True,
        "managedByOrganization": False,
    },
}


def build(stack: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The policy config of `stack` (raises stackconfig.ConfigError when its stack config is invalid)."""
    sv = stack_values(stack, overrides=overrides)
    cfg = stackconfig.load(sv.values, project=sv.project, stack=sv.stack)
    detector = cfg.detection.guardduty_detector_id
    out: dict[str, Any] = {
        "all": "mandatory",
        "kakoi-gov-allowed-regions": {"allowedRegions": list(cfg.core.allowed_regions)},
        "kakoi-av-guardduty-enabled": {"adoptedDetectorId": detector},
        "kakoi-av-guardduty-features": {"adoptedDetectorId": detector, **PACK_ONLY["kakoi-av-guardduty-features"]},
        "kakoi-enc-alb-tls13-only": {"allowedPolicies": list(TLS13_ONLY_POLICIES)},
        "kakoi-bcp-rds-cross-region-backups": {"drRegion": cfg.core.dr_region},
        "kakoi-bcp-backup-copies-to-dr": {"drRegion": cfg.core.dr_region},
        "kakoi-bak-rds-backup-plan": {"minimumMonthlyRetentionDays": MIN_MONTHLY_RETENTION_DAYS},
        "kakoi-mnt-rds-maintenance-window": {"windowStart": MAINTENANCE_WINDOW_START},
        "kakoi-log-group-retention": {"minimumRetentionDays": min_log_retention_days(cfg.core)},
        "kakoi-bak-rds-backup-retention": {"minimumRetentionDays": MIN_BACKUP_RETENTION_DAYS},
        "kakoi-enc-alb-hsts": {"minimumMaxAge": MIN_HSTS_MAX_AGE},
    }
    for name in sorted(advisory_policies(stack)):
        out.setdefault(name, {})["enforcementLevel"] = "advisory"
    _validate(out, stack)
    return out


def _validate(doc: dict[str, Any], stack: str) -> None:
    """The generated document must pass the pack's own schema check (unknown policies, settings, types)."""
    from policies.kakoi_policy import all_policies
    from tools.check import parse_config

    parse_config(doc, all_policies(), f"generated policies/config.{stack}.json")


def render(stack: str) -> str:
    return json.dumps(build(stack), indent=2, ensure_ascii=False) + "\n"


def path_for(stack: str) -> Path:
    return POLICY_DIR / f"config.{stack}.json"


def _display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def stale(stacks: list[str]) -> list[str]:
    """The stacks whose committed policy config differs from what the stack config generates."""
    out = []
    for stack in stacks:
        path = path_for(stack)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != render(stack):
            out.append(stack)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools.policy_config", description="Generate policies/config.<stack>.json from the stack config.")
    parser.add_argument("--stack", action="append", help="only this stack (repeatable; default: every Pulumi.<stack>.yaml)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite policies/config.<stack>.json")
    mode.add_argument("--check", action="store_true", help="exit 1 when a committed file is stale")
    args = parser.parse_args(argv)
    stacks = args.stack or available_stacks()
    try:
        if args.check:
            bad = stale(stacks)
            for stack in bad:
                print(f"policies/config.{stack}.json is stale (or missing): run `{COMMAND}`", file=sys.stderr)
            if not bad:
                print(f"policy configs up to date: {', '.join(f'config.{s}.json' for s in stacks)}")
            return 1 if bad else 0
        for stack in stacks:
            text = render(stack)
            if args.write:
                path = path_for(stack)
                changed = not path.is_file() or path.read_text(encoding="utf-8") != text
                path.write_text(text, encoding="utf-8")
                print(f"{'wrote' if changed else 'unchanged'} {_display(path)}")
            else:
                print(f"== policies/config.{stack}.json\n{text}", end="")
    except stackconfig.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
