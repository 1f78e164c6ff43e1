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
    certificate = Certificate("cert", CertificateArgs.of(cfg.edge), opts=ctx.opts)
    edge = Edge(
        "edge",
        EdgeArgs(ctx, cfg.edge, network=base.network, security_groups=base.sgs, certificate=certificate, log_archive=base.logs),
        opts=ctx.opts,
    )
    waf = Waf("waf", WafArgs(ctx, cfg.edge, edge=edge, log_archive=base.logs), opts=ctx.opts)

    pulumi.export("loadBalancerDnsName", edge.dns_name)
    pulumi.export("appUrl", f"https://{cfg.edge.domain_name}")
    return EdgeTier(certificate=certificate, edge=edge, waf=waf)
