"""The TURN relay tier: its public name, certificate, load balancer and ECS service (ENC-1, NET-1, AVL-1).

One fact both the infrastructure and the app need lives here: the relay's `turns:` URL
(`turn_urls`), which the app gets as ``KAKOI_TURN_URLS`` and which the relay's
certificate and alias record are issued for. Everything a wrong value would break
at deploy time is checked before anything is declared: the relay's port range, the
Fargate size, the autoscaling bounds, the per-user and total quotas.

Production may not weaken what the sheet needs: at least two relay tasks (one AZ
may fail, AVL-1), and deletion protection on the relay's load balancer.
"""

from __future__ import annotations

from dataclasses import dataclass

from .app import DIGEST_PATTERN, FARGATE_CPUS, fargate_memory_choices
from .core import CoreConfig
from .edge import HOSTNAME_PATTERN, EdgeConfig
from .reader import ARN_PATTERN, Reader

#: the one port clients use: TLS 1.3 on 443 at the load balancer (ENC-1)
PUBLIC_PORT = 443
#: the relay container's only listener (TLS 1.3 only; relay/ image, CONTRACTS.md TURN_LISTEN_PORT)
LISTEN_PORT = 5349
#: ephemeral range for relayed transport addresses: IANA dynamic ports only, never the listener
#: https://www.rfc-editor.org/rfc/rfc6335#section-6
MIN_RELAY_PORT = 49152
MAX_RELAY_PORT = 65535


@dataclass(frozen=True)
class RelayConfig:
    #: public DNS name of the relay (the certificate and the alias record are for it)
    domain_name: str
    #: an existing ACM certificate for domain_name ("" to request one validated in kakoi:hostedZoneId)
    certificate_arn: str
    deletion_protection: bool
    #: relayed transport addresses come from this UDP range (TURN_MIN_PORT / TURN_MAX_PORT)
    min_port: int
    max_port: int
    cpu: int
    memory: int
    min_tasks: int
    max_tasks: int
    cpu_target_percent: int
    #: active TLS flows per task that target tracking holds
    connections_per_task: int
    #: allocations per TURN username (coturn user-quota) and per task (total-quota)
    user_quota: int
    total_quota: int
    #: seconds a task being replaced keeps its calls before the load balancer closes them
    drain_seconds: int
    #: "" to build and push relay/; a digest already in the relay repository to pin it
    image_digest: str

    @property
    def turn_urls(self) -> str:
        """`KAKOI_TURN_URLS`: the only TURN server the browser gets: TLS over TCP on 443 (CONTRACTS.md)."""
        return f"turns:{self.domain_name}:{PUBLIC_PORT}?transport=tcp"

    @property
    def flow_capacity(self) -> int:
        """Active flows the tier is sized for at its largest (autoscaling at max_tasks)."""
        return self.max_tasks * self.connections_per_task


