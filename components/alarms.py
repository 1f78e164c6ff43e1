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

Every alarm is named ``<name_prefix>-...``: the alert topic's policy only accepts
this stack's alarms. The runbook (docs/runbooks/alerts.md) has a section per alarm,
linked from each alarm's description.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from stackconfig.detection import Thresholds

CONTROLS: dict[str, str] = {
    "MON-1": "alarms on load balancer 5xx rates, unhealthy and missing targets, p99 latency, WAF block spikes, "
    "database CPU/storage/memory/connections, service CPU/memory and running tasks below desired; the TURN relay's "
    "unhealthy and missing targets, client and target TLS negotiation errors, active and new connections, CPU/memory "
    "and running tasks",
    "MON-2": "every alarm notifies the alert topic on ALARM and on OK",
}

RUNBOOK = "docs/runbooks/alerts.md"
ALB = "AWS/ApplicationELB"
GIB = 1024**3
MIB = 1024**2
#: the alarms that mean "users cannot use the service", not merely "something is degraded"
DOWN_SIGNALS = ("alb-no-healthy-targets",)


@dataclass(frozen=True)
class Monitored:
    """What there is to watch; None means "not declared yet" and skips that group of alarms."""

    #: Edge.load_balancer_arn_suffix (app/<name>/<id>)
    load_balancer_arn_suffix: pulumi.Input[str] | None = None
    #: Edge.target_group_arn_suffix (targetgroup/<name>/<id>)
    target_group_arn_suffix: pulumi.Input[str] | None = None
    #: the web ACL's CloudWatch metric name (Waf.name: the ACL's name and metric name are the same)
    web_acl_name: pulumi.Input[str] | None = None
    #: the RDS instance identifier
    db_instance_identifier: pulumi.Input[str] | None = None
    #: the ECS cluster and service names (only when the service is declared)
    cluster_name: pulumi.Input[str] | None = None
    service_name: pulumi.Input[str] | None = None
    #: the TURN relay (components/relay.py): its NLB (net/<name>/<id>) and target group, cluster and service
    relay_load_balancer_arn_suffix: pulumi.Input[str] | None = None
    relay_target_group_arn_suffix: pulumi.Input[str] | None = None
    relay_cluster_name: pulumi.Input[str] | None = None
    relay_service_name: pulumi.Input[str] | None = None
    #: active flows the relay is sized for at its largest (relayMaxTasks x relayConnectionsPerTask)
    relay_flow_capacity: int | None = None
    #: something registers targets in the target group (the ECS service is declared): only then can
    #: "no healthy target" mean an outage rather than "nothing deployed yet"
    targets_registered: bool = False
    #: what registers the targets (the ECS service, which `pulumi up` waits on to be steady): the
    #: "no healthy target" alarm is created after it, when HealthyHostCount is already reported
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


@dataclass(frozen=True)
class AlarmsArgs:
    name_prefix: str
    region: str
    alerts_topic_arn: pulumi.Input[str]
    thresholds: Thresholds
    monitored: Monitored


def _metric(namespace: str, metric: str, dims: Mapping[str, pulumi.Input[str]], stat: str, period: int) -> dict[str, Any]:
    return {"namespace": namespace, "metric_name": metric, "dimensions": dict(dims), "stat": stat, "period": period}


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


