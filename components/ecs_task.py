"""What every ECS Fargate workload of kakoi declares the same way (AVL-1, REC-1, MON-1, CMD-1).

The app (components/app_service.py), the TURN relay (components/relay.py) and the scan-result
consumer (components/scan_events.py) each run their own task definitions and services; these
helpers keep the settings they share in one place:

* ``cluster``: Container Insights from config (MON-1);
* ``log_group``: KMS-encrypted, with a retention (MON-1; the caller names it
  ``/ecs/<prefix>/<workload>``);
* ``task_definition``: Fargate, ``awsvpc``, LINUX on the configured CPU architecture, one
  ephemeral volume per writable path (the containers' root filesystems are read-only, CMD-1),
  old revisions kept (``skip_destroy``) so a manual rollback can point back at one (REC-1);
* ``service``: Fargate ``LATEST``, private subnets without public IPs, rolling deployments at
  100 % / 200 % with the circuit breaker and rollback (REC-1), ECS-managed tags, ``pulumi up``
  waiting for steady state; a service spread over the zones gets AZ rebalancing (AVL-1);
* ``target_tracking``: the scalable target and its target-tracking policies (AVL-1), which own
  the desired count after creation.

Each helper declares exactly the resource the callers declared before it existed (same
resource names, inputs and options: no URN or input moved).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

#: target tracking scales out after a minute (AVL-1); scale-in waits per workload (`target_tracking`)
SCALE_OUT_COOLDOWN_SECONDS = 60


def resolve_environment(environment: Mapping[str, pulumi.Input[str]]) -> pulumi.Output[dict[str, str]]:
    """A plain environment whose values may be outputs, as one output of a `{name: value}` dict."""
    keys = sorted(environment)
    return pulumi.Output.all(*[environment[k] for k in keys]).apply(lambda values: dict(zip(keys, [str(v) for v in values], strict=True)))


def cluster(name: str, parent: pulumi.Resource, *, cluster_name: str, container_insights: str) -> aws.ecs.Cluster:
    """`<name>-cluster`: an ECS cluster with CloudWatch Container Insights (`enhanced` or `enabled`, MON-1)."""
    return aws.ecs.Cluster(
        f"{name}-cluster",
        name=cluster_name,
        settings=[{"name": "containerInsights", "value": container_insights}],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def log_group(
    name: str, parent: pulumi.Resource, *, log_group_name: str, retention_days: int, kms_key_arn: pulumi.Input[str]
) -> aws.cloudwatch.LogGroup:
    """`<name>-logs`: the containers' log group, encrypted with the logs key, kept `retention_days` (MON-1)."""
    return aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=log_group_name,
        retention_in_days=retention_days,
        kms_key_id=kms_key_arn,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def task_definition(
    resource_name: str,
    parent: pulumi.Resource,
    *,
    family: str,
    cpu: int,
    memory: int,
    cpu_architecture: str,
    execution_role_arn: pulumi.Input[str],
    volumes: Sequence[str],
    container_definitions: pulumi.Input[str],
    task_role_arn: pulumi.Input[str] | None = None,
) -> aws.ecs.TaskDefinition:
    """A Fargate task definition (`awsvpc`, LINUX on `cpu_architecture`: ARM64 or X86_64) with one
    ephemeral volume per name in `volumes`; no task role when `task_role_arn` is None; revisions kept (REC-1)."""
    return aws.ecs.TaskDefinition(
        resource_name,
        family=family,
        requires_compatibilities=["FARGATE"],
        network_mode="awsvpc",
        cpu=str(cpu),
        memory=str(memory),
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(operating_system_family="LINUX", cpu_architecture=cpu_architecture),
        execution_role_arn=execution_role_arn,
        task_role_arn=task_role_arn,
        volumes=[{"name": v} for v in volumes],
        container_definitions=container_definitions,
        skip_destroy=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def service(
    resource_name: str,
    parent: pulumi.Resource,
    *,
    service_name: str,
    cluster_arn: pulumi.Input[str],
    task_definition_arn: pulumi.Input[str],
    desired_count: int,
    subnet_ids: Sequence[pulumi.Input[str]],
    security_group_ids: Sequence[pulumi.Input[str]],
    depends_on: Sequence[pulumi.Resource],
    load_balancer: aws.ecs.ServiceLoadBalancerArgsDict | None = None,
    health_check_grace_seconds: int | None = None,
    execute_command: bool = False,
    spread_over_zones: bool = False,
    autoscaled: bool = False,
) -> aws.ecs.Service:
    """A Fargate service in private subnets without public IPs, rolling (100 % / 200 %) with the circuit
    breaker's rollback (REC-1); `pulumi up` waits for the deployment and fails when it failed.

    `spread_over_zones`: AZ rebalancing (AVL-1), with the ECS (rolling) deployment controller it needs
    written out. `autoscaled`: the desired count is autoscaling's after creation (`ignore_changes`)."""
    return aws.ecs.Service(
        resource_name,
        name=service_name,
        cluster=cluster_arn,
        task_definition=task_definition_arn,
        desired_count=desired_count,
        launch_type="FARGATE",
        platform_version="LATEST",
        deployment_minimum_healthy_percent=100,
        deployment_maximum_percent=200,
        deployment_circuit_breaker={"enable": True, "rollback": True},
        deployment_controller={"type": "ECS"} if spread_over_zones else None,
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-rebalancing.html
        availability_zone_rebalancing="ENABLED" if spread_over_zones else None,
        network_configuration={"subnets": list(subnet_ids), "security_groups": list(security_group_ids), "assign_public_ip": False},
        load_balancers=[load_balancer] if load_balancer is not None else None,
        health_check_grace_period_seconds=health_check_grace_seconds,
        enable_execute_command=execute_command,
        enable_ecs_managed_tags=True,
        propagate_tags="SERVICE",
        wait_for_steady_state=True,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on), ignore_changes=["desiredCount"] if autoscaled else None),
    )


