"""The availability canary's execution role (AVL-1): what the canary Lambda needs and nothing more.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_Roles.html:
write its artifacts under ``artifacts/``, find the bucket, put metrics in the ``CloudWatchSynthetics``
namespace only, write to its own log group, and use the artifacts key through S3. It cannot create
log groups: `components.synthetics` creates the canary's ``/aws/lambda/cwsyn-...`` group itself.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import iam_policies
from components.canary_artifacts import ARTIFACTS_PREFIX
from components.context import StackContext
from components.iam_policies import Statement

#: the only CloudWatch namespace the canary may publish to
SYNTHETICS = "CloudWatchSynthetics"


def role_trust(account: str) -> str:
    return iam_policies.service_trust_policy("lambda.amazonaws.com", source_account=account)


def role_policy(partition: str, region: str, account: str, bucket_arn: str, key_arn: str, canary_name: str) -> str:
    statements: list[Statement] = [
        {
            "Sid": "WriteArtifacts",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": f"{bucket_arn}/{ARTIFACTS_PREFIX}*",
        },
        {"Sid": "LocateArtifactsBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arn},
        # Synthetics lists buckets to check the artifact location; the action has no resource scope
        {"Sid": "ListBuckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        {
            "Sid": "PublishCanaryMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": SYNTHETICS}},
        },
        {
            # not logs:CreateLogGroup: the group is created (encrypted, with retention) by this program
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/cwsyn-{canary_name}-*:*",
        },
        {
            "Sid": "EncryptArtifacts",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        },
    ]
    return iam_policies.document(*statements)


def declare(
    name: str,
    *,
    parent: pulumi.Resource,
    context: StackContext,
    canary_name: str,
    bucket_arn: pulumi.Input[str],
    key_arn: pulumi.Input[str],
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """The role and its inline policy (`<name>-canary`), children of `parent`; the canary waits for the policy."""
    child = pulumi.ResourceOptions(parent=parent)
    acct = pulumi.Output.from_input(context.account_id)
    part = pulumi.Output.from_input(context.partition)
    role = aws.iam.Role(
        f"{name}-canary",
        name=f"{context.name_prefix}-canary",
        description=f"CloudWatch Synthetics canary {canary_name}",
        assume_role_policy=acct.apply(role_trust),
        opts=child,
    )
    policy = aws.iam.RolePolicy(
        f"{name}-canary",
        role=role.id,
        policy=pulumi.Output.all(part, acct, bucket_arn, key_arn).apply(
            lambda v: role_policy(v[0], context.region, v[1], v[2], v[3], canary_name)
        ),
        opts=child,
    )
    return role, policy
