"""Edge tier: the certificate, the load balancer with its TLS 1.3 listeners, and the WAF.

(ENC-1, ENC-2, XSS-2, CJ-1, HDR-1)
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.certificate import Certificate, CertificateArgs
from components.context import StackContext
from components.edge import Edge, EdgeArgs
from components.waf import Waf, WafArgs
from stackconfig import StackConfig
from tiers.foundation import Foundation


@dataclass(frozen=True)
class EdgeTier:
    """Typed handles of the edge tier."""

    certificate: Certificate
    edge: Edge
    waf: Waf


def build(ctx: StackContext, cfg: StackConfig, base: Foundation) -> EdgeTier:
    certificate = Certificate(
        "cert",
        CertificateArgs(
            domain_name=cfg.edge.domain_name,
            hosted_zone_id=cfg.edge.hosted_zone_id,
            certificate_arn=cfg.edge.certificate_arn,
        ),
        opts=ctx.opts,
    )
    edge = Edge(
        "edge",
        EdgeArgs(
            name_prefix=ctx.name_prefix,
            vpc_id=base.network.vpc_id,
            public_subnet_ids=base.network.public_subnet_ids,
            security_group_id=base.sgs.alb_sg_id,
            certificate_arn=certificate.certificate_arn,
            tls_policy=cfg.edge.tls_policy,
            app_port=cfg.network.app_port,
            deletion_protection=cfg.edge.deletion_protection,
            hsts_max_age=cfg.edge.hsts_max_age,
            log_bucket=base.logs.archive_bucket.bucket,
            domain_name=cfg.edge.domain_name,
            hosted_zone_id=cfg.edge.hosted_zone_id,
            dualstack=base.network.ipv6,
        ),
        opts=ctx.opts,
        log_delivery_ready=[base.logs.archive_policy],
    )
    waf = Waf(
        "waf",
        WafArgs(
            name_prefix=ctx.name_prefix,
            load_balancer_arn=edge.load_balancer_arn,
            log_bucket_arn=base.logs.archive_bucket.arn,
            rate_limit=cfg.edge.waf_rate_limit,
        ),
        opts=ctx.opts,
        log_delivery_ready=[base.logs.archive_policy],
    )

    pulumi.export("loadBalancerDnsName", edge.dns_name)
    pulumi.export("appUrl", f"https://{cfg.edge.domain_name}")
    return EdgeTier(certificate=certificate, edge=edge, waf=waf)
