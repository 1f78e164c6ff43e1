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
    backup = BackupPlan("backup", BackupPlanArgs(ctx, cfg.data, keys=base.keys), opts=ctx.opts)
    database = Database(
        "db",
        DatabaseArgs(ctx, cfg.data, network=base.network, security_groups=base.sgs, keys=base.keys, backup=backup),
        opts=ctx.opts,
    )
    media = MediaBucket(
        "media",
        MediaBucketArgs(
            ctx,
            cfg.data,
            keys=base.keys,
            logs=base.logs,
            app_origin=f"https://{cfg.edge.domain_name}",
            # GuardDuty Malware Protection reads and tags each upload as this role (AV-1)
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
