"""Alarms (MON-1, MON-2): the load balancer, the WAF, the database and the service, with thresholds from config."""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from components.alarms import rate_expression
from tests.infra.detectionview import ALARM, REGION, alarms, prefix, render_program, stack_name, topic_arn
from tools.render import RenderError, render
from tools.stackview import Res, StackView

#: alarm key -> (namespace, metric, dimension names) for single-metric alarms
SINGLE = {
    "alb-unhealthy-hosts": ("AWS/ApplicationELB", "UnHealthyHostCount", {"LoadBalancer", "TargetGroup"}),
    "alb-no-healthy-targets": ("AWS/ApplicationELB", "HealthyHostCount", {"LoadBalancer", "TargetGroup"}),
    "alb-p99-latency": ("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer", "TargetGroup"}),
    "waf-blocked-spike": ("AWS/WAFV2", "BlockedRequests", {"WebACL", "Region", "Rule"}),
    "db-cpu": ("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier"}),
    "db-free-storage": ("AWS/RDS", "FreeStorageSpace", {"DBInstanceIdentifier"}),
    "db-freeable-memory": ("AWS/RDS", "FreeableMemory", {"DBInstanceIdentifier"}),
    "db-connections": ("AWS/RDS", "DatabaseConnections", {"DBInstanceIdentifier"}),
}
#: alarm key -> (namespace, metrics by query id, dimension names) for metric-math alarms
MATH = {
    "alb-5xx-rate": ("AWS/ApplicationELB", {"errors": "HTTPCode_ELB_5XX_Count", "requests": "RequestCount"}, {"LoadBalancer"}),
    "target-5xx-rate": (
        "AWS/ApplicationELB",
        {"errors": "HTTPCode_Target_5XX_Count", "requests": "RequestCount"},
        {"LoadBalancer", "TargetGroup"},
    ),
}
SERVICE = {"service-cpu", "service-memory", "service-tasks-below-desired"}
#: the TURN relay's alarms (tests/infra/test_relay.py checks them one by one)
RELAY = {
    "relay-unhealthy-hosts",
    "relay-no-healthy-targets",
    "relay-client-tls-errors",
    "relay-target-tls-errors",
    "relay-active-flows",
    "relay-new-flows",
    "relay-cpu",
    "relay-memory",
    "relay-tasks-below-desired",
}
#: what the stack files set (Pulumi.yaml defaults otherwise)
THRESHOLDS: dict[str, dict[str, float]] = {
    "prod": {
        "alb-5xx-rate": 1,
        "target-5xx-rate": 2,
        "alb-unhealthy-hosts": 1,
        "alb-no-healthy-targets": 1,
        "alb-p99-latency": 2.0,
        "waf-blocked-spike": 500,
        "db-cpu": 80,
        "db-free-storage": 10 * 1024**3,
        "db-freeable-memory": 256 * 1024**2,
        "db-connections": 400,
    },
    "staging": {
        "alb-5xx-rate": 1,
        "target-5xx-rate": 2,
        "alb-unhealthy-hosts": 1,
        "alb-no-healthy-targets": 1,
        "alb-p99-latency": 3.0,
        "waf-blocked-spike": 500,
        "db-cpu": 80,
        "db-free-storage": 10 * 1024**3,
        "db-freeable-memory": 256 * 1024**2,
        "db-connections": 150,
    },
}
#: the deliberate missing-data choice per alarm (see the comments in components/alarms.py)
MISSING = {
    "alb-5xx-rate": "notBreaching",
    "target-5xx-rate": "notBreaching",
    "alb-unhealthy-hosts": "notBreaching",
    "alb-no-healthy-targets": "breaching",
    "alb-p99-latency": "notBreaching",
    "waf-blocked-spike": "notBreaching",
    "db-cpu": "missing",
    "db-free-storage": "breaching",
    "db-freeable-memory": "missing",
    "db-connections": "notBreaching",
    "service-cpu": "notBreaching",
    "service-memory": "notBreaching",
    "service-tasks-below-desired": "breaching",
}


