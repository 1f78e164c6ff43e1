"""The TURN relay tier: live media reaches the platform only as TLS 1.3 on 443 (ENC-1, NET-1, AVL-1, MON-1).

Browsers get one TURN server, ``turns:<relay name>:443?transport=tcp`` (``iceTransportPolicy:
relay``), so every media byte travels inside TLS 1.3 to this tier. docs/relay.md explains the
whole path, how relayed addresses work behind the load balancer and across tasks, and what
was checked in the AWS documentation.

* **Network Load Balancer** ``<prefix>-relay``: internet-facing, dual stack when the VPC is,
  over every public subnet with cross-zone load balancing, in its own security group
  (``nlb``: 443 from ``kakoi:ingressCidrs`` only; a security group can only be given to an NLB
  when it is created, so it is never created without one), deletion protection from config,
  access logs of its TLS listener into the log archive (``nlb-relay/``, written by
  ``delivery.logs.amazonaws.com``: components/log_archive.py).
  https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html
  https://docs.aws.amazon.com/elasticloadbalancing/latest/network/enable-access-logs.html
* **TLS listener on 443** with the stack's TLS-1.3-only ELB security policy (``kakoi:tlsPolicy``,
  the ALB's allow-list) and the relay's own ACM certificate (``turn.<domainName>`` by default,
  DNS-validated; components/certificate.py) with A (and AAAA) alias records.
  https://docs.aws.amazon.com/elasticloadbalancing/latest/network/describe-ssl-policies.html
* **TLS target group** to the tasks' TLS 1.3 listener (5349): the load balancer terminates the
  client's TLS and opens a new TLS connection to the task, so the hop inside the VPC is
  encrypted too (ENC-1 for video/audio data everywhere, not only on the internet). The NLB does
  not validate target certificates, so the image's self-signed key pair (generated at start in
  ``/run/kakoi-turn``, CONTRACTS.md) is enough; with a TLS 1.3 listener policy the NLB offers
  targets ``ELBSecurityPolicy-TLS13-1-0-2021-06``, which includes TLS 1.3, so a TLS-1.3-only
  relay accepts it. A plain TCP target group would put media in clear text on the VPC; a TCP
  pass-through listener would hand TLS termination (and the TLS version) to coturn and take
  the listener out of the ELB policy allow-list, access logs and TLS metrics: both refused.
  Health check: a TCP connect to the traffic port (TLS health checks do not exist for NLBs),
  every 10 s, 2 to change state. Client IP preservation off (the default for IP targets with
  TLS): the relay sees the NLB's address; the client's is in the NLB access logs.
  Deregistration delay ``kakoi:relayDrainSeconds`` then the NLB closes what is left
  (``connection_termination``), so replaced tasks let calls finish first.
  https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html
* **Secret** ``<project>/<stack>/relay/turn-secret`` (the TURN REST-API shared secret, encrypted
  with the database key like every app secret): declared without a value. Its value is generated
  at random and written straight to Secrets Manager by the app's provisioning step inside the
  run (components/provisioning.py, tools/run_db_provision.py; the service waits for it through
  ``start_service``), so it is in no config and no state file; the relay (``TURN_SECRET``)
  and the app's web container (``KAKOI_TURN_SECRET``) get it as ECS secrets.
* **ECS**: its own cluster ``<prefix>-relay`` (Container Insights from config), a Fargate task
  definition ``<prefix>-relay`` (LINUX/ARM64 unless ``kakoi:appPlatform`` says amd64) with one
  container ``relay`` hardened like the app's (components/app_service.hardened_container:
  non-root ``10001``, read-only root filesystem, the ephemeral volume on ``/run/kakoi-turn`` as
  the only writable path, every capability dropped, logs to a KMS-encrypted log group), no task
  role (coturn calls no AWS API); the service ``<prefix>-relay`` in the private subnets without
  public IPs, in the ``relay`` security group (its TLS port from the ``nlb`` group only, UDP on
  the relay port range only between relay tasks), circuit breaker with rollback, AZ rebalancing.
* **Autoscaling** between ``kakoi:relayMinTasks`` and ``kakoi:relayMaxTasks``: target tracking on
  average CPU and on active TLS connections per task (metric math over the NLB's
  ``ActiveFlowCount_TLS`` and Container Insights' ``RunningTaskCount``).
  https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import app_iam, app_service
from components.certificate import Certificate, CertificateArgs
from components.contract import contract
from components.log_archive import PREFIX_NLB_RELAY

CONTROLS: dict[str, str] = {
    "ENC-1": "live video/audio reaches the platform only through the TURN relay's TLS listener on 443 (TLS-1.3-only ELB "
    "policy, its own ACM certificate) and is re-encrypted to the relay tasks' TLS 1.3 listener; no UDP or plain TCP "
    "listener or target group exists; between two relay tasks, inside the private subnets only, media is the browsers' "
    "end-to-end DTLS-SRTP over UDP (docs/relay.md)",
    "NET-1": "the relay's load balancer admits only the configured ingress CIDRs on 443; relay tasks sit in private "
    "subnets without public IPs and take their TLS port only from the load balancer and UDP relay ports only from "
    "each other",
    "AVL-1": "at least two relay tasks (production) over every AZ, cross-zone load balancing, autoscaling on CPU and "
    "active connections, deregistration delay so calls survive task replacements",
    "MON-1": "relay access logs of the TLS listener in the log archive; relay logs in a KMS-encrypted log group",
}

#: the relay container's name (the target group and the alarms refer to it)
CONTAINER = contract.RELAY.name
#: the image's only writable path (CONTRACTS.md): an ephemeral task volume, the self-signed key pair goes here
RUN_PATH = "/run/kakoi-turn"
RUN_VOLUME = "relay-run"
#: the load balancer's health check: a TCP connect to the listener (CONTRACTS.md); NLB ranges: interval
#: 5-300 s, timeout 2-120 s, thresholds 2-10
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html
HEALTH_CHECK_INTERVAL, HEALTH_CHECK_TIMEOUT, HEALTH_CHECK_THRESHOLD = 10, 5, 2


def log_group_name(name_prefix: str) -> str:
    return f"/ecs/{name_prefix}/relay"


def secret_name(project: str, stack: str) -> str:
    return f"{project}/{stack}/relay/turn-secret"


def relay_environment(
    *,
    realm: str,
    listen_port: int,
    min_port: int,
    max_port: int,
    allowed_peer_cidrs: Sequence[str],
    user_quota: int,
    total_quota: int,
) -> dict[str, str]:
    """The relay container's plain environment (CONTRACTS.md); TURN_SECRET comes through `secrets`.
    TURN_TLS_CERT/TURN_TLS_KEY stay unset: the entrypoint generates a self-signed pair for the NLB."""
    return {
        contract.RelayEnv.TURN_REALM: realm,
        contract.RelayEnv.TURN_LISTEN_PORT: str(listen_port),
        contract.RelayEnv.TURN_MIN_PORT: str(min_port),
        contract.RelayEnv.TURN_MAX_PORT: str(max_port),
        # the only peers a relayed address may send to: the relay tasks' own subnets (relay-to-relay media);
        # the security group narrows it further to the relay tasks themselves
        contract.RelayEnv.TURN_ALLOWED_PEER_CIDRS: ",".join(allowed_peer_cidrs),
        contract.RelayEnv.TURN_USER_QUOTA: str(user_quota),
        contract.RelayEnv.TURN_TOTAL_QUOTA: str(total_quota),
    }


def relay_containers(*, image: str, listen_port: int, environment: Mapping[str, str], secret_arn: str, log_group: str, region: str) -> str:
    """The relay task's container definition as JSON."""
    container: dict[str, Any] = app_service.hardened_container(
        name=CONTAINER,
        image=image,
        essential=True,
        command=(),
        environment=environment,
        secrets={contract.RelayEnv.TURN_SECRET: secret_arn},
        log_group=log_group,
        region=region,
        tmp_volume=RUN_VOLUME,
        writable_path=RUN_PATH,
    )
    # awsvpc: the TLS listener is the only mapped port; relayed UDP ports need no mapping (the security group decides)
    container["portMappings"] = [{"name": "turns", "containerPort": listen_port, "protocol": "tcp"}]
    # coturn stops at once on SIGTERM; the load balancer's drain (deregistration delay) happens before it
    container["stopTimeout"] = 30
    return json.dumps([container], sort_keys=True, separators=(",", ":"))


