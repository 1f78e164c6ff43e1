"""The data tier: KMS keys, the PostgreSQL database, backups and the media bucket.

Sheet items: BAK-1 (encrypted backups in Tokyo), BAK-2 (automated backups with
point-in-time recovery plus a monthly plan), BCP-1 (copies in the DR region),
ENC-1 (TLS 1.3 to the database and the bucket), REC-1 (point-in-time restore),
MNT-1 (Friday 21:00 JST maintenance), PATH-1 (media in S3).

Production may not weaken what the sheet requires: the checks at the end of
`load` refuse a production stack without the maximum backup retention, deletion
protection, Multi-AZ or a final snapshot, whatever the stack file says.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core import CoreConfig
from .detection import check_log_retention_floor
from .reader import LOG_RETENTION_DAYS, Reader

#: RDS accepts 0-35 days; 35 is the maximum and what production keeps (BAK-2, REC-1)
#: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.BackupRetention.html
MAX_BACKUP_RETENTION_DAYS = 35
#: the shortest point-in-time recovery any stack keeps (BAK-2, REC-1): the pack's kakoi-bak-rds-backup-retention
#: minimumRetentionDays (tools/policy_config.py writes it into policies/config.<stack>.json)
MIN_BACKUP_RETENTION_DAYS = 7
#: monthly recovery points are kept at least a year (BAK-2): the pack's kakoi-bak-rds-backup-plan minimumMonthlyRetentionDays
MIN_MONTHLY_RETENTION_DAYS = 365
#: MNT-1: planned maintenance starts Friday 21:00 JST = fri:12:00 UTC: the pack's kakoi-mnt-rds-maintenance-window windowStart
MAINTENANCE_WINDOW_START = "fri:12:00"
#: Enhanced Monitoring granularities RDS accepts (0 turns it off, which kakoi never does)
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
#: `hh24:mi-hh24:mi` (backup window) and `ddd:hh24:mi-ddd:hh24:mi` (maintenance window), UTC
#: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
_HHMM = r"([01]\d|2[0-3]):[0-5]\d"
_DAY = r"(mon|tue|wed|thu|fri|sat|sun)"
BACKUP_WINDOW_PATTERN = rf"{_HHMM}-{_HHMM}"
MAINTENANCE_WINDOW_PATTERN = rf"{_DAY}:{_HHMM}-{_DAY}:{_HHMM}"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: RDS for PostgreSQL supports TLS 1.3 from major version 16 (ENC-1), so 16 is the floor;
#: the default (Pulumi.yaml) is 18, the newest major version RDS offers as generally available
#: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html
#: https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-versions.html
ENGINE_VERSION_PATTERN = r"(1[6-9]|2\d)(\.\d{1,2})?"
INSTANCE_CLASS_PATTERN = r"db\.[a-z0-9]+\.[a-z0-9]+"
#: automated backups (also the replicated ones in the DR region) are restored by their ARN
#: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/AutomatedBackups.Replicating.PiTR.html
RESTORE_ARN_PATTERN = r"arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:auto-backup:ab-[a-z0-9]+"
KMS_KEY_ARN_PATTERN = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}"
RESTORE_TIME_PATTERN = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"


@dataclass(frozen=True)
class DataConfig:
    # --- KMS
    key_rotation_days: int
    # --- database
    engine_version: str
    instance_class: str
    allocated_storage: int
    max_allocated_storage: int
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool
    final_snapshot: bool
    backup_window: str
    maintenance_window: str
    log_retention_days: int
    monitoring_interval: int
    insights_mode: str
    # --- AWS Backup
    vault_lock: bool
    vault_lock_mode: str
    daily_retention_days: int
    monthly_retention_days: int
    # --- media bucket
    media_noncurrent_days: int
    media_replication: bool
    # --- disaster recovery
    #: copies into drRegion (DR keys, DR vault, backup replication, secret replicas); off only
    #: for a stack brought up in the DR region while the primary region is down
    dr_copies: bool
    #: create the database by point-in-time restore from these (replicated) automated backups
    restore_source_backups_arn: str
    #: the restore time (UTC, ISO 8601); "" = the latest restorable time
    restore_time: str
    #: the KMS key the restored backups are encrypted with (the restored storage keeps it)
    restore_kms_key_arn: str

    @property
    def engine_major(self) -> str:
        return self.engine_version.split(".")[0]

    @property
    def parameter_group_family(self) -> str:
        """`postgres17`, `postgres18`, ... (the family is per major version)."""
        return f"postgres{self.engine_major}"

    @property
    def performance_insights_retention_days(self) -> int:
        """Advanced Database Insights requires 15 months (465 days) of retention; standard keeps the free 7 days.

        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DatabaseInsights.TurningOnAdvanced.html
        """
        return 465 if self.insights_mode == "advanced" else 7


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _window_minutes(window: str) -> tuple[int, int]:
    """A daily `hh:mm-hh:mm` window as (start, end) minutes of the day (end may wrap)."""
    start, end = window.split("-")
    return _minutes(start), _minutes(end)


def _weekly_minutes(window: str) -> tuple[int, int]:
    """A weekly `ddd:hh:mm-ddd:hh:mm` window as (start, end) minutes of the week."""
    start, end = window.split("-")

    def at(part: str) -> int:
        day, hh, mm = part.split(":")
        return _DAYS.index(day) * 1440 + int(hh) * 60 + int(mm)

    return at(start), at(end)


def _duration(start: int, end: int, period: int) -> int:
    return (end - start) % period


def _overlaps(backup: str, maintenance: str) -> bool:
    """Whether the daily backup window meets the weekly maintenance window on any day."""
    b0, b1 = _window_minutes(backup)
    m0, m1 = _weekly_minutes(maintenance)
    week = 7 * 1440
    m_len = _duration(m0, m1, week)
    b_len = _duration(b0, b1, 1440)
    maint = {(m0 + i) % week for i in range(m_len)}
    for day in range(7):
        for i in range(b_len):
            if (day * 1440 + b0 + i) % week in maint:
                return True
    return False


def load(r: Reader, core: CoreConfig) -> DataConfig:
    is_production = core.is_production
    backup_window = r.string("dbBackupWindow", pattern=BACKUP_WINDOW_PATTERN, describe="a daily UTC window hh:mm-hh:mm")
    maintenance_window = r.string(
        "dbMaintenanceWindow",
        pattern=MAINTENANCE_WINDOW_PATTERN,
        describe="a weekly UTC window ddd:hh:mm-ddd:hh:mm (e.g. fri:12:00-fri:12:30)",
    )
    bw_ok = r.ok("dbBackupWindow")
    mw_ok = r.ok("dbMaintenanceWindow")
    if mw_ok and not maintenance_window.startswith(f"{MAINTENANCE_WINDOW_START}-"):
        r.fail(
            "dbMaintenanceWindow",
            f"{maintenance_window!r} does not start at {MAINTENANCE_WINDOW_START} UTC: planned maintenance is Friday 21:00 JST "
            "(MNT-1; kakoi-mnt-rds-maintenance-window)",
        )
    if bw_ok and _duration(*_window_minutes(backup_window), 1440) < 30:
        r.fail("dbBackupWindow", f"{backup_window!r} is shorter than the 30 minutes RDS requires")
    if mw_ok and _duration(*_weekly_minutes(maintenance_window), 7 * 1440) < 30:
        r.fail("dbMaintenanceWindow", f"{maintenance_window!r} is shorter than the 30 minutes RDS requires")
    if bw_ok and mw_ok and _overlaps(backup_window, maintenance_window):
        r.fail("dbBackupWindow", f"{backup_window!r} overlaps the maintenance window {maintenance_window!r}; RDS refuses that")

    allocated = r.integer("dbAllocatedStorage", minimum=20, maximum=65536)
    max_allocated = r.integer("dbMaxAllocatedStorage", minimum=20, maximum=65536)
    storage_ok = r.ok("dbAllocatedStorage", "dbMaxAllocatedStorage")
    if storage_ok and max_allocated <= allocated:
        r.fail(
            "dbMaxAllocatedStorage",
            f"{max_allocated} must be above dbAllocatedStorage ({allocated}) for storage autoscaling",
        )
    # RDS wants 10 % headroom over the allocated storage for autoscaling to apply
    elif storage_ok and max_allocated < allocated * 1.1:
        r.fail("dbMaxAllocatedStorage", f"{max_allocated} must be at least 10 % above dbAllocatedStorage ({allocated})")

    retention = r.integer("dbBackupRetentionDays", minimum=MIN_BACKUP_RETENTION_DAYS, maximum=MAX_BACKUP_RETENTION_DAYS)
    deletion_protection = r.boolean("dbDeletionProtection")
    multi_az = r.boolean("dbMultiAz")
    final_snapshot = r.boolean("dbFinalSnapshot")
    daily = r.integer("backupDailyRetentionDays", minimum=7, maximum=35)
    monthly = r.integer("backupMonthlyRetentionDays", minimum=MIN_MONTHLY_RETENTION_DAYS, maximum=36500)
    vault_lock = r.boolean("backupVaultLock")
    vault_lock_mode = r.string("backupVaultLockMode", choices=("GOVERNANCE", "COMPLIANCE"))
    media_replication = r.boolean("mediaReplication")
    dr_copies = r.boolean("drCopies")
    if r.ok("mediaReplication", "drCopies") and media_replication and not dr_copies:
        r.fail("mediaReplication", "needs drCopies (the replica bucket and its key live in drRegion)")
    restore_arn = r.string(
        "dbRestoreSourceBackupsArn",
        required=False,
        allow_empty=True,
        pattern=RESTORE_ARN_PATTERN,
        describe="the ARN of RDS automated backups (arn:aws:rds:<region>:<account>:auto-backup:ab-...)",
    )
    restore_time = r.string(
        "dbRestoreTime",
        required=False,
        allow_empty=True,
        pattern=RESTORE_TIME_PATTERN,
        describe="a UTC time like 2026-03-06T10:15:00Z",
    )
    if r.ok("dbRestoreTime", "dbRestoreSourceBackupsArn") and restore_time and not restore_arn:
        r.fail("dbRestoreTime", "is only used with dbRestoreSourceBackupsArn")
    restore_key = r.string(
        "dbRestoreKmsKeyArn",
        required=False,
        allow_empty=True,
        pattern=KMS_KEY_ARN_PATTERN,
        describe="a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)",
    )
    restore_ok = r.ok("dbRestoreSourceBackupsArn", "dbRestoreKmsKeyArn")
    if restore_ok and restore_arn and not restore_key:
        r.fail(
            "dbRestoreKmsKeyArn",
            "is required with dbRestoreSourceBackupsArn: the restored storage stays encrypted with the backups' key",
        )
    if restore_ok and restore_key and not restore_arn:
        r.fail("dbRestoreKmsKeyArn", "is only used with dbRestoreSourceBackupsArn")
    if r.ok("drCopies", "dbRestoreSourceBackupsArn") and not dr_copies and not restore_arn:
        if is_production:
            r.fail(
                "drCopies",
                "may be false in production only for a DR bring-up (with dbRestoreSourceBackupsArn) while the primary region is down (BCP-1)",
            )
        elif core.policy_mandatory("kakoi-bcp-rds-cross-region-backups"):
            r.fail(
                "drCopies",
                f"may be false only for a DR bring-up (with dbRestoreSourceBackupsArn): without copies in drRegion the stack fails "
                f"kakoi-bcp-rds-cross-region-backups, mandatory for stack {core.stack} (BCP-1)",
            )

    if is_production:
        if r.ok("dbBackupRetentionDays") and retention != MAX_BACKUP_RETENTION_DAYS:
            r.fail(
                "dbBackupRetentionDays",
                f"production keeps the maximum of {MAX_BACKUP_RETENTION_DAYS} days of point-in-time recovery (BAK-2, REC-1)",
            )
        if r.ok("dbDeletionProtection") and not deletion_protection:
            r.fail("dbDeletionProtection", "must be true in production")
        if r.ok("dbMultiAz") and not multi_az:
            r.fail("dbMultiAz", "must be true in production (AVL-1)")
        if r.ok("dbFinalSnapshot") and not final_snapshot:
            r.fail("dbFinalSnapshot", "must be true in production")
    else:
        # outside production the pack decides: a switch may be off only where levels.py keeps its policy advisory
        for key, value, policy in (
            ("dbDeletionProtection", deletion_protection, "kakoi-rds-deletion-protection"),
            ("dbMultiAz", multi_az, "kakoi-rds-multi-az"),
        ):
            if r.ok(key) and not value and core.policy_mandatory(policy):
                r.fail(
                    key,
                    f"must be true in stack {core.stack}: {policy} is mandatory there "
                    "(policies/kakoi_policy/levels.py lists the stacks that may turn it off)",
                )
    log_retention = r.integer("dbLogRetentionDays", allowed=LOG_RETENTION_DAYS)
    check_log_retention_floor(r, core, "dbLogRetentionDays", log_retention)

    return DataConfig(
        key_rotation_days=r.integer("kmsKeyRotationDays", minimum=90, maximum=2560),
        engine_version=r.string(
            "dbEngineVersion",
            pattern=ENGINE_VERSION_PATTERN,
            describe="a PostgreSQL version like 18 or 18.1 (16 or newer: TLS 1.3 needs 16+, ENC-1)",
        ),
        instance_class=r.string("dbInstanceClass", pattern=INSTANCE_CLASS_PATTERN, describe="an RDS instance class like db.m7g.large"),
        allocated_storage=allocated,
        max_allocated_storage=max_allocated,
        multi_az=multi_az,
        backup_retention_days=retention,
        deletion_protection=deletion_protection,
        final_snapshot=final_snapshot,
        backup_window=backup_window,
        maintenance_window=maintenance_window,
        log_retention_days=log_retention,
        monitoring_interval=r.integer("dbMonitoringInterval", allowed=MONITORING_INTERVALS),
        insights_mode=r.string("dbInsightsMode", choices=("standard", "advanced")),
        vault_lock=vault_lock,
        vault_lock_mode=vault_lock_mode,
        daily_retention_days=daily,
        monthly_retention_days=monthly,
        media_noncurrent_days=r.integer("mediaNoncurrentVersionDays", minimum=1, maximum=3650),
        media_replication=media_replication,
        dr_copies=dr_copies,
        restore_source_backups_arn=restore_arn,
        restore_time=restore_time,
        restore_kms_key_arn=restore_key,
    )
