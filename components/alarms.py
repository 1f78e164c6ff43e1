"""Alarms for the load balancer, the WAF, the database and the service (MON-1, MON-2).

Every alarm sends both its ALARM and its OK transition to the alert topic, takes
its threshold from config (stackconfig.detection.Thresholds) and makes a
deliberate ``treat_missing_data`` choice, written next to it. Rates are metric
math over two counts, judged only when there is enough traffic to mean anything.

Inputs come from components written separately; each group of alarms is declared
only when its inputs are given (``Monitored``), so the program can wire what
exists today and add the rest later without touching this module:

======================  =====================================  ==========================
group                   needs                                  metrics (namespace)
======================  =====================================  ==========================
load balancer           load_balancer_arn_suffix               AWS/ApplicationELB
target group            + target_group_arn_suffix              AWS/ApplicationELB
WAF                     web_acl_name (the ACL's metric name)   AWS/WAFV2
database                db_instance_identifier                 AWS/RDS
service                 cluster_name + service_name            AWS/ECS, ECS/ContainerInsights
TURN relay              relay_* (components/relay.py)          AWS/NetworkELB, AWS/ECS,
                                                               ECS/ContainerInsights
======================  =====================================  ==========================

Metric and dimension names (checked against the AWS documentation):
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
(dimensions ``LoadBalancer`` = ``app/<name>/<id>``, ``TargetGroup`` = ``targetgroup/<name>/<id>``: the ARN suffixes),
https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html (``WebACL``, ``Region``, ``Rule`` = ``ALL``),
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html (``DBInstanceIdentifier``),
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html and
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html
(``ClusterName``, ``ServiceName``; RunningTaskCount/DesiredTaskCount need Container Insights on the cluster).
Metric math: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
The relay's load balancer metrics (``LoadBalancer`` = ``net/<name>/<id>``; ``UnHealthyHostCount`` and
``HealthyHostCount`` also by ``TargetGroup``; ``ActiveFlowCount_TLS``, ``NewFlowCount_TLS`` and the TLS
negotiation error counts are published only while they are not zero):
https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html

No alarm fires on a healthy new stack: every alarm whose metric is published only while something
happens (errors, flows) treats missing data as not breaching; the ones that treat silence as trouble
(running tasks below desired) watch Container Insights, which reports every minute while the service
exists, and their dimensions come from the ECS service itself, so they are created only after
``pulumi up`` has seen the service reach a steady state.

The alarms are data: ``ALARMS`` holds one ``AlarmSpec`` per alarm (key, summary, threshold, evaluation,
missing-data choice, metric) and ``Alarms`` declares, in that order, those whose inputs are there.

Every alarm is named ``<name_prefix>-...``: the alert topic's policy only accepts
this stack's alarms. The runbook (docs/runbooks/alerts.md) has a section per alarm,
linked from each alarm's description.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from stackconfig.detection import DetectionConfig, Thresholds

CONTROLS: dict[str, str] = {
    "MON-1": "alarms on load balancer 5xx rates, unhealthy and missing targets, p99 latency, WAF block spikes, "
    "database CPU/storage/memory/connections, service CPU/memory and running tasks below desired; the TURN relay's "
    "unhealthy and missing targets, client and target TLS negotiation errors, active and new connections, CPU/memory "
    "and running tasks",
    "MON-2": "every alarm notifies the alert topic on ALARM and on OK",
}

RUNBOOK = "docs/runbooks/alerts.md"
ALB = "AWS/ApplicationELB"
NLB = "AWS/NetworkELB"
ECS = "AWS/ECS"
INSIGHTS = "ECS/ContainerInsights"
RDS = "AWS/RDS"
GIB = 1024**3
MIB = 1024**2
#: the alarms that mean "users cannot use the service", not merely "something is degraded"
DOWN_SIGNALS = ("alb-no-healthy-targets",)
GT, GE, LT = "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold"
#: the relay's active-connections alarm fires at this share of what relayMaxTasks tasks hold
RELAY_FLOWS_ALARM_SHARE = 0.9


@dataclass(frozen=True)
class Monitored:
    """What there is to watch (MON-1); None means "not declared yet" and skips that group of alarms.

    A typed handle built from the components being watched (tiers/detection.py), or by hand for a
    component used on its own; the same handle feeds the alarms and the dashboard
    (components.dashboard), so both always watch the same things.
    """

    #: Edge.load_balancer_arn_suffix (app/<name>/<id>); @default None (no load balancer alarms). MON-1
    load_balancer_arn_suffix: pulumi.Input[str] | None = None
    #: Edge.target_group_arn_suffix (targetgroup/<name>/<id>); @default None (no target group alarms). MON-1
    target_group_arn_suffix: pulumi.Input[str] | None = None
    #: the web ACL's CloudWatch metric name (Waf.name: the ACL's name and metric name are the same);
    #: @default None (no WAF alarm). MON-1
    web_acl_name: pulumi.Input[str] | None = None
    #: the RDS instance identifier (the instance's output, so its alarms follow the instance);
    #: @default None (no database alarms). MON-1
    db_instance_identifier: pulumi.Input[str] | None = None
    #: the app's ECS cluster name (only when the service is declared); @default None (no service alarms). MON-1
    cluster_name: pulumi.Input[str] | None = None
    #: the app's ECS service name (only when the service is declared); @default None (no service alarms). MON-1
    service_name: pulumi.Input[str] | None = None
    #: the TURN relay's NLB (Relay.load_balancer_arn_suffix, net/<name>/<id>); @default None (no relay alarms). MON-1
    relay_load_balancer_arn_suffix: pulumi.Input[str] | None = None
    #: the relay's target group (Relay.target_group_arn_suffix); @default None (no relay alarms). MON-1
    relay_target_group_arn_suffix: pulumi.Input[str] | None = None
    #: the relay's ECS cluster (only once its service is declared); @default None (no relay service alarms). MON-1
    relay_cluster_name: pulumi.Input[str] | None = None
    #: the relay's ECS service (only once it is declared); @default None (no relay service alarms). MON-1
    relay_service_name: pulumi.Input[str] | None = None
    #: active flows the relay is sized for at its largest (relayMaxTasks x relayConnectionsPerTask);
    #: @default None (no active-connections alarm). MON-1
    relay_flow_capacity: int | None = None
    #: something registers targets in the target group (the ECS service is declared): only then can
    #: "no healthy target" mean an outage rather than "nothing deployed yet", and only then does the
    #: availability canary probe (components.availability); @default False. MON-1, MON-2, AVL-1
    targets_registered: bool = False
    #: what registers the targets (the ECS service, which `pulumi up` waits on to be steady): the
    #: "no healthy target" alarm and the canary are created after it, when there is something healthy
    #: to report; @default () (nothing to wait for). MON-1, AVL-1
    targets_ready: tuple[pulumi.Resource, ...] = ()

    @property
    def has_target_group(self) -> bool:
        return self.load_balancer_arn_suffix is not None and self.target_group_arn_suffix is not None

    @property
    def has_service(self) -> bool:
        return self.cluster_name is not None and self.service_name is not None

    @property
    def has_relay(self) -> bool:
        """The relay's load balancer and target group are declared."""
        return self.relay_load_balancer_arn_suffix is not None and self.relay_target_group_arn_suffix is not None

    @property
    def has_relay_service(self) -> bool:
        """The relay's ECS service is declared (not before the first deploy has written its secret)."""
        return self.has_relay and self.relay_cluster_name is not None and self.relay_service_name is not None

    @property
    def relay_flow_limit(self) -> int | None:
        """Active relay connections above which autoscaling is at its ceiling (None: capacity not given)."""
        return int(self.relay_flow_capacity * RELAY_FLOWS_ALARM_SHARE) if self.relay_flow_capacity else None


