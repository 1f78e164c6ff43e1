"""Which resources are stateful, and which input changes make the provider replace them.

`pulumi preview` shows `replace` when the provider's diff marks a changed property as
forcing a new resource. pulumi-aws is bridged from the Terraform AWS provider, so that
mark is the `ForceNew: true` of the upstream resource schema; the Pulumi registry pages
show it as "Changes to this property will trigger replacement". The offline diff
(tools/diff.py) cannot ask the provider, so it reads this table. Only the stateful
types the program declares are listed: a replacement of anything else is re-created
without data loss and shows as an update here.

Sources (hashicorp/terraform-provider-aws, the `Schema` map of each resource; property
names below are the Pulumi (camelCase) spelling of the Terraform attributes):

* aws:rds/instance:Instance: internal/service/rds/instance.go (`availability_zone`,
  `character_set_name`, `custom_iam_instance_profile`, `db_name`, `engine`, `kms_key_id`,
  `nchar_character_set_name`, `restore_to_point_in_time`, `s3_import`,
  `snapshot_identifier`, `storage_encrypted`, `timezone`, `username` are ForceNew).
  `identifier` is NOT: since provider v5.0.0 "Updates to `identifier` and
  `identifier_prefix` will no longer cause the database instance to be destroyed and
  recreated" (CHANGELOG 5.0.0, hashicorp/terraform-provider-aws#31232); RDS renames the
  instance in place (ModifyDBInstance NewDBInstanceIdentifier).
* aws:s3/bucket:Bucket: internal/service/s3/bucket.go (`bucket`, `bucket_prefix`,
  `object_lock_enabled`).
* aws:kms/key:Key: internal/service/kms/key.go (`custom_key_store_id`,
  `customer_master_key_spec`, `key_usage`, `multi_region`, `xks_key_id`).
* aws:backup/vault:Vault: internal/service/backup/vault.go (`name`, `kms_key_arn`).
* aws:cloudwatch/logGroup:LogGroup: internal/service/logs/group.go (`name`,
  `name_prefix`, `log_group_class`; `kms_key_id` and `retention_in_days` update in place).
* aws:secretsmanager/secret:Secret: internal/service/secretsmanager/secret.go (`name`,
  `name_prefix`).
* aws:ecr/repository:Repository: internal/service/ecr/repository.go (`name`,
  `encryption_configuration`).
* aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication:
  internal/service/rds/instance_automated_backups_replication.go (every argument:
  `source_db_instance_arn`, `kms_key_id`, `pre_signed_url`, `retention_period`).
* `region` (pulumi-aws v7's per-resource region) on every one of them: a resource
  cannot move between regions; changing it replaces the resource
  (https://www.pulumi.com/registry/packages/aws/how-to-guides/aws-enhanced-region-support/,
  "How region works").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StatefulType:
    label: str  # what is lost: "database", "bucket", ...
    replace_on: frozenset[str]  # top-level input properties whose change forces a replacement
    always: bool = True  # False: stateful only when the resource is protected (audit log groups)


def _t(label: str, *props: str, always: bool = True) -> StatefulType:
    return StatefulType(label, frozenset({"region", *props}), always)


STATEFUL: dict[str, StatefulType] = {
    "aws:rds/instance:Instance": _t(
        "database",
        "availabilityZone",
        "characterSetName",
        "customIamInstanceProfile",
        "dbName",
        "engine",
        "kmsKeyId",
        "ncharCharacterSetName",
        "restoreToPointInTime",
        "s3Import",
        "snapshotIdentifier",
        "storageEncrypted",
        "timezone",
        "username",
    ),
    "aws:s3/bucket:Bucket": _t("bucket", "bucket", "bucketPrefix", "objectLockEnabled"),
    "aws:kms/key:Key": _t("key", "customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"),
    "aws:backup/vault:Vault": _t("backup vault", "name", "kmsKeyArn"),
    "aws:cloudwatch/logGroup:LogGroup": _t("log group", "name", "namePrefix", "logGroupClass", always=False),
    "aws:secretsmanager/secret:Secret": _t("secret", "name", "namePrefix"),
    "aws:ecr/repository:Repository": _t("image repository", "name", "encryptionConfigurations"),
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": _t(
        "replicated database backups", "sourceDbInstanceArn", "kmsKeyId", "preSignedUrl", "retentionPeriod"
    ),
}


def stateful_label(typ: str, protected: bool) -> str | None:
    """What would be lost when a resource of `typ` goes away (None: nothing stateful)."""
    spec = STATEFUL.get(typ)
    if spec is None:
        return "protected resource" if protected else None
    if spec.always or protected:
        return spec.label
    return None


def forces_replacement(typ: str, prop: str) -> bool:
    """Whether a change of the top-level input `prop` makes the provider replace a `typ`."""
    spec = STATEFUL.get(typ)
    return spec is not None and prop in spec.replace_on
