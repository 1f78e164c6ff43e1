"""The public edge: certificate, load balancer TLS policy, WAF (ENC-1, ENC-2, CJ-1)."""

from __future__ import annotations

from dataclasses import dataclass

from .core import CoreConfig
from .reader import ARN_PATTERN, Reader

#: The ELB security policies that negotiate TLS 1.3 and nothing older (ENC-1). An exact
#: allow-list: `ELBSecurityPolicy-TLS13-1-2-*` policies also accept TLS 1.2.
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
TLS13_ONLY_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
)

#: the shortest HSTS max-age kakoi sends (a year; ENC-2, XSS-2): the pack's kakoi-enc-alb-hsts minimumMaxAge
MIN_HSTS_MAX_AGE = 31_536_000

HOSTNAME_PATTERN = r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"


@dataclass(frozen=True)
class EdgeConfig:
    domain_name: str
    #: Route 53 hosted zone for DNS validation and the alias record ("" when certificate_arn is given)
    hosted_zone_id: str
    #: an existing ACM certificate ("" to request one validated through hosted_zone_id)
    certificate_arn: str
    tls_policy: str
    deletion_protection: bool
    waf_rate_limit: int
    hsts_max_age: int


def load(r: Reader, core: CoreConfig) -> EdgeConfig:
    domain = r.string("domainName", pattern=HOSTNAME_PATTERN, describe="a lower-case DNS name")
    zone = r.string("hostedZoneId", required=False, allow_empty=True, pattern=r"Z[A-Z0-9]{1,31}", describe="a Route 53 hosted zone ID")
    cert = r.string("certificateArn", required=False, allow_empty=True, pattern=ARN_PATTERN, describe="an ACM certificate ARN")
    if r.ok("hostedZoneId", "certificateArn") and not zone and not cert:
        r.fail("hostedZoneId", "set hostedZoneId (to request a DNS-validated certificate) or certificateArn (to use an existing one)")
    if r.ok("certificateArn") and cert and ":acm:" not in cert:
        r.fail("certificateArn", f"{cert!r} is not an ACM certificate ARN")
    policy = r.string("tlsPolicy", choices=TLS13_ONLY_POLICIES)
    deletion_protection = r.boolean("albDeletionProtection")
    weak = r.ok("albDeletionProtection") and not deletion_protection
    if weak and (core.is_production or core.policy_mandatory("kakoi-elb-deletion-protection")):
        r.fail(
            "albDeletionProtection",
            f"must be true in {'production' if core.is_production else f'stack {core.stack}'}: kakoi-elb-deletion-protection "
            "(Security Hub ELB.6) is mandatory there (policies/kakoi_policy/levels.py lists the stacks that may turn it off)",
        )
    return EdgeConfig(
        domain_name=domain,
        hosted_zone_id=zone,
        certificate_arn=cert,
        tls_policy=policy,
        deletion_protection=deletion_protection,
        # WAF rate-based rules: limit per 5-minute window, 10 to 2,000,000,000
        waf_rate_limit=r.integer("wafRateLimit", minimum=10, maximum=2_000_000_000),
        hsts_max_age=r.integer("hstsMaxAge", minimum=MIN_HSTS_MAX_AGE),
    )
