"""NET-1: who can reach what (security groups, subnets, VPC defaults, flow logs)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError

from .base import (
    ADVISORY,
    HIGH,
    LOW,
    MANDATORY,
    MEDIUM,
    Cfg,
    KakoiResourcePolicy,
    KakoiStackPolicy,
    Node,
    SRes,
    Stack,
    Violation,
    is_list,
    is_map,
)
from .constants import DEFAULT_SG, FLOW_LOG, LB, SG, SG_INGRESS, SG_RULE, SUBNET, VPC

ALL_PROTOCOLS = {"-1", "all"}
TCP = {"tcp", "6"}


def is_world(cidr: Any) -> bool:
    """0.0.0.0/0, ::/0 or any other prefix of length 0."""
    if not isinstance(cidr, str):
        return False
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def world_ingress_problem(cidr: str, protocol: Any, from_port: Any, to_port: Any, allowed: Iterable[Any]) -> str | None:
    """Why a rule from `cidr` is not acceptable, or None when it is (TCP to allowed ports only)."""
    if not is_world(cidr):
        return None
    proto = str(protocol if protocol is not None else "").lower()
    allowed_ports = {int(p) for p in allowed}
    if proto in ALL_PROTOCOLS:
        return f"ingress from {cidr} on every protocol and port"
    if proto not in TCP:
        return f"ingress from {cidr} over {proto or 'an unspecified protocol'}"
    lo, hi = _port(from_port), _port(to_port)
    if lo is None or hi is None:
        return f"ingress from {cidr} on tcp without a port range"
    ports = set(range(lo, hi + 1)) if hi - lo < 70000 else set()
    if not ports or not ports <= allowed_ports:
        return f"ingress from {cidr} to tcp {lo}-{hi} (only {sorted(allowed_ports)} may be open to the internet)"
    return None


def _inline_rules(props: Node, key: str) -> Iterator[tuple[str, Any, Any, Any]]:
    for rule in props.nodes(key):
        cidrs = [*(rule.get("cidrBlocks") or []), *(rule.get("ipv6CidrBlocks") or [])]
        for cidr in cidrs:
            yield cidr, rule.get("protocol"), rule.get("fromPort"), rule.get("toPort")


def world_rules(typ: str, props: Node) -> Iterator[tuple[str, Any, Any, Any]]:
    """(cidr, protocol, fromPort, toPort) of every ingress rule a resource declares."""
    if typ in (SG, DEFAULT_SG):
        yield from _inline_rules(props, "ingress")
    elif typ == SG_INGRESS:
        for key in ("cidrIpv4", "cidrIpv6"):
            cidr = props.get(key)
            if cidr:
                yield cidr, props.get("ipProtocol"), props.get("fromPort"), props.get("toPort")
    elif typ == SG_RULE and props.get("type") == "ingress":
        for cidr in [*(props.get("cidrBlocks") or []), *(props.get("ipv6CidrBlocks") or [])]:
            yield cidr, props.get("protocol"), props.get("fromPort"), props.get("toPort")


def _check_sg_ingress(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    for cidr, proto, lo, hi in world_rules(args.resource_type, props):
        problem = world_ingress_problem(cidr, proto, lo, hi, cfg["allowedPublicPorts"])
        if problem:
            yield problem


sg_no_public_ingress = KakoiResourcePolicy(
    name="kakoi-net-sg-no-public-ingress",
    description=(
        "Security groups accept traffic from the whole internet (0.0.0.0/0, ::/0) only over TCP to the "
        "load balancer ports (443, and 80 which only redirects); everything else must come from allow-listed "
        "CIDRs or other security groups."
    ),
    types=(SG, DEFAULT_SG, SG_INGRESS, SG_RULE),
    check=_check_sg_ingress,
    level=MANDATORY,
    severity=HIGH,
    sheet=("NET-1",),
    securityhub=("EC2.13", "EC2.14", "EC2.18", "EC2.19", "EC2.53", "EC2.54"),
    remediation=(
        "Replace the 0.0.0.0/0 or ::/0 source by the allow-listed CIDRs (kakoi:ingressCidrs, kakoi:dbAdminCidrs) "
        "or by a referenced security group; only the load balancer's 443/80 may be public."
    ),
    config={
        "allowedPublicPorts": {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": 65535},
            "description": "TCP ports that may be open to 0.0.0.0/0 and ::/0 (the load balancer's listeners).",
            "default": [80, 443],
        }
    },
)


# --- stack: world-open security groups are only used by load balancers --------------
def world_open_groups(stack: Stack) -> dict[str, SRes]:
    """Security group id -> the resource that opens it to the internet."""
    out: dict[str, SRes] = {}
    for res in stack.of(SG, DEFAULT_SG, SG_INGRESS, SG_RULE):
        with stack.deciding():
            for cidr, _p, _lo, _hi in world_rules(res.type, res.node):
                if is_world(cidr):
                    sg_id = res.get("id") if res.type in (SG, DEFAULT_SG) else res.get("securityGroupId")
                    if sg_id:
                        out.setdefault(str(sg_id), res)
    return out


_NOT_ATTACHMENTS = {SG, DEFAULT_SG, SG_INGRESS, SG_RULE, VPC, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", *LB}


#: properties through which resources join security groups (RDS, EC2, ECS, Lambda, endpoints, ...)
ATTACH_KEYS = {"vpcSecurityGroupIds", "securityGroupIds", "securityGroups", "vpcSecurityGroups"}


def attached_groups(raw: Any, label: str, path: str = "") -> Iterator[str]:
    """Security group ids a resource's properties attach it to; unknown attachments raise CannotDecide."""
    if is_map(raw):
        for key in raw:
            sub = f"{path}.{key}"
            if key in ATTACH_KEYS:
                value = Node(raw, label, path).get(key)
                for sg in value if isinstance(value, list) else [value]:
                    if isinstance(sg, str):
                        yield sg
                continue
            try:
                child = raw[key]
            except UnknownValueError:
                continue  # an unknown value elsewhere does not attach anything
            if is_map(child) or is_list(child):
                yield from attached_groups(child, label, sub)
    elif is_list(raw):
        for i in range(len(raw)):
            try:
                child = raw[i]
            except UnknownValueError:
                continue
            if is_map(child) or is_list(child):
                yield from attached_groups(child, label, f"{path}[{i}]")


