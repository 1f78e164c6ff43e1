"""AWS Backup: daily and monthly recovery points, copied to the DR region (BAK-1, BAK-2, BCP-1)."""

from __future__ import annotations

import json

from tools.stackview import StackView

VAULT = "aws:backup/vault:Vault"
PLAN = "aws:backup/plan:Plan"
KEY = "aws:kms/key:Key"


def key_arn(view: StackView, purpose: str) -> str:
    return view.one(KEY, f"keys-{purpose}").outputs["arn"]


def test_bak1_vault_in_tokyo_encrypted_with_backup_key(each_stack: StackView) -> None:
    """BAK-1: the primary vault is in ap-northeast-1, encrypted with the customer-managed backup key."""
    vault = each_stack.one(VAULT, "backup-vault")
    assert vault.region == "ap-northeast-1"
    assert vault.inputs["kmsKeyArn"] == key_arn(each_stack, "backup")
    assert vault.inputs["forceDestroy"] is False
    assert vault.protect and vault.raw.get("retainOnDelete")


def test_bcp1_dr_vault_in_osaka_with_dr_key(each_stack: StackView) -> None:
    """BCP-1: the DR vault is declared in ap-northeast-3 with the DR-region backup key."""
    vault = each_stack.one(VAULT, "backup-dr-vault")
    assert vault.region == "ap-northeast-3"
    assert vault.inputs["kmsKeyArn"] == key_arn(each_stack, "dr-backup")
    assert ":ap-northeast-3:" in vault.inputs["kmsKeyArn"]
    assert vault.protect and vault.raw.get("retainOnDelete")


def test_bak2_daily_and_monthly_rules(prod: StackView, staging: StackView) -> None:
    """BAK-2: a daily rule and a monthly rule kept at least a year, both into the primary vault."""
    for view, daily, monthly in ((prod, 35, 1096), (staging, 7, 365)):
        plan = view.one(PLAN)
        rules = {r["ruleName"]: r for r in plan.inputs["rules"]}
        assert set(rules) == {"daily", "monthly"}
        assert rules["daily"]["schedule"] == "cron(0 15 * * ? *)"
        assert rules["monthly"]["schedule"] == "cron(0 15 1 * ? *)"
        assert rules["daily"]["lifecycle"]["deleteAfter"] == daily
        assert rules["monthly"]["lifecycle"]["deleteAfter"] == monthly >= 365
        for r in rules.values():
            assert r["targetVaultName"] == view.one(VAULT, "backup-vault").outputs["name"]
            assert not r.get("enableContinuousBackup"), "RDS automated backups own point-in-time recovery"


def test_bcp1_every_rule_copies_to_the_dr_vault(each_stack: StackView) -> None:
    """BCP-1: each rule copies its recovery points to the DR vault with the same retention."""
    dr_arn = each_stack.one(VAULT, "backup-dr-vault").outputs["arn"]
    assert ":ap-northeast-3:" in dr_arn
    for rule in each_stack.one(PLAN).inputs["rules"]:
        (copy,) = rule["copyActions"]
        assert copy["destinationVaultArn"] == dr_arn
        assert copy["lifecycle"]["deleteAfter"] == rule["lifecycle"]["deleteAfter"]


def test_bak2_selection_by_tag_with_service_role(each_stack: StackView) -> None:
    """BAK-2: resources tagged backup-plan=<plan> are selected; the role is the AWS Backup service role."""
    sel = each_stack.one("aws:backup/selection:Selection")
    plan = each_stack.one(PLAN)
    assert sel.inputs["planId"] == plan.outputs["id"]
    assert sel.inputs["selectionTags"] == [{"key": "backup-plan", "type": "STRINGEQUALS", "value": plan.inputs["name"]}]
    role = each_stack.one("aws:iam/role:Role", "backup-role")
    assert sel.inputs["iamRoleArn"] == role.outputs["arn"]
    (st,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert st["Principal"] == {"Service": "backup.amazonaws.com"}
    arns = sorted(
        a.inputs["policyArn"]
        for a in each_stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("backup-role")
    )
    assert arns == [
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    ]


def test_bak2_vault_policies_deny_deleting_recovery_points(each_stack: StackView) -> None:
    """BAK-2: nobody deletes a recovery point or shortens its lifecycle by hand, in either vault.

    The Deny covers Resource "*": DeleteRecoveryPoint is authorized against the recovery point's ARN,
    so a statement scoped to the vault's ARN would match nothing and protect nothing."""
    policies = {p.name: p for p in each_stack.of_type("aws:backup/vaultPolicy:VaultPolicy")}
    for name, vault in (("backup-vault", "backup-vault"), ("backup-dr-vault", "backup-dr-vault")):
        v = each_stack.one(VAULT, vault)
        p = policies[name]
        assert p.inputs["backupVaultName"] == v.outputs["name"]
        assert p.region == v.region
        (st,) = json.loads(p.inputs["policy"])["Statement"]
        assert st["Effect"] == "Deny"
        # PutBackupVaultAccessPolicy too: the Config rule backup-recovery-point-manual-deletion-disabled
        # requires all three, else anyone with IAM rights replaces the policy and then deletes
        assert set(st["Action"]) == {
            "backup:DeleteRecoveryPoint",
            "backup:UpdateRecoveryPointLifecycle",
            "backup:PutBackupVaultAccessPolicy",
        }
        assert st["Resource"] == "*"
        assert st["Principal"] == {"AWS": "*"}
        assert "Condition" not in st


def test_bak2_prod_vaults_are_locked_in_compliance_mode(prod: StackView, staging: StackView) -> None:
    """BAK-2: prod locks both vaults (COMPLIANCE after a 3-day grace); staging has no lock (config switch)."""
    locks = {lock.name: lock for lock in prod.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration")}
    assert set(locks) == {"backup-vault-lock", "backup-dr-vault-lock"}
    assert locks["backup-dr-vault-lock"].region == "ap-northeast-3"
    for lock in locks.values():
        assert lock.inputs["changeableForDays"] == 3
        assert lock.inputs["minRetentionDays"] == 35
        assert lock.inputs["maxRetentionDays"] == 1096
        assert lock.protect
    assert not staging.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration")


def test_bak2_vault_policy_changes_delete_first(each_stack: StackView) -> None:
    """BAK-2: the policy denies PutBackupVaultAccessPolicy to the deployer too, so a changed policy is applied
    by replacing the VaultPolicy (delete first, DeleteBackupVaultAccessPolicy), never by an in-place Put."""
    policies = each_stack.of_type("aws:backup/vaultPolicy:VaultPolicy")
    assert len(policies) == 2
    for p in policies:
        assert p.raw.get("replaceOnChanges") == ["policy"], p.name
        assert p.raw.get("deleteBeforeReplace") is True, p.name