@dataclass(frozen=True)
class AlarmsArgs:
    """Inputs of `Alarms` (MON-1, MON-2)."""

    #: name prefix (every alarm is `<prefix>-<key>`, which the alert topic's policy requires) and region
    #: (the WAF metric's `Region` dimension); required. MON-2
    context: StackContext
    #: the detection section: its `thresholds` (kakoi:alarm*) set every alarm's threshold; required. MON-1
    config: DetectionConfig
    #: the alert topic every alarm notifies on ALARM and on OK (Alerts.topic_arn); required. MON-2
    alerts_topic_arn: pulumi.Input[str]
    #: what there is to watch: each group of alarms is declared only when its inputs are given;
    #: @default nothing (no alarm). MON-1
    monitored: Monitored = field(default_factory=Monitored)


# ---- the alarms, as data -------------------------------------------------------------------------------

#: which dimensions an alarm is judged by; an alarm whose group is not declared (`Monitored`) is not declared
Group = Literal["lb", "tg", "waf", "db", "service", "relay_lb", "relay_tg", "relay_service"]


@dataclass(frozen=True)
class Single:
    """One metric, one statistic (or a percentile: `extended_statistic`)."""

    namespace: str
    metric: str
    stat: str = ""
    period: int = 60
    extended_statistic: str = ""


