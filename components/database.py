"""The PostgreSQL database (RDS) and the secrets of its application roles.

Sheet items: BAK-1 (encrypted storage and backups with the database key, in
Tokyo), BAK-2 / REC-1 (automated backups with point-in-time recovery; 35 days in
production), BCP-1 (automated backups replicated to the DR region with the DR
key), ENC-1 (the server refuses non-TLS and TLS below 1.3), MNT-1 (maintenance
on Friday 21:00 JST, backups before it), SQL-3 (owner and web role secrets).

The instance: PostgreSQL (major version from config; 18 is the newest major
RDS offers as generally available -
https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-versions.html),
Multi-AZ in the isolated subnets, not publicly accessible, gp3 with storage
autoscaling, storage encrypted with the database key, IAM database
authentication on, the master password generated and kept by RDS in Secrets
Manager (encrypted with the database key; never in config or state), Enhanced
Monitoring with its own role, CloudWatch Database Insights (standard mode by
default) with Performance Insights encrypted by the database key, the
``postgresql`` and ``upgrade`` logs exported to log groups this component
declares (KMS-encrypted with the logs key, retention from config), tags copied
to snapshots, minor version upgrades on, deletion protection and a final
snapshot by config (always on in production, enforced by stackconfig.data).

Performance Insights: AWS ends the Performance Insights console on 2026-07-31;
the feature continues as CloudWatch Database Insights, whose Standard mode
keeps Performance Insights data (7 days free) and whose Advanced mode needs 15
months of retention. So the instance sets ``database_insights_mode`` explicitly
and keeps Performance Insights on, encrypted with the database key
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DatabaseInsights.TurningOnStandard.html,
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_PerfInsights.Enabling.html).

Database roles (SQL-3, docs/database-roles.md): the master user is
``kakoi_admin``; the app's ``ensure_db_roles`` command creates ``kakoi_owner``
and ``kakoi_web`` and writes their credentials into the two secrets declared
here, which hold no value in Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components import iam_policies
from components.contract import contract

if TYPE_CHECKING:
    from components.backup import BackupPlan
    from components.context import StackContext
    from components.kms import Keys
    from components.network import Network
    from components.security_groups import SecurityGroups
    from stackconfig.data import DataConfig

CONTROLS: dict[str, str] = {
    "BAK-1": "RDS storage, automated backups, snapshots and Performance Insights are encrypted with the database KMS key in Tokyo",
    "BAK-2": "automated backups with point-in-time recovery (35 days in production, enforced by config validation)",
    "REC-1": "point-in-time restore from automated backups; final snapshot and deletion protection in production",
    "BCP-1": "automated backups are replicated to the DR region (InstanceAutomatedBackupsReplication) with the DR key",
    "ENC-1": "parameter group sets rds.force_ssl=1 and ssl_min_protocol_version=TLSv1.3",
    "MNT-1": "maintenance window fri:12:00-fri:12:30 UTC (Friday 21:00 JST), backup window before it",
    "SQL-3": "non-default master user; empty KMS-encrypted secrets for the owner and the DML-only web role",
}

DB_NAME = contract.DB_NAME
MASTER_USERNAME = contract.DB_MASTER_USER
PORT = contract.DB_PORT
#: the RDS CA the server certificate is signed by (clients verify it: sslmode=verify-full)
#: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
CA_CERT_IDENTIFIER = "rds-ca-rsa2048-g1"
LOG_EXPORTS = ("postgresql", "upgrade")
#: application roles whose secrets the stack declares (values written by `manage.py ensure_db_roles`)
APP_ROLES = tuple(contract.DB_ROLE_SECRETS)

#: PostgreSQL parameters whose context is `postmaster` are static in RDS and accept only
#: apply_method=pending-reboot ("immediate" is rejected). None of ours is static:
#: rds.force_ssl and ssl_min_protocol_version are reloadable (sighup), log_connections and
#: log_disconnections apply to new sessions (superuser-backend), so all apply immediately.
#: https://www.postgresql.org/docs/current/view-pg-settings.html (context)
#: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.Modifying.html
STATIC_PARAMETERS = frozenset({"shared_preload_libraries", "max_connections", "rds.logical_replication", "max_worker_processes"})


def parameters(engine_major: int) -> dict[str, str]:
    """The server settings kakoi requires (ENC-1 and connection logging)."""
    return {
        # refuse every connection that is not TLS, and TLS below 1.3 (RDS for PostgreSQL 16+ supports 1.3)
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html
        "rds.force_ssl": "1",
        "ssl_min_protocol_version": "TLSv1.3",
        # PostgreSQL 18 made log_connections a list of aspects; 'receipt,authentication,authorization'
        # is what the boolean 'on' meant before. https://www.postgresql.org/docs/18/runtime-config-logging.html
        # RDS postgres18 parameter groups accept only those aspects ("Invalid parameter value: 1 for:
        # log_connections allowed values are: receipt, authentication, authorization, setup_durations, all"),
        # although PostgreSQL itself still takes the old boolean spellings.
        "log_connections": "receipt,authentication,authorization" if engine_major >= 18 else "1",
        "log_disconnections": "1",
    }


def apply_method(name: str) -> str:
    return "pending-reboot" if name in STATIC_PARAMETERS else "immediate"


def restore_spec(source_backups_arn: str, restore_time: str) -> aws.rds.InstanceRestoreToPointInTimeArgsDict | None:
    """`restore_to_point_in_time` for a database created from automated backups (None: a new, empty one)."""
    if not source_backups_arn:
        return None
    if restore_time:
        return {"source_db_instance_automated_backups_arn": source_backups_arn, "restore_time": restore_time}
    return {"source_db_instance_automated_backups_arn": source_backups_arn, "use_latest_restorable_time": True}


@dataclass(frozen=True)
class DatabaseArgs:
    """The database: its config section and handles of where it lives and what encrypts it."""

    #: prefix (identifier `<prefix>-db`), account, partition and region (the monitoring role's trust),
    #: the DR region (BCP-1), the role secrets `<project>/<stack>/db/{owner,web}` (SQL-3); required
    context: StackContext
    #: the data section (kakoi:db*): engine version (16+: TLS 1.3, ENC-1), instance class, storage,
    #: Multi-AZ (AVL-1), backup retention and window (BAK-2, REC-1), maintenance window (MNT-1), deletion
    #: protection and final snapshot (REC-1), log retention, Enhanced Monitoring and Database Insights
    #: (MON-1), and a point-in-time restore source, time and key for a DR bring-up (REC-1, BCP-1); required
    config: DataConfig
    #: the isolated subnets the instance lives in (no route to the internet, NET-1); required
    network: Network
    #: the `db` group: PostgreSQL from the app and the admin networks only (NET-1); required
    security_groups: SecurityGroups
    #: the database key (storage, backups, Performance Insights, the secrets, BAK-1), the logs key (the
    #: exported log groups, MON-1) and the DR database key (backup replication and secret replicas, BCP-1;
    #: None when kakoi:drCopies is off: then neither); required
    keys: Keys
    #: the AWS Backup plan whose selection tags put the instance into it (BAK-2); @default None (not in a plan)
    backup: BackupPlan | None = None


class Database(pulumi.ComponentResource):
    instance: aws.rds.Instance

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:database:Database", name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        child = pulumi.ResourceOptions(parent=self)
        ctx, cfg, keys = args.context, args.config, args.keys
        prefix, region, dr_region = ctx.name_prefix, ctx.region, ctx.dr_region
        self.identifier = f"{prefix}-db"
        acct = pulumi.Output.from_input(ctx.account_id)
        partition = pulumi.Output.from_input(ctx.partition)

        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=f"{prefix}-db",
            description="isolated subnets of the database (no route to the internet)",
            subnet_ids=list(args.network.isolated_subnet_ids),
            opts=child,
        )
        major = int(cfg.engine_major)
        self.parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            name=f"{prefix}-{cfg.parameter_group_family}",
            family=cfg.parameter_group_family,
            description="kakoi: TLS 1.3 only, connection logging (ENC-1)",
            parameters=[{"name": k, "value": v, "apply_method": apply_method(k)} for k, v in parameters(major).items()],
            opts=child,
        )

        # RDS writes exported logs to /aws/rds/instance/<id>/<log>; declared here first so that
        # they are KMS-encrypted and have a retention (RDS would create them with neither)
        self.log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-log-{log}",
                name=f"/aws/rds/instance/{self.identifier}/{log}",
                retention_in_days=cfg.log_retention_days,
                kms_key_id=keys.logs_key_arn,
                opts=child,
            )
            for log in LOG_EXPORTS
        ]

        monitoring_trust = pulumi.Output.all(partition, acct).apply(
            # confused-deputy protection: only on behalf of this account's database
            lambda v: iam_policies.service_trust_policy(
                "monitoring.rds.amazonaws.com",
                source_account=v[1],
                source_arn_like=f"arn:{v[0]}:rds:{region}:{v[1]}:db:{self.identifier}",
            )
        )
        self.monitoring_role = aws.iam.Role(
            f"{name}-monitoring",
            name=f"{prefix}-rds-monitoring",
            description="RDS Enhanced Monitoring of the database",
            assume_role_policy=monitoring_trust,
            opts=child,
        )
        # RDS checks the monitoring role's permissions when it creates the instance and fails with
        # "IAM role ARN value is invalid or does not include the required permissions for:
        # ENHANCED_MONITORING" if the managed policy is not attached yet: the instance waits for it.
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html
        self.monitoring_policy = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring",
            role=self.monitoring_role.name,
            policy_arn=partition.apply(lambda p: f"arn:{p}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
            opts=child,
        )

        self.instance = aws.rds.Instance(
            name,
            identifier=self.identifier,
            engine="postgres",
            engine_version=cfg.engine_version,
            instance_class=cfg.instance_class,
            db_name=DB_NAME,
            username=MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=keys.database_key_arn,
            port=PORT,
            # storage
            storage_type="gp3",
            allocated_storage=cfg.allocated_storage,
            max_allocated_storage=cfg.max_allocated_storage,
            storage_encrypted=True,
            kms_key_id=cfg.restore_kms_key_arn or keys.database_key_arn,
            # network
            multi_az=cfg.multi_az,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[args.security_groups.db_sg_id],
            publicly_accessible=False,
            network_type="IPV4",
            ca_cert_identifier=CA_CERT_IDENTIFIER,
            parameter_group_name=self.parameter_group.name,
            iam_database_authentication_enabled=True,
            # backups and maintenance (BAK-2, REC-1, MNT-1)
            backup_retention_period=cfg.backup_retention_days,
            backup_window=cfg.backup_window,
            maintenance_window=cfg.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            deletion_protection=cfg.deletion_protection,
            skip_final_snapshot=not cfg.final_snapshot,
            final_snapshot_identifier=f"{self.identifier}-final" if cfg.final_snapshot else None,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            apply_immediately=False,
            # monitoring
            monitoring_interval=cfg.monitoring_interval,
            monitoring_role_arn=self.monitoring_role.arn,
            database_insights_mode=cfg.insights_mode,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=keys.database_key_arn,
            performance_insights_retention_period=cfg.performance_insights_retention_days,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            tags=dict(args.backup.selection_tags) if args.backup is not None else {},
            # REC-1 / BCP-1: a DR bring-up creates the instance from (replicated) automated backups
            restore_to_point_in_time=restore_spec(cfg.restore_source_backups_arn, cfg.restore_time),
            opts=pulumi.ResourceOptions.merge(keep, pulumi.ResourceOptions(depends_on=[*self.log_groups, self.monitoring_policy])),
        )

        # BCP-1: automated backups (snapshots + transaction logs) replicated to the DR region
        self.backup_replication = None
        if keys.dr_database_key_arn is not None:
            self.backup_replication = aws.rds.InstanceAutomatedBackupsReplication(
                f"{name}-dr-backups",
                source_db_instance_arn=self.instance.arn,
                kms_key_id=keys.dr_database_key_arn,
                retention_period=cfg.backup_retention_days,
                region=dr_region,
                opts=keep,
            )

        # SQL-3: the application roles' secrets, declared empty (no value in config or state);
        # replicated to the DR region so a restore there finds them
        self.role_secrets: dict[str, aws.secretsmanager.Secret] = {}
        for role in APP_ROLES:
            self.role_secrets[role] = aws.secretsmanager.Secret(
                f"{name}-{role}-secret",
                name=f"{ctx.project}/{ctx.stack}/db/{role}",
                description=f"credentials of the kakoi_{role} database role, written by `manage.py ensure_db_roles`",
                kms_key_id=keys.database_key_arn,
                recovery_window_in_days=30,
                replicas=[{"region": dr_region, "kms_key_id": keys.dr_database_key_arn}] if keys.dr_database_key_arn is not None else None,
                opts=keep,
            )

        self.instance_arn = self.instance.arn
        self.resource_id = self.instance.resource_id
        self.endpoint_address = self.instance.address
        self.port = self.instance.port
        # RDS manages the master password (manage_master_user_password): one secret, typed optional by the SDK
        self.master_secret_arn: pulumi.Output[str] = self.instance.master_user_secrets.apply(lambda s: (s[0].secret_arn or "") if s else "")
        self.owner_secret_arn = self.role_secrets["owner"].arn
        self.web_secret_arn = self.role_secrets["web"].arn
        self.register_outputs(
            {
                "identifier": self.identifier,
                "endpointAddress": self.endpoint_address,
                "port": self.port,
                "masterSecretArn": self.master_secret_arn,
                "ownerSecretArn": self.owner_secret_arn,
                "webSecretArn": self.web_secret_arn,
            }
        )
