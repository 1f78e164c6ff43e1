"""The database and its backups: NET-1, ENC-1, BAK-1, BAK-2, BCP-1, MNT-1, REC-1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs

from .base import ADVISORY, HIGH, LOW, MANDATORY, MEDIUM, Cfg, KakoiResourcePolicy, KakoiStackPolicy, Node, SRes, Stack, Violation
from .constants import BACKUP_PLAN, BACKUP_SELECTION, BACKUP_VAULT, DB, DB_BACKUP_REPLICATION, DB_PARAMS, DR_REGION


def _is_replica(props: Node) -> bool:
    return bool(props.get("replicateSourceDb"))


def _engine(props: Node) -> str:
    return str(props.get("engine") or "")


# --- resource policies on the instance ----------------------------------------------------
def _check_not_public(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if props.get("publiclyAccessible") is True:  # default false
        yield "publiclyAccessible is true: the database gets a public endpoint"


rds_not_public = KakoiResourcePolicy(
    name="kakoi-net-rds-not-public",
    description="Database instances are not publicly accessible (omitted means false).",
    types=(DB,),
    check=_check_not_public,
    level=MANDATORY,
    severity=HIGH,
    sheet=("NET-1",),
    securityhub=("RDS.2",),
    remediation="Remove publiclyAccessible (or set it to false) and keep the instance in the private database subnets.",
)


def _check_encrypted(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if props.get("storageEncrypted") is not True:  # default false
        yield "storageEncrypted is not true: storage, automated backups and snapshots are unencrypted"


rds_encrypted = KakoiResourcePolicy(
    name="kakoi-bak-rds-encrypted",
    description="Database storage is encrypted with KMS, and with it its automated backups and snapshots (omitted means unencrypted).",
    types=(DB,),
    check=_check_encrypted,
    level=MANDATORY,
    severity=HIGH,
    sheet=("BAK-1",),
    securityhub=("RDS.3", "RDS.4"),
    remediation="Set storageEncrypted=true and kmsKeyId to the database key (this replaces an existing instance: restore from a snapshot copy).",
)


def _check_retention(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if _is_replica(props):
        return
    minimum = int(cfg["minimumRetentionDays"])
    days = props.get("backupRetentionPeriod")
    if days is None:
        yield f"backupRetentionPeriod is not set (the API default is 1 day); at least {minimum} days are required"
    elif int(days) < minimum:
        yield f"backupRetentionPeriod is {int(days)} days; at least {minimum} are required for point-in-time recovery"


rds_backup_retention = KakoiResourcePolicy(
    name="kakoi-bak-rds-backup-retention",
    description="Automated backups with point-in-time recovery are kept for at least the configured number of days (omitted means 1).",
    types=(DB,),
    check=_check_retention,
    level=MANDATORY,
    severity=HIGH,
    sheet=("BAK-2", "REC-1"),
    securityhub=("RDS.11",),
    remediation="Set backupRetentionPeriod (kakoi data config; production uses 35).",
    config={
        "minimumRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "maximum": 35,
            "description": "Minimum automated backup retention in days.",
            "default": 7,
        }
    },
)

WINDOW = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):(\d\d):(\d\d)-(mon|tue|wed|thu|fri|sat|sun):(\d\d):(\d\d)$", re.IGNORECASE)


def _check_maintenance(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    start = str(cfg["windowStart"]).lower()
    window = props.get("maintenanceWindow")
    if not window:
        yield f"maintenanceWindow is not set: AWS picks a random weekly window; set it to start at {start} (UTC)"
        return
    match = WINDOW.match(str(window).strip())
    if not match:
        yield f"maintenanceWindow {window!r} is not ddd:hh:mm-ddd:hh:mm"
    elif f"{match.group(1)}:{match.group(2)}:{match.group(3)}".lower() != start:
        yield f"maintenanceWindow {window} does not start at {start} UTC (Friday 21:00 JST)"


rds_maintenance_window = KakoiResourcePolicy(
    name="kakoi-mnt-rds-maintenance-window",
    description="Planned database maintenance happens on Friday at 21:00 JST (fri:12:00 UTC); omitted means a random window AWS picks.",
    types=(DB,),
    check=_check_maintenance,
    level=MANDATORY,
    severity=MEDIUM,
    sheet=("MNT-1",),
    securityhub=(),
    remediation="Set maintenanceWindow to 'fri:12:00-fri:12:30' (and a backupWindow that ends before it).",
    config={
        "windowStart": {
            "type": "string",
            "pattern": "^(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]$",
            "description": "Required start of the weekly maintenance window, in UTC.",
            "default": "fri:12:00",
        }
    },
)


def _simple(name: str, description: str, prop: str, wanted: Any, default: Any, message: str, **kw: Any) -> KakoiResourcePolicy:
    def check(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
        value = props.get(prop)
        value = default if value is None else value
        if value != wanted:
            yield message.format(value=value)

    return KakoiResourcePolicy(name=name, description=description, types=(DB,), check=check, level=ADVISORY, **kw)


rds_minor_upgrades = _simple(
    "kakoi-rds-auto-minor-upgrade",
    "Minor engine upgrades are applied automatically in the maintenance window (omitted means true).",
    "autoMinorVersionUpgrade",
    True,
    True,
    "autoMinorVersionUpgrade is {value}",
    severity=MEDIUM,
    sheet=("MNT-1",),
    securityhub=("RDS.13",),
    remediation="Remove autoMinorVersionUpgrade=false.",
)
rds_multi_az = _simple(
    "kakoi-rds-multi-az",
    "Database instances run in two availability zones (omitted means single-AZ).",
    "multiAz",
    True,
    False,
    "multiAz is {value}",
    severity=MEDIUM,
    sheet=("AVL-1",),
    securityhub=("RDS.5",),
    remediation="Set multiAz=true.",
)
rds_deletion_protection = _simple(
    "kakoi-rds-deletion-protection",
    "Database instances have deletion protection (omitted means off).",
    "deletionProtection",
    True,
    False,
    "deletionProtection is {value}",
    severity=MEDIUM,
    sheet=("REC-1",),
    securityhub=("RDS.8",),
    remediation="Set deletionProtection=true (production does).",
)
rds_copy_tags = _simple(
    "kakoi-rds-copy-tags-to-snapshot",
    "Snapshots carry the instance's tags, so backup selection and ownership follow them (omitted means false).",
    "copyTagsToSnapshot",
    True,
    False,
    "copyTagsToSnapshot is {value}",
    severity=LOW,
    securityhub=("RDS.17",),
    remediation="Set copyTagsToSnapshot=true.",
)
rds_iam_auth = _simple(
    "kakoi-rds-iam-auth",
    "IAM database authentication is enabled (omitted means off).",
    "iamDatabaseAuthenticationEnabled",
    True,
    False,
    "iamDatabaseAuthenticationEnabled is {value}",
    severity=LOW,
    securityhub=("RDS.10",),
    remediation="Set iamDatabaseAuthenticationEnabled=true.",
)


def _check_monitoring(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    interval = props.get("monitoringInterval") or 0
    if int(interval) <= 0:
        yield "enhanced monitoring is off (monitoringInterval 0)"


rds_enhanced_monitoring = KakoiResourcePolicy(
    name="kakoi-rds-enhanced-monitoring",
    description="Enhanced monitoring reports the database host's processes (omitted means off).",
    types=(DB,),
    check=_check_monitoring,
    level=ADVISORY,
    severity=LOW,
    sheet=("MON-1",),
    securityhub=("RDS.6",),
    remediation="Set monitoringInterval (e.g. 60) and monitoringRoleArn.",
)


def _check_log_exports(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    exports = set(props.get("enabledCloudwatchLogsExports") or [])
    engine = _engine(props)
    wanted = {"postgresql"} if engine.startswith("postgres") else {"error"} if engine else set()
    missing = sorted(wanted - exports)
    if missing:
        yield f"log types {missing} are not exported to CloudWatch Logs"


rds_log_exports = KakoiResourcePolicy(
    name="kakoi-rds-log-exports",
    description="Database logs are published to CloudWatch Logs (PostgreSQL: the postgresql log).",
    types=(DB,),
    check=_check_log_exports,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("MON-1",),
    securityhub=("RDS.9", "RDS.36"),
    remediation="Set enabledCloudwatchLogsExports=['postgresql', 'upgrade'].",
)


# --- stack policies --------------------------------------------------------------------------
TLS_PARAMETERS = {
    "postgres": {"rds.force_ssl": "1", "ssl_min_protocol_version": "TLSv1.3"},
    "mysql": {"require_secure_transport": "1", "tls_version": "TLSv1.3"},
    "mariadb": {"require_secure_transport": "1", "tls_version": "TLSv1.3"},
}


def _norm(value: Any) -> str:
    text = str(value).strip()
    return {"on": "1", "true": "1"}.get(text.lower(), text)


def _check_db_tls(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    groups: dict[str, dict[str, str]] = {}
    for pg in stack.of(DB_PARAMS):
        with stack.deciding():
            params = {str(p.get("name")): _norm(p.get("value")) for p in pg.node.nodes("parameters")}
            for key in (pg.get("name"), pg.get("id")):
                if key:
                    groups[str(key)] = params
    for db in stack.of(DB):
        with stack.deciding():
            engine = _engine(db.node)
            family = next((k for k in TLS_PARAMETERS if engine.startswith(k)), None)
            if family is None or db.get("replicateSourceDb"):
                continue
            wanted = TLS_PARAMETERS[family]
            group = db.get("parameterGroupName")
            params = groups.get(str(group)) if group else None
            if params is None:
                yield (
                    db.urn,
                    (f"database {db.name} uses parameter group {group or '(default)'}, which is not declared in this stack with {wanted}"),
                )
                continue
            for key, value in wanted.items():
                if params.get(key) != value:
                    yield db.urn, f"database {db.name}: parameter group {group} sets {key}={params.get(key)!r}, not {value!r}"


rds_tls13 = KakoiStackPolicy(
    name="kakoi-enc-rds-tls13-only",
    description=(
        "Every database refuses connections without TLS and below TLS 1.3: its parameter group sets rds.force_ssl=1 and "
        "ssl_min_protocol_version=TLSv1.3 (PostgreSQL). The default parameter group allows TLS 1.2."
    ),
    types=(DB,),
    check=_check_db_tls,
    level=MANDATORY,
    severity=HIGH,
    sheet=("ENC-1",),
    securityhub=(),
    remediation="Declare an aws.rds.ParameterGroup with rds.force_ssl=1 and ssl_min_protocol_version=TLSv1.3 and set parameterGroupName.",
)


def _primary_dbs(stack: Stack) -> Iterator[SRes]:
    for db in stack.of(DB):
        with stack.deciding():
            if not db.get("replicateSourceDb"):
                yield db


def _check_cross_region(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    dr = str(cfg["drRegion"])
    replications: dict[str, list[SRes]] = {}
    for rep in stack.of(DB_BACKUP_REPLICATION):
        with stack.deciding():
            replications.setdefault(str(rep.get("sourceDbInstanceArn")), []).append(rep)
    for db in _primary_dbs(stack):
        with stack.deciding():
            reps = replications.get(str(db.get("arn")), [])
            if not reps:
                yield db.urn, f"database {db.name} has no automated backups replicated to another region"
                continue
            for rep in reps:
                region = rep.region()
                key = rep.get("kmsKeyId")
                if region != dr:
                    yield rep.urn, f"backups of {db.name} are replicated to {region or '(unknown region)'}, not the DR region {dr}"
                elif db.get("storageEncrypted") is True and not key:
                    yield rep.urn, f"backups of encrypted {db.name} are replicated without kmsKeyId (a key in {dr})"
                elif key and str(key).startswith("arn:") and str(key).split(":")[3] != dr:
                    yield rep.urn, f"replicated backups of {db.name} use key {key}, which is not in {dr}"


rds_cross_region_backups = KakoiStackPolicy(
    name="kakoi-bcp-rds-cross-region-backups",
    description=(
        "Every database's automated backups are replicated to the DR region (ap-northeast-3 by default) with a key of "
        "that region (InstanceAutomatedBackupsReplication), so a regional outage does not take the backups with it."
    ),
    types=(DB,),
    check=_check_cross_region,
    level=MANDATORY,
    severity=HIGH,
    sheet=("BCP-1",),
    securityhub=(),
    remediation=(
        "Declare aws.rds.InstanceAutomatedBackupsReplication(source_db_instance_arn=db.arn, kms_key_id=<DR database key>, "
        "region=<drRegion>)."
    ),
    config={
        "drRegion": {"type": "string", "description": "Region that receives the backup copies.", "default": DR_REGION},
    },
)


CRON = re.compile(r"^cron\((.+)\)$")


def is_monthly(schedule: Any) -> bool:
    """A cron(...) schedule that runs once a month: a fixed day-of-month (or L) and every month."""
    match = CRON.match(str(schedule or "").strip())
    if not match:
        return False
    fields = match.group(1).split()
    if len(fields) != 6:
        return False
    day_of_month, month = fields[2], fields[3]
    return (day_of_month.isdigit() or day_of_month.upper() == "L") and month in ("*", "*/1")


def _selected(selection: SRes, db: SRes) -> bool:
    arn = str(db.get("arn") or "")
    for pattern in selection.get("resources") or []:
        pattern = str(pattern)
        if pattern == arn or (pattern.endswith("*") and arn.startswith(pattern[:-1])):
            return True
    tags = db.get("tagsAll") or db.get("tags") or {}
    for cond in selection.node.nodes("selectionTags"):
        if cond.get("type") == "STRINGEQUALS" and tags.get(str(cond.get("key"))) == cond.get("value"):
            return True
    for block in selection.node.nodes("conditions"):
        for cond in block.nodes("stringEquals"):
            key = str(cond.get("key") or "")
            if key.startswith("aws:ResourceTag/") and tags.get(key.split("/", 1)[1]) == cond.get("value"):
                return True
    return False


def _check_backup_plan(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    minimum = int(cfg["minimumMonthlyRetentionDays"])
    plans: dict[str, SRes] = {}
    for plan in stack.of(BACKUP_PLAN):
        with stack.deciding():
            plans[str(plan.get("id"))] = plan
    selections = stack.of(BACKUP_SELECTION)
    for db in _primary_dbs(stack):
        with stack.deciding():
            covering = [plans[str(s.get("planId"))] for s in selections if _selected(s, db) and str(s.get("planId")) in plans]
            if not covering:
                yield db.urn, f"database {db.name} is not selected by any AWS Backup plan"
                continue
            monthly = []
            for plan in covering:
                for rule in plan.node.nodes("rules"):
                    if not is_monthly(rule.get("schedule")):
                        continue
                    keep = rule.get("lifecycle", "deleteAfter")
                    monthly.append(keep)
            if not monthly:
                yield db.urn, f"the backup plans of {db.name} have no monthly rule (cron with a fixed day of the month)"
            elif not any(keep is None or int(keep) >= minimum for keep in monthly):
                yield (
                    db.urn,
                    f"the monthly backups of {db.name} are kept {max(int(k) for k in monthly)} days; at least {minimum} are required",
                )


rds_backup_plan = KakoiStackPolicy(
    name="kakoi-bak-rds-backup-plan",
    description=(
        "Every database is selected by an AWS Backup plan with a monthly rule whose recovery points are kept at least a "
        "year (the sheet's monthly backup cycle), on top of the automated backups."
    ),
    types=(DB,),
    check=_check_backup_plan,
    level=MANDATORY,
    severity=HIGH,
    sheet=("BAK-2", "REC-1"),
    securityhub=("RDS.26",),
    remediation="Add a rule with schedule cron(0 18 1 * ? *) and lifecycle.deleteAfter >= 365 to the plan, and select the database (by ARN or tag).",
    config={
        "minimumMonthlyRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "description": "Days a monthly recovery point must be kept.",
            "default": 365,
        }
    },
)


def _check_backup_copies(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    dr = str(cfg["drRegion"])
    for plan in stack.of(BACKUP_PLAN):
        with stack.deciding():
            for rule in plan.node.nodes("rules"):
                dests = [str(c.get("destinationVaultArn") or "") for c in rule.nodes("copyActions")]
                if not any(d.startswith("arn:") and d.split(":")[3] == dr for d in dests):
                    yield plan.urn, f"backup rule {rule.get('ruleName')} of {plan.name} does not copy recovery points to a vault in {dr}"


backup_copies_to_dr = KakoiStackPolicy(
    name="kakoi-bcp-backup-copies-to-dr",
    description="Every AWS Backup rule copies its recovery points to a vault in the DR region.",
    types=(BACKUP_PLAN,),
    check=_check_backup_copies,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("BCP-1",),
    securityhub=(),
    remediation="Add copyActions=[{destinationVaultArn: <DR vault arn>, lifecycle: {...}}] to each rule.",
    config={
        "drRegion": {"type": "string", "description": "Region that receives the backup copies.", "default": DR_REGION},
    },
)


def _check_vault_key(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if not props.get("kmsKeyArn"):
        yield "the vault uses the AWS managed key aws/backup; use a customer-managed key"


backup_vault_cmk = KakoiResourcePolicy(
    name="kakoi-bak-vault-cmk",
    description="Backup vaults encrypt recovery points with a customer-managed KMS key (omitted means the AWS managed aws/backup key).",
    types=(BACKUP_VAULT,),
    check=_check_vault_key,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("BAK-1",),
    securityhub=("Backup.1",),
    remediation="Set kmsKeyArn to the backup key.",
)

POLICIES = [
    rds_not_public,
    rds_encrypted,
    rds_backup_retention,
    rds_maintenance_window,
    rds_minor_upgrades,
    rds_multi_az,
    rds_deletion_protection,
    rds_copy_tags,
    rds_iam_auth,
    rds_enhanced_monitoring,
    rds_log_exports,
    rds_tls13,
    rds_cross_region_backups,
    rds_backup_plan,
    backup_copies_to_dr,
    backup_vault_cmk,
]
