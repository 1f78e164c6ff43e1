"""The data tier's config section refuses what the sheet forbids (BAK-2, REC-1, MNT-1, ENC-1, BCP-1)."""

from __future__ import annotations

from typing import Any

import pytest

import stackconfig
from stackconfig import data
from stackconfig.reader import LOG_RETENTION_DAYS, ConfigError
from tools.stackfiles import stack_values


def load(stack: str, **overrides: Any) -> stackconfig.StackConfig:
    sv = stack_values(stack, overrides={f"kakoi:{k}": v for k, v in overrides.items()})
    return stackconfig.load(sv.values, project=sv.project, stack=sv.stack)


def problems(stack: str, **overrides: Any) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(stack, **overrides)
    return err.value.problems


def test_bak2_rec1_prod_keeps_the_maximum_backup_retention() -> None:
    """BAK-2, REC-1: production keeps 35 days of point-in-time recovery; anything less is refused."""
    assert load("prod").data.backup_retention_days == 35
    found = problems("prod", dbBackupRetentionDays=14)
    assert any(p.startswith("kakoi:dbBackupRetentionDays:") and "35" in p for p in found), found


def test_bak2_staging_may_keep_less() -> None:
    """BAK-2: a non-production stack may shorten retention (staging: 7 days), never below the pack's 7 (kakoi-bak-rds-backup-retention)."""
    assert load("staging").data.backup_retention_days == 7
    for days in (0, 6):
        found = problems("staging", dbBackupRetentionDays=days)
        assert any("kakoi:dbBackupRetentionDays" in p and "below the minimum 7" in p for p in found), found
    found = problems("staging", dbBackupRetentionDays=36)
    assert any("kakoi:dbBackupRetentionDays" in p and "above the maximum 35" in p for p in found)


@pytest.mark.parametrize("key", ["dbDeletionProtection", "dbMultiAz", "dbFinalSnapshot"])
def test_rec1_prod_cannot_turn_off_protection(key: str) -> None:
    """REC-1 / AVL-1: production cannot turn off deletion protection, Multi-AZ or the final snapshot."""
    found = problems("prod", **{key: False})
    assert any(p.startswith(f"kakoi:{key}:") and "production" in p for p in found), found


@pytest.mark.parametrize("key", ["dbDeletionProtection", "dbFinalSnapshot"])
def test_rec1_staging_may_turn_off_what_its_policies_allow(key: str) -> None:
    """REC-1: staging may drop deletion protection (levels.py keeps kakoi-rds-deletion-protection advisory there)
    and the final snapshot (no policy judges it)."""
    load("staging", **{key: False})


def test_avl1_staging_keeps_multi_az() -> None:
    """AVL-1: kakoi-rds-multi-az is mandatory on staging too, so dbMultiAz false is refused at load, naming the policy."""
    found = problems("staging", dbMultiAz=False)
    assert any(p.startswith("kakoi:dbMultiAz:") and "kakoi-rds-multi-az" in p for p in found), found


def test_mnt1_default_windows_are_friday_21_jst_with_backups_before() -> None:
    """MNT-1: maintenance Friday 12:00 UTC (21:00 JST) in every stack, backups in the hour before."""
    for stack in ("prod", "staging"):
        cfg = load(stack).data
        assert cfg.maintenance_window == "fri:12:00-fri:12:30"
        assert cfg.backup_window == "11:00-11:30"
        start = cfg.maintenance_window.split("-")[0]
        day, hh, mm = start.split(":")
        assert (day, (int(hh) + 9) % 24, mm) == ("fri", 21, "00")  # JST = UTC+9, same day