def connections_per_task_metrics(load_balancer_arn_suffix: str, cluster: str, service: str) -> list[dict[str, Any]]:
    """Target tracking metric math: active TLS flows at the NLB / running relay tasks. FILL: the NLB reports
    ActiveFlowCount_TLS only while it is not zero, and no data must read as "no connections", not "unknown"."""

    def stat(mid: str, namespace: str, metric: str, dims: Mapping[str, str]) -> dict[str, Any]:
        return {
            "id": mid,
            "return_data": False,
            "metric_stat": {
                "metric": {"namespace": namespace, "metric_name": metric, "dimensions": [{"name": k, "value": v} for k, v in dims.items()]},
                "stat": "Average",
            },
        }

    return [
        stat("flows", "AWS/NetworkELB", "ActiveFlowCount_TLS", {"LoadBalancer": load_balancer_arn_suffix}),
        stat("tasks", "ECS/ContainerInsights", "RunningTaskCount", {"ClusterName": cluster, "ServiceName": service}),
        {"id": "per_task", "expression": "FILL(flows, 0) / tasks", "label": "Active TLS connections per relay task", "return_data": True},
    ]


@dataclass(frozen=True)
class RelayArgs:
    name_prefix: str
    #: `<project>/<stack>` prefix of the TURN secret's name
    project: str
    stack: str
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    region: str
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    #: the private subnets' CIDRs (the peers relayed addresses may reach: TURN_ALLOWED_PEER_CIDRS)
    private_subnet_cidrs: Sequence[str]
    nlb_security_group_id: pulumi.Input[str]
    relay_security_group_id: pulumi.Input[str]
    #: IPv4 and IPv6 clients (the public subnets must have IPv6 blocks)
    dualstack: bool
    domain_name: str
    #: Route 53 zone for the certificate's validation and the alias records ("" = DNS managed elsewhere)
    hosted_zone_id: str
    #: an existing ACM certificate for domain_name ("" to request one)
    certificate_arn: str
    #: one of stackconfig.edge.TLS13_ONLY_POLICIES
    tls_policy: str
    public_port: int
    listen_port: int
    min_port: int
    max_port: int
    deletion_protection: bool
    #: the log archive bucket (NLB access logs)
    log_bucket: pulumi.Input[str]
    image_ref: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    #: ECS runtime platform `cpuArchitecture`: ARM64 or X86_64
    cpu_architecture: str
    cpu: int
    memory: int
    container_insights: str
    #: encrypts the TURN secret (the database key, which encrypts every app secret)
    secrets_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    min_tasks: int
    max_tasks: int
    cpu_target_percent: int
    connections_per_task: int
    user_quota: int
    total_quota: int
    drain_seconds: int
    #: declare the ECS service (``kakoi:appServiceEnabled``, like the app's)
    service_enabled: bool = True


