"""Helpers for the network and security group tests (NET-1): find the pieces in a rendered stack."""

from __future__ import annotations

import functools
import json
from typing import Any

from tools.render import render
from tools.stackfiles import stack_values
from tools.stackview import Res, StackView

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
RT_ASSOC = "aws:ec2/routeTableAssociation:RouteTableAssociation"
VPC = "aws:ec2/vpc:Vpc"
IGW = "aws:ec2/internetGateway:InternetGateway"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_IN = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_OUT = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
#: the legacy rule resource, which must not be mixed with the vpc.* rule resources
SG_RULE_LEGACY = "aws:ec2/securityGroupRule:SecurityGroupRule"


@functools.cache
def _rendered(stack: str, overrides_json: str) -> dict[str, Any]:
    return render(stack, overrides=json.loads(overrides_json))


def render_with(stack: str, overrides: dict[str, Any]) -> StackView:
    """A stack rendered with config overrides (cached per stack and overrides)."""
    return StackView(_rendered(stack, json.dumps(overrides, sort_keys=True)))


def config(stack: str, key: str) -> Any:
    """A config value of `stack` as the program sees it (JSON arrays decoded)."""
    raw = stack_values(stack).values[key if ":" in key else f"kakoi:{key}"]
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def rid(r: Res) -> str:
    """The provider id of a custom resource."""
    return str(r.raw["id"])


def stack_name(view: StackView) -> str:
    return view.resources[0].urn.split("::")[0].removeprefix("urn:pulumi:")


def vpc(view: StackView) -> Res:
    return view.one(VPC)


def subnets(view: StackView, tier: str) -> list[Res]:
    found = [r for r in view.of_type(SUBNET) if (r.inputs.get("tags") or {}).get("tier") == tier]
    return sorted(found, key=lambda r: r.name)


def route_table_of(view: StackView, subnet: Res) -> Res:
    [assoc] = [a for a in view.of_type(RT_ASSOC) if a.inputs.get("subnetId") == rid(subnet)]
    [table] = [t for t in view.of_type(ROUTE_TABLE) if rid(t) == assoc.inputs["routeTableId"]]
    return table


def routes_of(view: StackView, table: Res) -> list[dict[str, Any]]:
    """Every route of a table: Route resources plus inline routes."""
    out = [r.inputs for r in view.of_type(ROUTE) if r.inputs.get("routeTableId") == rid(table)]
    return out + list(table.inputs.get("route") or table.inputs.get("routes") or [])


def sg(view: StackView, key: str) -> Res:
    """The security group `alb`, `app`, `db` or `endpoints`."""
    return view.one(SG, f"sg-{key}")


def ingress(view: StackView, group: Res) -> list[Res]:
    return [r for r in view.of_type(SG_IN) if r.inputs.get("securityGroupId") == rid(group)]


def egress(view: StackView, group: Res) -> list[Res]:
    return [r for r in view.of_type(SG_OUT) if r.inputs.get("securityGroupId") == rid(group)]


def peer(rule: Res) -> tuple[str, str]:
    """(kind, value) of a rule's other side: cidr4, cidr6, sg or prefix-list."""
    i = rule.inputs
    sides = [
        (kind, i[key])
        for kind, key in (("cidr4", "cidrIpv4"), ("cidr6", "cidrIpv6"), ("sg", "referencedSecurityGroupId"), ("pl", "prefixListId"))
        if i.get(key)
    ]
    assert len(sides) == 1, f"{rule.name}: expected one peer, got {sides}"
    return sides[0]


def ports(rule: Res) -> tuple[str, int, int]:
    i = rule.inputs
    return (str(i.get("ipProtocol")), int(i.get("fromPort", -1)), int(i.get("toPort", -1)))


#: the foundation and edge components built on their own (tests/infra/test_network.py, test_edge.py):
#: a hand-made StackContext (stack `dev`, so every name says `kakoi-dev`) and hand-made config
#: sections, none of them from a stack file
STANDALONE_PROGRAM = """
import dataclasses
from components.certificate import Certificate, CertificateArgs
from components.context import StackContext
from components.alerts import Alerts, AlertsArgs
from components.edge import Edge, EdgeArgs
from components.endpoints import INTERFACE_SERVICES, Endpoints, EndpointsArgs
from components.kms import Keys, KeysArgs
from components.log_archive import LogArchive, LogArchiveArgs
from components.network import Network, NetworkArgs
from components.security_groups import SecurityGroups, SecurityGroupsArgs
from components.waf import Waf, WafArgs
from stackconfig.edge import EdgeConfig
from stackconfig.log_archive import LogArchiveConfig
from stackconfig.network import NetworkConfig

ctx = StackContext(project="kakoi", stack="dev", region="ap-northeast-1", dr_region="ap-northeast-3",
                   account_id="123456789012", partition="aws", opts=opts)
net_cfg = NetworkConfig(vpc_cidr="10.20.0.0/16", az_count=2, nat_gateways=0, ingress_cidrs=("198.51.100.0/24",),
                        db_admin_cidrs=(), app_port=8000, ipv6=False)
edge_cfg = EdgeConfig(domain_name="dev.example.com", hosted_zone_id="Z0123DEV", certificate_arn="",
                      tls_policy="ELBSecurityPolicy-TLS13-1-3-2021-06", deletion_protection=False,
                      waf_rate_limit=1000, hsts_max_age=31536000)
logs = LogArchive("logs", LogArchiveArgs(ctx, LogArchiveConfig(object_lock_mode="GOVERNANCE", object_lock_days=30,
                                                                cold_storage_after_days=90)), opts=opts)
keys = Keys("keys", KeysArgs(ctx, dataclasses.replace(cfg.data, key_rotation_days=180, dr_copies=False)), opts=opts)
network = Network("network", NetworkArgs(ctx, net_cfg, log_archive=logs), opts=opts)
sgs = SecurityGroups("sg", SecurityGroupsArgs(ctx, net_cfg, network=network), opts=opts)
Endpoints("endpoints", EndpointsArgs(ctx, network=network, security_groups=sgs, services=INTERFACE_SERVICES[:2]), opts=opts)
Alerts("alerts", AlertsArgs(ctx, dataclasses.replace(cfg.detection, alert_emails=("ops@example.com",)), keys=keys), opts=opts)
cert = Certificate("cert", CertificateArgs.of(edge_cfg), opts=opts)
edge = Edge("edge", EdgeArgs(ctx, edge_cfg, network=network, security_groups=sgs, certificate=cert, log_archive=logs), opts=opts)
Waf("waf", WafArgs(ctx, edge_cfg, edge=edge, log_archive=logs), opts=opts)
"""


@functools.cache
def standalone() -> StackView:
    """The render of STANDALONE_PROGRAM (once per session)."""
    import tempfile
    from pathlib import Path

    from tests.infra.detectionview import render_program

    with tempfile.TemporaryDirectory() as tmp:
        return render_program(Path(tmp), STANDALONE_PROGRAM)