@dataclass(frozen=True)
class Tracking:
    """One target-tracking policy: `<name>-scale-<short>`, holding `target` of a predefined metric
    (`predefined_metric`, with `resource_label` where the metric needs one) or of `customized` metric math."""

    short: str
    target: float
    predefined_metric: str = ""
    resource_label: pulumi.Input[str] | None = None
    customized: aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs | None = None


def target_tracking(
    name: str,
    parent: pulumi.Resource,
    *,
    policy_prefix: str,
    cluster: aws.ecs.Cluster,
    service: aws.ecs.Service,
    min_tasks: int,
    max_tasks: int,
    cpu_target_percent: int,
    scale_in_cooldown: int,
    more: Sequence[Tracking] = (),
) -> tuple[aws.appautoscaling.Target, list[aws.appautoscaling.Policy]]:
    """`<name>-scaling` between `min_tasks` and `max_tasks`, holding the service's average CPU at
    `cpu_target_percent` (`<policy_prefix>-cpu`) and each of `more` (`<policy_prefix>-<short>`) (AVL-1):
    out after a minute, in after `scale_in_cooldown` seconds."""
    child = pulumi.ResourceOptions(parent=parent)
    policies = [Tracking("cpu", float(cpu_target_percent), "ECSServiceAverageCPUUtilization"), *more]
    tracking = aws.appautoscaling
    target = tracking.Target(
        f"{name}-scaling",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.all(cluster.name, service.name).apply(lambda v: f"service/{v[0]}/{v[1]}"),
        min_capacity=min_tasks,
        max_capacity=max_tasks,
        opts=child,
    )
    declared = [
        tracking.Policy(
            f"{name}-scale-{p.short}",
            name=f"{policy_prefix}-{p.short}",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=tracking.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=p.target,
                predefined_metric_specification=(
                    tracking.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=p.predefined_metric, resource_label=p.resource_label
                    )
                    if p.predefined_metric
                    else None
                ),
                customized_metric_specification=p.customized,
                scale_out_cooldown=SCALE_OUT_COOLDOWN_SECONDS,
                scale_in_cooldown=scale_in_cooldown,
            ),
            opts=child,
        )
        for p in policies
    ]
    return target, declared
