"""Malware scan results as events (AV-1): EventBridge rule -> encrypted SQS queue -> the app's consumer service.

GuardDuty Malware Protection for S3 (components/guardduty.py) publishes one event per scanned
object of the media bucket to the account's default EventBridge bus, detail-type
``GuardDuty Malware Protection Object Scan Result``
(https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html).
The app applies each result to its recording (app/media/scans.py), so page views read only the
database and never S3 (issue 12).

* **Rule** on the default bus: source ``aws.guardduty``, that detail-type, this bucket only
  (``detail.s3ObjectDetails.bucketName``). Its target is the queue, with a retry policy and the
  dead-letter queue for deliveries EventBridge gives up on
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
* **Queue** and **dead-letter queue**, both encrypted with a customer-managed KMS key of their
  own (rotated). EventBridge may use the key only to deliver this rule's events
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions:
  a customer-managed key must allow ``events.amazonaws.com`` kms:GenerateDataKey and kms:Decrypt),
  and the queue policies accept SendMessage only from this rule and refuse requests without TLS.
  A message received ``max_receive_count`` times without being deleted (the consumer leaves a
  malformed event undeleted) moves to the dead-letter queue, which keeps it 14 days.
* **Alarms** to the alert topic (docs/runbooks/alerts.md): ``scan-queue-age`` (the oldest
  message waited longer than ``max_age_seconds``: the consumer is down or stuck),
  ``scan-queue-depth`` (more than ``max_depth`` waiting) and ``scan-dlq-messages`` (anything in
  the dead-letter queue), and with the service ``scan-consumer-down`` (no running task for 5
  minutes; Container Insights, as the web service's alarms). SQS metrics: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
* **Consumer**: an ECS service (one Fargate task) from the app's image running
  ``manage consume_scan_results`` (the image's entrypoint: ``python -m kakoi.entrypoint``, so
  this is ``python manage.py consume_scan_results`` without a shell), hardened like the web
  container, connected to the database as ``kakoi_web``, with ``KAKOI_SCAN_QUEUE_URL``. Its
  task role may only read and delete messages of this queue (and decrypt them through SQS),
  read scan tags and purge objects of the media bucket (the reconciliation sweep and a threat),
  and send mail from the app's address. The execution role is the app's (same image, log group
  and injected secrets).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components import app_iam, ecs_task, iam_policies, kms_policies
from components.app_service import web_role_containers
from components.contract import contract
from components.iam_policies import Statement

if TYPE_CHECKING:
    from components.alerts import Alerts
    from components.app_iam import AppIam
    from components.app_service import AppService
    from components.context import StackContext
    from components.database import Database
    from components.mail import Mail
    from components.media_bucket import MediaBucket
    from stackconfig.app import AppConfig

CONTROLS: dict[str, str] = {
    "AV-1": "GuardDuty scan results of the media bucket go by EventBridge to a KMS-encrypted SQS queue (with a "
    "dead-letter queue) consumed by the app's scan-consumer service, which records them on the recordings",
    "MON-1": "alarms on the scan queue's oldest-message age and depth and on any message in its dead-letter queue",
    "ENC-1": "the scan queues are encrypted with a customer-managed key and refuse requests without TLS",
}

DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result"
CONTAINER = contract.SCAN_CONSUMER.name
COMMAND = list(contract.SCAN_CONSUMER.command)
SQS_CONSUME = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
#: reading scan tags (the sweep) and purging every version of an object (a threat)
MEDIA_OBJECT_ACTIONS = ["s3:GetObjectTagging", "s3:GetObjectVersionTagging", "s3:DeleteObject", "s3:DeleteObjectVersion"]
MEDIA_BUCKET_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions"]
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class ScanEventsArgs:
    """Where scan results come from (the media bucket), who hears about trouble (the alert topic) and
    the app workload that consumes them (AV-1)."""

    #: prefix, account, partition, region: names `<prefix>-scan-results*`, `<prefix>-scan-consumer*`, the rule
    #: ARN the key and queue policies admit (ENC-1); required
    context: StackContext
    #: the app's section: the consumer's CPU architecture, the from-address it may send mail from, and
    #: whether its service is declared (kakoi:appServiceEnabled, like the web service's; AV-1); required
    config: AppConfig
    #: rotation period of the queues' customer-managed key, days (kakoi:kmsKeyRotationDays, ENC-1); required
    key_rotation_days: int
    #: the bucket whose scan results the rule selects and the consumer tags and purges (AV-1, PATH-1); required
    media: MediaBucket
    #: the alert topic of the queue alarms (MON-2); required
    alerts: Alerts
    #: the app service: the consumer runs in its cluster, from its image, in its subnets and security group,
    #: with its environment and log group (MON-1), after its provisioning step has filled the secrets (AV-1); required
    service: AppService
    #: the app's execution role (same image, log group and injected secrets) and its policies (CMD-1); required
    iam: AppIam
    #: the web role's secret the consumer connects with (kakoi_web, SQL-3); required
    database: Database
    #: the SES identity and configuration set the consumer may send through (ENC-1); required
    mail: Mail
    #: SQS: seconds a received message stays invisible (the consumer applies one in well under a second; AV-1);
    #: @default 60
    visibility_timeout_seconds: int = 60
    #: receives before a message moves to the dead-letter queue (AV-1); @default 5
    max_receive_count: int = 5
    #: alarm when the oldest message waited longer than this, seconds (MON-1); @default 900
    max_age_seconds: int = 900
    #: alarm when more messages than this wait (MON-1); @default 100
    max_depth: int = 100


def event_pattern(bucket: str) -> str:
    """Scan results of objects of `bucket` (every result: clean, threat, unsupported, failed)."""
    return json.dumps(
        {"source": ["aws.guardduty"], "detail-type": [DETAIL_TYPE], "detail": {"s3ObjectDetails": {"bucketName": [bucket]}}},
        separators=(",", ":"),
    )


def key_policy(partition: str, account: str, region: str, rule_arn: str) -> str:
    """Administration by the account (IAM decides), use through SQS by the account's principals, and
    EventBridge encrypting for this rule's deliveries only."""
    return iam_policies.document(
        kms_policies.root_admin(partition, account),
        *kms_policies.via_services(account, "Sqs", [kms_policies.service_endpoint("sqs", region)], grants=False),
        {
            "Sid": "EventBridgeDeliversScanResults",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        },
    )