def by_key(view: StackView) -> dict[str, Res]:
    p = prefix(view) + "-"
    return {name.removeprefix(p): a for name, a in alarms(view).items() if a.parent.endswith("Alarms::alarms")}


def dims_of(view: StackView) -> dict[str, str]:
    lb = view.one("aws:lb/loadBalancer:LoadBalancer", "edge").outputs["arnSuffix"]
    tg = view.one("aws:lb/targetGroup:TargetGroup", "edge").outputs["arnSuffix"]
    acl = view.one("aws:wafv2/webAcl:WebAcl")
    db = view.one("aws:rds/instance:Instance")
    return {
        "LoadBalancer": lb,
        "TargetGroup": tg,
        "WebACL": acl.inputs["visibilityConfig"]["metricName"],
        "Region": REGION,
        "Rule": "ALL",
        "DBInstanceIdentifier": db.inputs["identifier"],
    }


def test_mon1_the_alarms_declared_today(each_stack: StackView) -> None:
    """MON-1: load balancer, target group, WAF and database alarms exist (service alarms come with the service)."""
    keys = set(by_key(each_stack))
    assert set(SINGLE) | set(MATH) <= keys
    # the ECS service is wired separately: its alarms exist exactly when __main__ passes cluster and service
    assert keys - set(SINGLE) - set(MATH) - RELAY <= SERVICE


def test_mon1_service_alarms_exist_exactly_when_the_service_does(each_stack: StackView) -> None:
    """MON-1: an ECS service in the stack has CPU, memory and running-task alarms on its own names; no service, no
    service alarms (they would only ever report missing data)."""
    services = [s for s in each_stack.of_type("aws:ecs/service:Service") if s.name == "app-service"]
    keys = set(by_key(each_stack))
    if not services:
        assert not keys & SERVICE
        return
    assert keys >= SERVICE
    (service,) = [s for s in services if s.inputs["name"].endswith("-app")]  # the scan consumer has its own (test_scan_events)
    cluster = each_stack.one("aws:ecs/cluster:Cluster", "app-cluster")
    want = {"ClusterName": cluster.inputs["name"], "ServiceName": service.inputs["name"]}
    alarms_ = by_key(each_stack)
    for key in ("service-cpu", "service-memory"):
        assert alarms_[key].inputs["dimensions"] == want, key
    for query in alarms_["service-tasks-below-desired"].inputs["metricQueries"]:
        if "metric" in query:
            assert query["metric"]["dimensions"] == want


def test_mon1_single_metric_alarms_watch_the_documented_metric_of_the_right_resource(each_stack: StackView) -> None:
    """MON-1: namespace, metric name, dimension names and values (ARN suffixes, DB identifier, web ACL metric name)."""
    alarms_ = by_key(each_stack)
    want = dims_of(each_stack)
    for key, (namespace, metric, dims) in SINGLE.items():
        a = alarms_[key].inputs
        assert (a["namespace"], a["metricName"]) == (namespace, metric), key
        assert set(a["dimensions"]) == dims, key
        for dim, value in a["dimensions"].items():
            assert value == want[dim], (key, dim)
    assert alarms_["alb-p99-latency"].inputs["extendedStatistic"] == "p99"
    assert "statistic" not in alarms_["alb-p99-latency"].inputs


