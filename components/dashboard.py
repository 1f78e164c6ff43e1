"""The service dashboard (MON-1): availability, latency, errors, the WAF, database health, the service,
the TURN relay beside it (healthy tasks, active/new TLS connections, TLS negotiation errors, CPU/memory
and tasks), GuardDuty findings (matched by the routing rules), alarm states.

It shows what `Monitored` says is there (the same handle as the alarms', so the dashboard and the alarms
watch the same things); groups not declared are left out. Declared by
`components.availability.Availability` as its own child (same name, same parent: no URN moves).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarms import RUNBOOK, Monitored
from components.canary_role import SYNTHETICS
from components.context import StackContext


def watched(mon: Monitored) -> dict[str, pulumi.Input[str]]:
    """The dimensions the dashboard shows, by widget group; groups not declared are left out."""
    inputs: dict[str, pulumi.Input[str] | None] = {
        "load_balancer": mon.load_balancer_arn_suffix,
        "target_group": mon.target_group_arn_suffix if mon.has_target_group else None,
        "web_acl": mon.web_acl_name,
        "database": mon.db_instance_identifier,
        "cluster": mon.cluster_name if mon.has_service else None,
        "service": mon.service_name if mon.has_service else None,
        "relay_load_balancer": mon.relay_load_balancer_arn_suffix if mon.has_relay else None,
        "relay_target_group": mon.relay_target_group_arn_suffix if mon.has_relay else None,
        "relay_cluster": mon.relay_cluster_name if mon.has_relay_service else None,
        "relay_service": mon.relay_service_name if mon.has_relay_service else None,
    }
    return {k: v for k, v in inputs.items() if v is not None}


def dashboard_body(
    region: str,
    canary_name: str | None,
    monitored: dict[str, str | None],
    findings_rules: list[str],
    alarm_arns: list[str],
) -> str:
    """The dashboard JSON (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)."""
    widgets: list[dict[str, Any]] = []

    def add(title: str, metrics: list[list[Any]], *, stat: str = "Average", period: int = 60, **props: Any) -> None:
        widgets.append(
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region,
                    "view": "timeSeries",
                    "stat": stat,
                    "period": period,
                    "metrics": metrics,
                    **props,
                },
            }
        )

    lb, tg = monitored.get("load_balancer"), monitored.get("target_group")
    if canary_name:
        add(
            "Availability: successful probes (%)",
            [[SYNTHETICS, "SuccessPercent", "CanaryName", canary_name]],
            yAxis={"left": {"min": 0, "max": 100}},
        )
        add("Availability: probe duration (ms)", [[SYNTHETICS, "Duration", "CanaryName", canary_name]])
    if lb and tg:
        add(
            "Latency: app response time (s)",
            [
                ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", tg, {"stat": "p50", "label": "p50"}],
                ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", tg, {"stat": "p90", "label": "p90"}],
                ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", tg, {"stat": "p99", "label": "p99"}],
            ],
        )
        add(
            "Targets: healthy / unhealthy",
            [
                ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", lb, "TargetGroup", tg],
                ["AWS/ApplicationELB", "UnHealthyHostCount", "LoadBalancer", lb, "TargetGroup", tg],
            ],
            stat="Minimum",
        )
    if lb:
        add(
            "Errors: requests and 5xx",
            [
                ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb],
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb],
                *([["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, "TargetGroup", tg]] if tg else []),
                *([["AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", "LoadBalancer", lb, "TargetGroup", tg]] if tg else []),
            ],
            stat="Sum",
        )
    acl = monitored.get("web_acl")
    if acl:
        add(
            "WAF: allowed / blocked requests",
            [
                ["AWS/WAFV2", "AllowedRequests", "WebACL", acl, "Region", region, "Rule", "ALL"],
                ["AWS/WAFV2", "BlockedRequests", "WebACL", acl, "Region", region, "Rule", "ALL"],
            ],
            stat="Sum",
            period=300,
        )
    db = monitored.get("database")
    if db:
        add(
            "Database: CPU (%) and connections",
            [
                ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", db],
                ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db, {"yAxis": "right", "stat": "Maximum"}],
            ],
            period=300,
        )
        add(
            "Database: free storage and freeable memory (bytes)",
            [
                ["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", db],
                ["AWS/RDS", "FreeableMemory", "DBInstanceIdentifier", db, {"yAxis": "right"}],
            ],
            stat="Minimum",
            period=300,
        )
    cluster, service = monitored.get("cluster"), monitored.get("service")
    if cluster and service:
        add(
            "Service: CPU and memory (% of reservation)",
            [
                ["AWS/ECS", "CPUUtilization", "ClusterName", cluster, "ServiceName", service],
                ["AWS/ECS", "MemoryUtilization", "ClusterName", cluster, "ServiceName", service],
            ],
            period=300,
        )
        add(
            "Service: running / desired tasks",
            [
                ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", cluster, "ServiceName", service],
                ["ECS/ContainerInsights", "DesiredTaskCount", "ClusterName", cluster, "ServiceName", service],
            ],
        )
    rlb, rtg = monitored.get("relay_load_balancer"), monitored.get("relay_target_group")
    rcluster, rservice = monitored.get("relay_cluster"), monitored.get("relay_service")
    if rlb and rtg:
        nlb = "AWS/NetworkELB"
        add(
            "Relay: healthy / unhealthy tasks",
            [
                [nlb, "HealthyHostCount", "LoadBalancer", rlb, "TargetGroup", rtg],
                [nlb, "UnHealthyHostCount", "LoadBalancer", rlb, "TargetGroup", rtg],
            ],
            stat="Minimum",
        )
        add(
            "Relay: active and new TLS connections",
            [
                [nlb, "ActiveFlowCount_TLS", "LoadBalancer", rlb, {"stat": "Maximum", "label": "active"}],
                [nlb, "NewFlowCount_TLS", "LoadBalancer", rlb, {"stat": "Sum", "label": "new", "yAxis": "right"}],
            ],
        )
        add(
            "Relay: TLS negotiation errors (clients, tasks)",
            [
                [nlb, "ClientTLSNegotiationErrorCount", "LoadBalancer", rlb],
                [nlb, "TargetTLSNegotiationErrorCount", "LoadBalancer", rlb],
            ],
            stat="Sum",
            period=300,
        )
    if rcluster and rservice:
        add(
            "Relay: CPU and memory (% of reservation), running / desired tasks",
            [
                ["AWS/ECS", "CPUUtilization", "ClusterName", rcluster, "ServiceName", rservice],
                ["AWS/ECS", "MemoryUtilization", "ClusterName", rcluster, "ServiceName", rservice],
                ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", rcluster, "ServiceName", rservice, {"yAxis": "right"}],
                ["ECS/ContainerInsights", "DesiredTaskCount", "ClusterName", rcluster, "ServiceName", rservice, {"yAxis": "right"}],
            ],
        )
    if findings_rules:
        add(
            "GuardDuty: findings and malware detections sent to the alert topic",
            [["AWS/Events", "MatchedEvents", "RuleName", rule] for rule in findings_rules],
            stat="Sum",
            period=300,
        )
    if alarm_arns:
        widgets.append(
            {
                "type": "alarm",
                "width": 24,
                "height": 4,
                "properties": {"title": f"Alarms (runbook: {RUNBOOK})", "alarms": alarm_arns},
            }
        )
    # lay the widgets out two per row, in the order above
    for i, w in enumerate(widgets):
        w["x"] = 0 if w["width"] == 24 else (i % 2) * 12
        w["y"] = (i // 2) * 6
    return json.dumps({"widgets": widgets}, separators=(",", ":"))


def declare(
    name: str,
    *,
    parent: pulumi.Resource,
    context: StackContext,
    canary_name: str,
    monitored: Monitored,
    findings_rule_names: Sequence[pulumi.Input[str]],
    alarm_arns: Sequence[pulumi.Input[str]],
) -> aws.cloudwatch.Dashboard:
    """The dashboard `<prefix>-service` (`<name>-dashboard`), a child of `parent`."""
    body = pulumi.Output.all(watched(monitored), list(findings_rule_names), list(alarm_arns)).apply(
        lambda v: dashboard_body(context.region, canary_name, v[0], v[1], v[2])
    )
    return aws.cloudwatch.Dashboard(
        f"{name}-dashboard",
        dashboard_name=f"{context.name_prefix}-service",
        dashboard_body=body,
        opts=pulumi.ResourceOptions(parent=parent),
    )
