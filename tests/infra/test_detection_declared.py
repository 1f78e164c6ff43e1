"""No alarm fires on a healthy new stack (MON-1, MON-2, AVL-1): every alarm, composite and canary refers only to
what the stack declares, in every mode the config allows, and only watches for silence where silence is trouble.

Generic on purpose: a dimension value must be the name/identifier/ARN suffix of a resource in the same render,
whatever component declared the alarm (the scan-events queue, the relay's load balancer, ...).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.infra.deployview import rendered
from tools.stackview import StackView

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
CANARY = "aws:synthetics/canary:Canary"
SERVICE = "aws:ecs/service:Service"

#: every mode the config allows that changes what is watched: the stacks, with and without the ECS service,
#: with the canary on and off
MODES = [
    (stack, (("kakoi:appServiceEnabled", service), ("kakoi:availabilityCanary", canary)))
    for stack, service, canary in itertools.product(("prod", "staging"), (True, False), (True, False))
]
#: dimension values that are not resource names (WAF's per-ACL total, the region)
CONSTANT_DIMENSIONS = {"Rule": {"ALL"}}
#: output/input fields that name a resource in a CloudWatch dimension
NAME_FIELDS = ("name", "arnSuffix", "identifier", "functionName", "bucket", "id")
#: metrics a declared, healthy resource publishes continuously from its creation (so treating their
#: silence as "breaching" cannot fire on a healthy new stack): (namespace, metric) -> the resource type
#: that must be declared and healthy first
CONTINUOUS = {
    ("AWS/RDS", "FreeStorageSpace"): "aws:rds/instance:Instance",
    ("AWS/ApplicationELB", "HealthyHostCount"): SERVICE,
    ("ECS/ContainerInsights", "RunningTaskCount"): SERVICE,
    ("ECS/ContainerInsights", "DesiredTaskCount"): SERVICE,
}


def mode_id(mode: tuple[str, tuple[tuple[str, Any], ...]]) -> str:
    stack, overrides = mode
    return stack + "-" + "-".join(f"{k.split(':')[1]}={v}" for k, v in overrides)


def declared_names(view: StackView) -> set[str]:
    out: set[str] = set()
    for r in view:
        if not r.custom:
            continue
        for source in (r.outputs, r.inputs):
            for key in NAME_FIELDS:
                value = source.get(key)
                if isinstance(value, str) and value:
                    out.add(value)
    provider_regions = {str(r.inputs.get("region")) for r in view.of_type("pulumi:providers:aws") if r.inputs.get("region")}
    regions = {str(r.inputs.get("region")) for r in view if r.inputs.get("region")}
    return out | provider_regions | regions


def metrics_of(alarm: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of a MetricAlarm's single metric or of each metric query."""
    if alarm.get("metricName"):
        yield alarm.get("namespace", ""), alarm["metricName"], dict(alarm.get("dimensions") or {})
    for q in alarm.get("metricQueries") or []:
        metric = q.get("metric")
        if metric:
            yield metric.get("namespace", ""), metric.get("metricName", ""), dict(metric.get("dimensions") or {})


@pytest.fixture(scope="module", params=MODES, ids=mode_id)
def mode(request: pytest.FixtureRequest) -> tuple[StackView, dict[str, Any]]:
    stack, overrides = request.param
    return rendered(stack, overrides), dict(overrides)


def test_mon1_every_alarm_dimension_names_a_declared_resource(mode: tuple[StackView, dict[str, Any]]) -> None:
    """MON-1: in every mode, each alarm's dimensions (single metric or metric-math queries) name a resource this
    render declares: no alarm on a service, queue, target group or canary that does not exist."""
    view, _ = mode
    names = declared_names(view)
    alarms = view.of_type(ALARM)
    assert alarms
    for a in alarms:
        found = list(metrics_of(a.inputs))
        assert found, f"{a.name}: no metric"
        for namespace, metric, dims in found:
            assert dims, f"{a.name}: {namespace}/{metric} has no dimension (an account-wide alarm)"
            for key, value in dims.items():
                if value in CONSTANT_DIMENSIONS.get(key, set()):
                    continue
                assert value in names, f"{a.name}: {namespace}/{metric} dimension {key}={value!r} names nothing declared"


def test_mon1_service_alarms_exist_exactly_when_the_service_does(mode: tuple[StackView, dict[str, Any]]) -> None:
    """MON-1: without the ECS service there is no ServiceName dimension and no "no healthy target" alarm (nothing
    registers targets yet); with it, both exist and name the declared service."""
    view, overrides = mode
    services = {s.inputs["name"] for s in view.of_type(SERVICE)}
    assert bool(services) == overrides["kakoi:appServiceEnabled"]
    service_dims = {dims["ServiceName"] for a in view.of_type(ALARM) for _, _, dims in metrics_of(a.inputs) if "ServiceName" in dims}
    assert service_dims <= services
    # the app's target group (the relay's NLB alarm on HealthyHostCount treats silence as not breaching)
    healthy = [
        a for a in view.of_type(ALARM) if any((ns, m) == ("AWS/ApplicationELB", "HealthyHostCount") for ns, m, _ in metrics_of(a.inputs))
    ]
    assert bool(healthy) == bool(services)
    if services:
        assert service_dims, "the service is declared but nothing watches it"


def test_avl1_canary_probes_only_a_declared_app_and_starts_after_it(mode: tuple[StackView, dict[str, Any]]) -> None:
    """AVL-1: the canary runs only when it is enabled and the service exists, and starts after the service is
    steady; its alarms and the stopped rule exist only then; every composite names declared alarms."""
    view, overrides = mode
    (canary,) = view.of_type(CANARY)
    services = view.of_type(SERVICE)
    probing = overrides["kakoi:availabilityCanary"] and overrides["kakoi:appServiceEnabled"]
    assert canary.inputs["startCanary"] is probing
    if services and probing:
        assert services[0].urn in canary.dependencies, "the first probe must meet a steady service"
    canary_alarms = [a for a in view.of_type(ALARM) if any(ns == "CloudWatchSynthetics" for ns, _, _ in metrics_of(a.inputs))]
    assert bool(canary_alarms) == probing
    rules = [r for r in view.of_type("aws:cloudwatch/eventRule:EventRule") if r.name.endswith("canary-stopped")]
    assert bool(rules) == probing
    alarm_names = {a.inputs["name"] for a in view.of_type(ALARM)}
    for composite in view.of_type(COMPOSITE):
        referenced = set(json.loads(json.dumps(composite.inputs["alarmRule"])).split('"')[1::2])
        assert referenced and referenced <= alarm_names, composite.inputs["alarmRule"]


def test_mon1_silence_is_breaching_only_for_metrics_a_declared_healthy_resource_publishes(
    mode: tuple[StackView, dict[str, Any]],
) -> None:
    """MON-1: an alarm that treats missing data as breaching would open in ALARM on a stack with no traffic, unless
    its metric is published continuously by a resource that exists (and is created before the alarm)."""
    view, _ = mode
    by_urn = {r.urn: r for r in view}
    for a in view.of_type(ALARM):
        if a.inputs.get("treatMissingData") != "breaching":
            continue
        for namespace, metric, _ in metrics_of(a.inputs):
            source = CONTINUOUS.get((namespace, metric))
            assert source, f"{a.name}: {namespace}/{metric} is not published continuously, yet silence is breaching"
            assert view.of_type(source), f"{a.name}: needs a {source}"
            assert any(by_urn[d].type == source for d in a.dependencies if d in by_urn), (
                f"{a.name}: must be created after its {source} (it publishes {metric} once it is up)"
            )
