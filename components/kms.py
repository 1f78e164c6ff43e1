"""Customer-managed KMS keys for the data tier, logs and alerts (BAK-1, BCP-1, ENC-1).

One symmetric key per purpose, so that each key policy names only the service
that needs it and a compromise or a mistaken grant stays inside one purpose:

=================  ==============  ==============================================
attribute          region          protects
=================  ==============  ==============================================
database_key       primary         RDS storage, automated backups, snapshots,
                                   Performance Insights, the master and role secrets
backup_key         primary         the AWS Backup vault
media_key          primary         the media bucket (SSE-KMS with a bucket key)
logs_key           primary         CloudWatch Logs groups (database logs, app, ...)
sns_key            primary         the alert topic (alarms and EventBridge publish to it)
dr_database_key    DR              replicated RDS automated backups and the role
                                   secrets' DR replicas (BCP-1)
dr_backup_key      DR              the DR AWS Backup vault (copies of recovery points)
dr_media_key       DR              the DR media bucket (replication target)
=================  ==============  ==============================================

Every key: automatic rotation on (period from config), 30-day deletion window,
protected from `pulumi destroy` and replacement (protect + retain_on_delete).

Key policy statements, and why each is there:

* ``AccountAdministration`` - the account root principal gets ``kms:*``. This
  does not let anyone in: it hands the decision to IAM, so only principals whose
  IAM policies allow a KMS action on this key may perform it (the deployer, the
  roles other components create). Without it the key could become unmanageable
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
* ``UseThrough<Service>`` / ``GrantsFor<Service>`` (database, backup, media and
  the DR keys) - principals of THIS account only (``kms:CallerAccount``) may use
  the key, and only through the named service in the named region
  (``kms:ViaService``, e.g. ``rds.ap-northeast-1.amazonaws.com``). Grants (which
  RDS and AWS Backup create to encrypt in the background) only for AWS resources
  (``kms:GrantIsForAWSResource``). Nobody can call Decrypt on the key directly
  by this statement, and other accounts get nothing.
* ``CloudWatchLogs`` (logs key) - the regional CloudWatch Logs service principal,
  only for log groups of this account and region
  (``kms:EncryptionContext:aws:logs:arn``)
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
* ``CloudWatchAlarmsPublish`` (SNS key) - CloudWatch may generate data keys and
  decrypt for alarms of this account and region (``aws:SourceAccount``,
  ``aws:SourceArn``) so it can publish to the encrypted topic.
* ``EventBridgePublish`` (SNS key) - EventBridge may do the same for rules
  targeting the topic. No source conditions: EventBridge's KMS requests for SNS
  delivery do not carry them, and a condition would drop every notification
  silently (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html,
  "Enable compatibility between event sources from AWS services and encrypted
  topics"). Only Decrypt/GenerateDataKey*: it can encrypt messages for the topic,
  not read anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from components.kms_policies import Statement, document, logs_service, root_admin, service_endpoint, sns_publishers, via_services
from stackconfig.data import DataConfig

CONTROLS: dict[str, str] = {
    "BAK-1": "customer-managed KMS keys (rotation on) encrypt the database, its backups and the AWS Backup vaults",
    "BCP-1": "separate keys in the DR region encrypt replicated automated backups, DR vault copies and the DR media bucket",
    "ENC-1": "media, logs and alerts are encrypted at rest with their own least-privilege customer-managed keys",
}

#: every customer-managed key: 30 days between a scheduled deletion and the deletion
DELETION_WINDOW_DAYS = 30


def customer_key(
    name: str,
    *,
    parent: pulumi.Resource,
    description: str,
    alias: str,
    policy: pulumi.Input[str],
    rotation_days: int | None = None,
    region: str | None = None,
    explicit_spec: bool = True,
) -> tuple[aws.kms.Key, aws.kms.Alias]:
    """A symmetric customer-managed key (rotation on, protected from `pulumi destroy`) and its alias,
    both children of `parent` and named `name`.

    `rotation_days` None leaves the rotation period to KMS (365 days). `region` is for DR-region
    keys (pulumi-aws v7 `region=`). `explicit_spec` declares key_usage / customer_master_key_spec
    (ENCRYPT_DECRYPT / SYMMETRIC_DEFAULT, the KMS defaults); the alert key never declared them,
    and adding them now would change its declared inputs.
    """
    key = aws.kms.Key(
        name,
        description=description,
        key_usage="ENCRYPT_DECRYPT" if explicit_spec else None,
        customer_master_key_spec="SYMMETRIC_DEFAULT" if explicit_spec else None,
        enable_key_rotation=True,
        rotation_period_in_days=rotation_days,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=policy,
        region=region,
        opts=pulumi.ResourceOptions(parent=parent, protect=True, retain_on_delete=True),
    )
    key_alias = aws.kms.Alias(name, name=alias, target_key_id=key.key_id, region=region, opts=pulumi.ResourceOptions(parent=parent))
    return key, key_alias


@dataclass(frozen=True)
class KeysArgs:
    """Inputs of `Keys`."""

    #: who and where the stack is: the name prefix of descriptions and aliases, the account and
    #: partition the key policies name, `region` for the primary keys and `dr_region` for the DR
    #: copies. Required. (BAK-1, BCP-1)
    context: StackContext
    #: the data tier's settings (stackconfig/data.py); the keys use `key_rotation_days` (the
    #: automatic rotation period of every key) and `dr_copies` (create the DR-region keys; off only
    #: for a stack brought up in the DR region while the primary region is down). Required.
    #: (BAK-1, BCP-1, ENC-1)
    config: DataConfig


@dataclass(frozen=True)
class _KeySpec:
    attr: str
    purpose: str
    description: str
    dr: bool


_SPECS = (
    _KeySpec("database_key", "database", "RDS storage, backups, Performance Insights and database secrets", False),
    _KeySpec("backup_key", "backup", "AWS Backup vault", False),
    _KeySpec("media_key", "media", "media bucket objects", False),
    _KeySpec("logs_key", "logs", "CloudWatch Logs log groups", False),
    _KeySpec("sns_key", "sns", "SNS alert topics", False),
    _KeySpec("dr_database_key", "dr-database", "RDS automated backups replicated to the DR region", True),
    _KeySpec("dr_backup_key", "dr-backup", "AWS Backup vault in the DR region", True),
    _KeySpec("dr_media_key", "dr-media", "media bucket replica in the DR region", True),
)


class Keys(pulumi.ComponentResource):
    database_key: aws.kms.Key
    backup_key: aws.kms.Key
    media_key: aws.kms.Key
    logs_key: aws.kms.Key
    sns_key: aws.kms.Key
    #: the DR-region keys are None when `dr_copies` is off
    dr_database_key: aws.kms.Key | None
    dr_backup_key: aws.kms.Key | None
    dr_media_key: aws.kms.Key | None

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:kms:Keys", name, None, opts)
        self.args = args
        ctx = args.context
        self.keys: dict[str, aws.kms.Key] = {}
        self.aliases: dict[str, aws.kms.Alias] = {}
        for spec in _SPECS:
            if spec.dr and not args.config.dr_copies:
                setattr(self, spec.attr, None)
                continue
            region = ctx.dr_region if spec.dr else ctx.region
            policy = pulumi.Output.all(ctx.partition, ctx.account_id).apply(
                lambda v, s=spec, r=region: self.policy_for(s.purpose, v[0], v[1], r)
            )
            key, self.aliases[spec.purpose] = customer_key(
                f"{name}-{spec.purpose}",
                parent=self,
                description=f"{ctx.name_prefix}: {spec.description}",
                alias=f"alias/{ctx.name_prefix}/{spec.purpose}",
                policy=policy,
                rotation_days=args.config.key_rotation_days,
                region=region if spec.dr else None,
            )
            self.keys[spec.purpose] = key
            setattr(self, spec.attr, key)

        self.database_key_arn = self.database_key.arn
        self.backup_key_arn = self.backup_key.arn
        self.media_key_arn = self.media_key.arn
        self.logs_key_arn = self.logs_key.arn
        self.sns_key_arn = self.sns_key.arn
        self.dr_database_key_arn = self.dr_database_key.arn if self.dr_database_key else None
        self.dr_backup_key_arn = self.dr_backup_key.arn if self.dr_backup_key else None
        self.dr_media_key_arn = self.dr_media_key.arn if self.dr_media_key else None
        self.register_outputs({f"{s.attr}_arn": getattr(self, s.attr).arn for s in _SPECS if getattr(self, s.attr)})

    def policy_for(self, purpose: str, partition: str, account: str, region: str) -> str:
        """The key policy JSON for one purpose (see the module docstring for each statement)."""
        statements: list[Statement] = [root_admin(partition, account)]
        if purpose in ("database", "dr-database"):
            # RDS (storage, backups, Performance Insights, the managed master secret) and Secrets
            # Manager (the role secrets and, in the DR region, their replicas)
            services = [service_endpoint("rds", region), service_endpoint("secretsmanager", region)]
            statements += via_services(account, "RdsAndSecrets", services, grants=True)
        elif purpose == "backup":
            statements += via_services(account, "Backup", [service_endpoint("backup", region)], grants=True)
        elif purpose == "dr-backup":
            # AWS Backup copies RDS snapshots into the DR vault through RDS (CopyDBSnapshot), which
            # re-encrypts them with this key: both services need it.
            services = [service_endpoint("backup", region), service_endpoint("rds", region)]
            statements += via_services(account, "BackupAndRds", services, grants=True)
        elif purpose in ("media", "dr-media"):
            statements += via_services(account, "S3", [service_endpoint("s3", region)], grants=False)
        elif purpose == "logs":
            statements.append(logs_service(partition, region, account))
        elif purpose == "sns":
            statements += sns_publishers(partition, region, account)
        else:  # pragma: no cover - _SPECS lists every purpose
            raise ValueError(f"unknown key purpose {purpose!r}")
        return document(*statements)
