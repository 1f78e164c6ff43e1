"""Detection and alerting: GuardDuty, CloudTrail, the alert topic, alarms and the availability probe.

Sheet items: AV-1 (GuardDuty), LOG-1 (CloudTrail into the archive), MON-1 (alarms
and dashboards), MON-2 (every alarm notifies an encrypted topic with subscribers
from config), AVL-1 (an availability probe and an SLO alarm at 99.9 %).

Thresholds have defaults in Pulumi.yaml; a stack may override any of them.
Fractional values (percentages) are strings holding a decimal number, because
Pulumi's project config schema has no number type.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core import CoreConfig
from .reader import LOG_RETENTION_DAYS, Reader, check_email

#: GuardDuty detector IDs are 32 lower-case hex-like characters (e.g. 12abc34d567e8fa901bc2d34e56789f0)
DETECTOR_ID_PATTERN = r"[0-9a-z]{32}"
#: the canary script is Python: only the Python Synthetics runtimes can run it
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_python_selenium.html
CANARY_RUNTIME_PATTERN = r"syn-python-selenium-\d+\.\d+"
DECIMAL_PATTERN = r"\d{1,3}(\.\d{1,3})?"
#: The shortest retention of any CloudWatch log group, by environment (LOG-1): the pack's kakoi-log-group-retention
#: minimumRetentionDays (tools/policy_config.py writes it into policies/config.<stack>.json). Production keeps
#: operational logs a year; other stacks may keep them 90 days (the audit trail itself is in the S3 log archive).
MIN_LOG_RETENTION_DAYS = {"production": 365, "staging": 90, "development": 90}
#: CloudWatch evaluates at most one day of data for an alarm (evaluation periods x period <= 86,400 s)
MAX_WINDOW_MINUTES = 1440


@dataclass(frozen=True)
class Thresholds:
    """Alarm thresholds (MON-1). Units are in the names; rates are percentages of requests."""

    elb_5xx_rate_percent: float
    target_5xx_rate_percent: float
    #: requests per minute below which the 5xx rates are not judged (one error in three requests is noise)
    min_requests_per_minute: int
    p99_latency_ms: int
    unhealthy_hosts: int
    db_cpu_percent: int
    db_free_storage_gib: int
    db_free_memory_mib: int
    db_connections: int
    service_cpu_percent: int
    service_memory_percent: int
    waf_blocked_per_5min: int
    #: the TURN relay (components.relay): failed client TLS handshakes per 5 minutes, new connections per minute
    relay_client_tls_errors_per_5min: int
    relay_new_flows_per_minute: int


@dataclass(frozen=True)
class DetectionConfig:
    #: who receives alerts (MON-2): at least one address
    alert_emails: tuple[str, ...]
    #: "" creates a GuardDuty detector; an ID adopts the account's existing one (one per region)
    guardduty_detector_id: str
    #: retention of operational log groups (days, a value CloudWatch Logs accepts)
    log_retention_days: int
    #: retention of audit log groups (CloudTrail), at least log_retention_days
    audit_log_retention_days: int
    thresholds: Thresholds
    #: availability objective in percent (AVL-1: 99.9)
    availability_slo_percent: float
    #: rolling window the SLO alarm judges, in minutes (one probe per minute)
    availability_window_minutes: int
    #: whether the canary runs; off only where it cannot reach the load balancer (staging admits office networks only)
    canary_enabled: bool
    canary_runtime_version: str
    #: days the canary's run artifacts are kept (S3 lifecycle expiry and Synthetics retention)
    canary_artifact_retention_days: int


def min_log_retention_days(core: CoreConfig) -> int:
    """The log-retention floor of the stack's environment (365 when the environment is unknown)."""
    return MIN_LOG_RETENTION_DAYS.get(core.environment, MIN_LOG_RETENTION_DAYS["production"])


def check_log_retention_floor(r: Reader, core: CoreConfig, key: str, days: int) -> None:
    """kakoi-log-group-retention: a log group's retention is at least the environment's floor."""
    if not r.ok(key, "environment"):
        return
    floor = min_log_retention_days(core)
    if days < floor:
        r.fail(
            key,
            f"{days} days is below the {floor} days {core.environment} keeps log groups (LOG-1; kakoi-log-group-retention, "
            "MIN_LOG_RETENTION_DAYS in stackconfig/detection.py)",
        )