@dataclass(frozen=True)
class Rate:
    """`errors` as a percentage of RequestCount (`rate_expression`), both summed per minute."""

    namespace: str
    errors: str
    label: str
    #: the load balancer's own errors may not be in RequestCount: divide by requests + errors
    add_errors_to_requests: bool


@dataclass(frozen=True)
class TasksMissing:
    """Desired minus running tasks (Container Insights, every minute)."""

    label: str


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: its key (`<prefix>-<key>`, also its runbook section), what it says, when it fires, what it
    measures, and how it judges missing data (`missing`: the deliberate choice every alarm makes, reasoned
    in a comment next to it)."""

    #: the alarm's key: its name is `<prefix>-<key>`, its runbook section `#<key>`
    key: str
    #: the dimensions it is judged by; the alarm exists only when `Monitored` has that group
    group: Group
    #: the description's summary; `{t}` is the Thresholds, `{m}` the Monitored
    summary: str
    #: CloudWatch's comparison operator (GT, GE, LT)
    comparison: str
    #: the threshold, from the config's thresholds (kakoi:alarm*) or the watched things
    threshold: Callable[[Thresholds, Monitored], float]
    #: M of N: `datapoints_to_alarm` breaching periods among the last `evaluation_periods`
    evaluation_periods: int
    datapoints_to_alarm: int
    #: what is measured: one metric, a rate over two, or missing tasks
    metric: Single | Rate | TasksMissing
    #: treat_missing_data, reasoned next to each alarm (no alarm fires on a healthy new stack)
    missing: str
    #: declared only when this holds as well as the group being there; @default always
    when: Callable[[Monitored], bool] = lambda m: True
    #: created after what registers the targets (`Monitored.targets_ready`), when there is a health to report
    after_targets_ready: bool = False


# fmt: off
ALARMS: tuple[AlarmSpec, ...] = (
    # ---- load balancer and target group
    AlarmSpec("alb-5xx-rate", "lb", "Load balancer 5xx responses above {t.elb_5xx_rate_percent:g} % of requests (3 of 5 minutes)",
              GT, lambda t, m: t.elb_5xx_rate_percent, 5, 3, Rate(ALB, "HTTPCode_ELB_5XX_Count", "ELB 5xx % of requests", add_errors_to_requests=True),
              # no data = no requests at all: nothing failed (the canary covers "nobody can reach us")
              missing="notBreaching"),
    AlarmSpec("target-5xx-rate", "tg", "App (target) 5xx responses above {t.target_5xx_rate_percent:g} % of requests (3 of 5 minutes)",
              GT, lambda t, m: t.target_5xx_rate_percent, 5, 3, Rate(ALB, "HTTPCode_Target_5XX_Count", "Target 5xx % of requests", add_errors_to_requests=False),
              # no data = no requests reached the app: no app errors to judge
              missing="notBreaching"),
    AlarmSpec("alb-unhealthy-hosts", "tg", "{t.unhealthy_hosts} or more app targets failing health checks for 3 minutes",
              GE, lambda t, m: t.unhealthy_hosts, 3, 3, Single(ALB, "UnHealthyHostCount", "Maximum"),
              # the load balancer reports this every minute while targets are registered; no data means
              # no targets at all, which alb-no-healthy-targets reports
              missing="notBreaching"),
    AlarmSpec("alb-no-healthy-targets", "tg", "No healthy app target behind the load balancer for 2 minutes: the service is down",
              LT, lambda t, m: 1, 2, 2, Single(ALB, "HealthyHostCount", "Minimum"),
              # no data = no registered target reported healthy: that is the outage this alarm is for
              missing="breaching", when=lambda m: m.targets_registered, after_targets_ready=True),
    AlarmSpec("alb-p99-latency", "tg", "p99 app response time above {t.p99_latency_ms} ms for 5 minutes",
              GT, lambda t, m: t.p99_latency_ms / 1000, 5, 5, Single(ALB, "TargetResponseTime", extended_statistic="p99"),  # TargetResponseTime is in seconds
              # no data = no requests: nothing was slow
              missing="notBreaching"),
    # ---- WAF
    AlarmSpec("waf-blocked-spike", "waf", "WAF blocked more than {t.waf_blocked_per_5min} requests in 5 minutes (attack or false positives)",
              GT, lambda t, m: t.waf_blocked_per_5min, 1, 1, Single("AWS/WAFV2", "BlockedRequests", "Sum", 300),
              # WAF publishes BlockedRequests only when it blocks something: no data = nothing blocked
              missing="notBreaching"),
    # ---- database
    AlarmSpec("db-cpu", "db", "Database CPU above {t.db_cpu_percent} % for 15 minutes",
              GT, lambda t, m: t.db_cpu_percent, 3, 3, Single(RDS, "CPUUtilization", "Average", 300),
              # RDS reports every minute while the instance runs; a gap is not high CPU, so keep the
              # last state (db-free-storage is the alarm that reports the instance going silent)
              missing="missing"),
    AlarmSpec("db-free-storage", "db", "Database free storage below {t.db_free_storage_gib} GiB",
              LT, lambda t, m: t.db_free_storage_gib * GIB, 1, 1, Single(RDS, "FreeStorageSpace", "Minimum", 300),
              # the one database alarm that treats silence as trouble: an instance that stops
              # reporting storage is unavailable or gone
              missing="breaching"),
    AlarmSpec("db-freeable-memory", "db", "Database freeable memory below {t.db_free_memory_mib} MiB for 15 minutes",
              LT, lambda t, m: t.db_free_memory_mib * MIB, 3, 3, Single(RDS, "FreeableMemory", "Minimum", 300),
              # a gap is not low memory: keep the last state (db-free-storage reports silence)
              missing="missing"),
    AlarmSpec("db-connections", "db", "Database connections above {t.db_connections} for 10 minutes",
              GT, lambda t, m: t.db_connections, 2, 2, Single(RDS, "DatabaseConnections", "Maximum", 300),
              # no data cannot mean too many connections
              missing="notBreaching"),
    # ---- the app's ECS service
    AlarmSpec("service-cpu", "service", "Service CPU above {t.service_cpu_percent} % of its reservation for 15 minutes",
              GT, lambda t, m: t.service_cpu_percent, 3, 3, Single(ECS, "CPUUtilization", "Average", 300),
              # ECS reports only while tasks run; no tasks is service-tasks-below-desired's alarm
              missing="notBreaching"),
    AlarmSpec("service-memory", "service", "Service memory above {t.service_memory_percent} % of its reservation for 15 minutes",
              GT, lambda t, m: t.service_memory_percent, 3, 3, Single(ECS, "MemoryUtilization", "Average", 300),
              # as service-cpu: no tasks is another alarm's business
              missing="notBreaching"),
    AlarmSpec("service-tasks-below-desired", "service", "Fewer running tasks than desired for 5 minutes (tasks crashing or unable to start)",
              GT, lambda t, m: 0, 5, 5, TasksMissing("Tasks missing"),
              # Container Insights reports these every minute; silence means it is off or the service
              # is gone, and either way nobody can see that the service runs
              missing="breaching"),
    # ---- the TURN relay: its targets, TLS handshakes, connections, and its ECS service
    AlarmSpec("relay-unhealthy-hosts", "relay_tg", "{t.unhealthy_hosts} or more relay tasks failing the load balancer's health check for 3 minutes",
              GE, lambda t, m: t.unhealthy_hosts, 3, 3, Single(NLB, "UnHealthyHostCount", "Maximum"),
              # no data = no registered targets at all: relay-tasks-below-desired reports that
              missing="notBreaching"),
    AlarmSpec("relay-no-healthy-targets", "relay_tg", "No healthy relay task behind the relay's load balancer for 2 minutes: no call can connect",
              LT, lambda t, m: 1, 2, 2, Single(NLB, "HealthyHostCount", "Minimum"),
              # fires on a reported 0; silence (no targets registered, nothing reported) is what
              # relay-tasks-below-desired watches, so a quiet new stack does not page anyone
              missing="notBreaching"),
    AlarmSpec("relay-client-tls-errors", "relay_lb", "More than {t.relay_client_tls_errors_per_5min} failed client TLS handshakes at the relay in 5 minutes (clients without TLS 1.3, certificate trouble, or a scan)",
              GT, lambda t, m: t.relay_client_tls_errors_per_5min, 1, 1, Single(NLB, "ClientTLSNegotiationErrorCount", "Sum", 300),
              # published only when there are errors: no data = no failed handshake
              missing="notBreaching"),
    AlarmSpec("relay-target-tls-errors", "relay_lb", "The relay's load balancer failed TLS handshakes with relay tasks in 3 minutes running (the tasks' TLS listener is broken)",
              GT, lambda t, m: 0, 3, 3, Single(NLB, "TargetTLSNegotiationErrorCount", "Sum"),
              # published only when there are errors: no data = every handshake with a task succeeded
              missing="notBreaching"),
    AlarmSpec("relay-active-flows", "relay_lb", "More than {m.relay_flow_limit} active relay connections (90 % of what relayMaxTasks tasks hold) for 10 minutes: autoscaling is at its ceiling",
              GT, lambda t, m: m.relay_flow_limit or 0, 10, 10, Single(NLB, "ActiveFlowCount_TLS", "Maximum"),
              # published only while there are connections: no data = none
              missing="notBreaching", when=lambda m: m.relay_flow_limit is not None),
    AlarmSpec("relay-new-flows", "relay_lb", "More than {t.relay_new_flows_per_minute} new relay connections a minute for 3 minutes (a connection flood)",
              GT, lambda t, m: t.relay_new_flows_per_minute, 3, 3, Single(NLB, "NewFlowCount_TLS", "Sum"),
              # published only while connections open: no data = none
              missing="notBreaching"),
    AlarmSpec("relay-cpu", "relay_service", "Relay CPU above {t.service_cpu_percent} % of its reservation for 15 minutes",
              GT, lambda t, m: t.service_cpu_percent, 3, 3, Single(ECS, "CPUUtilization", "Average", 300),
              # ECS reports only while tasks run; no tasks is relay-tasks-below-desired's alarm
              missing="notBreaching"),
    AlarmSpec("relay-memory", "relay_service", "Relay memory above {t.service_memory_percent} % of its reservation for 15 minutes",
              GT, lambda t, m: t.service_memory_percent, 3, 3, Single(ECS, "MemoryUtilization", "Average", 300),
              # as relay-cpu
              missing="notBreaching"),
    AlarmSpec("relay-tasks-below-desired", "relay_service", "Fewer running relay tasks than desired for 5 minutes (tasks crashing or unable to start)",
              GT, lambda t, m: 0, 5, 5, TasksMissing("Relay tasks missing"),
              # Container Insights reports every minute while the service exists: silence means nobody can see
              # that the relay runs
              missing="breaching"),
)
# fmt: on


def dimensions(group: Group, m: Monitored, region: str) -> dict[str, pulumi.Input[str]] | None:
    """The dimensions of a group's metrics, or None when the group is not declared (its alarms are skipped)."""
    lb, tg, acl, db = m.load_balancer_arn_suffix, m.target_group_arn_suffix, m.web_acl_name, m.db_instance_identifier
    cluster, service = m.cluster_name, m.service_name
    rlb, rtg, rcluster, rservice = (
        m.relay_load_balancer_arn_suffix,
        m.relay_target_group_arn_suffix,
        m.relay_cluster_name,
        m.relay_service_name,
    )
    dims: dict[Group, dict[str, pulumi.Input[str]] | None] = {
        "lb": {"LoadBalancer": lb} if lb is not None else None,
        "tg": {"LoadBalancer": lb, "TargetGroup": tg} if lb is not None and tg is not None else None,
        "waf": {"WebACL": acl, "Region": region, "Rule": "ALL"} if acl is not None else None,
        "db": {"DBInstanceIdentifier": db} if db is not None else None,
        "service": {"ClusterName": cluster, "ServiceName": service} if cluster is not None and service is not None else None,
        # the relay's groups need both its load balancer and its target group (Monitored.has_relay)
        "relay_lb": {"LoadBalancer": rlb} if rlb is not None and rtg is not None else None,
        "relay_tg": {"LoadBalancer": rlb, "TargetGroup": rtg} if rlb is not None and rtg is not None else None,
        "relay_service": (
            {"ClusterName": rcluster, "ServiceName": rservice}
            if rlb is not None and rtg is not None and rcluster is not None and rservice is not None
            else None
        ),
    }
    return dims[group]


