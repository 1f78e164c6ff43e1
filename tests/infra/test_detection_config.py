"""Detection and alerting config (AV-1, LOG-1, MON-1, MON-2, AVL-1): validated up front, per stack."""

from __future__ import annotations

import pytest

import stackconfig
from stackconfig.reader import LOG_RETENTION_DAYS
from tools.render import RenderError, render
from tools.stackfiles import project_schema, stack_values


def load(stack: str, **overrides: object) -> stackconfig.StackConfig:
    sv = stack_values(stack, overrides=dict(overrides))
    return stackconfig.load(sv.values, project=sv.project, stack=sv.stack)


def test_mon2_stacks_have_their_own_recipients_and_thresholds() -> None:
    """MON-2, MON-1: staging alerts a different list and is judged more loosely than prod."""
    prod, staging = load("prod").detection, load("staging").detection
    assert prod.alert_emails == ("oncall@kakoi.example.com", "platform-team@kakoi.example.com")
    assert staging.alert_emails == ("platform-team@kakoi.example.com",)
    assert prod.thresholds.p99_latency_ms == 2000 and staging.thresholds.p99_latency_ms == 3000
    assert prod.thresholds.db_connections == 400 and staging.thresholds.db_connections == 150
    assert prod.canary_enabled is True and staging.canary_enabled is False


def test_log1_audit_logs_are_kept_longer_than_operational_logs() -> None:
    """LOG-1: both retentions are values CloudWatch Logs accepts; audit retention >= operational."""
    for stack in ("prod", "staging"):
        det = load(stack).detection
        assert det.log_retention_days in LOG_RETENTION_DAYS
        assert det.audit_log_retention_days in LOG_RETENTION_DAYS
        assert det.audit_log_retention_days > det.log_retention_days


def test_avl1_slo_defaults_to_the_sheet() -> None:
    """AVL-1: the SLO is 99.9 % over a rolling day unless a stack says otherwise."""
    schema = project_schema()
    assert schema["kakoi:availabilitySloPercent"]["default"] == "99.9"
    det = load("prod").detection
    assert det.availability_slo_percent == 99.9
    assert det.availability_window_minutes == 1440
    assert load("prod", **{"kakoi:availabilitySloPercent": "99.95"}).detection.availability_slo_percent == 99.95


@pytest.mark.parametrize(
    ("override", "key", "reason"),
    [
        (
            {"kakoi:logRetentionDays": 365, "kakoi:auditLogRetentionDays": 90},
            "kakoi:auditLogRetentionDays",
            "shorter than logRetentionDays",
        ),
        ({"kakoi:logRetentionDays": 100}, "kakoi:logRetentionDays", "not one of"),
        ({"kakoi:availabilitySloPercent": "100"}, "kakoi:availabilitySloPercent", "must be below 100"),
        ({"kakoi:availabilitySloPercent": "80"}, "kakoi:availabilitySloPercent", "below the minimum 90"),
        ({"kakoi:availabilitySloPercent": "99,9"}, "kakoi:availabilitySloPercent", "decimal number"),
        ({"kakoi:availabilityWindowMinutes": 2880}, "kakoi:availabilityWindowMinutes", "above the maximum 1440"),
        ({"kakoi:canaryArtifactRetentionDays": 0}, "kakoi:canaryArtifactRetentionDays", "below the minimum 1"),
        ({"kakoi:alertEmails": None}, "kakoi:alertEmails", "is required"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_detection_settings_fail_before_anything_is_declared(override: dict, key: str, reason: str) -> None:
    """MON-1, MON-2, AVL-1, LOG-1: a bad value stops the render (exit 2), names the key and the reason."""
    with pytest.raises(RenderError) as info:
        render("staging", overrides=override)
    assert info.value.exit_code == 2
    assert info.value.declared == 0
    line = next((ln for ln in str(info.value).splitlines() if f"- {key}:" in ln), None)
    assert line is not None, str(info.value)
    assert reason in line
