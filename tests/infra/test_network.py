"""NET-1 (and AVL-1, LOG-1 for the network): the VPC, its subnet tiers, routes, flow logs and endpoints."""

from __future__ import annotations

import ipaddress
import json

import pytest

from components.endpoints import INTERFACE_SERVICES
from components.log_archive import PREFIX_FLOW_LOGS
from components.network import subnet_cidrs
from tests.infra import netview as nv
from tools.mocks import ACCOUNT_ID
from tools.stackview import StackView

TIERS = ("public", "private", "isolated")


# ---- layout -------------------------------------------------------------------------


def test_avl1_net1_three_tiers_over_three_azs(each_stack: StackView) -> None:
    """AVL-1 / NET-1: 3 AZs x 3 tiers, one subnet per tier and AZ, all inside the VPC, none overlapping."""
    vpc_net = ipaddress.ip_network(nv.vpc(each_stack).inputs["cidrBlock"])
    all_nets = []
    for tier in TIERS:
        subs = nv.subnets(each_stack, tier)
        assert len(subs) == 3, tier
        assert len({s.inputs["availabilityZone"] for s in subs}) == 3, f"{tier} subnets must be in 3 different AZs"
        for s in subs:
            net = ipaddress.ip_network(s.inputs["cidrBlock"])
            assert net.subnet_of(vpc_net), s.name  # pyright: ignore[reportArgumentType]
            assert s.inputs["vpcId"] == nv.rid(nv.vpc(each_stack))
            all_nets.append(net)
    assert len(each_stack.of_type(nv.SUBNET)) == 9, "no subnets outside the three tiers"
    for i, a in enumerate(all_nets):
        for b in all_nets[i + 1 :]:
            assert not a.overlaps(b), f"{a} overlaps {b}"


def test_avl1_az_count_config_drives_the_layout() -> None:
    """AVL-1: azCount 2 gives 2 subnets per tier (the layout follows config, not a constant)."""
    view = nv.render_with("staging", {"kakoi:azCount": 2})
    for tier in TIERS:
        assert len(nv.subnets(view, tier)) == 2


@pytest.mark.parametrize(("cidr", "azs"), [("10.40.0.0/16", 3), ("10.41.0.0/16", 2), ("172.16.0.0/20", 3), ("192.168.64.0/18", 3)])
def test_net1_subnet_plan_is_disjoint_and_inside_the_vpc(cidr: str, azs: int) -> None:
    """NET-1: the subnet plan never overlaps and leaves room for a load balancer (/27 at least)."""
    plan = subnet_cidrs(cidr, azs)
    vpc_net = ipaddress.ip_network(cidr)
    nets = [ipaddress.ip_network(c) for tier in TIERS for c in plan[tier]]
    assert len(nets) == 3 * azs
    assert all(n.subnet_of(vpc_net) for n in nets)  # pyright: ignore[reportArgumentType]
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    assert all(n.prefixlen <= 27 for n in nets)
    # the app tier gets the most room
    assert ipaddress.ip_network(plan["private"][0]).num_addresses > ipaddress.ip_network(plan["public"][0]).num_addresses


def test_net1_vpc_has_dns_for_private_endpoints(each_stack: StackView) -> None:
    """NET-1: DNS support and hostnames, which interface endpoints with private DNS need."""
    vpc = nv.vpc(each_stack)
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True


def test_net1_no_subnet_assigns_public_ips(each_stack: StackView) -> None:
    """NET-1 (Security Hub EC2.15): not even the public subnets give instances a public IP."""
    for s in each_stack.of_type(nv.SUBNET):
        assert s.inputs.get("mapPublicIpOnLaunch") is False, s.name


# ---- routes -------------------------------------------------------------------------


def _internet_targets(route: dict) -> list[str]:
    keys = (
        "gatewayId",
        "natGatewayId",
        "egressOnlyGatewayId",
        "transitGatewayId",
        "vpcPeeringConnectionId",
        "networkInterfaceId",
        "carrierGatewayId",
    )
    return [route[k] for k in keys if route.get(k)]


def test_net1_isolated_subnets_have_no_route_out_of_the_vpc(each_stack: StackView) -> None:
    """NET-1: the database tier's route tables hold no route at all (only the implicit local one),
    and no gateway endpoint adds one."""
    endpoint_tables = {t for e in each_stack.of_type(nv.ENDPOINT) for t in e.inputs.get("routeTableIds") or []}
    for s in nv.subnets(each_stack, "isolated"):
        table = nv.route_table_of(each_stack, s)
        assert nv.routes_of(each_stack, table) == [], f"{s.name} must have no routes"
        assert nv.rid(table) not in endpoint_tables
        # the table serves the isolated tier only
        users = [a for a in each_stack.of_type(nv.RT_ASSOC) if a.inputs.get("routeTableId") == nv.rid(table)]
        assert {a.inputs["subnetId"] for a in users} <= {nv.rid(x) for x in nv.subnets(each_stack, "isolated")}


