"""The retry queues drained on a schedule (AVL-1, MON-1, issue 18): EventBridge Scheduler runs send_queued_email and
purge_objects as ECS tasks of the app image, with retries, a dead-letter queue and an alarm on it."""

from __future__ import annotations

import importlib
import json

import pytest

from components import app_service, schedules
from tests.infra import deployview as dv
from tests.infra.detectionview import ACCOUNT, ALARM, REGION, arn_like, prefix, statements, topic_arn
from tools.stackview import Res, StackView

SCHEDULE = "aws:scheduler/schedule:Schedule"
QUEUE = "aws:sqs/queue:Queue"
COMMANDS = {"send-queued-email": ["manage", "send_queued_email"], "purge-objects": ["manage", "purge_objects"]}


def _schedule(view: StackView, name: str) -> Res:
    return view.one(SCHEDULE, f"schedules-{name}")


def _dlq(view: StackView) -> Res:
    return view.one(QUEUE, "schedules-dlq")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_avl1_each_queue_is_drained_by_a_scheduled_task_of_the_app_image(each_stack: StackView, name: str) -> None:
    """AVL-1: a schedule per command, every few minutes, runs its own task definition (the app image, the entrypoint's
    allow-listed `manage` command) on the app's cluster, Fargate, in the private subnets without a public IP."""
    schedule = _schedule(each_stack, name).inputs
    assert schedule["name"] == f"{prefix(each_stack)}-{name}"
    assert schedule["scheduleExpression"].startswith("rate(")
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    assert schedule["state"] == "ENABLED"
    cluster = each_stack.one("aws:ecs/cluster:Cluster", "app-cluster")
    target = schedule["target"]
    assert target["arn"] == cluster.outputs["arn"]
    ecs = target["ecsParameters"]
    td = dv.task_def(each_stack, name)
    assert ecs["taskDefinitionArn"] == td.outputs["arn"]
    assert ecs["launchType"] == "FARGATE" and ecs["taskCount"] == 1
    service_net = each_stack.one(dv.SERVICE, "app-service").inputs["networkConfiguration"]
    assert ecs["networkConfiguration"] == {
        "subnets": service_net["subnets"],
        "securityGroups": service_net["securityGroups"],
        "assignPublicIp": False,
    }
    [container] = td.json_input("containerDefinitions")
    assert container["command"] == COMMANDS[name]
    assert COMMANDS[name][1] in _entrypoint_allowed()
    web = dv.containers(each_stack, "app")["web"]
    assert container["image"] == web["image"]
    # hardened like every app container; connected as the web role only (SQL-3)
    assert container["readonlyRootFilesystem"] is True and container["user"] == app_service.APP_USER
    assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    assert dv.secrets(container) == {
        k: v for k, v in dv.secrets(web).items() if k in ("DATABASE_USER", "DATABASE_PASSWORD", "DJANGO_SECRET_KEY")
    }
    assert dv.env(container) == {k: v for k, v in dv.env(web).items() if k != "PORT"}
    assert container["logConfiguration"]["options"]["awslogs-group"] == web["logConfiguration"]["options"]["awslogs-group"]
    # the app's roles: the execution role reads exactly these secrets, the task role sends mail and purges
    assert td.inputs["executionRoleArn"] == dv.role(each_stack, "execution").outputs["arn"]
    assert td.inputs["taskRoleArn"] == dv.role(each_stack, "task").outputs["arn"]


