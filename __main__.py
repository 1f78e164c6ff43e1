"""kakoi: reads and validates the stack config, then wires the components together.

Nothing else happens here: every resource is declared inside a component
(components/), and every setting is validated (stackconfig/) before the first one.
"""

import pulumi
import pulumi_aws as aws

import stackconfig
from components.log_archive import LogArchive, LogArchiveArgs
from stackconfig.pulumi_source import PulumiConfigValues

try:
    cfg = stackconfig.load(PulumiConfigValues(), project=pulumi.get_project(), stack=pulumi.get_stack())
except stackconfig.ConfigError as exc:
    raise pulumi.RunError(str(exc)) from exc

# One explicit provider per region: every resource is tagged through its default tags.
provider = aws.Provider("aws", region=cfg.core.region, default_tags={"tags": cfg.core.tags})
opts = pulumi.ResourceOptions(provider=provider)
identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider))
elb_account = aws.elb.get_service_account_output(opts=pulumi.InvokeOutputOptions(provider=provider))

logs = LogArchive(
    "logs",
    LogArchiveArgs(
        name_prefix=cfg.core.name_prefix,
        account_id=identity.account_id,
        region=cfg.core.region,
        elb_account_arn=elb_account.arn,
        object_lock_mode=cfg.log_archive.object_lock_mode,
        object_lock_days=cfg.log_archive.object_lock_days,
        cold_storage_after_days=cfg.log_archive.cold_storage_after_days,
    ),
    opts=opts,
)

pulumi.export("logArchiveBucket", logs.archive_bucket_name)