def load(r: Reader, core: CoreConfig, edge: EdgeConfig) -> RelayConfig:
    is_production = core.is_production
    app_domain = edge.domain_name if r.ok("domainName") else ""
    zone = edge.hosted_zone_id

    domain = r.string("relayDomainName", required=False, allow_empty=True, pattern=HOSTNAME_PATTERN, describe="a lower-case DNS name")
    if not domain and app_domain:
        domain = f"turn.{app_domain}"
    if r.ok("relayDomainName") and domain and domain == app_domain:
        r.fail("relayDomainName", f"{domain!r} is the app's name (kakoi:domainName); the relay needs its own name and certificate")
    cert = r.string("relayCertificateArn", required=False, allow_empty=True, pattern=ARN_PATTERN, describe="an ACM certificate ARN")
    if r.ok("relayCertificateArn") and cert and ":acm:" not in cert:
        r.fail("relayCertificateArn", f"{cert!r} is not an ACM certificate ARN")
    if r.ok("relayCertificateArn", "hostedZoneId") and not cert and not zone:
        r.fail(
            "relayCertificateArn", "set kakoi:hostedZoneId (to request a DNS-validated certificate for the relay) or relayCertificateArn"
        )

    deletion_protection = r.boolean("relayDeletionProtection")
    if r.ok("relayDeletionProtection") and not deletion_protection:
        if is_production:
            r.fail("relayDeletionProtection", "production keeps deletion protection on the relay's load balancer (Security Hub ELB.6)")
        elif core.policy_mandatory("kakoi-elb-deletion-protection"):
            r.fail(
                "relayDeletionProtection",
                f"must be true in stack {core.stack}: kakoi-elb-deletion-protection (Security Hub ELB.6) is mandatory there "
                "(policies/kakoi_policy/levels.py lists the stacks that may turn it off)",
            )

    min_port = r.integer("relayMinPort", minimum=MIN_RELAY_PORT, maximum=MAX_RELAY_PORT)
    max_port = r.integer("relayMaxPort", minimum=MIN_RELAY_PORT, maximum=MAX_RELAY_PORT)
    ports_ok = r.ok("relayMinPort", "relayMaxPort")
    if ports_ok and max_port < min_port:
        r.fail("relayMaxPort", f"{max_port} is below relayMinPort ({min_port})")

    cpu = r.integer("relayCpu", allowed=FARGATE_CPUS)
    memory = r.integer("relayMemory", minimum=512)
    choices = list(fargate_memory_choices(cpu))
    if r.ok("relayCpu", "relayMemory") and choices and memory not in choices:
        r.fail("relayMemory", f"{memory} MiB is not a Fargate memory size for relayCpu {cpu} (valid: {choices[0]}-{choices[-1]} MiB)")

    min_tasks = r.integer("relayMinTasks", minimum=1, maximum=100)
    max_tasks = r.integer("relayMaxTasks", minimum=1, maximum=100)
    if r.ok("relayMinTasks", "relayMaxTasks") and max_tasks < min_tasks:
        r.fail("relayMaxTasks", f"{max_tasks} is below relayMinTasks ({min_tasks})")
    if is_production and r.ok("relayMinTasks") and min_tasks < 2:
        r.fail("relayMinTasks", "production runs at least 2 relay tasks, so that losing one availability zone keeps calls up (AVL-1)")

    connections = r.integer("relayConnectionsPerTask", minimum=10, maximum=100_000)
    user_quota = r.integer("relayUserQuota", minimum=1, maximum=1000)
    # the image's entrypoint accepts 1-100000 (relay/entrypoint.sh)
    total_quota = r.integer("relayTotalQuota", minimum=1, maximum=100_000)
    if r.ok("relayUserQuota", "relayTotalQuota") and user_quota > total_quota:
        r.fail("relayUserQuota", f"{user_quota} is above relayTotalQuota ({total_quota})")
    if r.ok("relayConnectionsPerTask", "relayTotalQuota") and total_quota < connections:
        r.fail(
            "relayTotalQuota",
            f"{total_quota} allocations per task is below relayConnectionsPerTask ({connections}): tasks would refuse "
            "allocations before autoscaling adds capacity",
        )
    # each allocation holds one relayed port: a task cannot hold more allocations than the range has ports
    if ports_ok and max_port >= min_port and r.ok("relayTotalQuota") and total_quota > max_port - min_port + 1:
        r.fail(
            "relayTotalQuota",
            f"{total_quota} allocations per task need as many relay ports; relayMinPort-relayMaxPort holds {max_port - min_port + 1}",
        )

    return RelayConfig(
        domain_name=domain,
        certificate_arn=cert,
        deletion_protection=deletion_protection,
        min_port=min_port,
        max_port=max_port,
        cpu=cpu,
        memory=memory,
        min_tasks=min_tasks,
        max_tasks=max_tasks,
        cpu_target_percent=r.integer("relayCpuTargetPercent", minimum=10, maximum=90),
        connections_per_task=connections,
        user_quota=user_quota,
        total_quota=total_quota,
        # target group deregistration delay: 0-3600 seconds
        # https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#deregistration-delay
        drain_seconds=r.integer("relayDrainSeconds", minimum=0, maximum=3600),
        image_digest=r.string(
            "relayImageDigest", required=False, allow_empty=True, pattern=DIGEST_PATTERN, describe="an image digest sha256:<64 hex>"
        ),
    )