def _metric(namespace: str, metric: str, dims: Mapping[str, pulumi.Input[str]], stat: str, period: int) -> dict[str, Any]:
    return {"namespace": namespace, "metric_name": metric, "dimensions": dict(dims), "stat": stat, "period": period}


def metric_inputs(metric: Single | Rate | TasksMissing, dims: Mapping[str, pulumi.Input[str]], t: Thresholds) -> dict[str, Any]:
    """The MetricAlarm inputs that say what is measured: one metric, or metric math over two."""
    if isinstance(metric, Single):
        stat = {"extended_statistic": metric.extended_statistic} if metric.extended_statistic else {"statistic": metric.stat}
        return {"namespace": metric.namespace, "metric_name": metric.metric, "dimensions": dict(dims), **stat, "period": metric.period}
    if isinstance(metric, Rate):
        expression = rate_expression("errors", "requests", t.min_requests_per_minute, add_errors_to_requests=metric.add_errors_to_requests)
        return {
            "metric_queries": [
                {"id": "errors", "metric": _metric(metric.namespace, metric.errors, dims, "Sum", 60), "return_data": False},
                {"id": "requests", "metric": _metric(metric.namespace, "RequestCount", dims, "Sum", 60), "return_data": False},
                {"id": "rate", "expression": expression, "label": metric.label, "return_data": True},
            ]
        }
    return {
        "metric_queries": [
            {"id": "running", "metric": _metric(INSIGHTS, "RunningTaskCount", dims, "Average", 60), "return_data": False},
            {"id": "desired", "metric": _metric(INSIGHTS, "DesiredTaskCount", dims, "Average", 60), "return_data": False},
            {"id": "missing", "expression": "desired - running", "label": metric.label, "return_data": True},
        ]
    }


