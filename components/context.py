"""The small shared context every component and tier takes: who and where the stack is.

A component takes `StackContext` for the facts that are not its own (name prefix, account,
partition, regions) and its typed config section (stackconfig/) for those that are; tests and
other programs build one directly:

    StackContext(project="kakoi", stack="dev", region="ap-northeast-1", dr_region="ap-northeast-3",
                 account_id="123456789012", partition="aws")
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from stackconfig.core import CoreConfig


@dataclass(frozen=True)
class StackContext:
    """Facts every component needs. `StackContext.create(core)` resolves them for a stack."""

    #: the Pulumi project (`kakoi`)
    project: str
    #: the stack (`prod`, `staging`)
    stack: str
    #: the primary region every resource lives in, unless it is a DR copy
    region: str
    #: the disaster-recovery region of cross-region copies (BCP-1)
    dr_region: str
    #: the account the provider's credentials belong to
    account_id: pulumi.Input[str]
    #: the AWS partition (`aws`, `aws-cn`, `aws-us-gov`) for ARNs
    partition: pulumi.Input[str]
    #: resource options every top-level component takes (the explicit provider); @default no options
    opts: pulumi.ResourceOptions = field(default_factory=pulumi.ResourceOptions)

    @property
    def name_prefix(self) -> str:
        """Short physical-name prefix, e.g. `kakoi-prod` (the same as `CoreConfig.name_prefix`)."""
        return f"{self.project}-{self.stack}"

    def invoke_opts(self) -> pulumi.InvokeOutputOptions:
        """Options for data-source calls: the same provider as the resources."""
        return pulumi.InvokeOutputOptions(provider=self.opts.provider)

    @classmethod
    def create(cls, core: CoreConfig) -> StackContext:
        """The context of a stack: one explicit provider for the primary region, tagged through its
        default tags (every taggable resource carries `core.tags`), and the caller's account and partition."""
        provider = aws.Provider("aws", region=core.region, default_tags={"tags": core.tags})
        invoke = pulumi.InvokeOutputOptions(provider=provider)
        return cls(
            project=core.project,
            stack=core.stack,
            region=core.region,
            dr_region=core.dr_region,
            account_id=aws.get_caller_identity_output(opts=invoke).account_id,
            partition=aws.get_partition_output(opts=invoke).partition,
            opts=pulumi.ResourceOptions(provider=provider),
        )