def test_mon1_rates_use_metric_math_over_the_documented_counts(each_stack: StackView) -> None:
    """MON-1: 5xx rates are metric math (errors / requests), one returned expression, periods of one minute."""
    alarms_ = by_key(each_stack)
    want = dims_of(each_stack)
    for key, (namespace, metrics, dims) in MATH.items():
        queries = {q["id"]: q for q in alarms_[key].inputs["metricQueries"]}
        assert set(queries) == {*metrics, "rate"}
        for qid, metric in metrics.items():
            m = queries[qid]["metric"]
            assert (m["namespace"], m["metricName"], m["stat"], m["period"]) == (namespace, metric, "Sum", 60), (key, qid)
            assert set(m["dimensions"]) == dims
            assert all(v == want[d] for d, v in m["dimensions"].items())
            assert queries[qid]["returnData"] is False
        assert queries["rate"]["returnData"] is True
        for ref in re.findall(r"[a-z_]+(?=[,)])", queries["rate"]["expression"]):
            assert ref in metrics, f"{key}: expression uses unknown id {ref}"
        # an alarm on metric math has no metric of its own
        assert "metricName" not in alarms_[key].inputs


def test_mon1_mon2_every_alarm_has_config_threshold_actions_and_a_missing_data_choice(each_stack: StackView) -> None:
    """MON-1, MON-2: thresholds per stack from config, ALARM and OK to the topic, treat_missing_data set on purpose."""
    alarms_ = by_key(each_stack)
    topic = topic_arn(each_stack)
    for key, threshold in THRESHOLDS[stack_name(each_stack)].items():
        a = alarms_[key].inputs
        assert a["threshold"] == pytest.approx(threshold), key
        assert a["alarmActions"] == [topic] and a["okActions"] == [topic], key
        assert a["treatMissingData"] == MISSING[key], key
        assert 1 <= a["datapointsToAlarm"] <= a["evaluationPeriods"], key
        # runbook link in every description
        assert f"docs/runbooks/alerts.md#{key}" in a["alarmDescription"], key


# --- the rate expression, evaluated the way CloudWatch evaluates it for one data point ---------


class _Num(float):
    """A data point: arithmetic as CloudWatch does it, where x / 0 is no value (NaN) instead of an error."""

    def __add__(self, o: float) -> _Num:  # type: ignore[override]
        return _Num(float(self) + float(o))

    __radd__ = __add__

    def __mul__(self, o: float) -> _Num:  # type: ignore[override]
        return _Num(float(self) * float(o))

    __rmul__ = __mul__

    def __truediv__(self, o: float) -> _Num:  # type: ignore[override]
        return _Num(math.nan if float(o) == 0 else float(self) / float(o))


def _evaluate(expression: str, values: dict[str, float | None]) -> float | None:
    """Evaluate IF/FILL/arithmetic for one timestamp; None is a missing data point (and the result may be one)."""

    def fill(v: float | None, d: float) -> _Num:
        return _Num(d if v is None else v)

    def if_(cond: Any, then: float, other: float) -> float:
        return then if cond else other

    env: dict[str, Any] = {k: None if v is None else _Num(v) for k, v in values.items()}
    env.update({"FILL": fill, "IF_": if_})
    result = eval(expression.replace("IF(", "IF_("), {"__builtins__": {}}, env)
    return None if result is None or math.isnan(result) else float(result)


@pytest.mark.parametrize(
    ("errors", "requests", "expected"),
    [
        (0, 1000, 0.0),
        (10, 990, 1.0),  # ELB errors may not be in RequestCount: 10 of 1000 handled requests
        (5, None, 0.0),  # below the minimum volume: not judged
        (100, None, 100.0),  # every request failed at the load balancer (no healthy target)
        (None, 500, 0.0),
        (None, None, 0.0),
    ],
)
def test_mon1_elb_5xx_rate_counts_errors_the_load_balancer_generated(errors: float | None, requests: float | None, expected: float) -> None:
    """MON-1: the ELB 5xx rate is errors / (requests + errors), 0 below 20 requests a minute."""
    expr = rate_expression("errors", "requests", 20, add_errors_to_requests=True)
    assert _evaluate(expr, {"errors": errors, "requests": requests}) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("errors", "requests", "expected"),
    [(0, 1000, 0.0), (30, 1000, 3.0), (5, 10, 0.0), (None, 1000, 0.0), (1000, 1000, 100.0), (None, None, 0.0)],
)
def test_mon1_target_5xx_rate_is_errors_over_requests(errors: float | None, requests: float | None, expected: float) -> None:
    """MON-1: the app 5xx rate is target errors / requests (both counted per target group), 0 below the minimum volume."""
    expr = rate_expression("errors", "requests", 20, add_errors_to_requests=False)
    assert _evaluate(expr, {"errors": errors, "requests": requests}) == pytest.approx(expected)


