"""The alert topic (MON-2): where every alarm and every security finding is sent.

* One SNS topic, encrypted with a customer-managed KMS key. The data tier's
  ``sns`` key (components/kms.py) is used when the caller passes it: its policy
  already lets CloudWatch alarms (this account and region) and EventBridge use
  it. Without one, this component creates its own key with the same two grants.
* A topic policy that lets exactly two publishers in: CloudWatch alarms and
  EventBridge rules of this account and region whose names start with the
  stack's name prefix (``aws:SourceAccount`` + ``aws:SourceArn``), and refuses any
  request not made over TLS. Same-account IAM principals still manage the topic
  through their IAM policies; nobody outside the account can publish.
* One email subscription per address in ``kakoi:alertEmails`` (validated in
  stackconfig.detection). AWS mails each address a confirmation link; an address
  receives nothing until it confirms.

Every alarm and rule that publishes here must be named ``<name_prefix>-...``
(``ALARM_NAME_PATTERN``), or the topic policy refuses it.

Docs: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html ,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam_policies, kms, kms_policies
from components.context import StackContext
from components.iam_policies import Statement
from components.kms import Keys
from stackconfig.detection import DetectionConfig

CONTROLS: dict[str, str] = {
    "MON-2": "KMS-encrypted SNS alert topic; only this stack's CloudWatch alarms and EventBridge rules may publish; "
    "email subscribers from kakoi:alertEmails",
}


@dataclass(frozen=True)
class AlertsArgs:
    """Inputs of `Alerts`."""

    #: who and where the stack is: the name prefix of the topic and of the alarms and rules the topic
    #: policy admits (`<name_prefix>-*`), the account, partition and region those ARNs are in.
    #: Required. (MON-2)
    context: StackContext
    #: the detection settings (stackconfig/detection.py); the topic uses `alert_emails` (one email
    #: subscription each, at least one). Required. (MON-2)
    config: DetectionConfig
    #: the stack's keys: the topic is encrypted with their `sns` key (its policy already lets CloudWatch
    #: alarms and EventBridge use it). @default None: a dedicated key with the same grants is created
    #: here. (MON-2, ENC-1)
    keys: Keys | None = None


def topic_policy(topic_arn: str, account: str, region: str, name_prefix: str, partition: str) -> str:
    """Who may publish: this stack's alarms and rules in this account and region, over TLS only."""
    statements: list[Statement] = [
        {
            "Sid": "CloudWatchAlarmsOfThisStack",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{name_prefix}-*"},
            },
        },
        {
            "Sid": "EventBridgeRulesOfThisStack",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:events:{region}:{account}:rule/{name_prefix}-*"},
            },
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]
    return iam_policies.document(*statements)


def key_policy(account: str, region: str, partition: str) -> str:
    """Policy of the dedicated key (only when no key is passed in): the same grants as Keys' sns key."""
    return kms_policies.document(kms_policies.root_admin(partition, account), *kms_policies.sns_publishers(partition, region, account))


class Alerts(pulumi.ComponentResource):
    topic: aws.sns.Topic
    topic_arn: pulumi.Output[str]
    key: aws.kms.Key | None

    def __init__(self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:alerts:Alerts", name, None, opts)
        emails = args.config.alert_emails
        if not emails:
            raise ValueError("DetectionConfig.alert_emails: at least one address receives the alerts (MON-2)")
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.context
        prefix, region = ctx.name_prefix, ctx.region
        acct = pulumi.Output.from_input(ctx.account_id)
        part = pulumi.Output.from_input(ctx.partition)

        self.key = None
        kms_key_arn: pulumi.Input[str]
        if args.keys is None:
            self.key, _ = kms.customer_key(
                f"{name}-key",
                parent=self,
                description=f"{prefix}: alert topic",
                alias=f"alias/{prefix}/alerts",
                policy=pulumi.Output.all(acct, part).apply(lambda v: key_policy(v[0], region, v[1])),
                explicit_spec=False,
            )
            kms_key_arn = self.key.arn
        else:
            kms_key_arn = args.keys.sns_key_arn

        self.topic = aws.sns.Topic(
            name,
            name=f"{prefix}-alerts",
            display_name=f"{prefix} alerts",
            kms_master_key_id=kms_key_arn,
            opts=child,
        )
        self.topic_policy = aws.sns.TopicPolicy(
            name,
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, acct, part).apply(lambda v: topic_policy(v[0], v[1], region, prefix, v[2])),
            opts=child,
        )
        # named after a hash of the address, so adding or removing one address leaves the others alone
        self.subscriptions = [
            aws.sns.TopicSubscription(
                f"{name}-email-{hashlib.sha256(email.lower().encode()).hexdigest()[:10]}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=email,
                opts=child,
            )
            for email in emails
        ]
        self.topic_arn = self.topic.arn
        self.register_outputs({"topicArn": self.topic.arn, "subscribers": len(emails)})
