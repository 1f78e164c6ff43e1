"""What the policy pack enforces on config values, checked when the config loads.

The CrossGuard pack (policies/) judges the resources the program declares; many of
its rules come down to one config value (`kakoi:dbMaintenanceWindow` must start at
fri:12:00, `kakoi:ecsExec` must be false, ...). Such a value is refused here, before
anything is declared, with the key and the reason, instead of passing the config
and failing `pulumi preview --policy-pack` (or `make check`) afterwards.

* Which policies are mandatory on a stack: `policies/config.<stack>.json` starts with
  `"all": "mandatory"` and keeps advisory only what `policies/kakoi_policy/levels.py`
  lists for that stack, with its reason. That file is the one place those exceptions
  live; it imports nothing, so the program reads it directly (`advisory_policies`)
  rather than keeping a copy.
* The values the pack's policy config needs (allowed regions, DR region, detector ID,
  TLS policies, floors such as the monthly backup retention) are generated from the
  stack config and the constants below by `tools/policy_config.py`
  (`make policy-config`).
* `POLICY_CHECKS` maps every (mandatory) policy that judges a config value to the
  stackconfig rule that refuses a bad value; tests/infra/test_policy_checks.py proves
  every row with a bad value that fails at load naming the key.
"""

from __future__ import annotations

import functools
import runpy
from dataclasses import dataclass
from pathlib import Path

#: policies/kakoi_policy/levels.py: the advisory exceptions per stack (plain data, no imports)
LEVELS_FILE = Path(__file__).resolve().parent.parent / "policies" / "kakoi_policy" / "levels.py"

#: BAK-1, BCP-1: data and backups stay in Japan: the primary region (Tokyo) and the DR region (Osaka);
#: a DR bring-up swaps them (docs/runbooks/restore.md), so either may be aws:region
JAPAN_REGIONS = ("ap-northeast-1", "ap-northeast-3")


@functools.cache
def _advisory() -> dict[str, dict[str, str]]:
    if not LEVELS_FILE.is_file():
        raise FileNotFoundError(f"{LEVELS_FILE}: the policy pack's levels (which policies each stack keeps advisory) are missing")
    advisory = runpy.run_path(str(LEVELS_FILE))["ADVISORY"]
    return {str(stack): {str(k): str(v) for k, v in policies.items()} for stack, policies in advisory.items()}


def advisory_policies(stack: str) -> frozenset[str]:
    """The policies `stack`'s policy config keeps advisory (levels.py); every other policy is mandatory there."""
    return frozenset(_advisory().get(stack, {}))


def mandatory(stack: str, policy: str) -> bool:
    """Whether `policy` is mandatory on `stack` (its config says "all": "mandatory" minus levels.py's exceptions)."""
    return policy not in advisory_policies(stack)


@dataclass(frozen=True)
class PolicyCheck:
    """One rule a policy enforces on config values, and where stackconfig checks it at load."""

    #: the policy (policies/kakoi_policy)
    policy: str
    #: the config keys it judges
    keys: tuple[str, ...]
    #: the rule, as the load error states it
    rule: str
    #: where the check lives (module.function)
    where: str


