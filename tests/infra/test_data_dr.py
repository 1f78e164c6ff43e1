"""Disaster recovery: bringing the stack up in the DR region from replicated backups (BCP-1, REC-1).

docs/runbooks/restore.md runs the same program as a stack in ap-northeast-3 with
`drCopies: false` and `dbRestoreSourceBackupsArn` set while Tokyo is down. These
tests render exactly that configuration.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

import stackconfig
from stackconfig.reader import ConfigError
from tools.render import render
from tools.stackfiles import stack_values
from tools.stackview import StackView

BACKUPS_ARN = "arn:aws:rds:ap-northeast-3:123456789012:auto-backup:ab-abcdefghijklmnopqrstuvwxyz1234"
#: the primary stack's DR database key (alias/kakoi-prod/dr-database), which encrypts the replicated backups
BACKUPS_KEY = "arn:aws:kms:ap-northeast-3:123456789012:key/0f3c2a51-7d4e-4c8b-9a1e-2b5d6c7e8f90"
DR_BRING_UP: dict[str, Any] = {
    "aws:region": "ap-northeast-3",
    "kakoi:drRegion": "ap-northeast-1",
    "kakoi:drCopies": False,
    "kakoi:mediaReplication": False,
    "kakoi:dbRestoreSourceBackupsArn": BACKUPS_ARN,
    "kakoi:dbRestoreKmsKeyArn": BACKUPS_KEY,
}


@functools.cache
def dr_view(restore_time: str = "") -> StackView:
    overrides = dict(DR_BRING_UP)
    if restore_time:
        overrides["kakoi:dbRestoreTime"] = restore_time
    return StackView(render("prod", overrides=overrides))


def problems(stack: str, overrides: dict[str, Any]) -> list[str]:
    sv = stack_values(stack, overrides=overrides)
    with pytest.raises(ConfigError) as err:
        stackconfig.load(sv.values, project=sv.project, stack=sv.stack)
    return err.value.problems


def test_bcp1_rec1_dr_bring_up_restores_the_database_from_replicated_backups() -> None:
    """BCP-1, REC-1: the DR stack's database is created by PITR from the replicated automated backups."""
    inst = dr_view().one("aws:rds/instance:Instance", "db")
    assert inst.region == "ap-northeast-3"
    assert inst.inputs["restoreToPointInTime"] == {"sourceDbInstanceAutomatedBackupsArn": BACKUPS_ARN, "useLatestRestorableTime": True}
    # the storage stays encrypted with the backups' key; everything else uses the DR stack's own keys
    assert inst.inputs["kmsKeyId"] == BACKUPS_KEY
    key = dr_view().one("aws:kms/key:Key", "keys-database")
    assert key.region == "ap-northeast-3"
    assert inst.inputs["performanceInsightsKmsKeyId"] == key.outputs["arn"]
    assert inst.inputs["masterUserSecretKmsKeyId"] == key.outputs["arn"]
    assert inst.inputs["backupRetentionPeriod"] == 35
    assert inst.protect


def test_rec1_dr_bring_up_to_a_given_time() -> None:
    """REC-1: with dbRestoreTime the restore goes to that instant instead of the latest restorable time."""
    inst = dr_view("2026-03-06T10:15:00Z").one("aws:rds/instance:Instance", "db")
    assert inst.inputs["restoreToPointInTime"] == {
        "restoreTime": "2026-03-06T10:15:00Z",
        "sourceDbInstanceAutomatedBackupsArn": BACKUPS_ARN,
    }