class Alarms(pulumi.ComponentResource):
    #: alarm key (e.g. "alb-5xx-rate") -> alarm
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:alarms:Alarms", name, None, opts)
        self._name = name
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        self.alarms = {}
        t = args.thresholds
        m = args.monitored

        lb_suffix, tg_suffix = m.load_balancer_arn_suffix, m.target_group_arn_suffix
        tg: dict[str, pulumi.Input[str]] = {"LoadBalancer": lb_suffix, "TargetGroup": tg_suffix} if lb_suffix and tg_suffix else {}
        if lb_suffix is not None:
            lb = {"LoadBalancer": lb_suffix}
            self._alarm(
                "alb-5xx-rate",
                f"Load balancer 5xx responses above {t.elb_5xx_rate_percent:g} % of requests (3 of 5 minutes)",
                comparison_operator="GreaterThanThreshold",
                threshold=t.elb_5xx_rate_percent,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                # no data = no requests at all: nothing failed (the canary covers "nobody can reach us")
                treat_missing_data="notBreaching",
                metric_queries=[
                    {"id": "errors", "metric": _metric(ALB, "HTTPCode_ELB_5XX_Count", lb, "Sum", 60), "return_data": False},
                    {"id": "requests", "metric": _metric(ALB, "RequestCount", lb, "Sum", 60), "return_data": False},
                    {
                        "id": "rate",
                        "expression": rate_expression("errors", "requests", t.min_requests_per_minute, add_errors_to_requests=True),
                        "label": "ELB 5xx % of requests",
                        "return_data": True,
                    },
                ],
            )

        if lb_suffix is not None and tg_suffix is not None:
            self._alarm(
                "target-5xx-rate",
                f"App (target) 5xx responses above {t.target_5xx_rate_percent:g} % of requests (3 of 5 minutes)",
                comparison_operator="GreaterThanThreshold",
                threshold=t.target_5xx_rate_percent,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                # no data = no requests reached the app: no app errors to judge
                treat_missing_data="notBreaching",
                metric_queries=[
                    {"id": "errors", "metric": _metric(ALB, "HTTPCode_Target_5XX_Count", tg, "Sum", 60), "return_data": False},
                    {"id": "requests", "metric": _metric(ALB, "RequestCount", tg, "Sum", 60), "return_data": False},
                    {
                        "id": "rate",
                        "expression": rate_expression("errors", "requests", t.min_requests_per_minute, add_errors_to_requests=False),
                        "label": "Target 5xx % of requests",
                        "return_data": True,
                    },
                ],
            )
            self._alarm(
                "alb-unhealthy-hosts",
                f"{t.unhealthy_hosts} or more app targets failing health checks for 3 minutes",
                comparison_operator="GreaterThanOrEqualToThreshold",
                threshold=t.unhealthy_hosts,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                # the load balancer reports this every minute while targets are registered; no data means
                # no targets at all, which alb-no-healthy-targets reports
                treat_missing_data="notBreaching",
                **_single(ALB, "UnHealthyHostCount", tg, "Maximum", 60),
            )
        if lb_suffix is not None and tg_suffix is not None and m.targets_registered:
            self._alarm(
                "alb-no-healthy-targets",
                "No healthy app target behind the load balancer for 2 minutes: the service is down",
                comparison_operator="LessThanThreshold",
                threshold=1,
                evaluation_periods=2,
                datapoints_to_alarm=2,
                # no data = no registered target reported healthy: that is the outage this alarm is for
                treat_missing_data="breaching",
                depends_on=m.targets_ready,
                **_single(ALB, "HealthyHostCount", tg, "Minimum", 60),
            )
        if lb_suffix is not None and tg_suffix is not None:
            self._alarm(
                "alb-p99-latency",
                f"p99 app response time above {t.p99_latency_ms} ms for 5 minutes",
                comparison_operator="GreaterThanThreshold",
                threshold=t.p99_latency_ms / 1000,  # TargetResponseTime is in seconds
                evaluation_periods=5,
                datapoints_to_alarm=5,
                # no data = no requests: nothing was slow
                treat_missing_data="notBreaching",
                namespace=ALB,
                metric_name="TargetResponseTime",
                dimensions=tg,
                extended_statistic="p99",
                period=60,
            )

        if m.web_acl_name is not None:
            waf = {"WebACL": m.web_acl_name, "Region": args.region, "Rule": "ALL"}
            self._alarm(
                "waf-blocked-spike",
                f"WAF blocked more than {t.waf_blocked_per_5min} requests in 5 minutes (attack or false positives)",
                comparison_operator="GreaterThanThreshold",
                threshold=t.waf_blocked_per_5min,
                evaluation_periods=1,
                datapoints_to_alarm=1,
                # WAF publishes BlockedRequests only when it blocks something: no data = nothing blocked
                treat_missing_data="notBreaching",
                **_single("AWS/WAFV2", "BlockedRequests", waf, "Sum", 300),
            )

        if m.db_instance_identifier is not None:
            db = {"DBInstanceIdentifier": m.db_instance_identifier}
            self._alarm(
                "db-cpu",
                f"Database CPU above {t.db_cpu_percent} % for 15 minutes",
                comparison_operator="GreaterThanThreshold",
                threshold=t.db_cpu_percent,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                # RDS reports every minute while the instance runs; a gap is not high CPU, so keep the
                # last state (db-free-storage is the alarm that reports the instance going silent)
                treat_missing_data="missing",
                **_single("AWS/RDS", "CPUUtilization", db, "Average", 300),
            )
            self._alarm(
                "db-free-storage",
                f"Database free storage below {t.db_free_storage_gib} GiB",
                comparison_operator="LessThanThreshold",
                threshold=t.db_free_storage_gib * GIB,
                evaluation_periods=1,
                datapoints_to_alarm=1,
                # the one database alarm that treats silence as trouble: an instance that stops
                # reporting storage is unavailable or gone
                treat_missing_data="breaching",
                **_single("AWS/RDS", "FreeStorageSpace", db, "Minimum", 300),
            )
            self._alarm(
                "db-freeable-memory",
                f"Database freeable memory below {t.db_free_memory_mib} MiB for 15 minutes",
                comparison_operator="LessThanThreshold",
                threshold=t.db_free_memory_mib * MIB,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                # a gap is not low memory: keep the last state (db-free-storage reports silence)
                treat_missing_data="missing",
                **_single("AWS/RDS", "FreeableMemory", db, "Minimum", 300),
            )
            self._alarm(
                "db-connections",
                f"Database connections above {t.db_connections} for 10 minutes",
                comparison_operator="GreaterThanThreshold",
                threshold=t.db_connections,
                evaluation_periods=2,
                datapoints_to_alarm=2,
                # no data cannot mean too many connections
                treat_missing_data="notBreaching",
                **_single("AWS/RDS", "DatabaseConnections", db, "Maximum", 300),
            )

        if m.cluster_name is not None and m.service_name is not None:
            svc = {"ClusterName": m.cluster_name, "ServiceName": m.service_name}
            self._alarm(
                "service-cpu",
                f"Service CPU above {t.service_cpu_percent} % of its reservation for 15 minutes",
                comparison_operator="GreaterThanThreshold",
                threshold=t.service_cpu_percent,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                # ECS reports only while tasks run; no tasks is service-tasks-below-desired's alarm
                treat_missing_data="notBreaching",
                **_single("AWS/ECS", "CPUUtilization", svc, "Average", 300),
            )
            self._alarm(
                "service-memory",
                f"Service memory above {t.service_memory_percent} % of its reservation for 15 minutes",
                comparison_operator="GreaterThanThreshold",
                threshold=t.service_memory_percent,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                # as service-cpu: no tasks is another alarm's business
                treat_missing_data="notBreaching",
                **_single("AWS/ECS", "MemoryUtilization", svc, "Average", 300),
            )
            self._alarm(
                "service-tasks-below-desired",
                "Fewer running tasks than desired for 5 minutes (tasks crashing or unable to start)",
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                evaluation_periods=5,
                datapoints_to_alarm=5,
                # Container Insights reports these every minute; silence means it is off or the service
                # is gone, and either way nobody can see that the service runs
                treat_missing_data="breaching",
                metric_queries=[
                    {
                        "id": "running",
                        "metric": _metric("ECS/ContainerInsights", "RunningTaskCount", svc, "Average", 60),
                        "return_data": False,
                    },
                    {
                        "id": "desired",
                        "metric": _metric("ECS/ContainerInsights", "DesiredTaskCount", svc, "Average", 60),
                        "return_data": False,
                    },
                    {"id": "missing", "expression": "desired - running", "label": "Tasks missing", "return_data": True},
                ],
            )

        if m.has_relay:
            self._relay_alarms(args)

        #: alarms whose ALARM means the service is down (components.availability's composite uses them)
        self.down_alarm_names: list[pulumi.Output[str]] = [self.alarms[k].name for k in DOWN_SIGNALS if k in self.alarms]
        self.alarm_arns: list[pulumi.Output[str]] = [a.arn for a in self.alarms.values()]
        self.alarm_names = {k: a.name for k, a in self.alarms.items()}
        self.register_outputs({"alarms": self.alarm_names})

    def _relay_alarms(self, args: AlarmsArgs) -> None:
        """The TURN relay: its targets, TLS handshakes, connections, and its ECS service (MON-1)."""
        t, m = args.thresholds, args.monitored
        lb_suffix, tg_suffix = m.relay_load_balancer_arn_suffix, m.relay_target_group_arn_suffix
        if lb_suffix is None or tg_suffix is None:
            raise ValueError("the relay alarms need the relay's load balancer and target group")
        nlb = "AWS/NetworkELB"
        lb: dict[str, pulumi.Input[str]] = {"LoadBalancer": lb_suffix}
        tg: dict[str, pulumi.Input[str]] = {"LoadBalancer": lb_suffix, "TargetGroup": tg_suffix}
        self._alarm(
            "relay-unhealthy-hosts",
            f"{t.unhealthy_hosts} or more relay tasks failing the load balancer's health check for 3 minutes",
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=t.unhealthy_hosts,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            # no data = no registered targets at all: relay-tasks-below-desired reports that
            treat_missing_data="notBreaching",
            **_single(nlb, "UnHealthyHostCount", tg, "Maximum", 60),
        )
        self._alarm(
            "relay-no-healthy-targets",
            "No healthy relay task behind the relay's load balancer for 2 minutes: no call can connect",
            comparison_operator="LessThanThreshold",
            threshold=1,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            # fires on a reported 0; silence (no targets registered, nothing reported) is what
            # relay-tasks-below-desired watches, so a quiet new stack does not page anyone
            treat_missing_data="notBreaching",
            **_single(nlb, "HealthyHostCount", tg, "Minimum", 60),
        )
        self._alarm(
            "relay-client-tls-errors",
            f"More than {t.relay_client_tls_errors_per_5min} failed client TLS handshakes at the relay in 5 minutes "
            "(clients without TLS 1.3, certificate trouble, or a scan)",
            comparison_operator="GreaterThanThreshold",
            threshold=t.relay_client_tls_errors_per_5min,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            # published only when there are errors: no data = no failed handshake
            treat_missing_data="notBreaching",
            **_single(nlb, "ClientTLSNegotiationErrorCount", lb, "Sum", 300),
        )
        self._alarm(
            "relay-target-tls-errors",
            "The relay's load balancer failed TLS handshakes with relay tasks in 3 minutes running (the tasks' TLS listener is broken)",
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            # published only when there are errors: no data = every handshake with a task succeeded
            treat_missing_data="notBreaching",
            **_single(nlb, "TargetTLSNegotiationErrorCount", lb, "Sum", 60),
        )
        capacity = m.relay_flow_capacity
        if capacity:
            limit = int(capacity * 0.9)
            self._alarm(
                "relay-active-flows",
                f"More than {limit} active relay connections (90 % of what relayMaxTasks tasks hold) for 10 minutes: "
                "autoscaling is at its ceiling",
                comparison_operator="GreaterThanThreshold",
                threshold=limit,
                evaluation_periods=10,
                datapoints_to_alarm=10,
                # published only while there are connections: no data = none
                treat_missing_data="notBreaching",
                **_single(nlb, "ActiveFlowCount_TLS", lb, "Maximum", 60),
            )
        self._alarm(
            "relay-new-flows",
            f"More than {t.relay_new_flows_per_minute} new relay connections a minute for 3 minutes (a connection flood)",
            comparison_operator="GreaterThanThreshold",
            threshold=t.relay_new_flows_per_minute,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            # published only while connections open: no data = none
            treat_missing_data="notBreaching",
            **_single(nlb, "NewFlowCount_TLS", lb, "Sum", 60),
        )
        cluster, service = m.relay_cluster_name, m.relay_service_name
        if cluster is None or service is None:
            return  # no relay service yet (first deploy): its alarms would only ever report missing data
        svc: dict[str, pulumi.Input[str]] = {"ClusterName": cluster, "ServiceName": service}
        self._alarm(
            "relay-cpu",
            f"Relay CPU above {t.service_cpu_percent} % of its reservation for 15 minutes",
            comparison_operator="GreaterThanThreshold",
            threshold=t.service_cpu_percent,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            # ECS reports only while tasks run; no tasks is relay-tasks-below-desired's alarm
            treat_missing_data="notBreaching",
            **_single("AWS/ECS", "CPUUtilization", svc, "Average", 300),
        )
        self._alarm(
            "relay-memory",
            f"Relay memory above {t.service_memory_percent} % of its reservation for 15 minutes",
            comparison_operator="GreaterThanThreshold",
            threshold=t.service_memory_percent,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            treat_missing_data="notBreaching",
            **_single("AWS/ECS", "MemoryUtilization", svc, "Average", 300),
        )
        self._alarm(
            "relay-tasks-below-desired",
            "Fewer running relay tasks than desired for 5 minutes (tasks crashing or unable to start)",
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            # Container Insights reports every minute while the service exists: silence means nobody can see
            # that the relay runs
            treat_missing_data="breaching",
            metric_queries=[
                {"id": "running", "metric": _metric("ECS/ContainerInsights", "RunningTaskCount", svc, "Average", 60), "return_data": False},
                {"id": "desired", "metric": _metric("ECS/ContainerInsights", "DesiredTaskCount", svc, "Average", 60), "return_data": False},
                {"id": "missing", "expression": "desired - running", "label": "Relay tasks missing", "return_data": True},
            ],
        )

    def _alarm(self, key: str, summary: str, depends_on: Sequence[pulumi.Resource] = (), **kwargs: Any) -> aws.cloudwatch.MetricAlarm:
        alarm = aws.cloudwatch.MetricAlarm(
            f"{self._name}-{key}",
            name=f"{self._args.name_prefix}-{key}",
            alarm_description=_description(key, summary),
            actions_enabled=True,
            alarm_actions=[self._args.alerts_topic_arn],
            ok_actions=[self._args.alerts_topic_arn],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
            **kwargs,
        )
        self.alarms[key] = alarm
        return alarm


def _single(namespace: str, metric: str, dims: Mapping[str, pulumi.Input[str]], stat: str, period: int) -> dict[str, Any]:
    return {"namespace": namespace, "metric_name": metric, "dimensions": dict(dims), "statistic": stat, "period": period}


def _description(key: str, summary: str) -> str:
    return f"{summary}. Runbook: {RUNBOOK}#{key}"