def queue_policy(queue_arn: str, rule_arn: str) -> str:
    """Only this rule may send (EventBridge's service principal, for this rule's ARN); no request without TLS."""
    return iam_policies.document(
        {
            "Sid": "EventBridgeScanResults",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


def consumer_statements(
    *,
    queue_arn: str,
    key_arn: str,
    bucket_arn: str,
    identity_arn: str,
    configuration_set_arn: str,
    from_address: str,
    region: str,
) -> list[Statement]:
    return [
        {"Sid": "ConsumeScanResults", "Effect": "Allow", "Action": SQS_CONSUME, "Resource": queue_arn},
        {
            "Sid": "DecryptScanResultsThroughSqs",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}},
        },
        {"Sid": "ScanTagsAndPurge", "Effect": "Allow", "Action": MEDIA_OBJECT_ACTIONS, "Resource": f"{bucket_arn}/*"},
        {"Sid": "ListVersionsToPurge", "Effect": "Allow", "Action": MEDIA_BUCKET_ACTIONS, "Resource": bucket_arn},
        {
            "Sid": "SendMailFromAppAddress",
            "Effect": "Allow",
            "Action": app_iam.SES_SEND,
            "Resource": [identity_arn, configuration_set_arn],
            "Condition": {"StringEquals": {"ses:FromAddress": from_address}},
        },
    ]