def rate_expression(errors: str, requests: str, min_requests: int, *, add_errors_to_requests: bool) -> str:
    """Percentage of failed requests, 0 while there are fewer than `min_requests` in the period.

    Missing data points (no traffic) count as 0. For errors the load balancer
    generates itself (e.g. 503 with no healthy target) RequestCount may not count
    the request at all, so the denominator is requests + errors there.
    """
    e = f"FILL({errors}, 0)"
    r = f"FILL({requests}, 0)"
    total = f"({r} + {e})" if add_errors_to_requests else r
    divisor = total if add_errors_to_requests else f"FILL({requests}, 1)"
    return f"IF({total} >= {min_requests}, 100 * {e} / {divisor}, 0)"


def description(key: str, summary: str) -> str:
    """An alarm's description: what it means, and its runbook section."""
    return f"{summary}. Runbook: {RUNBOOK}#{key}"


def metric_alarm(
    resource_name: str,
    *,
    name_prefix: str,
    key: str,
    summary: str,
    alerts_topic_arn: pulumi.Input[str],
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
    **inputs: Any,
) -> aws.cloudwatch.MetricAlarm:
    """A metric alarm named `<name_prefix>-<key>` that notifies the alert topic on ALARM and on OK (MON-2)."""
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        name=f"{name_prefix}-{key}",
        alarm_description=description(key, summary),
        actions_enabled=True,
        alarm_actions=[alerts_topic_arn],
        ok_actions=[alerts_topic_arn],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
        **inputs,
    )