def test_net1_private_subnets_have_no_internet_route_without_nat(each_stack: StackView) -> None:
    """NET-1: with natGateways 0 (both stacks) the app tier has no route to the internet and no NAT exists."""
    assert nv.config(nv.stack_name(each_stack), "natGateways") in (0, "0")
    assert each_stack.of_type(nv.NAT) == [] and each_stack.of_type(nv.EIP) == []
    for s in nv.subnets(each_stack, "private"):
        table = nv.route_table_of(each_stack, s)
        assert [r for r in nv.routes_of(each_stack, table) if _internet_targets(r)] == [], s.name


def test_net1_only_public_subnets_route_to_the_internet_gateway(each_stack: StackView) -> None:
    """NET-1: the internet gateway is reachable from the public (load balancer) tier and nothing else."""
    igw = each_stack.one(nv.IGW)
    assert igw.inputs["vpcId"] == nv.rid(nv.vpc(each_stack))
    public_tables = {nv.rid(nv.route_table_of(each_stack, s)) for s in nv.subnets(each_stack, "public")}
    assert len(public_tables) == 1
    to_igw = [r for r in each_stack.of_type(nv.ROUTE) if r.inputs.get("gatewayId") == nv.rid(igw)]
    assert {r.inputs["routeTableId"] for r in to_igw} == public_tables
    assert [r.inputs["destinationCidrBlock"] for r in to_igw] == ["0.0.0.0/0"]


def test_net1_main_route_table_is_emptied(each_stack: StackView) -> None:
    """NET-1: the VPC's main route table (used by any subnet without an association) has no routes."""
    [main] = each_stack.of_type("aws:ec2/defaultRouteTable:DefaultRouteTable")
    assert main.inputs["defaultRouteTableId"] == nv.vpc(each_stack).outputs["defaultRouteTableId"]
    assert main.inputs["routes"] == []


def test_net1_nat_gateways_only_when_configured() -> None:
    """NET-1: natGateways=1 adds one NAT gateway (with an EIP) in a public subnet, routes every app
    subnet through it, leaves the database tier without a route, and opens the app's HTTPS egress."""
    view = nv.render_with("staging", {"kakoi:natGateways": 1})
    [nat] = view.of_type(nv.NAT)
    [eip] = view.of_type(nv.EIP)
    assert nat.inputs["allocationId"] == nv.rid(eip)
    assert eip.inputs["domain"] == "vpc"
    assert nat.inputs["subnetId"] in {nv.rid(s) for s in nv.subnets(view, "public")}
    for s in nv.subnets(view, "private"):
        routes = nv.routes_of(view, nv.route_table_of(view, s))
        assert [(r["destinationCidrBlock"], r.get("natGatewayId")) for r in routes] == [("0.0.0.0/0", nv.rid(nat))]
    for s in nv.subnets(view, "isolated"):
        assert nv.routes_of(view, nv.route_table_of(view, s)) == []
    app_out = [r for r in nv.egress(view, nv.sg(view, "app")) if nv.peer(r) == ("cidr4", "0.0.0.0/0")]
    assert [nv.ports(r) for r in app_out] == [("tcp", 443, 443)]


def test_avl1_one_nat_gateway_per_az_when_asked() -> None:
    """AVL-1: natGateways=3 puts one NAT gateway in each AZ and each app subnet uses its own AZ's."""
    view = nv.render_with("staging", {"kakoi:natGateways": 3})
    nats = view.of_type(nv.NAT)
    assert len(nats) == 3
    public = {nv.rid(s): s.inputs["availabilityZone"] for s in nv.subnets(view, "public")}
    nat_az = {nv.rid(n): public[n.inputs["subnetId"]] for n in nats}
    assert sorted(nat_az.values()) == sorted(public.values())
    for s in nv.subnets(view, "private"):
        [route] = nv.routes_of(view, nv.route_table_of(view, s))
        assert nat_az[route["natGatewayId"]] == s.inputs["availabilityZone"]


# ---- default security group, flow logs ------------------------------------------------


def test_net1_default_security_group_has_no_rules(each_stack: StackView) -> None:
    """NET-1 (Security Hub EC2.2): the VPC's default security group is adopted with no rules at all."""
    [default] = each_stack.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs["vpcId"] == nv.rid(nv.vpc(each_stack))
    assert default.inputs["ingress"] == []
    assert default.inputs["egress"] == []


