"""The availability alarms (AVL-1, MON-2): the SLO, the fast signal, a stopped canary, and "the service is down".

All to the alert topic, on ALARM and OK:

* ``availability-slo`` - the share of successful probes over the rolling window
  (``kakoi:availabilityWindowMinutes``, one probe a minute) is below ``kakoi:availabilitySloPercent``.
  Expressed as "more failed minutes in the window than the error budget allows" (an M-out-of-N alarm
  on the per-minute ``SuccessPercent``): with N probes, success >= SLO exactly while failures <=
  floor(N x (100 - SLO) / 100). Minutes without a probe result are ignored (they are not failures of
  the service).
* ``canary-failing`` - three failed probes in a row: the fast signal. Missing probe results are
  ``missing`` (not ``breaching``): a new alarm on a canary that has not reported yet would otherwise
  open in ALARM on a healthy new stack (CloudWatch treats every missing point of the evaluation range
  as bad: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data).
* ``canary-stopped`` - an EventBridge rule: ``Synthetics Canary Status Change`` to ``STOPPED`` or
  ``ERROR`` (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/monitoring-events-eventbridge.html).
* ``service-down`` - a composite alarm, in ALARM when the canary fails or no target is healthy
  (components.alarms passes its hard-down alarms).

Declared by `components.availability.Availability` as its own children (same names, same parent:
no URN moves).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components import alarms
from components.canary_role import SYNTHETICS
from components.context import StackContext
from stackconfig.detection import DetectionConfig

#: canary states in which nothing probes the app (API_CanaryStatus)
CANARY_STOPPED_STATES = ("STOPPED", "ERROR")


def failures_allowed(window_minutes: int, slo_percent: float) -> int:
    """Failed one-minute probes the window can hold while success stays >= the SLO."""
    # round first: 1440 * 0.1 / 100 is 1.4400000000000002 in floating point
    return math.floor(round(window_minutes * (100 - slo_percent) / 100, 9))


def canary_stopped_pattern(canary_name: str) -> str:
    """EventBridge pattern: this canary entered STOPPED or ERROR (Synthetics Canary Status Change events)."""
    return json.dumps(
        {
            "source": ["aws.synthetics"],
            "detail-type": ["Synthetics Canary Status Change"],
            "detail": {"canary-name": [canary_name], "current-state": list(CANARY_STOPPED_STATES)},
        },
        sort_keys=True,
    )


def service_down_rule(alarm_names: Sequence[str]) -> str:
    """Composite alarm rule: ALARM when any of the named alarms is in ALARM."""
    return " OR ".join(f'ALARM("{n}")' for n in alarm_names)


@dataclass
class Declared:
    """What `declare` created: the metric alarms by key, the stopped rule and the composite (None when absent)."""

    alarms: dict[str, aws.cloudwatch.MetricAlarm] = field(default_factory=dict)
    stopped_rule: aws.cloudwatch.EventRule | None = None
    service_down: aws.cloudwatch.CompositeAlarm | None = None


def declare(
    name: str,
    *,
    parent: pulumi.Resource,
    context: StackContext,
    config: DetectionConfig,
    canary: aws.synthetics.Canary,
    canary_name: str,
    health_url: str,
    alerts_topic_arn: pulumi.Input[str],
    probing: bool,
    down_alarm_names: Sequence[pulumi.Input[str]],
) -> Declared:
    """The alarms above, children of `parent`: the canary's only when it probes (`probing`), the composite
    whenever there is a hard-down signal."""
    child = pulumi.ResourceOptions(parent=parent)
    prefix = context.name_prefix
    out = Declared()

    def probe_alarm(key: str, summary: str, **inputs: Any) -> aws.cloudwatch.MetricAlarm:
        return alarms.metric_alarm(
            f"{name}-{key}",
            name_prefix=prefix,
            key=key,
            summary=summary,
            alerts_topic_arn=alerts_topic_arn,
            parent=parent,
            namespace=SYNTHETICS,
            metric_name="SuccessPercent",
            dimensions={"CanaryName": canary.name},
            # one probe a minute: each datapoint is 100 (passed) or 0 (failed)
            statistic="Average",
            period=60,
            comparison_operator="LessThanThreshold",
            threshold=100,
            **inputs,
        )

    if probing:
        window, slo = config.availability_window_minutes, config.availability_slo_percent
        budget = failures_allowed(window, slo)
        out.alarms["availability-slo"] = probe_alarm(
            "availability-slo",
            f"Successful probes among the last {window} (one a minute) below {slo:g} % (more than {budget} failed)",
            evaluation_periods=window,
            datapoints_to_alarm=budget + 1,
            # judged on the probes that ran: minutes without a result (before the canary's first run, or
            # while it is stopped) are not counted as failures here, so a new canary does not open with a
            # day of false "outage"; a probe that stops reporting is canary-failing's business
            treat_missing_data="ignore",
        )
        out.alarms["canary-failing"] = probe_alarm(
            "canary-failing",
            f"{health_url} failed 3 probes in a row",
            evaluation_periods=3,
            datapoints_to_alarm=3,
            # judged on probes that ran: before the first run there is no data, and "breaching" would
            # open a new stack in ALARM; a canary that stops running is canary-stopped's business
            treat_missing_data="missing",
        )
        out.stopped_rule = aws.cloudwatch.EventRule(
            f"{name}-canary-stopped",
            name=f"{prefix}-canary-stopped",
            description=f"The availability canary {canary_name} stopped or failed: nothing probes the app",
            event_pattern=canary_stopped_pattern(canary_name),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-canary-stopped",
            rule=out.stopped_rule.name,
            target_id="alerts-topic",
            arn=alerts_topic_arn,
            opts=child,
        )

    # ---- the composite: the service is down when any hard-down signal is in ALARM
    down: list[pulumi.Input[str]] = [*([out.alarms["canary-failing"].name] if probing else []), *down_alarm_names]
    if down:
        out.service_down = aws.cloudwatch.CompositeAlarm(
            f"{name}-service-down",
            alarm_name=f"{prefix}-service-down",
            alarm_description=alarms.description("service-down", "The service is down: users cannot use the app"),
            alarm_rule=pulumi.Output.all(*down).apply(service_down_rule),
            actions_enabled=True,
            alarm_actions=[alerts_topic_arn],
            ok_actions=[alerts_topic_arn],
            opts=child,
        )
    return out