class Relay(pulumi.ComponentResource):
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    listener: aws.lb.Listener
    secret: aws.secretsmanager.Secret
    cluster: aws.ecs.Cluster
    task_definition: aws.ecs.TaskDefinition
    service: aws.ecs.Service | None

    def __init__(
        self,
        name: str,
        args: RelayArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        log_delivery_ready: Sequence[pulumi.Resource] = (),
    ):
        """`log_delivery_ready`: the archive's bucket policy (the NLB checks it may write its logs when created)."""
        super().__init__("kakoi:relay:Relay", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.name_prefix
        acct = pulumi.Output.from_input(args.account_id)
        part = pulumi.Output.from_input(args.partition)

        # ---- the relay's name and certificate
        self.certificate = Certificate(
            f"{name}-cert",
            CertificateArgs(domain_name=args.domain_name, hosted_zone_id=args.hosted_zone_id, certificate_arn=args.certificate_arn),
            opts=child,
        )

        # ---- the network load balancer
        self.load_balancer = aws.lb.LoadBalancer(
            name,
            name=f"{prefix}-relay"[:32],
            load_balancer_type="network",
            internal=False,
            ip_address_type="dualstack" if args.dualstack else "ipv4",
            subnets=list(args.public_subnet_ids),
            # only at creation can an NLB get a security group (and then never lose them all)
            security_groups=[args.nlb_security_group_id],
            # PrivateLink traffic is filtered by the inbound rules too (the API default, said explicitly)
            enforce_security_group_inbound_rules_on_private_link_traffic="on",
            # off by default for NLBs: every node may use the healthy tasks of every AZ
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=args.deletion_protection,
            access_logs={"bucket": args.log_bucket, "prefix": PREFIX_NLB_RELAY, "enabled": True},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(log_delivery_ready)),
        )
        self.target_group = aws.lb.TargetGroup(
            name,
            name=f"{prefix}-relay"[:32],
            vpc_id=args.vpc_id,
            target_type="ip",  # Fargate tasks register by IP
            protocol="TLS",
            port=args.listen_port,
            ip_address_type="ipv4",
            preserve_client_ip="false",
            deregistration_delay=args.drain_seconds,
            connection_termination=True,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                protocol="TCP",
                port="traffic-port",
                interval=HEALTH_CHECK_INTERVAL,
                timeout=HEALTH_CHECK_TIMEOUT,
                healthy_threshold=HEALTH_CHECK_THRESHOLD,
                unhealthy_threshold=HEALTH_CHECK_THRESHOLD,
            ),
            opts=child,
        )
        self.listener = aws.lb.Listener(
            f"{name}-tls",
            load_balancer_arn=self.load_balancer.arn,
            port=args.public_port,
            protocol="TLS",
            ssl_policy=args.tls_policy,
            certificate_arn=self.certificate.certificate_arn,
            default_actions=[{"type": "forward", "target_group_arn": self.target_group.arn}],
            opts=child,
        )
        if args.hosted_zone_id:
            alias_target = (
                self.load_balancer.dns_name.apply(lambda dns: f"dualstack.{dns}") if args.dualstack else self.load_balancer.dns_name
            )
            for record_type in ("A", "AAAA") if args.dualstack else ("A",):
                aws.route53.Record(
                    f"{name}-alias-{record_type.lower()}",
                    zone_id=args.hosted_zone_id,
                    name=args.domain_name,
                    type=record_type,
                    aliases=[{"name": alias_target, "zone_id": self.load_balancer.zone_id, "evaluate_target_health": True}],
                    opts=child,
                )

        # ---- the shared secret: declared here, its value written by the provisioning step (docs/runbooks/relay.md)
        self.secret = aws.secretsmanager.Secret(
            f"{name}-turn-secret",
            name=secret_name(args.project, args.stack),
            description="TURN REST-API shared secret of the relay and the app; value generated by Secrets Manager and "
            "written by the operator, never by Pulumi",
            kms_key_id=args.secrets_key_arn,
            recovery_window_in_days=30,
            opts=child,
        )

        # ---- ECS: cluster, logs, the execution role (no task role: coturn calls no AWS API)
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=f"{prefix}-relay",
            settings=[{"name": "containerInsights", "value": args.container_insights}],
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name(prefix),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        self.execution_role = aws.iam.Role(
            f"{name}-execution",
            name=f"{prefix}-relay-execution",
            description="ECS: start the relay's tasks (image, logs, the TURN secret)",
            assume_role_policy=pulumi.Output.all(part, acct).apply(lambda v: app_iam.trust_policy(v[0], args.region, v[1])),
            max_session_duration=3600,
            opts=child,
        )
        self.execution_policy = aws.iam.RolePolicy(
            f"{name}-execution",
            role=self.execution_role.id,
            name=f"{prefix}-relay-execution",
            policy=pulumi.Output.all(args.repository_arn, self.log_group.arn, self.secret.arn, args.secrets_key_arn, part).apply(
                lambda v: app_iam.document(*app_iam.execution_statements(v[0], v[1], [v[2]], v[3], args.region, v[4]))
            ),
            opts=child,
        )

        environment = relay_environment(
            realm=args.domain_name,
            listen_port=args.listen_port,
            min_port=args.min_port,
            max_port=args.max_port,
            allowed_peer_cidrs=args.private_subnet_cidrs,
            user_quota=args.user_quota,
            total_quota=args.total_quota,
        )
        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"{prefix}-relay",
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory),
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": args.cpu_architecture},
            execution_role_arn=self.execution_role.arn,
            volumes=[{"name": RUN_VOLUME}],
            container_definitions=pulumi.Output.all(args.image_ref, self.secret.arn, self.log_group.name).apply(
                lambda v: relay_containers(
                    image=v[0], listen_port=args.listen_port, environment=environment, secret_arn=v[1], log_group=v[2], region=args.region
                )
            ),
            skip_destroy=True,
            opts=child,
        )

        #: for the alarms and the dashboard (components.alarms, components.availability)
        self.load_balancer_arn_suffix = self.load_balancer.arn_suffix
        self.target_group_arn_suffix = self.target_group.arn_suffix
        self.cluster_name: pulumi.Output[str] = self.cluster.name
        self.secret_arn = self.secret.arn
        self.dns_name = self.load_balancer.dns_name
        self.service: aws.ecs.Service | None = None
        self.service_name: pulumi.Output[str] = pulumi.Output.from_input(f"{prefix}-relay")
        self.scaling_policies: list[aws.appautoscaling.Policy] = []
        self._args = args
        self._name = name
        self._started = False

    def start_service(self, service_ready: Sequence[pulumi.Resource] = ()) -> None:
        """Declares the ECS service (when `service_enabled`) and its autoscaling; call it once, always.

        A second step because the service must wait for what is declared after this component:
        `service_ready` is the provisioning step (components/provisioning.py) that writes the
        TURN secret this component declares empty, so the first tasks find their secret and one
        `pulumi up` converges (issue 11). The URNs are the same as when this ran in `__init__`.
        """
        if self._started:
            raise RuntimeError("Relay.start_service() called twice")
        self._started = True
        args, name = self._args, self._name
        prefix = args.name_prefix
        child = pulumi.ResourceOptions(parent=self)
        service_name = f"{prefix}-relay"
        if args.service_enabled:
            self.service = aws.ecs.Service(
                f"{name}-service",
                name=service_name,
                cluster=self.cluster.arn,
                task_definition=self.task_definition.arn,
                desired_count=args.min_tasks,
                launch_type="FARGATE",
                platform_version="LATEST",
                deployment_minimum_healthy_percent=100,
                deployment_maximum_percent=200,
                deployment_circuit_breaker={"enable": True, "rollback": True},
                deployment_controller={"type": "ECS"},
                availability_zone_rebalancing="ENABLED",
                network_configuration={
                    "subnets": list(args.private_subnet_ids),
                    "security_groups": [args.relay_security_group_id],
                    "assign_public_ip": False,
                },
                load_balancers=[
                    {"target_group_arn": self.target_group.arn, "container_name": CONTAINER, "container_port": args.listen_port}
                ],
                # NLB target registration can take a few minutes before the first health check
                # https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html
                health_check_grace_period_seconds=120,
                enable_execute_command=False,
                enable_ecs_managed_tags=True,
                propagate_tags="SERVICE",
                wait_for_steady_state=True,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[self.listener, self.execution_policy, *service_ready], ignore_changes=["desiredCount"]
                ),
            )
            scaling = aws.appautoscaling.Target(
                f"{name}-scaling",
                service_namespace="ecs",
                scalable_dimension="ecs:service:DesiredCount",
                resource_id=pulumi.Output.all(self.cluster.name, self.service.name).apply(lambda v: f"service/{v[0]}/{v[1]}"),
                min_capacity=args.min_tasks,
                max_capacity=args.max_tasks,
                opts=child,
            )
            tracking = aws.appautoscaling
            connections_metrics = pulumi.Output.all(self.load_balancer.arn_suffix, self.cluster.name, self.service.name).apply(
                lambda v: connections_per_task_metrics(v[0], v[1], v[2])
            )
            policies = [
                (
                    "cpu",
                    float(args.cpu_target_percent),
                    tracking.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type="ECSServiceAverageCPUUtilization"
                    ),
                    None,
                ),
                (
                    "connections",
                    float(args.connections_per_task),
                    None,
                    tracking.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs(
                        metrics=connections_metrics  # type: ignore[arg-type]  # an Output of the metric dicts
                    ),
                ),
            ]
            for short, target, predefined, customized in policies:
                self.scaling_policies.append(
                    aws.appautoscaling.Policy(
                        f"{name}-scale-{short}",
                        name=f"{prefix}-relay-{short}",
                        policy_type="TargetTrackingScaling",
                        service_namespace=scaling.service_namespace,
                        scalable_dimension=scaling.scalable_dimension,
                        resource_id=scaling.resource_id,
                        target_tracking_scaling_policy_configuration=tracking.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                            target_value=target,
                            predefined_metric_specification=predefined,
                            customized_metric_specification=customized,
                            # out fast; in slowly, since a removed task ends its calls after the drain
                            scale_out_cooldown=60,
                            scale_in_cooldown=600,
                        ),
                        opts=child,
                    )
                )

        if self.service is not None:
            self.service_name = self.service.name
        self.register_outputs(
            {
                "loadBalancerArnSuffix": self.load_balancer_arn_suffix,
                "targetGroupArnSuffix": self.target_group_arn_suffix,
                "dnsName": self.dns_name,
                "clusterName": self.cluster_name,
                "serviceName": self.service_name,
                "secretArn": self.secret_arn,
            }
        )
