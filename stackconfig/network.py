"""VPC layout and who may reach the load balancer and the database (NET-1)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .reader import Reader, is_private_range


@dataclass(frozen=True)
class NetworkConfig:
    vpc_cidr: str
    az_count: int
    nat_gateways: int
    #: IPv4/IPv6 CIDRs allowed to reach the load balancer on 443 (and 80 for the redirect)
    ingress_cidrs: tuple[str, ...]
    #: private CIDRs (VPN, bastion network) allowed to reach the database on 5432
    db_admin_cidrs: tuple[str, ...]
    app_port: int
    #: dual stack at the edge: IPv6 on the VPC, the public subnets and the load balancer
    ipv6: bool = True

    @property
    def ingress_ipv4(self) -> list[str]:
        return [c for c in self.ingress_cidrs if ipaddress.ip_network(c).version == 4]

    @property
    def ingress_ipv6(self) -> list[str]:
        return [c for c in self.ingress_cidrs if ipaddress.ip_network(c).version == 6]


def load(r: Reader) -> NetworkConfig:
    vpc_cidr = r.string("vpcCidr")
    if r.ok("vpcCidr"):
        try:
            net = ipaddress.ip_network(vpc_cidr, strict=True)
        except ValueError as exc:
            r.invalid("vpcCidr", f"{vpc_cidr!r} is not a CIDR block ({exc})")
        else:
            # the same notion of "private" as dbAdminCidrs (RFC 1918): `ip_network.is_private` would also
            # accept documentation, shared (100.64/10), loopback and reserved ranges
            if net.version != 4 or not is_private_range(net):
                r.invalid("vpcCidr", f"{vpc_cidr!r} must be a private IPv4 range (RFC 1918: 10/8, 172.16/12, 192.168/16)")
            elif not 16 <= net.prefixlen <= 20:
                r.invalid("vpcCidr", f"{vpc_cidr!r} must be between /16 and /20 to hold 3 tiers over 3 AZs")
    az_count = r.integer("azCount", minimum=2, maximum=3)
    nat = r.integer("natGateways", minimum=0, maximum=3)
    if r.ok("azCount", "natGateways") and nat > az_count:
        r.fail("natGateways", f"{nat} is more than azCount ({az_count})")
    ingress = r.cidr_list("ingressCidrs", min_items=1)
    ipv6 = r.boolean("ipv6")
    if r.ok("ipv6") and not ipv6:
        v6 = [c for c in ingress if _version(c) == 6]
        if v6:
            r.fail(
                "ingressCidrs",
                f"has IPv6 entries ({', '.join(v6)}) but kakoi:ipv6 is false: the VPC and the load balancer would "
                "have no IPv6 address, so these rules would be dead config; remove them or set kakoi:ipv6 to true",
            )
    admin = r.cidr_list("dbAdminCidrs", private_only=True)
    port = r.integer("appPort", minimum=1024, maximum=65535)
    if r.ok("appPort") and port in (5432,):
        r.fail("appPort", "must not be the database port")
    return NetworkConfig(
        vpc_cidr=vpc_cidr,
        az_count=az_count,
        nat_gateways=nat,
        ingress_cidrs=tuple(ingress),
        db_admin_cidrs=tuple(admin),
        app_port=port,
        ipv6=ipv6,
    )


def _version(cidr: str) -> int:
    """4 or 6; 0 for an invalid CIDR (cidr_list has already reported it)."""
    try:
        return ipaddress.ip_network(cidr, strict=True).version
    except ValueError:
        return 0
