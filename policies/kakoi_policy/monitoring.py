"""Monitoring and alerting: alarms cover every service (MON-1) and notify an encrypted topic (MON-2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs

from .base import ADVISORY, HIGH, LOW, MANDATORY, MEDIUM, Cfg, KakoiResourcePolicy, KakoiStackPolicy, Node, SRes, Stack, Violation
from .constants import COMPOSITE_ALARM, DB, ECS_SERVICE, LB, LOG_GROUP, METRIC_ALARM, SNS_SUBSCRIPTION, SNS_TOPIC

ALARMS = (METRIC_ALARM, COMPOSITE_ALARM)


def _check_alarm_actions(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if not props.get("alarmActions"):
        yield "the alarm has no alarmActions: nobody is told when it fires"
    if props.get("actionsEnabled") is False:  # default true
        yield "actionsEnabled is false: the alarm's actions never run"


alarm_actions = KakoiResourcePolicy(
    name="kakoi-mon-alarm-actions",
    description="Every alarm has an action for the ALARM state and its actions are enabled (omitted actionsEnabled means true).",
    types=ALARMS,
    check=_check_alarm_actions,
    level=MANDATORY,
    severity=HIGH,
    sheet=("MON-2",),
    securityhub=("CloudWatch.15", "CloudWatch.17"),
    remediation="Set alarmActions (and okActions) to the alert topic ARN; do not set actionsEnabled=false.",
)


def _check_topic_encrypted(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if not props.get("kmsMasterKeyId"):
        yield "the topic is not encrypted with KMS (kmsMasterKeyId)"


topic_encrypted = KakoiResourcePolicy(
    name="kakoi-mon-sns-encrypted",
    description="SNS topics are encrypted at rest with a KMS key (alert messages name resources and failures).",
    types=(SNS_TOPIC,),
    check=_check_topic_encrypted,
    level=MANDATORY,
    severity=MEDIUM,
    sheet=("MON-2",),
    securityhub=("SNS.1",),
    remediation="Set kmsMasterKeyId to the SNS key (its policy must let cloudwatch.amazonaws.com use it).",
)


def _check_alarm_routes(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    topics: dict[str, SRes] = {}
    for topic in stack.of(SNS_TOPIC):
        with stack.deciding():
            topics[str(topic.get("arn"))] = topic
    subscribed: set[str] = set()
    for sub in stack.of(SNS_SUBSCRIPTION):
        with stack.deciding():
            subscribed.add(str(sub.get("topic")))
    external_ok = set(cfg["externalTopicArns"])
    for alarm in stack.of(*ALARMS):
        with stack.deciding():
            actions = [str(a) for a in alarm.get("alarmActions") or []]
            if not actions:
                yield alarm.urn, f"alarm {alarm.name} has no action"
                continue
            good = [a for a in actions if a in external_ok]
            for arn in actions:
                topic = topics.get(arn)
                if topic is None:
                    continue
                if not topic.get("kmsMasterKeyId"):
                    yield alarm.urn, f"alarm {alarm.name} notifies topic {topic.name}, which is not encrypted"
                elif arn not in subscribed:
                    yield alarm.urn, f"alarm {alarm.name} notifies topic {topic.name}, which has no subscriber"
                else:
                    good.append(arn)
            if not good and all(a not in topics for a in actions):
                yield alarm.urn, f"alarm {alarm.name} notifies no SNS topic of this stack (actions: {actions})"


alarm_routes = KakoiStackPolicy(
    name="kakoi-mon-alarms-notify-people",
    description=(
        "Every alarm notifies an encrypted SNS topic of this stack that has at least one subscriber (or a topic listed in "
        "externalTopicArns), so an alert reaches a person if anything goes down."
    ),
    types=ALARMS,
    check=_check_alarm_routes,
    level=MANDATORY,
    severity=HIGH,
    sheet=("MON-2",),
    securityhub=("CloudWatch.15",),
    remediation="Point alarmActions at the alert topic (components/alerts.py) and add email subscriptions through kakoi:alertEmails.",
    config={
        "externalTopicArns": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Topics managed outside this stack that count as notifying people.",
            "default": [],
        }
    },
)


# --- MON-1: every service has alarms --------------------------------------------------------------
def _alarm_metrics(alarm: SRes) -> Iterator[tuple[str, dict[str, Any]]]:
    """(namespace, dimensions) of the metrics an alarm watches (plain and metric-math alarms)."""
    namespace = alarm.get("namespace")
    if namespace:
        yield str(namespace), dict(alarm.get("dimensions") or {})
    for query in alarm.node.nodes("metricQueries"):
        metric = query.node("metric")
        if metric is not None and metric.get("namespace"):
            yield str(metric.get("namespace")), dict(metric.get("dimensions") or {})


def _check_coverage(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    watched: dict[str, set[str]] = {}
    for alarm in stack.of(METRIC_ALARM):
        with stack.deciding():
            for namespace, dims in _alarm_metrics(alarm):
                for value in dims.values():
                    watched.setdefault(namespace, set()).add(str(value))
    subjects = [
        (LB, ("AWS/ApplicationELB", "AWS/NetworkELB"), "arnSuffix", "load balancer"),
        ((DB,), ("AWS/RDS",), "identifier", "database"),
        ((ECS_SERVICE,), ("AWS/ECS", "ECS/ContainerInsights"), "name", "ECS service"),
    ]
    for types, namespaces, key, what in subjects:
        for res in stack.of(*types):
            with stack.deciding():
                ident = res.get(key)
                if not ident:
                    yield res.urn, f"{what} {res.name} has no {key} to alarm on"
                    continue
                if not any(str(ident) in watched.get(ns, set()) for ns in namespaces):
                    yield res.urn, f"no alarm watches {what} {res.name} ({'/'.join(namespaces)} metrics for {ident})"


alarm_coverage = KakoiStackPolicy(
    name="kakoi-mon-alarms-cover-services",
    description="Every load balancer, database and ECS service has at least one CloudWatch alarm on its metrics.",
    types=(*LB, DB, ECS_SERVICE),
    check=_check_coverage,
    level=MANDATORY,
    severity=HIGH,
    sheet=("MON-1",),
    securityhub=(),
    remediation="Add alarms (components/alarms.py) with the resource's dimension: LoadBalancer=<arnSuffix>, DBInstanceIdentifier, ServiceName.",
)


# --- CloudWatch Logs ------------------------------------------------------------------------------
def _check_retention(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    days = props.get("retentionInDays")
    minimum = int(cfg["minimumRetentionDays"])
    if days is not None and 0 < int(days) < minimum:  # omitted or 0 keeps events forever
        yield f"retentionInDays is {int(days)}; keep log events at least {minimum} days"


log_group_retention = KakoiResourcePolicy(
    name="kakoi-log-group-retention",
    description="CloudWatch log groups keep events at least a year (omitted retention means forever, which passes).",
    types=(LOG_GROUP,),
    check=_check_retention,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("LOG-1",),
    securityhub=("CloudWatch.16",),
    remediation="Set retentionInDays to 365 or more (kakoi:logRetentionDays).",
    config={"minimumRetentionDays": {"type": "integer", "minimum": 1, "description": "Minimum log retention in days.", "default": 365}},
)


def _check_log_kms(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if not props.get("kmsKeyId"):
        yield "the log group is not encrypted with a customer-managed key (kmsKeyId)"


log_group_kms = KakoiResourcePolicy(
    name="kakoi-log-group-kms",
    description="CloudWatch log groups are encrypted with the customer-managed logs key.",
    types=(LOG_GROUP,),
    check=_check_log_kms,
    level=ADVISORY,
    severity=LOW,
    sheet=("LOG-1",),
    securityhub=(),
    remediation="Set kmsKeyId to the logs key (components/kms.py).",
)

POLICIES = [alarm_actions, topic_encrypted, alarm_routes, alarm_coverage, log_group_retention, log_group_kms]