def _check_public_sg_usage(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    groups = world_open_groups(stack)
    if not groups:
        return
    lb_groups: set[str] = set()
    for lb in stack.of(*LB):
        for sg in stack.value(lb, "securityGroups") or []:
            lb_groups.add(str(sg))
    for sg_id, opener in sorted(groups.items()):
        if sg_id not in lb_groups:
            yield opener.urn, f"security group {sg_id} is open to the internet but no load balancer uses it"
        for res in stack.resources:
            if res.type in _NOT_ATTACHMENTS or not res.type.startswith("aws:"):
                continue
            with stack.deciding():
                if sg_id in set(attached_groups(res.res.props, res.node.label)):
                    yield res.urn, f"{res.type.split(':')[-1]} {res.name} uses security group {sg_id}, which is open to the internet"


public_sg_only_on_lb = KakoiStackPolicy(
    name="kakoi-net-public-sg-only-on-load-balancer",
    description=(
        "A security group that accepts traffic from the internet is attached to load balancers only: no database, "
        "task, instance or endpoint sits in it."
    ),
    types=(SG, SG_INGRESS, SG_RULE, DEFAULT_SG),
    check=_check_public_sg_usage,
    level=MANDATORY,
    severity=HIGH,
    sheet=("NET-1",),
    securityhub=("EC2.18",),
    remediation=(
        "Give the resource its own security group that admits only the load balancer's (or the app's) security "
        "group, and keep the internet-facing group on the load balancer alone."
    ),
)


# --- NET-1: a network load balancer filters its clients itself -----------------------------
NLB_SG_DOCS = "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html"


def _check_nlb_security_group(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if str(props.get("loadBalancerType") or "application") != "network":
        return
    if not props.get("securityGroups"):
        yield (
            "network load balancer without a security group: every client reaches its listeners, and a security "
            "group can only be added when the load balancer is created"
        )


nlb_security_group = KakoiResourcePolicy(
    name="kakoi-net-nlb-security-group",
    description=(
        "Every network load balancer has a security group (which admits the allow-listed CIDRs only): without one, "
        "all client traffic reaches its listeners, and an NLB created without a security group can never get one."
    ),
    types=LB,
    check=_check_nlb_security_group,
    level=MANDATORY,
    severity=HIGH,
    sheet=("NET-1",),
    securityhub=(),
    remediation=(
        "Create the NLB with securityGroups=[<a group admitting kakoi:ingressCidrs on the listener port>] (replacing an "
        f"existing NLB that has none). See {NLB_SG_DOCS}"
    ),
)


# --- advisory hardening ----------------------------------------------------------------
def _check_default_sg(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    closed: dict[str, SRes] = {}
    for dsg in stack.of(DEFAULT_SG):
        with stack.deciding():
            vpc_id = dsg.get("vpcId")
            if dsg.get("ingress") or dsg.get("egress"):
                yield dsg.urn, f"the default security group of {vpc_id} still has rules"
            elif vpc_id:
                closed[str(vpc_id)] = dsg
    for vpc in stack.of(VPC):
        with stack.deciding():
            vid = vpc.get("id")
            if vid and str(vid) not in closed:
                yield vpc.urn, f"VPC {vpc.name}: its default security group is not managed (DefaultSecurityGroup with no rules)"


default_sg_closed = KakoiStackPolicy(
    name="kakoi-net-default-sg-closed",
    description="Every VPC adopts its default security group with no ingress and no egress rules.",
    types=(VPC,),
    check=_check_default_sg,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("NET-1",),
    securityhub=("EC2.2",),
    remediation="Declare aws.ec2.DefaultSecurityGroup(vpc_id=..., ingress=[], egress=[]) for the VPC.",
)


def _check_flow_logs(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    logged: set[str] = set()
    for fl in stack.of(FLOW_LOG):
        with stack.deciding():
            if fl.get("vpcId") and fl.get("trafficType") in ("ALL", "REJECT"):
                logged.add(str(fl.get("vpcId")))
    for vpc in stack.of(VPC):
        with stack.deciding():
            if str(vpc.get("id")) not in logged:
                yield vpc.urn, f"VPC {vpc.name} has no flow log of ALL (or REJECT) traffic"


vpc_flow_logs = KakoiStackPolicy(
    name="kakoi-net-vpc-flow-logs",
    description="Every VPC has a flow log (traffic type ALL or REJECT).",
    types=(VPC,),
    check=_check_flow_logs,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("LOG-1",),
    securityhub=("EC2.6",),
    remediation="Add an aws.ec2.FlowLog for the VPC delivering to the log archive.",
)


def _check_subnet_public_ip(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    # mapPublicIpOnLaunch defaults to false
    if props.get("mapPublicIpOnLaunch") is True:
        yield "mapPublicIpOnLaunch is true: instances launched here get public IPv4 addresses"


subnet_no_auto_public_ip = KakoiResourcePolicy(
    name="kakoi-net-subnet-no-auto-public-ip",
    description="Subnets do not assign public IPv4 addresses automatically (the load balancer does not need it).",
    types=(SUBNET,),
    check=_check_subnet_public_ip,
    level=ADVISORY,
    severity=LOW,
    sheet=("NET-1",),
    securityhub=("EC2.15",),
    remediation="Leave mapPublicIpOnLaunch unset (false).",
)

POLICIES = [sg_no_public_ingress, public_sg_only_on_lb, nlb_security_group, default_sg_closed, vpc_flow_logs, subnet_no_auto_public_ip]
