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
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components import app_iam, app_service, ecs_task
from components.certificate import Certificate, CertificateArgs
from components.contract import contract
from components.log_archive import PREFIX_NLB_RELAY
from stackconfig.relay import LISTEN_PORT, PUBLIC_PORT

if TYPE_CHECKING:
    from components.context import StackContext
    from components.kms import Keys
    from components.log_archive import LogArchive
    from components.network import Network
    from components.registry import Registry
    from components.security_groups import SecurityGroups
    from stackconfig.relay import RelayConfig

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
#: the relay's image in the registry (`RegistryArgs.extra_images`: repository `<prefix>/relay`, built from relay/)
IMAGE = "relay"
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
    """The TURN relay tier: its config section, the values it shares with the app and the edge, and
    handles of the foundation pieces and the image it runs on."""

    #: prefix, account, partition, region; the TURN secret `<project>/<stack>/relay/turn-secret` (ENC-1); required
    context: StackContext
    #: the relay's section (kakoi:relay*): name and certificate (ENC-1), deletion protection, relay port
    #: range, Fargate size, task bounds and scaling targets (AVL-1), quotas, drain time; required
    config: RelayConfig
    #: the VPC, its public subnets (the load balancer; dual stack when the VPC is) and private subnets
    #: (the tasks, NET-1); required
    network: Network
    #: the `nlb` and `relay` groups (NET-1); required
    security_groups: SecurityGroups
    #: the database key (encrypts the TURN secret like every app secret) and the logs key (MON-1); required
    keys: Keys
    #: the log archive: the NLB's access logs go to its bucket, after its bucket policy (MON-1); required
    logs: LogArchive
    #: the `relay` image (registry extra image `relay`, by digest, REC-1) and its repository (the execution
    #: role pulls only it, CMD-1); required
    registry: Registry
    #: the private subnets' CIDRs: the only peers relayed addresses may reach (TURN_ALLOWED_PEER_CIDRS, NET-1); required
    private_subnet_cidrs: Sequence[str]
    #: Route 53 zone for the certificate's validation and the alias records (kakoi:hostedZoneId; "" = DNS
    #: managed elsewhere; the certificate is what TLS 1.3 on 443 is served with, ENC-1); required
    hosted_zone_id: str
    #: the TLS listener's ELB policy, one of stackconfig.edge.TLS13_ONLY_POLICIES (kakoi:tlsPolicy, ENC-1); required
    tls_policy: str
    #: ECS runtime platform `cpuArchitecture` of the image, ARM64 or X86_64 (the app's kakoi:appPlatform; AVL-1:
    #: a mismatch would stop every task); required
    cpu_architecture: str
    #: the cluster's Container Insights (kakoi:containerInsights, MON-1); required
    container_insights: str
    #: days the relay's log group keeps its logs (kakoi:logRetentionDays, MON-1); required
    log_retention_days: int
    #: declare the ECS service (kakoi:appServiceEnabled, like the app's; AVL-1, MON-1 watch it); @default True
    service_enabled: bool = True
    #: the port clients use, TLS 1.3 at the load balancer (ENC-1); @default 443
    public_port: int = PUBLIC_PORT
    #: the relay container's TLS 1.3 listener, the target group's port (ENC-1); @default 5349
    listen_port: int = LISTEN_PORT