def test_log1_flow_logs_capture_all_traffic_into_the_archive(each_stack: StackView) -> None:
    """LOG-1: VPC flow logs of ALL traffic go to the log archive bucket under the flow-log prefix."""
    [flow] = each_stack.of_type("aws:ec2/flowLog:FlowLog")
    archive = each_stack.one("aws:s3/bucket:Bucket", "logs-archive")
    assert flow.inputs["vpcId"] == nv.rid(nv.vpc(each_stack))
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestinationType"] == "s3"
    assert flow.inputs["logDestination"] == f"{archive.outputs['arn']}/{PREFIX_FLOW_LOGS}/"
    assert flow.inputs["destinationOptions"]["fileFormat"] == "parquet"


def test_log1_archive_policy_admits_the_flow_log_key_layout(each_stack: StackView) -> None:
    """LOG-1: the archive's bucket policy lets log delivery write exactly where the flow log writes
    (Hive-compatible keys, `AWSLogs/aws-account-id=...`, would be refused, so they stay off)."""
    [flow] = each_stack.of_type("aws:ec2/flowLog:FlowLog")
    assert flow.inputs["destinationOptions"].get("hiveCompatiblePartitions") is False
    archive = each_stack.one("aws:s3/bucket:Bucket", "logs-archive")
    [policy] = [p for p in each_stack.of_type("aws:s3/bucketPolicy:BucketPolicy") if p.inputs.get("bucket") == nv.rid(archive)]
    doc = json.loads(policy.inputs["policy"])
    expected = f"{archive.outputs['arn']}/{PREFIX_FLOW_LOGS}/AWSLogs/{ACCOUNT_ID}/*"
    writes = [
        s
        for s in doc["Statement"]
        if s.get("Effect") == "Allow"
        and s.get("Principal") == {"Service": "delivery.logs.amazonaws.com"}
        and "s3:PutObject" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    resources = {r for s in writes for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert expected in resources


# ---- endpoints ------------------------------------------------------------------------


def test_net1_interface_endpoints_with_private_dns_in_app_subnets(each_stack: StackView) -> None:
    """NET-1: the app reaches ECR, Logs, Secrets Manager, KMS and SES through interface endpoints with
    private DNS, in every app subnet, behind the endpoints security group."""
    region = nv.config(nv.stack_name(each_stack), "aws:region")
    private = sorted(nv.rid(s) for s in nv.subnets(each_stack, "private"))
    endpoints_sg = nv.rid(nv.sg(each_stack, "endpoints"))
    interface = {e.inputs["serviceName"]: e for e in each_stack.of_type(nv.ENDPOINT) if e.inputs.get("vpcEndpointType") == "Interface"}
    wanted = {f"com.amazonaws.{region}.{s}" for s in ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms", "email")}
    assert wanted <= set(interface), f"missing: {wanted - set(interface)}"
    assert {f"com.amazonaws.{region}.{s.name}" for s in INTERFACE_SERVICES} == set(interface)
    for name, e in interface.items():
        assert e.inputs["privateDnsEnabled"] is True, name
        assert sorted(e.inputs["subnetIds"]) == private, name
        assert e.inputs["securityGroupIds"] == [endpoints_sg], name


def test_net1_interface_endpoint_policies_admit_only_this_account(each_stack: StackView) -> None:
    """NET-1: endpoints that support policies accept only principals of this account."""
    with_policy = [e for e in each_stack.of_type(nv.ENDPOINT) if e.inputs.get("vpcEndpointType") == "Interface" and e.inputs.get("policy")]
    assert len(with_policy) == sum(1 for s in INTERFACE_SERVICES if s.policy) >= 5
    for e in with_policy:
        [stmt] = json.loads(e.inputs["policy"])["Statement"]
        assert stmt["Effect"] == "Allow"
        assert stmt["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT_ID}}


def test_net1_s3_gateway_endpoint_on_app_route_tables_only(each_stack: StackView) -> None:
    """NET-1: S3 is reached through a gateway endpoint routed from the app subnets (not the database's)."""
    region = nv.config(nv.stack_name(each_stack), "aws:region")
    [s3] = [e for e in each_stack.of_type(nv.ENDPOINT) if e.inputs.get("vpcEndpointType") == "Gateway"]
    assert s3.inputs["serviceName"] == f"com.amazonaws.{region}.s3"
    private_tables = sorted(nv.rid(nv.route_table_of(each_stack, s)) for s in nv.subnets(each_stack, "private"))
    assert sorted(s3.inputs["routeTableIds"]) == private_tables