class Alarms(pulumi.ComponentResource):
    """The alarms of `ALARMS` whose inputs are declared (MON-1), each notifying the alert topic (MON-2)."""

    #: alarm key (e.g. "alb-5xx-rate") -> alarm, in the order of `ALARMS`
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:alarms:Alarms", name, None, opts)
        t, m = args.config.thresholds, args.monitored
        self.alarms = {}
        for spec in ALARMS:
            dims = dimensions(spec.group, m, args.context.region)
            if dims is None or not spec.when(m):
                continue
            self.alarms[spec.key] = metric_alarm(
                f"{name}-{spec.key}",
                name_prefix=args.context.name_prefix,
                key=spec.key,
                summary=spec.summary.format(t=t, m=m),
                alerts_topic_arn=args.alerts_topic_arn,
                parent=self,
                depends_on=m.targets_ready if spec.after_targets_ready else (),
                comparison_operator=spec.comparison,
                threshold=spec.threshold(t, m),
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                treat_missing_data=spec.missing,
                **metric_inputs(spec.metric, dims, t),
            )

        #: alarms whose ALARM means the service is down (components.availability's composite uses them)
        self.down_alarm_names: list[pulumi.Output[str]] = [self.alarms[k].name for k in DOWN_SIGNALS if k in self.alarms]
        self.alarm_arns: list[pulumi.Output[str]] = [a.arn for a in self.alarms.values()]
        self.alarm_names = {k: a.name for k, a in self.alarms.items()}
        self.register_outputs({"alarms": self.alarm_names})