#: every mandatory policy whose verdict follows from a config value -> the load-time check
POLICY_CHECKS: tuple[PolicyCheck, ...] = (
    PolicyCheck(
        "kakoi-gov-allowed-regions",
        ("aws:region", "kakoi:drRegion"),
        "both regions are in Japan (ap-northeast-1, ap-northeast-3) and differ; the pack's allowedRegions is generated from them",
        "stackconfig.core.load",
    ),
    PolicyCheck(
        "kakoi-bcp-rds-cross-region-backups",
        ("kakoi:drRegion", "kakoi:drCopies"),
        "drRegion is a region other than aws:region (the pack's drRegion is generated from it); drCopies false only for a DR "
        "bring-up (with dbRestoreSourceBackupsArn)",
        "stackconfig.core.load, stackconfig.data.load",
    ),
    PolicyCheck(
        "kakoi-bcp-backup-copies-to-dr",
        ("kakoi:drRegion", "kakoi:drCopies"),
        "as kakoi-bcp-rds-cross-region-backups: the backup rules copy to drRegion, which drCopies false would drop",
        "stackconfig.core.load, stackconfig.data.load",
    ),
    PolicyCheck(
        "kakoi-av-guardduty-enabled",
        ("kakoi:guardDutyDetectorId",),
        "empty (the stack creates the detector) or a detector ID; the pack's adoptedDetectorId is generated from it",
        "stackconfig.detection.load",
    ),
    PolicyCheck(
        "kakoi-av-guardduty-features",
        ("kakoi:guardDutyDetectorId",),
        "as kakoi-av-guardduty-enabled (same adoptedDetectorId)",
        "stackconfig.detection.load",
    ),
    PolicyCheck(
        "kakoi-enc-alb-tls13-only",
        ("kakoi:tlsPolicy",),
        "one of the TLS-1.3-only ELB policies (stackconfig.edge.TLS13_ONLY_POLICIES, the pack's allowedPolicies); the app's "
        "ALB and the relay's NLB both use it",
        "stackconfig.edge.load",
    ),
    PolicyCheck(
        "kakoi-enc-alb-hsts",
        ("kakoi:hstsMaxAge",),
        "at least MIN_HSTS_MAX_AGE seconds (a year; the pack's minimumMaxAge)",
        "stackconfig.edge.load",
    ),
    PolicyCheck(
        "kakoi-elb-deletion-protection",
        ("kakoi:albDeletionProtection", "kakoi:relayDeletionProtection"),
        "true where the policy is mandatory (levels.py keeps it advisory for staging only); production always",
        "stackconfig.edge.load, stackconfig.relay.load",
    ),
    PolicyCheck(
        "kakoi-elb-multi-az",
        ("kakoi:azCount",),
        "at least 2 availability zones",
        "stackconfig.network.load",
    ),
    PolicyCheck(
        "kakoi-net-sg-no-public-ingress",
        ("kakoi:dbAdminCidrs", "kakoi:vpcCidr"),
        "the database admits private ranges only (RFC 1918 / ULA), never 0.0.0.0/0 or ::/0; the VPC is a private IPv4 "
        "range (only the load balancers' 443/80 face kakoi:ingressCidrs)",
        "stackconfig.network.load",
    ),
    PolicyCheck(
        "kakoi-mnt-rds-maintenance-window",
        ("kakoi:dbMaintenanceWindow", "kakoi:dbBackupWindow"),
        "the weekly window starts at MAINTENANCE_WINDOW_START (fri:12:00 UTC = Friday 21:00 JST, the pack's windowStart), "
        "lasts at least 30 minutes and does not overlap the backup window",
        "stackconfig.data.load",
    ),
    PolicyCheck(
        "kakoi-bak-rds-backup-retention",
        ("kakoi:dbBackupRetentionDays",),
        "at least MIN_BACKUP_RETENTION_DAYS (7, the pack's minimumRetentionDays); production keeps 35",
        "stackconfig.data.load",
    ),
    PolicyCheck(
        "kakoi-bak-rds-backup-plan",
        ("kakoi:backupMonthlyRetentionDays",),
        "at least MIN_MONTHLY_RETENTION_DAYS (365, the pack's minimumMonthlyRetentionDays)",
        "stackconfig.data.load",
    ),
    PolicyCheck(
        "kakoi-rds-deletion-protection",
        ("kakoi:dbDeletionProtection",),
        "true where the policy is mandatory (levels.py keeps it advisory for staging only); production always",
        "stackconfig.data.load",
    ),
    PolicyCheck(
        "kakoi-rds-multi-az",
        ("kakoi:dbMultiAz",),
        "true where the policy is mandatory (every stack today); production always",
        "stackconfig.data.load",
    ),
    PolicyCheck(
        "kakoi-rds-enhanced-monitoring",
        ("kakoi:dbMonitoringInterval",),
        "one of 1, 5, 10, 15, 30, 60 (0, which turns it off, is refused)",
        "stackconfig.data.load",
    ),
    PolicyCheck(
        "kakoi-kms-key-rotation",
        ("kakoi:kmsKeyRotationDays",),
        "90-2560 days (rotation is always on; the period is what the config sets)",
        "stackconfig.data.load",
    ),
    PolicyCheck(
        "kakoi-s3-lifecycle",
        ("kakoi:mediaNoncurrentVersionDays", "kakoi:logArchiveColdAfterDays"),
        "positive day counts (every bucket gets a lifecycle; the log archive's only transitions, never expires)",
        "stackconfig.data.load, stackconfig.log_archive.load",
    ),
    PolicyCheck(
        "kakoi-log-archive-keeps-logs",
        ("kakoi:logArchiveObjectLockMode", "kakoi:logArchiveObjectLockDays"),
        "an Object Lock mode (GOVERNANCE or COMPLIANCE) and a default retention of at least a day",
        "stackconfig.log_archive.load",
    ),
    PolicyCheck(
        "kakoi-log-group-retention",
        ("kakoi:logRetentionDays", "kakoi:auditLogRetentionDays", "kakoi:dbLogRetentionDays", "kakoi:appLogRetentionDays"),
        "every log group retention is at least the floor of the stack's environment (MIN_LOG_RETENTION_DAYS: production "
        "365, others 90; the pack's minimumRetentionDays is generated from it)",
        "stackconfig.detection.load, stackconfig.data.load, stackconfig.app.load",
    ),
    PolicyCheck(
        "kakoi-mon-alarms-notify-people",
        ("kakoi:alertEmails",),
        "at least one valid address (the alert topic's subscribers)",
        "stackconfig.detection.load",
    ),
    PolicyCheck(
        "kakoi-mon-ecs-container-insights",
        ("kakoi:containerInsights",),
        "enhanced or enabled (disabled is refused)",
        "stackconfig.app.load",
    ),
    PolicyCheck(
        "kakoi-ecs-exec-disabled",
        ("kakoi:ecsExec",),
        "false where the policy is mandatory (every stack today: a stack that needs ECS Exec lists the policy in levels.py first)",
        "stackconfig.app.load",
    ),
    PolicyCheck(
        "kakoi-ecr-lifecycle-policy",
        ("kakoi:ecrKeepImages",),
        "at least 5 images kept (the lifecycle policy expires the rest)",
        "stackconfig.app.load",
    ),
)
