"""The small shared context every tier builder takes: who and where the stack is."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stackconfig.core import CoreConfig


@dataclass(frozen=True)
class StackContext:
    """Facts every component needs, resolved once (`StackContext.create`)."""

    #: the validated core section (project, stack, regions, tags)
    core: CoreConfig
    #: the explicit AWS provider of the primary region; every resource is tagged through its default tags
    provider: aws.Provider
    #: resource options every top-level component takes (the provider)
    opts: pulumi.ResourceOptions
    #: the account the provider's credentials belong to
    account_id: pulumi.Output[str]
    #: the AWS partition (`aws`, `aws-cn`, `aws-us-gov`) for ARNs
    partition: pulumi.Output[str]
    #: the account of Elastic Load Balancing in the region (log delivery to the archive)
    elb_account_arn: pulumi.Output[str]

    @property
    def name_prefix(self) -> str:
        return self.core.name_prefix

    @property
    def region(self) -> str:
        return self.core.region

    @property
    def dr_region(self) -> str:
        return self.core.dr_region

    def invoke_opts(self) -> pulumi.InvokeOutputOptions:
        return pulumi.InvokeOutputOptions(provider=self.provider)

    @classmethod
    def create(cls, core: CoreConfig) -> StackContext:
        provider = aws.Provider("aws", region=core.region, default_tags={"tags": core.tags})
        invoke = pulumi.InvokeOutputOptions(provider=provider)
        identity = aws.get_caller_identity_output(opts=invoke)
        elb_account = aws.elb.get_service_account_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        return cls(
            core=core,
            provider=provider,
            opts=pulumi.ResourceOptions(provider=provider),
            account_id=identity.account_id,
            partition=partition.partition,
            elb_account_arn=elb_account.arn,
        )
