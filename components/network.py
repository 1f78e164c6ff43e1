"""The VPC (NET-1, AVL-1, LOG-1): three subnet tiers over every availability zone.

What it declares, and why:

* A VPC with DNS support and DNS hostnames (interface endpoints with private DNS
  need both).
* Per availability zone, three subnet tiers:

  - **public**: only the load balancer lives here. Instances launched into it get
    no public IP (``map_public_ip_on_launch=False``, Security Hub EC2.15); its route
    table sends 0.0.0.0/0 to the internet gateway.
  - **private**: the app. No route to the internet unless ``nat_gateways > 0``
    (then 0.0.0.0/0 goes to a NAT gateway); the app reaches AWS through VPC
    endpoints (components/endpoints.py).
  - **isolated**: the database. Its route tables hold only the VPC's local route:
    no internet gateway, no NAT, nothing leaves the VPC.

* Dual stack at the edge only (``ipv6``, on by default; ``kakoi:ipv6``): the VPC gets an
  Amazon-provided IPv6 /56 (``assign_generated_ipv6_cidr_block``), each **public** subnet
  one /64 of it (the first ``az_count`` /64s, see ``ipv6_subnet_cidrs``) and the public
  route table a ``::/0`` route to the internet gateway, so that the load balancer can be
  ``dualstack`` and the IPv6 entries of ``kakoi:ingressCidrs`` reach it. Nothing gets an
  IPv6 address automatically (``assign_ipv6_address_on_creation=False``): the load
  balancer takes its own. The **private** and **isolated** subnets stay IPv4-only on
  purpose: Amazon IPv6 addresses are globally routable, and nothing in those tiers may
  be reachable from (or reach) the internet. No egress-only internet gateway either: the
  app reaches AWS through VPC endpoints and has no business on the IPv6 internet.
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-ip-address-type.html
  (dualstack needs IPv6 CIDR blocks on the VPC and the load balancer's subnets, and
  route tables that route IPv6).
* The VPC's default security group adopted and stripped of every rule (Security Hub
  EC2.2), and the main route table adopted with no routes, so anything launched
  without explicit settings gets no network access.
* VPC flow logs of ALL traffic (accepted and rejected) into the S3 log archive
  (LOG-1, Security Hub EC2.6).

Subnet layout (deterministic, from the VPC CIDR of prefix length ``p``): the first
three quarters of the VPC (``/p+2`` each) are the private subnets, one per AZ; the
last quarter is cut into ``/p+5`` blocks, the first three public, the next ones
isolated (a /16 gives /18 private, /21 public and /21 isolated subnets; a /20 gives
/22 and /25s, still above the /27 a load balancer needs).

Security groups are in components/security_groups.py, endpoints in
components/endpoints.py.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from components.log_archive import PREFIX_FLOW_LOGS, LogArchive
from stackconfig.network import NetworkConfig

CONTROLS: dict[str, str] = {
    "NET-1": (
        "three subnet tiers: only the load balancer sits in public subnets (no public IPs assigned); "
        "the app subnets have no internet route unless NAT is configured; the database subnets have "
        "no route out of the VPC at all; the default security group has no rules; IPv6 (when on) only in "
        "the public subnets, never in the app or database tiers"
    ),
    "AVL-1": "every tier spans azCount availability zones (3 in both stacks)",
    "LOG-1": "VPC flow logs of all traffic are delivered to the S3 log archive (Parquet, hourly partitions)",
}

#: the tiers, in the order their subnets are created
TIERS = ("public", "private", "isolated")


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of `Network`."""

    #: who the stack is: the name prefix of every `Name` tag. Required.
    context: StackContext
    #: the network's own settings (stackconfig/network.py): `vpc_cidr` (the VPC's IPv4 range, cut into
    #: the subnet plan of the module docstring), `az_count` (availability zones every tier spans, AVL-1),
    #: `nat_gateways` (0 = no internet route from the app subnets, the app reaches AWS through VPC
    #: endpoints; else at most one per AZ, NET-1) and `ipv6` (dual stack at the edge: an Amazon-provided
    #: /56 on the VPC, a /64 per public subnet, NET-1). Required.
    config: NetworkConfig
    #: where the VPC flow logs of all traffic go (LOG-1): the archive bucket, under
    #: `log_archive.PREFIX_FLOW_LOGS`; the flow log waits for the archive's bucket policy. Required.
    log_archive: LogArchive


