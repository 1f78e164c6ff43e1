"""AWS Backup: a daily and a monthly plan for the database, copied to the DR region (BAK-1, BAK-2, BCP-1).

RDS automated backups give point-in-time recovery for up to 35 days (see
components/database.py). This plan adds what they cannot: recovery points kept
longer (the monthly rule at least a year), in a vault nobody can empty early,
with a copy of every recovery point in a vault in the DR region (Osaka).

* Vaults: one in the primary region (backup key) and one in the DR region (DR
  backup key), both protected from `pulumi destroy`; a vault access policy that
  denies deleting recovery points or shortening their lifecycle; optional Vault
  Lock (GOVERNANCE, or COMPLIANCE which becomes immutable after a 3-day grace
  period) by config.
* Plan rules: ``daily`` (15:00 UTC = 00:00 JST, away from the RDS backup window
  and the Friday maintenance window) and ``monthly`` (the 1st of each month),
  each with a copy action to the DR vault with the same retention.
* Selection by tag: every resource tagged ``backup-plan=<plan name>`` (the
  database carries it), with the AWS Backup service role and its AWS managed
  policies (ARNs built from the partition).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components import iam_policies

if TYPE_CHECKING:
    from components.context import StackContext
    from components.kms import Keys
    from stackconfig.data import DataConfig

CONTROLS: dict[str, str] = {
    "BAK-1": "AWS Backup vaults encrypted with customer-managed keys; the primary vault is in the Tokyo region",
    "BAK-2": "a daily rule and a monthly rule (kept at least a year) select the database by tag; vault lock by config",
    "BCP-1": "every recovery point is copied to a vault in the DR region encrypted with the DR backup key",
}

#: the tag that puts a resource into this plan
SELECTION_TAG_KEY = "backup-plan"
#: AWS managed policies of the AWS Backup service role
#: https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html
MANAGED_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
)
DAILY_SCHEDULE = "cron(0 15 * * ? *)"
MONTHLY_SCHEDULE = "cron(0 15 1 * ? *)"
#: a COMPLIANCE lock becomes immutable after this grace period (minimum 3 days)
COMPLIANCE_GRACE_DAYS = 3


@dataclass(frozen=True)
class BackupPlanArgs:
    """The data plan: its config section and the keys of its vaults."""

    #: prefix, partition (the service role's managed policy ARNs) and the DR region of the DR vault (BCP-1); required
    context: StackContext
    #: the data section: daily and monthly retention (kakoi:backupDailyRetentionDays,
    #: kakoi:backupMonthlyRetentionDays, BAK-2) and Vault Lock (kakoi:backupVaultLock,
    #: kakoi:backupVaultLockMode, BAK-2); required
    config: DataConfig
    #: the backup key (the primary vault in Tokyo, BAK-1) and the DR backup key (the DR vault, BCP-1; None
    #: when kakoi:drCopies is off: then no DR vault and no copies); required
    keys: Keys


def protect_recovery_points_policy() -> str:
    """Nobody deletes a recovery point or shortens its retention by hand, nor replaces this policy (BAK-2).

    ``backup:PutBackupVaultAccessPolicy`` is denied too: otherwise anyone with IAM rights on the
    vault replaces the policy and then deletes (staging has no vault lock). The Config rule counts a
    vault compliant only when its policy denies all three actions. To change the policy on purpose,
    ``backup:DeleteBackupVaultAccessPolicy`` (not denied, and audited by CloudTrail) removes it first.

    ``Resource`` is ``"*"`` (every recovery point in the vault the policy is attached to), not the
    vault's ARN: these actions are authorized against the recovery point's ARN (for RDS, the
    snapshot's ``arn:aws:rds:...:snapshot:awsbackup:...``), so a Deny on the vault ARN matches no
    request and protects nothing. AWS's examples and the Config rule
    backup-recovery-point-manual-deletion-disabled use ``"*"``.
    https://docs.aws.amazon.com/aws-backup/latest/devguide/create-a-vault-access-policy.html
    https://docs.aws.amazon.com/config/latest/developerguide/backup-recovery-point-manual-deletion-disabled.html
    """
    return iam_policies.document(
        {
            "Sid": "DenyRecoveryPointDeletion",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle", "backup:PutBackupVaultAccessPolicy"],
            "Resource": "*",
        }
    )


class BackupPlan(pulumi.ComponentResource):
    vault: aws.backup.Vault
    dr_vault: aws.backup.Vault | None
    plan: aws.backup.Plan
    role: aws.iam.Role

    def __init__(self, name: str, args: BackupPlanArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:backup:BackupPlan", name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        child = pulumi.ResourceOptions(parent=self)
        ctx, cfg, keys = args.context, args.config, args.keys
        self.plan_name = f"{ctx.name_prefix}-data"
        #: tag a resource with this to include it in the plan
        self.selection_tags = {SELECTION_TAG_KEY: self.plan_name}

        self.vault = aws.backup.Vault(
            f"{name}-vault",
            name=f"{ctx.name_prefix}-vault",
            kms_key_arn=keys.backup_key_arn,
            force_destroy=False,
            opts=keep,
        )
        self.dr_vault = None
        vaults: list[tuple[str, aws.backup.Vault, str | None]] = [("vault", self.vault, None)]
        if keys.dr_backup_key_arn is not None:
            self.dr_vault = aws.backup.Vault(
                f"{name}-dr-vault",
                name=f"{ctx.name_prefix}-dr-vault",
                kms_key_arn=keys.dr_backup_key_arn,
                force_destroy=False,
                region=ctx.dr_region,
                opts=keep,
            )
            vaults.append(("dr-vault", self.dr_vault, ctx.dr_region))
        for label, vault, region in vaults:
            # the policy denies PutBackupVaultAccessPolicy to everyone, the deployer included: a changed
            # policy is applied by deleting the old one (DeleteBackupVaultAccessPolicy) and putting the new
            aws.backup.VaultPolicy(
                f"{name}-{label}",
                backup_vault_name=vault.name,
                policy=protect_recovery_points_policy(),
                region=region,
                opts=pulumi.ResourceOptions(parent=self, replace_on_changes=["policy"], delete_before_replace=True),
            )
        self.vault_locks: list[aws.backup.VaultLockConfiguration] = []
        if cfg.vault_lock:
            for label, vault, region in vaults:
                self.vault_locks.append(
                    aws.backup.VaultLockConfiguration(
                        f"{name}-{label}-lock",
                        backup_vault_name=vault.name,
                        # every recovery point of the plan fits between these bounds
                        min_retention_days=cfg.daily_retention_days,
                        max_retention_days=cfg.monthly_retention_days,
                        changeable_for_days=COMPLIANCE_GRACE_DAYS if cfg.vault_lock_mode == "COMPLIANCE" else None,
                        region=region,
                        opts=keep,
                    )
                )

        trust = iam_policies.service_trust_policy("backup.amazonaws.com")
        self.role = aws.iam.Role(
            f"{name}-role",
            name=f"{ctx.name_prefix}-backup",
            description="AWS Backup service role of the data plan (BAK-2)",
            assume_role_policy=trust,
            opts=child,
        )
        partition = pulumi.Output.from_input(ctx.partition)
        for i, policy in enumerate(MANAGED_POLICIES):
            aws.iam.RolePolicyAttachment(
                f"{name}-role-{'backup' if i == 0 else 'restores'}",
                role=self.role.name,
                policy_arn=partition.apply(lambda p, pol=policy: f"arn:{p}:iam::aws:policy/{pol}"),
                opts=child,
            )

        dr_vault = self.dr_vault

        def rule(rule_name: str, schedule: str, days: int) -> aws.backup.PlanRuleArgsDict:
            out: aws.backup.PlanRuleArgsDict = {
                "rule_name": rule_name,
                "target_vault_name": self.vault.name,
                "schedule": schedule,
                "start_window": 60,
                "completion_window": 360,
                "lifecycle": {"delete_after": days},
                "recovery_point_tags": {"backup-rule": rule_name},
            }
            if dr_vault is not None:
                out["copy_actions"] = [{"destination_vault_arn": dr_vault.arn, "lifecycle": {"delete_after": days}}]
            return out

        self.plan = aws.backup.Plan(
            f"{name}-plan",
            name=self.plan_name,
            rules=[
                rule("daily", DAILY_SCHEDULE, cfg.daily_retention_days),
                rule("monthly", MONTHLY_SCHEDULE, cfg.monthly_retention_days),
            ],
            opts=child,
        )
        self.selection = aws.backup.Selection(
            f"{name}-selection",
            name=f"{ctx.name_prefix}-tagged",
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            selection_tags=[{"type": "STRINGEQUALS", "key": SELECTION_TAG_KEY, "value": self.plan_name}],
            opts=child,
        )

        self.vault_arn = self.vault.arn
        self.dr_vault_arn = self.dr_vault.arn if self.dr_vault is not None else None
        self.register_outputs(
            {"vault": self.vault.name, "drVault": self.dr_vault_arn, "plan": self.plan.id, "selectionTags": self.selection_tags}
        )