class Relay(pulumi.ComponentResource):
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    listener: aws.lb.Listener
    secret: aws.secretsmanager.Secret
    cluster: aws.ecs.Cluster
    task_definition: aws.ecs.TaskDefinition
    service: aws.ecs.Service | None

    def __init__(self, name: str, args: RelayArgs, opts: pulumi.ResourceOptions | None = None):
        """The NLB is created after the archive's bucket policy (it checks it may write its logs when created)."""
        super().__init__("kakoi:relay:Relay", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, cfg, network, sgs, keys = args.context, args.config, args.network, args.security_groups, args.keys
        prefix, region = ctx.name_prefix, ctx.region
        dualstack = network.ipv6
        acct = pulumi.Output.from_input(ctx.account_id)
        part = pulumi.Output.from_input(ctx.partition)

        # ---- the relay's name and certificate
        self.certificate = Certificate(
            f"{name}-cert",
            CertificateArgs(domain_name=cfg.domain_name, hosted_zone_id=args.hosted_zone_id, certificate_arn=cfg.certificate_arn),
            opts=child,
        )

        # ---- the network load balancer
        self.load_balancer = aws.lb.LoadBalancer(
            name,
            name=f"{prefix}-relay"[:32],
            load_balancer_type="network",
            internal=False,
            ip_address_type="dualstack" if dualstack else "ipv4",
            subnets=list(network.public_subnet_ids),
            # only at creation can an NLB get a security group (and then never lose them all)
            security_groups=[sgs.nlb_sg_id],
            # PrivateLink traffic is filtered by the inbound rules too (the API default, said explicitly)
            enforce_security_group_inbound_rules_on_private_link_traffic="on",
            # off by default for NLBs: every node may use the healthy tasks of every AZ
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=cfg.deletion_protection,
            access_logs={"bucket": args.logs.archive_bucket.bucket, "prefix": PREFIX_NLB_RELAY, "enabled": True},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.logs.archive_policy]),
        )
        self.target_group = aws.lb.TargetGroup(
            name,
            name=f"{prefix}-relay"[:32],
            vpc_id=network.vpc_id,
            target_type="ip",  # Fargate tasks register by IP
            protocol="TLS",
            port=args.listen_port,
            ip_address_type="ipv4",
            preserve_client_ip="false",
            deregistration_delay=cfg.drain_seconds,
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
            alias_target = self.load_balancer.dns_name.apply(lambda dns: f"dualstack.{dns}") if dualstack else self.load_balancer.dns_name
            for record_type in ("A", "AAAA") if dualstack else ("A",):
                aws.route53.Record(
                    f"{name}-alias-{record_type.lower()}",
                    zone_id=args.hosted_zone_id,
                    name=cfg.domain_name,
                    type=record_type,
                    aliases=[{"name": alias_target, "zone_id": self.load_balancer.zone_id, "evaluate_target_health": True}],
                    opts=child,
                )

        # ---- the shared secret: declared here, its value written by the provisioning step (components/provisioning.py)
        self.secret = aws.secretsmanager.Secret(
            f"{name}-turn-secret",
            name=secret_name(ctx.project, ctx.stack),
            description="TURN REST-API shared secret of the relay and the app; value generated by Secrets Manager and "
            "written by the operator, never by Pulumi",
            kms_key_id=keys.database_key_arn,
            recovery_window_in_days=30,
            opts=child,
        )

        # ---- ECS: cluster, logs, the execution role (no task role: coturn calls no AWS API)
        self.cluster = ecs_task.cluster(name, self, cluster_name=f"{prefix}-relay", container_insights=args.container_insights)
        self.log_group = ecs_task.log_group(
            name, self, log_group_name=log_group_name(prefix), retention_days=args.log_retention_days, kms_key_arn=keys.logs_key_arn
        )
        self.execution_role = aws.iam.Role(
            f"{name}-execution",
            name=f"{prefix}-relay-execution",
            description="ECS: start the relay's tasks (image, logs, the TURN secret)",
            assume_role_policy=pulumi.Output.all(part, acct).apply(lambda v: app_iam.trust_policy(v[0], region, v[1])),
            max_session_duration=3600,
            opts=child,
        )
        self.execution_policy = aws.iam.RolePolicy(
            f"{name}-execution",
            role=self.execution_role.id,
            name=f"{prefix}-relay-execution",
            policy=pulumi.Output.all(
                args.registry.repository_arns[IMAGE], self.log_group.arn, self.secret.arn, keys.database_key_arn, part
            ).apply(lambda v: app_iam.document(*app_iam.execution_statements(v[0], v[1], [v[2]], v[3], region, v[4]))),
            opts=child,
        )

        environment = relay_environment(
            realm=cfg.domain_name,
            listen_port=args.listen_port,
            min_port=cfg.min_port,
            max_port=cfg.max_port,
            allowed_peer_cidrs=args.private_subnet_cidrs,
            user_quota=cfg.user_quota,
            total_quota=cfg.total_quota,
        )
        self.task_definition = ecs_task.task_definition(
            f"{name}-task",
            self,
            family=f"{prefix}-relay",
            cpu=cfg.cpu,
            memory=cfg.memory,
            cpu_architecture=args.cpu_architecture,
            execution_role_arn=self.execution_role.arn,
            volumes=[RUN_VOLUME],
            container_definitions=pulumi.Output.all(args.registry.image_refs[IMAGE], self.secret.arn, self.log_group.name).apply(
                lambda v: relay_containers(
                    image=v[0], listen_port=args.listen_port, environment=environment, secret_arn=v[1], log_group=v[2], region=region
                )
            ),
        )

        #: for the alarms and the dashboard (components.alarms, components.availability)
        self.load_balancer_arn_suffix = self.load_balancer.arn_suffix
        self.target_group_arn_suffix = self.target_group.arn_suffix
        self.cluster_name: pulumi.Output[str] = self.cluster.name
        self.secret_arn = self.secret.arn
        self.dns_name = self.load_balancer.dns_name
        #: KAKOI_TURN_URLS of the app (stackconfig.relay.RelayConfig.turn_urls)
        self.turn_urls = cfg.turn_urls
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
        cfg, prefix = args.config, args.context.name_prefix
        if args.service_enabled:
            self.service = ecs_task.service(
                f"{name}-service",
                self,
                service_name=f"{prefix}-relay",
                cluster_arn=self.cluster.arn,
                task_definition_arn=self.task_definition.arn,
                desired_count=cfg.min_tasks,
                subnet_ids=args.network.private_subnet_ids,
                security_group_ids=[args.security_groups.relay_sg_id],
                load_balancer={"target_group_arn": self.target_group.arn, "container_name": CONTAINER, "container_port": args.listen_port},
                # NLB target registration can take a few minutes before the first health check
                # https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html
                health_check_grace_seconds=120,
                spread_over_zones=True,
                autoscaled=True,
                depends_on=[self.listener, self.execution_policy, *service_ready],
            )
            connections_metrics = pulumi.Output.all(self.load_balancer.arn_suffix, self.cluster.name, self.service.name).apply(
                lambda v: connections_per_task_metrics(v[0], v[1], v[2])
            )
            _, self.scaling_policies = ecs_task.target_tracking(
                name,
                self,
                policy_prefix=f"{prefix}-relay",
                cluster=self.cluster,
                service=self.service,
                min_tasks=cfg.min_tasks,
                max_tasks=cfg.max_tasks,
                cpu_target_percent=cfg.cpu_target_percent,
                # in slowly: a removed task ends its calls after the drain
                scale_in_cooldown=600,
                more=[
                    ecs_task.Tracking(
                        "connections",
                        float(cfg.connections_per_task),
                        customized=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs(
                            metrics=connections_metrics  # type: ignore[arg-type]  # an Output of the metric dicts
                        ),
                    )
                ],
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