def _decimal(r: Reader, key: str, *, minimum: float, maximum: float, below_max: bool = False) -> float:
    raw = r.string(key, pattern=DECIMAL_PATTERN, describe="a decimal number like 1 or 0.5")
    if not r.ok(key):
        return 0.0
    value = float(raw)
    if value < minimum:
        r.invalid(key, f"{raw} is below the minimum {minimum:g}")
    if value > maximum or (below_max and value >= maximum):
        r.invalid(key, f"{raw} must be {'below' if below_max else 'at most'} {maximum:g}")
    return value


def load(r: Reader, core: CoreConfig) -> DetectionConfig:
    emails = r.string_list("alertEmails", min_items=1, item_check=check_email)
    if r.ok("alertEmails") and len({e.lower() for e in emails}) != len(emails):
        r.fail("alertEmails", "has the same address twice (addresses are compared without case)")
    detector = r.string(
        "guardDutyDetectorId",
        required=False,
        allow_empty=True,
        pattern=DETECTOR_ID_PATTERN,
        describe="a GuardDuty detector ID (32 lower-case letters and digits) or empty",
    )
    log_days = r.integer("logRetentionDays", allowed=LOG_RETENTION_DAYS)
    audit_days = r.integer("auditLogRetentionDays", allowed=LOG_RETENTION_DAYS)
    if r.ok("logRetentionDays", "auditLogRetentionDays") and audit_days < log_days:
        r.fail("auditLogRetentionDays", f"{audit_days} is shorter than logRetentionDays ({log_days}); audit logs are kept longer")
    check_log_retention_floor(r, core, "logRetentionDays", log_days)
    check_log_retention_floor(r, core, "auditLogRetentionDays", audit_days)

    thresholds = Thresholds(
        elb_5xx_rate_percent=_decimal(r, "alarmElb5xxRatePercent", minimum=0.1, maximum=100),
        target_5xx_rate_percent=_decimal(r, "alarmTarget5xxRatePercent", minimum=0.1, maximum=100),
        min_requests_per_minute=r.integer("alarmMinRequestsPerMinute", minimum=1, maximum=100_000),
        # the load balancer's idle timeout caps response times at 4000 s; anything near that is meaningless
        p99_latency_ms=r.integer("alarmP99LatencyMs", minimum=50, maximum=60_000),
        unhealthy_hosts=r.integer("alarmUnhealthyHosts", minimum=1, maximum=100),
        db_cpu_percent=r.integer("alarmDbCpuPercent", minimum=10, maximum=100),
        db_free_storage_gib=r.integer("alarmDbFreeStorageGiB", minimum=1, maximum=10_000),
        db_free_memory_mib=r.integer("alarmDbFreeMemoryMiB", minimum=16, maximum=1_000_000),
        db_connections=r.integer("alarmDbConnections", minimum=1, maximum=100_000),
        service_cpu_percent=r.integer("alarmServiceCpuPercent", minimum=10, maximum=100),
        service_memory_percent=r.integer("alarmServiceMemoryPercent", minimum=10, maximum=100),
        waf_blocked_per_5min=r.integer("alarmWafBlockedPer5Min", minimum=1, maximum=100_000_000),
        relay_client_tls_errors_per_5min=r.integer("alarmRelayClientTlsErrorsPer5Min", minimum=1, maximum=100_000_000),
        relay_new_flows_per_minute=r.integer("alarmRelayNewFlowsPerMinute", minimum=1, maximum=100_000_000),
    )

    slo = _decimal(r, "availabilitySloPercent", minimum=90, maximum=100, below_max=True)
    window = r.integer("availabilityWindowMinutes", minimum=60, maximum=MAX_WINDOW_MINUTES)
    return DetectionConfig(
        alert_emails=tuple(emails),
        guardduty_detector_id=detector,
        log_retention_days=log_days,
        audit_log_retention_days=audit_days,
        thresholds=thresholds,
        availability_slo_percent=slo,
        availability_window_minutes=window,
        canary_enabled=r.boolean("availabilityCanary"),
        canary_runtime_version=r.string(
            "canaryRuntimeVersion", pattern=CANARY_RUNTIME_PATTERN, describe="a Python Synthetics runtime (syn-python-selenium-N.N)"
        ),
        # Synthetics keeps run data 1-455 days
        canary_artifact_retention_days=r.integer("canaryArtifactRetentionDays", minimum=1, maximum=455),
    )