def subnet_cidrs(cidr: str, az_count: int) -> dict[str, list[str]]:
    """The CIDR of every subnet, per tier, one per AZ (see the module docstring)."""
    net = ipaddress.ip_network(cidr, strict=True)
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError(f"{cidr} is not an IPv4 network")
    if not 1 <= az_count <= 3:
        raise ValueError(f"az_count {az_count} must be 1 to 3")
    quarters = list(net.subnets(new_prefix=net.prefixlen + 2))
    small = list(quarters[3].subnets(new_prefix=net.prefixlen + 5))
    return {
        "private": [str(q) for q in quarters[:az_count]],
        "public": [str(s) for s in small[:az_count]],
        "isolated": [str(s) for s in small[3 : 3 + az_count]],
    }


def ipv6_subnet_cidrs(vpc_ipv6_cidr: str, az_count: int) -> list[str]:
    """The IPv6 /64 of every public subnet: the first `az_count` /64s of the VPC's block.

    Pure (no resources), so it may run inside `Output.apply` on the VPC's computed block.
    """
    net = ipaddress.ip_network(vpc_ipv6_cidr, strict=True)
    if not isinstance(net, ipaddress.IPv6Network):
        raise ValueError(f"{vpc_ipv6_cidr} is not an IPv6 network")
    if net.prefixlen > 60:
        raise ValueError(f"{vpc_ipv6_cidr} is too small to hold one /64 per availability zone")
    if not 1 <= az_count <= 3:
        raise ValueError(f"az_count {az_count} must be 1 to 3")
    subnets = net.subnets(new_prefix=64)
    return [str(next(subnets)) for _ in range(az_count)]


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    #: the VPC's Amazon-provided IPv6 block (None when `ipv6` is off)
    vpc_ipv6_cidr: pulumi.Output[str] | None
    ipv6: bool
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    isolated_subnet_ids: list[pulumi.Output[str]]
    public_route_table_id: pulumi.Output[str]
    private_route_table_ids: list[pulumi.Output[str]]
    isolated_route_table_ids: list[pulumi.Output[str]]
    nat_gateway_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:network:Network", name, None, opts)
        cfg = args.config
        if not 0 <= cfg.nat_gateways <= cfg.az_count:
            raise ValueError(f"NetworkConfig.nat_gateways ({cfg.nat_gateways}) must be between 0 and az_count ({cfg.az_count})")
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.context.name_prefix
        cidrs = subnet_cidrs(cfg.vpc_cidr, cfg.az_count)

        # Zones open to this account; Local/Wavelength zones (opt-in) are left out.
        azs = aws.get_availability_zones_output(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        az_names = [azs.names.apply(lambda names, i=i: names[i]) for i in range(cfg.az_count)]

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cfg.vpc_cidr,
            # an Amazon-provided /56 (the size cannot be chosen); only the public subnets use it
            assign_generated_ipv6_cidr_block=cfg.ipv6,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{prefix}-vpc"},
            opts=child,
        )
        vpc_id = self.vpc.id

        # ---- nothing by default: the default security group and the main route table, emptied
        # https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-2
        self.default_security_group = aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc_id,
            ingress=[],
            egress=[],
            tags={"Name": f"{prefix}-default-unused"},
            opts=child,
        )
        self.main_route_table = aws.ec2.DefaultRouteTable(
            f"{name}-main-rtb",
            default_route_table_id=self.vpc.default_route_table_id,
            routes=[],
            tags={"Name": f"{prefix}-main-unused"},
            opts=child,
        )

        # ---- subnets
        # IPv6 /64s for the public tier only, carved from the VPC's block once AWS has assigned it
        # (a pure derivation in apply; the subnets themselves are declared here, outside it)
        public_ipv6: list[pulumi.Output[str]] = []
        if cfg.ipv6:
            az_count = cfg.az_count
            public_ipv6 = [
                self.vpc.ipv6_cidr_block.apply(lambda block, i=i: ipv6_subnet_cidrs(block, az_count)[i]) for i in range(az_count)
            ]
        subnets: dict[str, list[aws.ec2.Subnet]] = {tier: [] for tier in TIERS}
        for tier in TIERS:
            for i in range(cfg.az_count):
                dual = tier == "public" and cfg.ipv6
                subnets[tier].append(
                    aws.ec2.Subnet(
                        f"{name}-{tier}-{i}",
                        vpc_id=vpc_id,
                        cidr_block=cidrs[tier][i],
                        ipv6_cidr_block=public_ipv6[i] if dual else None,
                        # no automatic IPv6 address either: the load balancer takes its own
                        assign_ipv6_address_on_creation=False if dual else None,
                        availability_zone=az_names[i],
                        # nothing gets a public IP, not even in the public tier (Security Hub EC2.15)
                        map_public_ip_on_launch=False,
                        tags={"Name": f"{prefix}-{tier}-{i}", "tier": tier},
                        opts=child,
                    )
                )

        # ---- public tier: internet gateway
        self.internet_gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc_id, tags={"Name": f"{prefix}-igw"}, opts=child)
        public_rt = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc_id, tags={"Name": f"{prefix}-public", "tier": "public"}, opts=child)
        aws.ec2.Route(
            f"{name}-public-internet",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.id,
            opts=child,
        )
        if cfg.ipv6:
            # the only IPv6 route in the VPC: the public tier to the internet gateway
            aws.ec2.Route(
                f"{name}-public-internet-v6",
                route_table_id=public_rt.id,
                destination_ipv6_cidr_block="::/0",
                gateway_id=self.internet_gateway.id,
                opts=child,
            )
        for i, subnet in enumerate(subnets["public"]):
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=subnet.id, route_table_id=public_rt.id, opts=child)

        # ---- NAT gateways (only when configured), in the public subnets of the first AZs
        nat_gateways: list[aws.ec2.NatGateway] = []
        for i in range(cfg.nat_gateways):
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags={"Name": f"{prefix}-nat-{i}"}, opts=child)
            nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.id,
                    subnet_id=subnets["public"][i].id,
                    connectivity_type="public",
                    tags={"Name": f"{prefix}-nat-{i}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.internet_gateway]),
                )
            )

        # ---- private tier: one route table per AZ; 0.0.0.0/0 to a NAT gateway only if there is one
        private_rts: list[aws.ec2.RouteTable] = []
        for i, subnet in enumerate(subnets["private"]):
            rt = aws.ec2.RouteTable(
                f"{name}-private-{i}", vpc_id=vpc_id, tags={"Name": f"{prefix}-private-{i}", "tier": "private"}, opts=child
            )
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=subnet.id, route_table_id=rt.id, opts=child)
            if nat_gateways:
                # the NAT gateway in the same AZ when there is one per AZ, else a shared one
                aws.ec2.Route(
                    f"{name}-private-{i}-nat",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat_gateways[i % len(nat_gateways)].id,
                    opts=child,
                )
            private_rts.append(rt)

        # ---- isolated tier: route tables with the local route only (no Route resources at all)
        isolated_rts: list[aws.ec2.RouteTable] = []
        for i, subnet in enumerate(subnets["isolated"]):
            rt = aws.ec2.RouteTable(
                f"{name}-isolated-{i}", vpc_id=vpc_id, tags={"Name": f"{prefix}-isolated-{i}", "tier": "isolated"}, opts=child
            )
            aws.ec2.RouteTableAssociation(f"{name}-isolated-{i}", subnet_id=subnet.id, route_table_id=rt.id, opts=child)
            isolated_rts.append(rt)

        # ---- flow logs of all traffic to the archive (LOG-1)
        # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html
        # Hive-compatible partitions are off on purpose: they change the key layout to
        # `AWSLogs/aws-account-id=<id>/...`, which the archive's bucket policy (it lets the
        # log-delivery service write `<prefix>/AWSLogs/<account>/*` only) would refuse.
        # The flow log waits for that bucket policy: created first, log delivery finds no policy
        # and writes its own onto the bucket (racing the one Pulumi puts, which may then be lost).
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html#AWS-logs-infrastructure-S3
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="s3",
            log_destination=args.log_archive.archive_bucket.arn.apply(lambda arn: f"{arn}/{PREFIX_FLOW_LOGS}/"),
            destination_options={"file_format": "parquet", "per_hour_partition": True, "hive_compatible_partitions": False},
            max_aggregation_interval=600,
            tags={"Name": f"{prefix}-flow-log"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.log_archive.archive_policy]),
        )

        # ---- what callers use
        self.vpc_id = vpc_id
        self.vpc_cidr = self.vpc.cidr_block
        self.ipv6 = cfg.ipv6
        self.vpc_ipv6_cidr = self.vpc.ipv6_cidr_block if cfg.ipv6 else None
        self.availability_zones = az_names
        self.public_subnet_ids = [s.id for s in subnets["public"]]
        self.private_subnet_ids = [s.id for s in subnets["private"]]
        self.isolated_subnet_ids = [s.id for s in subnets["isolated"]]
        self.public_route_table_id = public_rt.id
        self.private_route_table_ids = [rt.id for rt in private_rts]
        self.isolated_route_table_ids = [rt.id for rt in isolated_rts]
        self.nat_gateway_ids = [n.id for n in nat_gateways]
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": self.vpc_cidr,
                "vpcIpv6Cidr": self.vpc_ipv6_cidr,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
                "privateRouteTableIds": self.private_route_table_ids,
                "isolatedRouteTableIds": self.isolated_route_table_ids,
                "natGatewayIds": self.nat_gateway_ids,
            }
        )
