"""Every rule a mandatory policy enforces on a config value is also checked when the config loads (AUDIT-1).

`stackconfig.policy.POLICY_CHECKS` is the table policy -> config keys -> rule -> where it is checked. Each
row is proved here by a bad value that fails at load, naming the key (and the policy or the reason), before
any resource is declared; and the table is complete: every policy whose config the generator derives from
the stack config, and every policy levels.py lets a stack keep advisory through a config switch, has a row.
"""

from __future__ import annotations

from typing import Any

import pytest

import stackconfig
from policies.kakoi_policy import all_policies
from stackconfig.policy import POLICY_CHECKS, advisory_policies, mandatory
from stackconfig.reader import ConfigError, Reader
from tools.policy_config import PACK_ONLY, build
from tools.render import RenderError, render
from tools.stackfiles import available_stacks, project_schema, stack_values

POLICIES = {p.name: p for p in all_policies()}

#: (policy, stack, overrides, the key the problem names, words the problem contains): one bad value per row of
#: POLICY_CHECKS at least, each of which the pack (mandatory on that stack) would also fail
BAD_VALUES: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("kakoi-gov-allowed-regions", "prod", {"aws:region": "us-east-1"}, "aws:region", "stay in Japan"),
    ("kakoi-gov-allowed-regions", "staging", {"kakoi:drRegion": "eu-west-1"}, "kakoi:drRegion", "kakoi-gov-allowed-regions"),
    ("kakoi-bcp-rds-cross-region-backups", "prod", {"kakoi:drRegion": "ap-northeast-1"}, "kakoi:drRegion", "must differ"),
    ("kakoi-bcp-rds-cross-region-backups", "staging", {"kakoi:drCopies": False}, "kakoi:drCopies", "kakoi-bcp-rds-cross-region-backups"),
    ("kakoi-bcp-backup-copies-to-dr", "prod", {"kakoi:drCopies": False}, "kakoi:drCopies", "DR bring-up"),
    ("kakoi-av-guardduty-enabled", "prod", {"kakoi:guardDutyDetectorId": "not-a-detector"}, "kakoi:guardDutyDetectorId", "detector ID"),
    ("kakoi-av-guardduty-features", "staging", {"kakoi:guardDutyDetectorId": "ABC"}, "kakoi:guardDutyDetectorId", "detector ID"),
    ("kakoi-enc-alb-tls13-only", "prod", {"kakoi:tlsPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}, "kakoi:tlsPolicy", "not one of"),
    ("kakoi-enc-alb-hsts", "staging", {"kakoi:hstsMaxAge": 86400}, "kakoi:hstsMaxAge", "below the minimum 31536000"),
    ("kakoi-elb-deletion-protection", "prod", {"kakoi:albDeletionProtection": False}, "kakoi:albDeletionProtection", "ELB.6"),
    ("kakoi-elb-deletion-protection", "prod", {"kakoi:relayDeletionProtection": False}, "kakoi:relayDeletionProtection", "ELB.6"),
    ("kakoi-elb-multi-az", "prod", {"kakoi:azCount": 1}, "kakoi:azCount", "below the minimum 2"),
    ("kakoi-net-sg-no-public-ingress", "prod", {"kakoi:dbAdminCidrs": ["0.0.0.0/0"]}, "kakoi:dbAdminCidrs[0]", "not a private range"),
    ("kakoi-net-sg-no-public-ingress", "staging", {"kakoi:dbAdminCidrs": ["::/0"]}, "kakoi:dbAdminCidrs[0]", "not a private range"),
    ("kakoi-net-sg-no-public-ingress", "prod", {"kakoi:vpcCidr": "100.64.0.0/16"}, "kakoi:vpcCidr", "private IPv4"),
    (
        "kakoi-mnt-rds-maintenance-window",
        "prod",
        {"kakoi:dbMaintenanceWindow": "sat:12:00-sat:12:30"},
        "kakoi:dbMaintenanceWindow",
        "does not start at fri:12:00",
    ),
    ("kakoi-mnt-rds-maintenance-window", "staging", {"kakoi:dbBackupWindow": "12:00-12:30"}, "kakoi:dbBackupWindow", "overlaps"),
    ("kakoi-bak-rds-backup-retention", "staging", {"kakoi:dbBackupRetentionDays": 3}, "kakoi:dbBackupRetentionDays", "minimum 7"),
    ("kakoi-bak-rds-backup-plan", "staging", {"kakoi:backupMonthlyRetentionDays": 364}, "kakoi:backupMonthlyRetentionDays", "minimum 365"),
    ("kakoi-rds-deletion-protection", "prod", {"kakoi:dbDeletionProtection": False}, "kakoi:dbDeletionProtection", "production"),
    ("kakoi-rds-multi-az", "staging", {"kakoi:dbMultiAz": False}, "kakoi:dbMultiAz", "kakoi-rds-multi-az is mandatory"),
    ("kakoi-rds-multi-az", "prod", {"kakoi:dbMultiAz": False}, "kakoi:dbMultiAz", "production"),
    ("kakoi-rds-enhanced-monitoring", "prod", {"kakoi:dbMonitoringInterval": 0}, "kakoi:dbMonitoringInterval", "not one of"),
    ("kakoi-kms-key-rotation", "prod", {"kakoi:kmsKeyRotationDays": 30}, "kakoi:kmsKeyRotationDays", "below the minimum 90"),
    ("kakoi-s3-lifecycle", "staging", {"kakoi:mediaNoncurrentVersionDays": 0}, "kakoi:mediaNoncurrentVersionDays", "below the minimum"),
    ("kakoi-log-archive-keeps-logs", "prod", {"kakoi:logArchiveObjectLockDays": 0}, "kakoi:logArchiveObjectLockDays", "below the minimum"),
    ("kakoi-log-group-retention", "prod", {"kakoi:appLogRetentionDays": 90}, "kakoi:appLogRetentionDays", "below the 365 days production"),
    ("kakoi-log-group-retention", "prod", {"kakoi:dbLogRetentionDays": 180}, "kakoi:dbLogRetentionDays", "kakoi-log-group-retention"),
    ("kakoi-log-group-retention", "staging", {"kakoi:logRetentionDays": 60}, "kakoi:logRetentionDays", "below the 90 days staging"),
    (
        "kakoi-log-group-retention",
        "staging",
        {"kakoi:auditLogRetentionDays": 30, "kakoi:logRetentionDays": 30},
        "kakoi:auditLogRetentionDays",
        "below the 90 days",
    ),
    ("kakoi-mon-alarms-notify-people", "prod", {"kakoi:alertEmails": []}, "kakoi:alertEmails", "at least 1"),
    ("kakoi-mon-ecs-container-insights", "prod", {"kakoi:containerInsights": "disabled"}, "kakoi:containerInsights", "not one of"),
    ("kakoi-ecs-exec-disabled", "staging", {"kakoi:ecsExec": True}, "kakoi:ecsExec", "kakoi-ecs-exec-disabled"),
    ("kakoi-ecs-exec-disabled", "prod", {"kakoi:ecsExec": True}, "kakoi:ecsExec", "must be false in stack prod"),
    ("kakoi-ecr-lifecycle-policy", "staging", {"kakoi:ecrKeepImages": 1}, "kakoi:ecrKeepImages", "below the minimum 5"),
]


def problems(stack: str, overrides: dict[str, Any]) -> list[str]:
    sv = stack_values(stack, overrides=overrides)
    with pytest.raises(ConfigError) as err:
        stackconfig.load(sv.values, project=sv.project, stack=sv.stack)
    return err.value.problems


@pytest.mark.parametrize(("policy", "stack", "overrides", "key", "words"), BAD_VALUES, ids=[f"{b[0]}:{b[3]}" for b in BAD_VALUES])
def test_audit1_a_value_a_mandatory_policy_refuses_fails_at_load(policy: str, stack: str, overrides: dict, key: str, words: str) -> None:
    """AUDIT-1: the value the pack would fail (the policy is mandatory on the stack) is refused at load, naming the key."""
    assert mandatory(stack, policy), f"{policy} is advisory on {stack}: pick a stack where it is mandatory"
    found = problems(stack, overrides)
    line = next((p for p in found if p.startswith(f"{key}:")), None)
    assert line is not None, found
    assert words in line, line


def test_audit1_every_row_of_the_table_is_proved() -> None:
    """AUDIT-1: every policy of POLICY_CHECKS has a bad value above, and every key of the row is a real config key."""
    proved = {b[0] for b in BAD_VALUES}
    schema = set(project_schema()) | {"aws:region"}
    for row in POLICY_CHECKS:
        assert row.policy in POLICIES, row.policy
        assert row.policy in proved, f"{row.policy}: no bad value proves its load-time check"
        assert set(row.keys) <= schema, (row.policy, set(row.keys) - schema)
    assert len({r.policy for r in POLICY_CHECKS}) == len(POLICY_CHECKS), "one row per policy"


def test_audit1_the_table_covers_every_config_derived_policy_setting() -> None:
    """AUDIT-1: a policy whose config the generator writes from stack config or stackconfig constants has a row."""
    rows = {r.policy for r in POLICY_CHECKS}
    for stack in available_stacks():
        for name, value in build(stack).items():
            if name == "all" or not isinstance(value, dict):
                continue
            settings = set(value) - {"enforcementLevel"} - set(PACK_ONLY.get(name, {}))
            if settings:
                assert name in rows, f"{name}: policies/config.{stack}.json sets {sorted(settings)} but POLICY_CHECKS has no row"


def test_audit1_advisory_exceptions_are_config_switches_in_the_table() -> None:
    """AUDIT-1: a policy a stack keeps advisory is one whose config switch stackconfig checks elsewhere (a row)."""
    rows = {r.policy for r in POLICY_CHECKS}
    for stack in available_stacks():
        for name in advisory_policies(stack):
            assert name in rows, f"{stack} keeps {name} advisory, but no stackconfig check enforces it on the other stacks"


@pytest.mark.parametrize(
    "overrides",
    [
        {"kakoi:albDeletionProtection": False, "kakoi:relayDeletionProtection": False},
        {"kakoi:dbDeletionProtection": False},
    ],
)
def test_audit1_staging_may_turn_off_what_levels_keeps_advisory(overrides: dict[str, Any]) -> None:
    """AUDIT-1: a switch whose policy levels.py keeps advisory for staging loads there (the staging file uses them)."""
    sv = stack_values("staging", overrides=overrides)
    stackconfig.load(sv.values, project=sv.project, stack=sv.stack)


def test_audit1_an_unlisted_stack_gets_every_rule() -> None:
    """AUDIT-1: a stack levels.py does not name keeps every policy mandatory, so every switch must stay on."""
    assert advisory_policies("nosuchstack") == frozenset()
    sv = stack_values("staging")
    with pytest.raises(ConfigError) as err:
        stackconfig.load(sv.values, project=sv.project, stack="dev")
    keys = {p.split(":", 2)[0] + ":" + p.split(":", 2)[1] for p in err.value.problems}
    assert {"kakoi:albDeletionProtection", "kakoi:dbDeletionProtection", "kakoi:relayDeletionProtection"} <= keys, err.value.problems


def test_audit1_every_problem_is_listed_before_any_resource_is_declared() -> None:
    """AUDIT-1: several policy-refused values fail the render together (exit 2), each named, nothing declared."""
    overrides = {
        "kakoi:dbMaintenanceWindow": "sun:03:00-sun:03:30",
        "kakoi:ecsExec": True,
        "kakoi:appLogRetentionDays": 30,
        "kakoi:albDeletionProtection": False,
        "aws:region": "us-west-2",
    }
    with pytest.raises(RenderError) as info:
        render("prod", overrides=overrides)
    err = info.value
    assert err.exit_code == 2 and err.declared == 0
    text = str(err)
    for key in ("kakoi:dbMaintenanceWindow", "kakoi:ecsExec", "kakoi:appLogRetentionDays", "kakoi:albDeletionProtection", "aws:region"):
        assert f"- {key}:" in text, text


# --- the Reader: a failed read is told apart from a valid 0 / "" / false --------------------------------------
def test_a_failed_read_is_recorded_and_a_valid_zero_is_not() -> None:
    r = Reader({"kakoi:n": "0", "kakoi:bad": "x", "kakoi:s": "", "kakoi:low": "3"})
    assert r.integer("n", minimum=0) == 0 and r.ok("n")
    assert r.integer("bad") == 0 and not r.ok("bad")
    assert r.string("s", required=False, allow_empty=True) == "" and r.ok("s")
    r.integer("low", minimum=5)
    assert not r.ok("low") and not r.ok("n", "low")
    assert not r.ok("never-read")
    r.fail("n", "a cross-field rule")  # a cross-field problem does not make the value itself unreadable
    assert r.ok("n")


@pytest.mark.parametrize(
    ("overrides", "key", "not_key"),
    [
        # a relay port below the range used to be compared with the other bound and the quota as well
        ({"kakoi:relayMaxPort": 1000}, "kakoi:relayMaxPort", "kakoi:relayTotalQuota"),
        ({"kakoi:appCpu": "many", "kakoi:appMemory": 3000}, "kakoi:appCpu", "kakoi:appMemory"),
        ({"kakoi:appMinTasks": 200, "kakoi:appMaxTasks": 3}, "kakoi:appMinTasks", "kakoi:appMaxTasks"),
    ],
)
def test_cross_field_checks_skip_an_input_that_already_failed(overrides: dict[str, Any], key: str, not_key: str) -> None:
    """A wrong value is reported once, at its own key, not again by the rules that compare it with another key."""
    found = problems("staging", overrides)
    assert any(p.startswith(f"{key}:") for p in found), found
    assert not any(p.startswith(not_key) for p in found), found
