"""The app's retry queues, drained on a schedule (AVL-1, USR-2, MON-1): EventBridge Scheduler runs
``manage send_queued_email`` and ``manage purge_objects`` as one-off ECS tasks of the app's image.

The app keeps a notice it could not send (core/outbox.py, ``core_outboundemail``) and an S3 purge it
could not finish (storage/purge.py, ``storage_purgerequest``) as durable rows and retries them right
after COMMIT; these schedules retry whatever is still queued after an SES or S3 outage, so nothing
waits for an operator (docs/runbooks/faults.md).

Why a schedule of one-off tasks, not a long-running worker loop: a schedule needs no process to stay
healthy (nothing to crash-loop, nothing to alarm on while idle), each run starts from the current
image and task definition, a run that fails is simply the next run's work (both commands are
idempotent: a notice is sent under ``SELECT ... FOR UPDATE SKIP LOCKED`` and deleted once sent, a
purge deletes object versions that may already be gone), and a failure to *start* a run is
retried by the Scheduler and ends in a dead-letter queue that is alarmed. The cost is a Fargate
cold start per run (~30-60 s), irrelevant for queues drained every few minutes.

* **Task definitions** ``<prefix>-send-queued-email`` and ``<prefix>-purge-objects``: one hardened
  container each (components/app_service.hardened_container: read-only root, non-root, no
  capabilities, logs to the app's KMS-encrypted log group under their own stream prefix), the
  entrypoint's ``manage <command>`` (app/kakoi/entrypoint.py allow-list), connected as ``kakoi_web``
  (SQL-3), with the app's execution role (it already reads exactly these secrets) and the app's task
  role (SES sending from the app's address, the media bucket's purge actions). One definition per
  command, so the schedule needs no container override.
* **Schedules** (EventBridge Scheduler, the ``default`` group) with an ECS ``RunTask`` templated
  target on the app's cluster: Fargate, the private subnets, the app's security group, no public
  IP (ECS.2), a retry policy (``retry_attempts`` over ``max_event_age_seconds``) and a dead-letter
  queue.
  https://docs.aws.amazon.com/scheduler/latest/APIReference/API_Target.html
  https://docs.aws.amazon.com/scheduler/latest/APIReference/API_EcsParameters.html
  https://docs.aws.amazon.com/scheduler/latest/APIReference/API_RetryPolicy.html (0-185 attempts,
  60-86400 s)
* **Scheduler role** ``<prefix>-schedules``, trusted by ``scheduler.amazonaws.com`` for this
  account's schedules only (``aws:SourceAccount``, ``aws:SourceArn``): ``ecs:RunTask`` on these two
  task definition families in the app's cluster only, ``iam:PassRole`` on the two roles the tasks
  use (the app's execution and task roles) and only to ECS tasks, ``ecs:TagResource`` for the tasks
  it starts, and ``sqs:SendMessage`` to the dead-letter queue.
  https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/CWE_IAM_role.html ("you must add
  iam:PassRole permissions for each task execution role, task role")
  https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
* **Dead-letter queue** ``<prefix>-schedules-dlq`` (SSE-SQS: it holds only the Scheduler's
  dead-letter events, the schedule's ARN and the RunTask error, no app data; TLS required) and the
  alarm ``schedules-dlq-messages``: a run that could not be started after every retry. A new,
  healthy stack has an empty queue (missing data is not breaching), so it does not fire.

Created only with the app service (``kakoi:appServiceEnabled``): before the first deploy has filled
the role secrets there is nothing to run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components import iam_policies
from components.app_service import web_role_containers
from components.context import StackContext
from components.contract import contract

if TYPE_CHECKING:  # handles only for `SchedulesArgs.of` (no import cycle at run time)
    from components.alerts import Alerts
    from components.app_iam import AppIam
    from components.app_service import AppService
    from components.database import Database
    from stackconfig.app import AppConfig

CONTROLS: dict[str, str] = {
    "AVL-1": "queued notices and S3 purges are retried by scheduled ECS tasks (EventBridge Scheduler, retries and a "
    "dead-letter queue) until done: an SES or S3 outage delays them, never drops them",
    "MON-1": "an alarm on any scheduled run that could not be started (the schedules' dead-letter queue)",
}

DLQ_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class ScheduledCommand:
    """One management command run on a schedule."""

    #: short name: the task definition family and schedule are `<prefix>-<name>` (schedule names: 1-64 of [0-9A-Za-z-_.])
    name: str
    #: the image entrypoint's arguments (`manage <command>`, app/kakoi/entrypoint.py MANAGE_ALLOWED)
    command: tuple[str, ...]
    #: EventBridge Scheduler expression, `rate(...)` or `cron(...)`
    #: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
    expression: str
    description: str


#: what runs: the two durable retry queues of the app (docs/runbooks/faults.md)
COMMANDS: tuple[ScheduledCommand, ...] = (
    ScheduledCommand(
        name=contract.SEND_QUEUED_EMAIL.name,
        command=contract.SEND_QUEUED_EMAIL.command,
        expression="rate(5 minutes)",
        description="Retry the notices the mail backend could not send (core_outboundemail)",
    ),
    ScheduledCommand(
        name=contract.PURGE_OBJECTS.name,
        command=contract.PURGE_OBJECTS.command,
        expression="rate(15 minutes)",
        description="Retry the S3 purges of deleted accounts and recordings (storage_purgerequest)",
    ),
)


@dataclass(frozen=True)
class SchedulesArgs:
    """Inputs of `Schedules`. Every handle is the app service's (same cluster, image, roles, network)."""

    #: name prefix, account, partition, region (required)
    context: StackContext
    #: the app's ECS cluster (required)
    cluster_arn: pulumi.Input[str]
    #: the app image by digest (required)
    image_ref: pulumi.Input[str]
    #: ECS runtime platform `cpuArchitecture`, ARM64 or X86_64 (required; `AppConfig.cpu_architecture`)
    cpu_architecture: str
    #: the app's execution role: pulls the image, writes the log group, reads the web role's and Django's secrets (required)
    execution_role_arn: pulumi.Input[str]
    #: the app's task role: SES from the app's address, the media bucket's purge actions (required)
    task_role_arn: pulumi.Input[str]
    #: the app's log group (required; MON-1)
    log_group_name: pulumi.Input[str]
    #: plain environment of the app's containers (app_service.app_environment; required)
    environment: Mapping[str, pulumi.Input[str]]
    #: the web role's secret: the tasks connect as kakoi_web (required; SQL-3)
    web_secret_arn: pulumi.Input[str]
    #: the Django signing key's secret (required)
    django_secret_arn: pulumi.Input[str]
    #: the private subnets (required; ECS.2)
    subnet_ids: Sequence[pulumi.Input[str]]
    #: the app's security group (required: it reaches the database, SES and S3 endpoints)
    security_group_id: pulumi.Input[str]
    #: where the alarm goes (required; MON-1)
    alerts_topic_arn: pulumi.Input[str]
    #: @default COMMANDS (send_queued_email every 5 minutes, purge_objects every 15)
    commands: Sequence[ScheduledCommand] = field(default=COMMANDS)
    #: Scheduler retries of a RunTask call that failed (throttling, no capacity); @default 5 (API: 0-185)
    retry_attempts: int = 5
    #: give a run up after this long (then it goes to the dead-letter queue); @default 600 s (API: 60-86400),
    #: well inside the shortest schedule interval's next-but-one run
    max_event_age_seconds: int = 600

    @classmethod
    def of(
        cls,
        context: StackContext,
        config: AppConfig,
        *,
        service: AppService,
        iam: AppIam,
        database: Database,
        alerts: Alerts,
    ) -> SchedulesArgs:
        """The args of the app's schedules from the typed handles of what they run on: the app service's
        cluster, image, environment, log group and network, its IAM roles, the web role's secret and the
        alert topic (what `tiers/app.py` calls)."""
        return cls(
            context=context,
            cluster_arn=service.cluster.arn,
            image_ref=service.image_ref,
            cpu_architecture=config.cpu_architecture,
            execution_role_arn=iam.execution_role_arn,
            task_role_arn=iam.task_role_arn,
            log_group_name=service.log_group_name,
            environment=service.environment,
            web_secret_arn=database.web_secret_arn,
            django_secret_arn=iam.django_secret_arn,
            subnet_ids=service.subnet_ids,
            security_group_id=service.security_group_id,
            alerts_topic_arn=alerts.topic_arn,
        )

    def __post_init__(self) -> None:
        if not 0 <= self.retry_attempts <= 185:
            raise ValueError(f"SchedulesArgs.retry_attempts: {self.retry_attempts} is outside 0-185 (EventBridge Scheduler RetryPolicy)")
        if not 60 <= self.max_event_age_seconds <= 86400:
            raise ValueError(
                f"SchedulesArgs.max_event_age_seconds: {self.max_event_age_seconds} is outside 60-86400 (EventBridge Scheduler RetryPolicy)"
            )