@cache
def _with_service(tmp: str) -> StackView:
    return render_program(
        Path(tmp),
        """
        from components.alarms import Alarms, AlarmsArgs, Monitored
        from components.context import StackContext
        ctx = StackContext(project="kakoi", stack="prod", region=cfg.core.region, dr_region=cfg.core.dr_region,
                           account_id="123456789012", partition="aws", opts=opts)
        Alarms("alarms", AlarmsArgs(
            context=ctx, config=cfg.detection, alerts_topic_arn="arn:aws:sns:ap-northeast-1:123456789012:t",
            monitored=Monitored(cluster_name="kakoi-prod", service_name="kakoi-prod-web"),
        ), opts=opts)
        """,
    )


def test_mon1_service_alarms_when_the_service_is_given(tmp_path: Path) -> None:
    """MON-1: with cluster and service, CPU, memory and running-below-desired alarms; nothing for absent inputs."""
    view = _with_service(str(tmp_path))
    got = {a.inputs["name"]: a for a in view.of_type(ALARM)}
    assert set(got) == {f"kakoi-prod-{k}" for k in SERVICE}
    dims = {"ClusterName": "kakoi-prod", "ServiceName": "kakoi-prod-web"}
    cpu, mem = got["kakoi-prod-service-cpu"].inputs, got["kakoi-prod-service-memory"].inputs
    assert (cpu["namespace"], cpu["metricName"], cpu["dimensions"], cpu["threshold"]) == ("AWS/ECS", "CPUUtilization", dims, 85)
    assert (mem["namespace"], mem["metricName"], mem["dimensions"], mem["threshold"]) == ("AWS/ECS", "MemoryUtilization", dims, 85)
    tasks = got["kakoi-prod-service-tasks-below-desired"].inputs
    queries = {q["id"]: q for q in tasks["metricQueries"]}
    assert queries["running"]["metric"]["namespace"] == "ECS/ContainerInsights"
    assert queries["running"]["metric"]["metricName"] == "RunningTaskCount"
    assert queries["desired"]["metric"]["metricName"] == "DesiredTaskCount"
    assert queries["running"]["metric"]["dimensions"] == dims == queries["desired"]["metric"]["dimensions"]
    assert queries["missing"]["expression"] == "desired - running"
    assert (tasks["comparisonOperator"], tasks["threshold"]) == ("GreaterThanThreshold", 0)
    for key in SERVICE:
        assert got[f"kakoi-prod-{key}"].inputs["treatMissingData"] == MISSING[key]


def test_mon1_thresholds_outside_their_range_are_refused() -> None:
    """MON-1: a threshold that makes no sense fails the config check, naming the key."""
    for override, key in (
        ({"kakoi:alarmElb5xxRatePercent": "150"}, "kakoi:alarmElb5xxRatePercent"),
        ({"kakoi:alarmElb5xxRatePercent": "one"}, "kakoi:alarmElb5xxRatePercent"),
        ({"kakoi:alarmDbCpuPercent": 0}, "kakoi:alarmDbCpuPercent"),
        ({"kakoi:alarmP99LatencyMs": 5}, "kakoi:alarmP99LatencyMs"),
    ):
        with pytest.raises(RenderError) as info:
            render("staging", overrides=override)
        assert info.value.exit_code == 2 and info.value.declared == 0
        assert f"- {key}:" in str(info.value), override