def test_bcp1_dr_bring_up_touches_nothing_in_the_failed_region() -> None:
    """BCP-1: with drCopies off nothing is declared in ap-northeast-1 (the region that is down)."""
    view = dr_view()
    regions = {r.region for r in view if r.custom and r.type.startswith("aws:") and r.region}
    assert regions == {"ap-northeast-3"}
    assert not view.of_type("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    assert [v.name for v in view.of_type("aws:backup/vault:Vault")] == ["backup-vault"]
    for rule in view.one("aws:backup/plan:Plan").inputs["rules"]:
        assert not rule.get("copyActions")
    names = {k.name for k in view.of_type("aws:kms/key:Key")}
    assert not {n for n in names if n.startswith("keys-dr-")}
    for s in view.of_type("aws:secretsmanager/secret:Secret"):
        assert not s.inputs.get("replicas"), s.name


def test_normal_stacks_do_not_restore(each_stack: StackView) -> None:
    """REC-1: a normal stack creates its database empty (no restore source)."""
    assert "restoreToPointInTime" not in each_stack.one("aws:rds/instance:Instance", "db").inputs


@pytest.mark.parametrize(
    ("overrides", "key", "reason"),
    [
        ({"kakoi:drCopies": False, "kakoi:mediaReplication": False}, "kakoi:drCopies", "DR bring-up"),
        ({"kakoi:drCopies": False}, "kakoi:mediaReplication", "needs drCopies"),
        ({"kakoi:dbRestoreTime": "2026-03-06T10:15:00Z"}, "kakoi:dbRestoreTime", "only used with dbRestoreSourceBackupsArn"),
        (
            {"kakoi:dbRestoreSourceBackupsArn": "arn:aws:rds:ap-northeast-3:123456789012:db:kakoi-prod-db"},
            "kakoi:dbRestoreSourceBackupsArn",
            "auto-backup",
        ),
        ({"kakoi:dbRestoreSourceBackupsArn": BACKUPS_ARN, "kakoi:dbRestoreTime": "yesterday"}, "kakoi:dbRestoreTime", "UTC time"),
        ({"kakoi:dbRestoreSourceBackupsArn": BACKUPS_ARN}, "kakoi:dbRestoreKmsKeyArn", "is required"),
        ({"kakoi:dbRestoreKmsKeyArn": BACKUPS_KEY}, "kakoi:dbRestoreKmsKeyArn", "only used with"),
        (
            {"kakoi:dbRestoreSourceBackupsArn": BACKUPS_ARN, "kakoi:dbRestoreKmsKeyArn": "alias/kakoi-prod/dr-database"},
            "kakoi:dbRestoreKmsKeyArn",
            "KMS key ARN",
        ),
    ],
)
def test_bcp1_dr_switches_are_validated(overrides: dict[str, Any], key: str, reason: str) -> None:
    """BCP-1: production keeps its DR copies unless it is a DR bring-up; the restore settings are checked."""
    found = problems("prod", overrides)
    assert any(p.startswith(f"{key}:") and reason in p for p in found), found


def test_rec1_restore_runbook_names_what_the_stack_declares(prod: StackView) -> None:
    """REC-1: every name the restore runbook uses is the one the prod stack declares (the runbook cannot rot)."""
    from tools.stackfiles import ROOT

    text = (ROOT / "docs" / "runbooks" / "restore.md").read_text(encoding="utf-8")
    inst = prod.one("aws:rds/instance:Instance", "db")
    names = [
        inst.inputs["identifier"],
        inst.inputs["dbSubnetGroupName"],
        inst.inputs["parameterGroupName"],
        inst.inputs["backupWindow"],
        inst.inputs["caCertIdentifier"],
        str(inst.inputs["maxAllocatedStorage"]),
        prod.one("aws:iam/role:Role", "db-monitoring").inputs["name"],
        prod.one("aws:iam/role:Role", "backup-role").inputs["name"],
        prod.one("aws:backup/vault:Vault", "backup-vault").inputs["name"],
        prod.one("aws:backup/vault:Vault", "backup-dr-vault").inputs["name"],
        prod.one("aws:kms/alias:Alias", "keys-database").inputs["name"],
        prod.one("aws:kms/alias:Alias", "keys-dr-database").inputs["name"],
        prod.one("aws:backup/plan:Plan").inputs["name"],
        *(s.inputs["name"] for s in prod.of_type("aws:secretsmanager/secret:Secret") if s.name.startswith("db-")),
    ]
    for name in names:
        assert name in text, f"docs/runbooks/restore.md does not mention {name!r}"
    for flag in ("--restore-time", "--use-latest-restorable-time", "pulumi stack import", "pulumi refresh", "dbRestoreSourceBackupsArn"):
        assert flag in text