def _entrypoint_allowed() -> frozenset[str]:
    """The image entrypoint's allow-list of management commands (app/ is on pytest's pythonpath)."""
    return importlib.import_module("kakoi.entrypoint").MANAGE_ALLOWED


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_avl1_a_run_that_cannot_start_is_retried_then_dead_lettered(each_stack: StackView, name: str) -> None:
    """AVL-1: retries within the API's bounds and the schedules' dead-letter queue (14 days, SSE, TLS only)."""
    target = _schedule(each_stack, name).inputs["target"]
    assert target["retryPolicy"] == {"maximumRetryAttempts": 5, "maximumEventAgeInSeconds": 600}
    dlq = _dlq(each_stack)
    assert target["deadLetterConfig"] == {"arn": dlq.outputs["arn"]}
    assert dlq.inputs["sqsManagedSseEnabled"] is True
    assert dlq.inputs["messageRetentionSeconds"] == 14 * 24 * 3600
    policy = each_stack.one("aws:sqs/queuePolicy:QueuePolicy", "schedules-dlq-policy")
    deny = statements(policy.inputs["policy"])["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_cmd1_the_scheduler_role_runs_only_these_tasks_and_passes_only_their_roles(each_stack: StackView) -> None:
    """CMD-1: trusted by the Scheduler for this stack's schedules; RunTask only of the two families in the app's
    cluster, PassRole only of the app's execution and task roles and only to ECS tasks, SendMessage only to the DLQ."""
    role = each_stack.one(dv.ROLE, "schedules-role")
    for name in COMMANDS:
        assert _schedule(each_stack, name).inputs["target"]["roleArn"] == role.outputs["arn"]
    [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    schedule_arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{prefix(each_stack)}-send-queued-email"
    assert arn_like(trust["Condition"]["ArnLike"]["aws:SourceArn"], schedule_arn)
    assert not arn_like(trust["Condition"]["ArnLike"]["aws:SourceArn"], schedule_arn.replace(prefix(each_stack), "other-stack"))
    st = statements(each_stack.one(dv.ROLE_POLICY, "schedules-role").inputs["policy"])
    assert set(st) == {"RunScheduledTasks", "PassTheTasksRoles", "TagTheTasksItStarts", "DeadLetters"}
    cluster = each_stack.one("aws:ecs/cluster:Cluster", "app-cluster")
    run = st["RunScheduledTasks"]
    assert run["Action"] == "ecs:RunTask"
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": cluster.outputs["arn"]}}
    for name in COMMANDS:
        td_arn = dv.task_def(each_stack, name).outputs["arn"]
        assert any(arn_like(pattern, td_arn) for pattern in run["Resource"]), td_arn
    assert not any(arn_like(pattern, dv.task_def(each_stack, "app").outputs["arn"]) for pattern in run["Resource"])
    assert not any(arn_like(pattern, dv.task_def(each_stack, "db-provision").outputs["arn"]) for pattern in run["Resource"])
    passed = st["PassTheTasksRoles"]
    assert sorted(passed["Resource"]) == sorted(
        [dv.role(each_stack, "execution").outputs["arn"], dv.role(each_stack, "task").outputs["arn"]]
    )
    assert passed["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert st["DeadLetters"]["Action"] == "sqs:SendMessage" and st["DeadLetters"]["Resource"] == _dlq(each_stack).outputs["arn"]
    assert st["TagTheTasksItStarts"]["Condition"] == {"StringEquals": {"ecs:CreateAction": "RunTask"}}
    assert "*" not in json.dumps([s["Action"] for s in st.values()])


def test_mon1_an_alarm_on_dead_lettered_runs_that_a_new_stack_does_not_fire(each_stack: StackView) -> None:
    """MON-1: any message in the dead-letter queue alarms to the alert topic; missing data (a new stack) is not breaching."""
    alarm = each_stack.one(ALARM, "schedules-dlq-messages").inputs
    assert alarm["name"] == f"{prefix(each_stack)}-schedules-dlq-messages"
    assert (alarm["namespace"], alarm["metricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["dimensions"] == {"QueueName": _dlq(each_stack).inputs["name"]}
    assert (alarm["comparisonOperator"], alarm["threshold"]) == ("GreaterThanThreshold", 0.0)
    assert alarm["treatMissingData"] == "notBreaching"
    assert alarm["alarmActions"] == alarm["okActions"] == [topic_arn(each_stack)]
    assert "docs/runbooks/alerts.md#schedules-dlq-messages" in alarm["alarmDescription"]


def test_rec1_schedules_start_only_after_the_roles_policies_and_the_provisioning(each_stack: StackView) -> None:
    """REC-1: the first run finds the Scheduler's role allowed, and the secrets it injects filled (one `pulumi up` converges)."""
    provisioning = [r for r in each_stack.resources if r.type.startswith("command:") or "provisioning" in r.name]
    for name in COMMANDS:
        deps = _schedule(each_stack, name).dependencies
        assert each_stack.one(dv.ROLE_POLICY, "schedules-role").urn in deps
        assert each_stack.one(dv.ROLE_POLICY, "app-iam-execution").urn in deps
        assert any(p.urn in deps for p in provisioning)


def test_avl1_no_schedules_before_the_first_deploy() -> None:
    """AVL-1 / REC-1: with appServiceEnabled=false (first deploy, the role secrets still empty) nothing is scheduled."""
    view = dv.rendered("staging", (("kakoi:appServiceEnabled", False),))
    assert not view.of_type(SCHEDULE)
    assert not [r for r in view.resources if r.type == "kakoi:schedules:Schedules"]


def test_schedules_args_refuse_retry_values_aws_rejects() -> None:
    """The RetryPolicy bounds (0-185 attempts, 60-86400 s) fail before anything is declared, naming the field."""
    from components.context import StackContext

    ctx = StackContext(project="kakoi", stack="dev", region=REGION, dr_region="ap-northeast-3", account_id=ACCOUNT, partition="aws")
    common = dict(
        context=ctx,
        cluster_arn="c",
        image_ref="i",
        cpu_architecture="ARM64",
        execution_role_arn="e",
        task_role_arn="t",
        log_group_name="l",
        environment={},
        web_secret_arn="w",
        django_secret_arn="d",
        subnet_ids=["s"],
        security_group_id="g",
        alerts_topic_arn="a",
    )
    with pytest.raises(ValueError, match="retry_attempts"):
        schedules.SchedulesArgs(**common, retry_attempts=186)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_event_age_seconds"):
        schedules.SchedulesArgs(**common, max_event_age_seconds=30)  # type: ignore[arg-type]
    for command in schedules.COMMANDS:
        assert len(f"kakoi-staging-{command.name}") <= 64


def test_mon2_a_scheduled_task_that_fails_reaches_the_alert_topic(each_stack: StackView) -> None:
    """MON-2: a scheduled run that exits non-zero or fails to start is an alert (the rule's target is the topic)."""
    rule = each_stack.one("aws:cloudwatch/eventRule:EventRule", "schedules-task-failed")
    assert rule.inputs["name"] == f"{prefix(each_stack)}-schedules-task-failed"
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["source"] == ["aws.ecs"] and pattern["detail-type"] == ["ECS Task State Change"]
    detail = pattern["detail"]
    assert detail["lastStatus"] == ["STOPPED"]
    assert sorted(detail["group"]) == sorted(f"family:{prefix(each_stack)}-{name}" for name in COMMANDS)
    assert {"containers": {"exitCode": [{"anything-but": 0}]}} in detail["$or"]
    assert {"stopCode": ["TaskFailedToStart"]} in detail["$or"]
    target = each_stack.one("aws:cloudwatch/eventTarget:EventTarget", "schedules-task-failed")
    assert target.inputs["arn"] == topic_arn(each_stack)