class ScanEvents(pulumi.ComponentResource):
    key: aws.kms.Key
    queue: aws.sqs.Queue
    dead_letter_queue: aws.sqs.Queue
    rule: aws.cloudwatch.EventRule
    task_role: aws.iam.Role
    task_definition: aws.ecs.TaskDefinition
    service: aws.ecs.Service | None
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: ScanEventsArgs, opts: pulumi.ResourceOptions | None = None):
        """The consumer's tasks start after the app's role policies and its provisioning step (which fills
        the web role's secret and the Django key they read)."""
        super().__init__("kakoi:scan_events:ScanEvents", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, cfg, app, topic_arn = args.context, args.config, args.service, args.alerts.topic_arn
        prefix, region = ctx.name_prefix, ctx.region
        acct = pulumi.Output.from_input(ctx.account_id)
        part = pulumi.Output.from_input(ctx.partition)
        rule_name = f"{prefix}-scan-results"
        rule_arn = pulumi.Output.all(part, acct).apply(lambda v: f"arn:{v[0]}:events:{region}:{v[1]}:rule/{rule_name}")

        # ---- the key of both queues
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{prefix}: the scan result queues (SQS)",
            enable_key_rotation=True,
            rotation_period_in_days=args.key_rotation_days,
            deletion_window_in_days=30,
            policy=pulumi.Output.all(part, acct, rule_arn).apply(lambda v: key_policy(v[0], v[1], region, v[2])),
            # messages waiting in the queues cannot be read without it (kakoi-rec-stateful-protected)
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        aws.kms.Alias(f"{name}-key", name=f"alias/{prefix}-scan-results", target_key_id=self.key.key_id, opts=child)

        # ---- queues
        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq",
            name=f"{prefix}-scan-results-dlq",
            kms_master_key_id=self.key.arn,
            kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            f"{name}-queue",
            name=f"{prefix}-scan-results",
            kms_master_key_id=self.key.arn,
            kms_data_key_reuse_period_seconds=300,
            visibility_timeout_seconds=args.visibility_timeout_seconds,
            message_retention_seconds=4 * 24 * 3600,
            receive_wait_time_seconds=20,
            redrive_policy=self.dead_letter_queue.arn.apply(
                lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": args.max_receive_count}, separators=(",", ":"))
            ),
            opts=child,
        )
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dlq-sources",
            queue_url=self.dead_letter_queue.url,
            redrive_allow_policy=self.queue.arn.apply(
                lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]}, separators=(",", ":"))
            ),
            opts=child,
        )
        policies = []
        for short, queue in (("queue", self.queue), ("dlq", self.dead_letter_queue)):
            policies.append(
                aws.sqs.QueuePolicy(
                    f"{name}-{short}-policy",
                    queue_url=queue.url,
                    policy=pulumi.Output.all(queue.arn, rule_arn).apply(lambda v: queue_policy(v[0], v[1])),
                    opts=child,
                )
            )

        # ---- the rule
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=rule_name,
            description="GuardDuty Malware Protection for S3 scan results of the media bucket, for the app's consumer",
            event_pattern=pulumi.Output.from_input(args.media.bucket_name).apply(event_pattern),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=self.rule.name,
            target_id="scan-results-queue",
            arn=self.queue.arn,
            retry_policy={"maximum_event_age_in_seconds": 24 * 3600, "maximum_retry_attempts": 185},
            dead_letter_config={"arn": self.dead_letter_queue.arn},
            opts=pulumi.ResourceOptions(parent=self, depends_on=policies),
        )

        # ---- alarms
        self.alarms = {}
        for key, queue, metric, threshold, periods, summary in (
            (
                "scan-queue-age",
                self.queue,
                "ApproximateAgeOfOldestMessage",
                args.max_age_seconds,
                2,
                f"A malware scan result waited more than {args.max_age_seconds} s in the queue: the scan consumer is down or stuck",
            ),
            (
                "scan-queue-depth",
                self.queue,
                "ApproximateNumberOfMessagesVisible",
                args.max_depth,
                2,
                f"More than {args.max_depth} malware scan results are waiting for the scan consumer",
            ),
            (
                "scan-dlq-messages",
                self.dead_letter_queue,
                "ApproximateNumberOfMessagesVisible",
                0,
                1,
                "A malware scan result could not be applied or delivered and is in the dead-letter queue",
            ),
        ):
            self.alarms[key] = aws.cloudwatch.MetricAlarm(
                f"{name}-{key}",
                name=f"{prefix}-{key}",
                alarm_description=f"{summary}. Runbook: docs/runbooks/alerts.md#{key}",
                namespace="AWS/SQS",
                metric_name=metric,
                dimensions={"QueueName": queue.name},
                statistic="Maximum",
                period=300,
                evaluation_periods=periods,
                datapoints_to_alarm=periods,
                threshold=float(threshold),
                comparison_operator="GreaterThanThreshold",
                # an idle queue still reports zeros; no data at all (a new stack) is not a problem
                treat_missing_data="notBreaching",
                actions_enabled=True,
                alarm_actions=[topic_arn],
                ok_actions=[topic_arn],
                opts=child,
            )

        # ---- the consumer: task role, task definition, service
        self.task_role = aws.iam.Role(
            f"{name}-task",
            name=f"{prefix}-scan-consumer-task",
            description="The scan-result consumer: this queue, scan tags and purges of the media bucket, app mail",
            assume_role_policy=pulumi.Output.all(part, acct).apply(lambda v: app_iam.trust_policy(v[0], region, v[1])),
            opts=child,
        )
        task_policy = aws.iam.RolePolicy(
            f"{name}-task",
            role=self.task_role.id,
            policy=pulumi.Output.all(
                self.queue.arn, self.key.arn, args.media.bucket_arn, args.mail.identity_arn, args.mail.configuration_set_arn
            ).apply(
                lambda v: iam_policies.document(
                    *consumer_statements(
                        queue_arn=v[0],
                        key_arn=v[1],
                        bucket_arn=v[2],
                        identity_arn=v[3],
                        configuration_set_arn=v[4],
                        from_address=cfg.mail_from,
                        region=region,
                    )
                )
            ),
            opts=child,
        )
        # the app's environment and the queue
        environment = pulumi.Output.all(ecs_task.resolve_environment(app.environment), self.queue.url).apply(
            lambda v: {**v[0], contract.Env.KAKOI_SCAN_QUEUE_URL: str(v[1])}
        )
        definitions = pulumi.Output.all(
            app.image_ref, environment, args.database.web_secret_arn, args.iam.django_secret_arn, app.log_group_name
        ).apply(
            lambda v: web_role_containers(
                name=CONTAINER,
                command=COMMAND,
                image=v[0],
                environment=v[1],
                web_secret_arn=v[2],
                django_secret_arn=v[3],
                log_group=v[4],
                region=region,
            )
        )
        self.task_definition = ecs_task.task_definition(
            f"{name}-consumer",
            self,
            family=f"{prefix}-scan-consumer",
            cpu=256,
            memory=512,
            cpu_architecture=cfg.cpu_architecture,
            execution_role_arn=args.iam.execution_role_arn,
            task_role_arn=self.task_role.arn,
            volumes=[f"{CONTAINER}-tmp"],
            container_definitions=definitions,
        )
        self.service = None
        if cfg.service_enabled:
            self.service = ecs_task.service(
                f"{name}-consumer",
                self,
                service_name=f"{prefix}-scan-consumer",
                cluster_arn=app.cluster.arn,
                task_definition_arn=self.task_definition.arn,
                # one consumer is enough (a message takes milliseconds); during a deployment two may
                # run at once, which is harmless (applying a result is idempotent)
                desired_count=1,
                subnet_ids=app.subnet_ids,
                security_group_ids=[app.security_group_id],
                # the consumer's tasks read the web role's secret and the Django key: filled by the provisioning in the run
                depends_on=[task_policy, *args.iam.service_policies, app.provisioning.run],
            )
            self.alarms["scan-consumer-down"] = aws.cloudwatch.MetricAlarm(
                f"{name}-scan-consumer-down",
                name=f"{prefix}-scan-consumer-down",
                alarm_description="The scan consumer has had no running task for 5 minutes: scan results wait in the queue. "
                "Runbook: docs/runbooks/alerts.md#scan-consumer-down",
                namespace="ECS/ContainerInsights",
                metric_name="RunningTaskCount",
                dimensions={"ClusterName": app.cluster_name, "ServiceName": self.service.name},
                statistic="Minimum",
                period=60,
                evaluation_periods=5,
                datapoints_to_alarm=5,
                threshold=1.0,
                comparison_operator="LessThanThreshold",
                # Container Insights reports every minute while the service exists; silence means nobody can see it run
                treat_missing_data="breaching",
                actions_enabled=True,
                alarm_actions=[topic_arn],
                ok_actions=[topic_arn],
                opts=child,
            )

        self.queue_url = self.queue.url
        self.queue_arn = self.queue.arn
        self.dead_letter_queue_arn = self.dead_letter_queue.arn
        self.rule_name = self.rule.name
        self.alarm_arns: list[pulumi.Output[str]] = [a.arn for a in self.alarms.values()]
        outputs: dict[str, Any] = {
            "queueUrl": self.queue.url,
            "queueArn": self.queue.arn,
            "deadLetterQueueArn": self.dead_letter_queue.arn,
            "ruleName": self.rule.name,
            "consumerService": self.service.name if self.service else None,
        }
        self.register_outputs(outputs)