def task_failed_pattern(cluster_arn: str, families: Sequence[str]) -> str:
    """EventBridge pattern of a scheduled task that stopped with a failure: a container exited non-zero,
    or the task failed to start. Fields of the "ECS Task State Change" event:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html; RunTask's default
    `group` is `family:<family>` (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html);
    `$or` and `anything-but`: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html"""
    return json.dumps(
        {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Task State Change"],
            "detail": {
                "clusterArn": [cluster_arn],
                "lastStatus": ["STOPPED"],
                "group": [f"family:{f}" for f in families],
                "$or": [{"containers": {"exitCode": [{"anything-but": 0}]}}, {"stopCode": ["TaskFailedToStart"]}],
            },
        },
        sort_keys=True,
    )


def trust_policy(partition: str, region: str, account: str, name_prefix: str) -> str:
    """EventBridge Scheduler, for this account's schedules of this stack only (confused-deputy protection)."""
    return iam_policies.document(
        iam_policies.service_trust(
            "scheduler.amazonaws.com",
            source_account=account,
            source_arn_like=f"arn:{partition}:scheduler:{region}:{account}:schedule/default/{name_prefix}-*",
        )
    )


def scheduler_policy(
    *,
    partition: str,
    region: str,
    account: str,
    cluster_arn: str,
    cluster_name: str,
    families: Sequence[str],
    passed_role_arns: Sequence[str],
    dlq_arn: str,
) -> str:
    """RunTask of these families in this cluster, PassRole of the tasks' two roles to ECS, tags on the tasks it starts, the DLQ."""
    task_definitions = [f"arn:{partition}:ecs:{region}:{account}:task-definition/{family}:*" for family in families]
    return iam_policies.document(
        {
            "Sid": "RunScheduledTasks",
            "Effect": "Allow",
            "Action": "ecs:RunTask",
            "Resource": task_definitions,
            "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}},
        },
        {
            "Sid": "PassTheTasksRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": list(passed_role_arns),
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
        {
            "Sid": "TagTheTasksItStarts",
            "Effect": "Allow",
            "Action": "ecs:TagResource",
            "Resource": f"arn:{partition}:ecs:{region}:{account}:task/{cluster_name}/*",
            "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
        },
        {"Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dlq_arn},
    )


def queue_policy(queue_arn: str) -> str:
    """No request without TLS (the Scheduler's role sends through its IAM policy)."""
    return iam_policies.document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


class Schedules(pulumi.ComponentResource):
    """`kakoi:schedules:Schedules`: see the module docstring."""

    dead_letter_queue: aws.sqs.Queue
    role: aws.iam.Role
    task_definitions: dict[str, aws.ecs.TaskDefinition]
    schedules: dict[str, aws.scheduler.Schedule]
    alarm: aws.cloudwatch.MetricAlarm

    def __init__(
        self,
        name: str,
        args: SchedulesArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        ready: Sequence[pulumi.Resource] = (),
    ):
        """`ready`: what must exist before the first run may start (the roles' policies, the provisioning
        step that fills the secrets the tasks inject)."""
        super().__init__("kakoi:schedules:Schedules", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.context
        prefix = ctx.name_prefix
        region = ctx.region
        acct = pulumi.Output.from_input(ctx.account_id)
        part = pulumi.Output.from_input(ctx.partition)

        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq",
            name=f"{prefix}-schedules-dlq",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-dlq-policy",
            queue_url=self.dead_letter_queue.url,
            policy=self.dead_letter_queue.arn.apply(queue_policy),
            opts=child,
        )

        env_keys = sorted(args.environment)
        environment = pulumi.Output.all(*[args.environment[k] for k in env_keys]).apply(
            lambda values: dict(zip(env_keys, [str(v) for v in values], strict=True))
        )
        self.task_definitions = {}
        for command in args.commands:
            definitions = pulumi.Output.all(
                args.image_ref, environment, args.web_secret_arn, args.django_secret_arn, args.log_group_name
            ).apply(
                lambda v, c=command: web_role_containers(
                    name=c.name,
                    command=c.command,
                    image=v[0],
                    environment=v[1],
                    web_secret_arn=v[2],
                    django_secret_arn=v[3],
                    log_group=v[4],
                    region=region,
                )
            )
            # the smallest Fargate size: each run is a few queries and API calls
            self.task_definitions[command.name] = aws.ecs.TaskDefinition(
                f"{name}-{command.name}",
                family=f"{prefix}-{command.name}",
                requires_compatibilities=["FARGATE"],
                network_mode="awsvpc",
                cpu="256",
                memory="512",
                runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                    operating_system_family="LINUX", cpu_architecture=args.cpu_architecture
                ),
                execution_role_arn=args.execution_role_arn,
                task_role_arn=args.task_role_arn,
                volumes=[{"name": f"{command.name}-tmp"}],
                container_definitions=definitions,
                skip_destroy=True,
                opts=child,
            )

        families = [f"{prefix}-{c.name}" for c in args.commands]
        cluster_name = pulumi.Output.from_input(args.cluster_arn).apply(lambda arn: arn.rsplit("/", 1)[-1])
        self.role = aws.iam.Role(
            f"{name}-role",
            name=f"{prefix}-schedules",
            description="EventBridge Scheduler: run the app's scheduled commands (send_queued_email, purge_objects)",
            assume_role_policy=pulumi.Output.all(part, acct).apply(lambda v: trust_policy(v[0], region, v[1], prefix)),
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-role",
            role=self.role.id,
            policy=pulumi.Output.all(
                part, acct, args.cluster_arn, cluster_name, args.execution_role_arn, args.task_role_arn, self.dead_letter_queue.arn
            ).apply(
                lambda v: scheduler_policy(
                    partition=v[0],
                    region=region,
                    account=v[1],
                    cluster_arn=v[2],
                    cluster_name=v[3],
                    families=families,
                    passed_role_arns=[v[4], v[5]],
                    dlq_arn=v[6],
                )
            ),
            opts=child,
        )

        self.schedules = {}
        for command in args.commands:
            self.schedules[command.name] = aws.scheduler.Schedule(
                f"{name}-{command.name}",
                name=f"{prefix}-{command.name}",
                group_name="default",
                description=command.description,
                schedule_expression=command.expression,
                flexible_time_window={"mode": "OFF"},
                state="ENABLED",
                target={
                    "arn": args.cluster_arn,
                    "role_arn": self.role.arn,
                    "ecs_parameters": {
                        "task_definition_arn": self.task_definitions[command.name].arn,
                        "launch_type": "FARGATE",
                        "platform_version": "LATEST",
                        "task_count": 1,
                        "enable_ecs_managed_tags": True,
                        "propagate_tags": "TASK_DEFINITION",
                        "network_configuration": {
                            "subnets": list(args.subnet_ids),
                            "security_groups": [args.security_group_id],
                            "assign_public_ip": False,
                        },
                    },
                    "retry_policy": {
                        "maximum_retry_attempts": args.retry_attempts,
                        "maximum_event_age_in_seconds": args.max_event_age_seconds,
                    },
                    "dead_letter_config": {"arn": self.dead_letter_queue.arn},
                },
                # the first run finds its role allowed and the secrets it injects filled
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, *ready]),
            )

        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-dlq-messages",
            name=f"{prefix}-schedules-dlq-messages",
            alarm_description="A scheduled run of send_queued_email or purge_objects could not be started after every retry "
            "(its dead-letter event is in the schedules' dead-letter queue). Runbook: docs/runbooks/alerts.md#schedules-dlq-messages",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dead_letter_queue.name},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=0.0,
            comparison_operator="GreaterThanThreshold",
            # an empty queue reports zeros; no data at all (a new stack) is not a problem
            treat_missing_data="notBreaching",
            actions_enabled=True,
            alarm_actions=[args.alerts_topic_arn],
            ok_actions=[args.alerts_topic_arn],
            opts=child,
        )

        # a run that started but failed (exit code not 0: the database or SES down for longer than the
        # command's own retries) or could not start (image pull, secrets): the queued work stays queued and
        # the next run retries it, but a run that keeps failing must reach people (MON-2)
        self.failed_rule = aws.cloudwatch.EventRule(
            f"{name}-task-failed",
            name=f"{prefix}-schedules-task-failed",
            description="A scheduled send_queued_email or purge_objects task stopped with a failure. "
            "Runbook: docs/runbooks/alerts.md#schedules-task-failed",
            event_pattern=pulumi.Output.from_input(args.cluster_arn).apply(
                lambda arn: task_failed_pattern(arn, [f"{prefix}-{c.name}" for c in args.commands])
            ),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-task-failed",
            rule=self.failed_rule.name,
            target_id="alerts-topic",
            arn=args.alerts_topic_arn,
            opts=child,
        )

        self.dead_letter_queue_arn = self.dead_letter_queue.arn
        self.role_arn = self.role.arn
        #: for the dashboard's alarm row (components/availability.py)
        self.alarm_arns: list[pulumi.Output[str]] = [self.alarm.arn]
        self.register_outputs(
            {
                "deadLetterQueueArn": self.dead_letter_queue.arn,
                "roleArn": self.role.arn,
                "scheduleNames": [s.name for s in self.schedules.values()],
                "taskDefinitionArns": [t.arn for t in self.task_definitions.values()],
            }
        )
