"""The public edge: the Application Load Balancer, its listeners and the app's target group.

* HTTPS:443 on a TLS-1.3-only security policy (ENC-1; config accepts only the
  policies in `stackconfig.edge.TLS13_ONLY_POLICIES`), the certificate from
  `components.certificate`, forwarding to the app's target group.
* HTTP:80 whose only action is a permanent (301) redirect to HTTPS (ENC-2, XSS-2).
* Security response headers set by the load balancer on every HTTPS response,
  whatever the app sends: HSTS, X-Content-Type-Options, X-Frame-Options; the
  Server header removed (CJ-1, HDR-1).
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/header-modification.html
* Invalid header fields dropped and HTTP desync mitigation `strictest`
  (Security Hub ELB.4, ELB.12), deletion protection from config (ELB.6), access
  and connection logs into the log archive (ELB.5, LOG-1), over every public
  subnet (ELB.13).
* Dual stack when the network is (``Network.ipv6``, ``kakoi:ipv6``, on by default): the load
  balancer takes IPv4 and IPv6 clients (``ip_address_type="dualstack"``; the network
  gives its public subnets IPv6 /64s and a ``::/0`` route), and Route 53 gets an AAAA
  alias beside the A alias. Both aliases point at the ``dualstack.`` name of the load
  balancer, which resolves to its IPv4 and IPv6 addresses. Targets are still reached
  over IPv4 (the target group's address type), inside the VPC.
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-ip-address-type.html
  https://repost.aws/knowledge-center/elb-configure-with-ipv6
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.certificate import Certificate
from components.context import StackContext
from components.contract import contract
from components.log_archive import PREFIX_ALB, PREFIX_ALB_CONNECTIONS, LogArchive
from components.network import Network
from components.security_groups import SecurityGroups
from stackconfig.edge import EdgeConfig

CONTROLS: dict[str, str] = {
    "ENC-1": "HTTPS listener on a TLS-1.3-only ELB security policy",
    "ENC-2": "port 80 only answers with a 301 redirect to HTTPS; HSTS set at the listener",
    "XSS-2": "HTTPS forced at the load balancer (301 redirect from port 80)",
    "CJ-1": "X-Frame-Options DENY set at the HTTPS listener for every response",
    "HDR-1": "security headers set by the load balancer's header-modification API, Server header removed",
    "LOG-1": "load balancer access and connection logs delivered to the log archive",
    "AVL-1": "load balancer over the public subnets of every availability zone",
}

#: The target group checks liveness (the process serves), not readiness (the database answers).
#: ECS replaces every task a target group reports unhealthy ("The service scheduler also replaces
#: tasks determined to be unhealthy after ... a load balancer target group health check fails",
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html), so a readiness
#: check would turn a database failover longer than 45 s (3 checks, 15 s apart) into every web task
#: being killed and restarted, although each recovers by itself 0.04 s after the database is back.
#: During a database outage a live task answers each page with 503 + Retry-After and the friendly
#: page, exactly what the ALB's fail-open would have routed to anyway. Readiness (/healthz/ready)
#: stays the public probe's path (components/availability.py, the canary and service-down) and the
#: operators' check; a new task proves its database connection before it registers: `web` starts
#: only after `migrate` exited 0 (components/app_service.py). docs/database-failover.md.
HEALTH_CHECK_PATH = contract.HEALTH_LIVE_PATH
#: The ALB closes a connection on which nothing was sent for this long, WebSockets included
#: (signalling under /ws/ for live calls, CONTRACTS.md). The app sends a heartbeat on every socket
#: at least every 25 s (and the server pings every 20 s: app/kakoi/asgi_worker.py), so 60 s tolerates
#: a lost heartbeat and never cuts a quiet call; the app server's keep-alive (gunicorn `keepalive`,
#: 75 s, which the uvicorn workers use as their keep-alive timeout) must stay above it, so that the
#: ALB, not the target, closes idle HTTP connections (otherwise a request can meet a closing socket: 502).
#: No stickiness: a socket is one long TCP connection to one task, and a reconnect may land on any
#: task because the channel layer is shared (PostgreSQL).
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout
IDLE_TIMEOUT_SECONDS = 60
#: the app's WebSocket heartbeat interval (CONTRACTS.md); IDLE_TIMEOUT_SECONDS is at least twice it
WEBSOCKET_HEARTBEAT_SECONDS = 25


@dataclass(frozen=True)
class EdgeArgs:
    """Inputs of `Edge`."""

    #: who the stack is: the name prefix of the load balancer and target group names. Required.
    context: StackContext
    #: the edge's own settings (stackconfig/edge.py): `tls_policy` (one of the TLS-1.3-only policies,
    #: ENC-1), `hsts_max_age` (the HSTS header the HTTPS listener sets, ENC-2), `deletion_protection`
    #: (Security Hub ELB.6), `domain_name` and `hosted_zone_id` (the A, and with dual stack AAAA, alias
    #: records; "" zone = DNS managed elsewhere). Required.
    config: EdgeConfig
    #: the VPC: the load balancer spans every public subnet (AVL-1) and is dual stack when the network
    #: is (`Network.ipv6`), the target group is in the VPC. Required. (NET-1, AVL-1)
    network: Network
    #: the groups: the load balancer is in the `alb` group, and the target group listens on the port
    #: that group may reach the app on (`SecurityGroups.app_port`). Required. (NET-1)
    security_groups: SecurityGroups
    #: the certificate the HTTPS listener serves. Required. (ENC-1)
    certificate: Certificate
    #: where the access and connection logs go (the archive bucket, under `log_archive.PREFIX_ALB` and
    #: `PREFIX_ALB_CONNECTIONS`); the load balancer waits for the archive's bucket policy. Required. (LOG-1)
    log_archive: LogArchive


class Edge(pulumi.ComponentResource):
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:edge:Edge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cfg, prefix = args.config, args.context.name_prefix
        dualstack = args.network.ipv6
        log_bucket = args.log_archive.archive_bucket.bucket

        # The load balancer checks on creation that it may write to the log bucket,
        # so it waits for the bucket policy.
        self.load_balancer = aws.lb.LoadBalancer(
            name,
            name=f"{prefix}-alb"[:32],
            load_balancer_type="application",
            internal=False,
            # "ipv4" or "dualstack" (both IPv4 and IPv6 clients)
            # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SetIpAddressType.html
            ip_address_type="dualstack" if dualstack else "ipv4",
            subnets=list(args.network.public_subnet_ids),
            security_groups=[args.security_groups.alb_sg_id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_deletion_protection=cfg.deletion_protection,
            enable_http2=True,
            enable_waf_fail_open=False,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            access_logs={"bucket": log_bucket, "prefix": PREFIX_ALB, "enabled": True},
            # the archive's bucket policy grants the ELB account exactly these two prefixes
            connection_logs={"bucket": log_bucket, "prefix": PREFIX_ALB_CONNECTIONS, "enabled": True},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.log_archive.archive_policy]),
        )

        self.target_group = aws.lb.TargetGroup(
            name,
            name=f"{prefix}-app"[:32],
            vpc_id=args.network.vpc_id,
            target_type="ip",  # Fargate tasks register by IP
            protocol="HTTP",
            port=args.security_groups.app_port,
            deregistration_delay=30,
            health_check={
                "enabled": True,
                "path": HEALTH_CHECK_PATH,
                "protocol": "HTTP",
                "matcher": "200",
                "interval": 15,
                "timeout": 5,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
            },
            opts=child,
        )

        self.https_listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=cfg.tls_policy,
            certificate_arn=args.certificate.certificate_arn,
            default_actions=[{"type": "forward", "target_group_arn": self.target_group.arn}],
            routing_http_response_strict_transport_security_header_value=f"max-age={cfg.hsts_max_age}; includeSubDomains",
            routing_http_response_x_content_type_options_header_value="nosniff",
            routing_http_response_x_frame_options_header_value="DENY",
            routing_http_response_server_enabled=False,
            opts=child,
        )
        self.http_listener = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                {
                    "type": "redirect",
                    "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"},
                }
            ],
            opts=child,
        )

        if cfg.hosted_zone_id:
            # the "dualstack." name resolves to the IPv6 addresses too (the plain name: IPv4 only)
            alias_target = self.load_balancer.dns_name.apply(lambda dns: f"dualstack.{dns}") if dualstack else self.load_balancer.dns_name
            record_types = ("A", "AAAA") if dualstack else ("A",)
            for record_type in record_types:
                aws.route53.Record(
                    f"{name}-alias" if record_type == "A" else f"{name}-alias-{record_type.lower()}",
                    zone_id=cfg.hosted_zone_id,
                    name=cfg.domain_name,
                    type=record_type,
                    aliases=[
                        {
                            "name": alias_target,
                            "zone_id": self.load_balancer.zone_id,
                            "evaluate_target_health": True,
                        }
                    ],
                    opts=child,
                )

        self.load_balancer_arn = self.load_balancer.arn
        self.load_balancer_arn_suffix = self.load_balancer.arn_suffix
        self.target_group_arn = self.target_group.arn
        self.target_group_arn_suffix = self.target_group.arn_suffix
        self.dns_name = self.load_balancer.dns_name
        self.register_outputs(
            {
                "loadBalancerArn": self.load_balancer.arn,
                "loadBalancerArnSuffix": self.load_balancer.arn_suffix,
                "targetGroupArn": self.target_group.arn,
                "targetGroupArnSuffix": self.target_group.arn_suffix,
                "dnsName": self.load_balancer.dns_name,
                "httpsListenerArn": self.https_listener.arn,
            }
        )
