"""Data tier: the backup plan, the PostgreSQL database and the media bucket.

(BAK-1, BAK-2, BCP-1, ENC-1, REC-1, MNT-1, PATH-1, SQL-3)
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import guardduty as guardduty_module
from components.backup import BackupPlan, BackupPlanArgs
from components.context import StackContext
from components.database import Database, DatabaseArgs
from components.media_bucket import MediaBucket, MediaBucketArgs
from stackconfig import StackConfig
from tiers.foundation import Foundation


@dataclass(frozen=True)
class Data:
    """Typed handles of the data tier."""

    backup: BackupPlan
    database: Database
    media: MediaBucket


def build(ctx: StackContext, cfg: StackConfig, base: Foundation) -> Data:
    backup = BackupPlan(
        "backup",
        BackupPlanArgs(
            name_prefix=ctx.name_prefix,
            partition=ctx.partition,
            dr_region=ctx.dr_region,
            key_arn=base.keys.backup_key_arn,
            dr_key_arn=base.keys.dr_backup_key_arn,
            daily_retention_days=cfg.data.daily_retention_days,
            monthly_retention_days=cfg.data.monthly_retention_days,
            vault_lock=cfg.data.vault_lock,
            vault_lock_mode=cfg.data.vault_lock_mode,
        ),
        opts=ctx.opts,
    )
    database = Database(
        "db",
        DatabaseArgs(
            name_prefix=ctx.name_prefix,
            secret_prefix=f"{cfg.core.project}/{cfg.core.stack}/db",
            account_id=ctx.account_id,
            partition=ctx.partition,
            region=ctx.region,
            dr_region=ctx.dr_region,
            subnet_ids=base.network.isolated_subnet_ids,
            security_group_ids=[base.sgs.db_sg_id],
            kms_key_arn=base.keys.database_key_arn,
            logs_key_arn=base.keys.logs_key_arn,
            dr_kms_key_arn=base.keys.dr_database_key_arn,
            engine_version=cfg.data.engine_version,
            parameter_group_family=cfg.data.parameter_group_family,
            instance_class=cfg.data.instance_class,
            allocated_storage=cfg.data.allocated_storage,
            max_allocated_storage=cfg.data.max_allocated_storage,
            multi_az=cfg.data.multi_az,
            backup_retention_days=cfg.data.backup_retention_days,
            backup_window=cfg.data.backup_window,
            maintenance_window=cfg.data.maintenance_window,
            deletion_protection=cfg.data.deletion_protection,
            final_snapshot=cfg.data.final_snapshot,
            log_retention_days=cfg.data.log_retention_days,
            monitoring_interval=cfg.data.monitoring_interval,
            insights_mode=cfg.data.insights_mode,
            performance_insights_retention_days=cfg.data.performance_insights_retention_days,
            backup_tags=backup.selection_tags,
            restore_source_backups_arn=cfg.data.restore_source_backups_arn,
            restore_time=cfg.data.restore_time,
            restore_kms_key_arn=cfg.data.restore_kms_key_arn,
        ),
        opts=ctx.opts,
    )
    media = MediaBucket(
        "media",
        MediaBucketArgs(
            name_prefix=ctx.name_prefix,
            account_id=ctx.account_id,
            region=ctx.region,
            dr_region=ctx.dr_region,
            key_arn=base.keys.media_key_arn,
            dr_key_arn=base.keys.dr_media_key_arn,
            access_logs_bucket=base.logs.access_logs_bucket.id,
            app_origin=f"https://{cfg.edge.domain_name}",
            noncurrent_days=cfg.data.media_noncurrent_days,
            replication=cfg.data.media_replication,
            partition=ctx.partition,
            tls_exempt_role_names=[guardduty_module.scan_role_name(ctx.name_prefix)],
        ),
        opts=ctx.opts,
    )
    pulumi.export("databaseEndpoint", database.endpoint_address)
    pulumi.export("databaseMasterSecretArn", database.master_secret_arn)
    pulumi.export("databaseOwnerSecretArn", database.owner_secret_arn)
    pulumi.export("databaseWebSecretArn", database.web_secret_arn)
    pulumi.export("mediaBucket", media.bucket_name)
    pulumi.export("backupVault", backup.vault.name)
    return Data(backup=backup, database=database, media=media)