@pytest.mark.parametrize(
    ("overrides", "key", "reason"),
    [
        ({"dbBackupWindow": "12:00-12:30"}, "kakoi:dbBackupWindow", "overlaps the maintenance window"),
        ({"dbBackupWindow": "11:50-12:20"}, "kakoi:dbBackupWindow", "overlaps the maintenance window"),
        ({"dbBackupWindow": "11:00-11:10"}, "kakoi:dbBackupWindow", "shorter than the 30 minutes"),
        ({"dbBackupWindow": "25:00-25:30"}, "kakoi:dbBackupWindow", "hh:mm-hh:mm"),
        ({"dbMaintenanceWindow": "friday 21:00"}, "kakoi:dbMaintenanceWindow", "ddd:hh:mm-ddd:hh:mm"),
        ({"dbMaintenanceWindow": "fri:12:00-fri:12:10"}, "kakoi:dbMaintenanceWindow", "shorter than the 30 minutes"),
    ],
)
def test_mnt1_bad_windows_are_refused(overrides: dict[str, Any], key: str, reason: str) -> None:
    """MNT-1: malformed, too short or overlapping windows fail before anything is declared."""
    found = problems("staging", **overrides)
    assert any(p.startswith(f"{key}:") and reason in p for p in found), found


def test_mnt1_a_window_across_midnight_is_understood() -> None:
    """MNT-1: windows that wrap midnight / the week are measured correctly."""
    assert not data._overlaps("23:30-00:10", "fri:12:00-fri:12:30")
    assert data._overlaps("23:30-00:10", "sun:23:50-mon:00:30")
    assert data._duration(*data._weekly_minutes("sun:23:50-mon:00:30"), 7 * 1440) == 40


def test_enc1_engine_must_support_tls13() -> None:
    """ENC-1: RDS for PostgreSQL below 16 cannot do TLS 1.3, so it is refused; 18 is the default."""
    assert load("prod").data.engine_version == "18"
    assert load("prod").data.parameter_group_family == "postgres18"
    assert load("prod", dbEngineVersion="17.6").data.parameter_group_family == "postgres17"
    found = problems("prod", dbEngineVersion="15")
    assert any(p.startswith("kakoi:dbEngineVersion:") and "TLS 1.3" in p for p in found), found


def test_bak2_monthly_backups_are_kept_at_least_a_year() -> None:
    """BAK-2: the monthly rule keeps recovery points at least 365 days (prod: 1096)."""
    assert load("prod").data.monthly_retention_days == 1096
    assert load("staging").data.monthly_retention_days == 365
    found = problems("staging", backupMonthlyRetentionDays=180)
    assert any(p.startswith("kakoi:backupMonthlyRetentionDays:") for p in found), found


def test_log_retention_must_be_a_cloudwatch_value() -> None:
    """The database log groups' retention must be one CloudWatch Logs accepts."""
    assert load("prod").data.log_retention_days in LOG_RETENTION_DAYS
    found = problems("prod", dbLogRetentionDays=100)
    assert any(p.startswith("kakoi:dbLogRetentionDays:") and "not one of" in p for p in found), found


def test_storage_autoscaling_needs_headroom() -> None:
    """gp3 storage autoscaling needs a maximum above (and at least 10 % above) the allocation."""
    found = problems("staging", dbAllocatedStorage=100, dbMaxAllocatedStorage=100)
    assert any(p.startswith("kakoi:dbMaxAllocatedStorage:") for p in found)
    found = problems("staging", dbAllocatedStorage=100, dbMaxAllocatedStorage=105)
    assert any(p.startswith("kakoi:dbMaxAllocatedStorage:") and "10 %" in p for p in found)


def test_bcp1_prod_replicates_media_and_locks_vaults_staging_does_not() -> None:
    """BCP-1, BAK-2: prod turns on media replication and a COMPLIANCE vault lock; staging keeps them off."""
    prod, staging = load("prod").data, load("staging").data
    assert prod.media_replication and prod.vault_lock and prod.vault_lock_mode == "COMPLIANCE"
    assert not staging.media_replication and not staging.vault_lock
    assert staging.instance_class == "db.t4g.medium"
    found = problems("staging", backupVaultLockMode="FOREVER")
    assert any(p.startswith("kakoi:backupVaultLockMode:") for p in found)


def test_insights_mode_sets_the_performance_insights_retention() -> None:
    """Database Insights: standard keeps the free 7 days, advanced needs 465 days; other modes are refused."""
    assert load("prod").data.performance_insights_retention_days == 7
    assert load("prod", dbInsightsMode="advanced").data.performance_insights_retention_days == 465
    found = problems("prod", dbInsightsMode="off")
    assert any(p.startswith("kakoi:dbInsightsMode:") for p in found)
