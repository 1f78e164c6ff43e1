"""NET-1 (and AVL-1, LOG-1 for the network): the VPC, its subnet tiers, routes, flow logs and endpoints."""

from __future__ import annotations

import ipaddress
import json

import pytest

from components.endpoints import INTERFACE_SERVICES
from components.log_archive import PREFIX_FLOW_LOGS
from components.network import ipv6_subnet_cidrs, subnet_cidrs
from tests.infra import netview as nv
from tools.mocks import ACCOUNT_ID
from tools.render import RenderError, render
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
    """NET-1: the internet gateway is reachable from the public (load balancer) tier and nothing else
    (0.0.0.0/0 and, dual stack being on in both stacks, ::/0)."""
    igw = each_stack.one(nv.IGW)
    assert igw.inputs["vpcId"] == nv.rid(nv.vpc(each_stack))
    public_tables = {nv.rid(nv.route_table_of(each_stack, s)) for s in nv.subnets(each_stack, "public")}
    assert len(public_tables) == 1
    to_igw = [r for r in each_stack.of_type(nv.ROUTE) if r.inputs.get("gatewayId") == nv.rid(igw)]
    assert {r.inputs["routeTableId"] for r in to_igw} == public_tables
    destinations = sorted(str(r.inputs.get("destinationCidrBlock") or r.inputs.get("destinationIpv6CidrBlock")) for r in to_igw)
    assert destinations == ["0.0.0.0/0", "::/0"]


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


def test_log1_flow_log_waits_for_the_archive_policy(each_stack: StackView) -> None:
    """LOG-1: created before the archive's bucket policy, the flow log's delivery would find no policy
    and write its own onto the bucket (racing the declared one); so the flow log depends on it."""
    [flow] = each_stack.of_type("aws:ec2/flowLog:FlowLog")
    archive = each_stack.one("aws:s3/bucket:Bucket", "logs-archive")
    [policy] = [p for p in each_stack.of_type("aws:s3/bucketPolicy:BucketPolicy") if p.inputs.get("bucket") == nv.rid(archive)]
    assert policy.urn in flow.dependencies


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


# ---- dual stack at the edge (kakoi:ipv6, on by default) -------------------------------------

#: subnet inputs that would give a subnet IPv6 addresses
IPV6_SUBNET_KEYS = ("ipv6CidrBlock", "assignIpv6AddressOnCreation", "ipv6Native", "enableDns64", "enableResourceNameDnsAaaaRecordOnLaunch")


def _ipv6_routes(view: StackView) -> list:
    return [r for r in view.of_type(nv.ROUTE) if r.inputs.get("destinationIpv6CidrBlock")]


def test_net1_vpc_has_an_amazon_provided_ipv6_56(each_stack: StackView) -> None:
    """NET-1: dual stack is on in both stacks: the VPC asks for an Amazon-provided IPv6 block, a /56."""
    vpc = nv.vpc(each_stack)
    assert nv.config(nv.stack_name(each_stack), "ipv6") in (True, "true")
    assert vpc.inputs["assignGeneratedIpv6CidrBlock"] is True
    assert "ipv6IpamPoolId" not in vpc.inputs and "ipv6CidrBlock" not in vpc.inputs
    block = ipaddress.ip_network(vpc.outputs["ipv6CidrBlock"])
    assert block.version == 6 and block.prefixlen == 56


def test_net1_public_subnets_get_a_64_each_inside_the_vpc_block(each_stack: StackView) -> None:
    """NET-1: each public subnet has its own IPv6 /64 carved from the VPC's /56, and hands out no IPv6
    address automatically (the load balancer takes its own)."""
    vpc_block = ipaddress.ip_network(nv.vpc(each_stack).outputs["ipv6CidrBlock"])
    public = nv.subnets(each_stack, "public")
    nets = [ipaddress.ip_network(s.inputs["ipv6CidrBlock"]) for s in public]
    assert len(nets) == 3 and len(set(nets)) == 3
    for s, net in zip(public, nets, strict=True):
        assert net.prefixlen == 64, s.name
        assert net.subnet_of(vpc_block), f"{s.name}: {net} outside {vpc_block}"  # pyright: ignore[reportArgumentType]
        assert s.inputs["assignIpv6AddressOnCreation"] is False, s.name
        assert not s.inputs.get("ipv6Native"), s.name
        # the block is derived from the VPC's, so the subnet depends on the VPC for it
        assert nv.vpc(each_stack).urn in (s.raw.get("propertyDependencies") or {}).get("ipv6CidrBlock", []), s.name


def test_net1_app_and_database_subnets_stay_ipv4_only(each_stack: StackView) -> None:
    """NET-1: the private (app) and isolated (database) subnets have no IPv6 block and no IPv6 setting:
    nothing there may be reachable from the internet."""
    for tier in ("private", "isolated"):
        for s in nv.subnets(each_stack, tier):
            set_keys = [k for k in IPV6_SUBNET_KEYS if s.inputs.get(k)]
            assert set_keys == [], f"{s.name} sets {set_keys}"


def test_net1_ipv6_default_route_only_in_the_public_route_table(each_stack: StackView) -> None:
    """NET-1: the only IPv6 route in the VPC is ::/0 to the internet gateway in the public route table;
    no egress-only internet gateway exists (the app reaches AWS through VPC endpoints)."""
    igw = each_stack.one(nv.IGW)
    public_table = nv.rid(nv.route_table_of(each_stack, nv.subnets(each_stack, "public")[0]))
    [route] = _ipv6_routes(each_stack)
    assert route.inputs["destinationIpv6CidrBlock"] == "::/0"
    assert route.inputs["routeTableId"] == public_table
    assert route.inputs["gatewayId"] == nv.rid(igw)
    assert each_stack.of_type("aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway") == []
    for tier in ("private", "isolated"):
        for s in nv.subnets(each_stack, tier):
            routes = nv.routes_of(each_stack, nv.route_table_of(each_stack, s))
            assert [r for r in routes if r.get("destinationIpv6CidrBlock") or r.get("ipv6CidrBlock")] == [], s.name


@pytest.mark.parametrize(
    ("block", "azs", "expected"),
    [
        ("2406:da14:abc:de00::/56", 3, ["2406:da14:abc:de00::/64", "2406:da14:abc:de01::/64", "2406:da14:abc:de02::/64"]),
        ("2406:da14:abc:de00::/56", 2, ["2406:da14:abc:de00::/64", "2406:da14:abc:de01::/64"]),
        ("2600:1f18:1:ff00::/56", 1, ["2600:1f18:1:ff00::/64"]),
    ],
)
def test_net1_ipv6_subnet_plan(block: str, azs: int, expected: list[str]) -> None:
    """NET-1: the public /64s are the first azCount /64s of the VPC's block, distinct and inside it."""
    assert ipv6_subnet_cidrs(block, azs) == expected


@pytest.mark.parametrize(
    ("block", "azs"),
    [("10.40.0.0/16", 3), ("2406:da14:abc:de00::/64", 1), ("2406:da14:abc:de01::/56", 3), ("2406:da14:abc:de00::/56", 4)],
)
def test_net1_ipv6_subnet_plan_refuses_bad_input(block: str, azs: int) -> None:
    """NET-1: an IPv4 block, a block too small for /64s, host bits or too many AZs are errors, not a guess."""
    with pytest.raises(ValueError):
        ipv6_subnet_cidrs(block, azs)


def test_net1_ipv6_off_gives_an_ipv4_only_network() -> None:
    """NET-1: kakoi:ipv6=false (with IPv4-only ingressCidrs): no IPv6 block on the VPC or any subnet,
    no IPv6 route, an IPv4 load balancer, no AAAA record and no IPv6 security group rule."""
    view = nv.render_with("staging", {"kakoi:ipv6": False, "kakoi:ingressCidrs": ["203.0.113.0/24"]})
    vpc = nv.vpc(view)
    assert not vpc.inputs.get("assignGeneratedIpv6CidrBlock")
    assert "ipv6CidrBlock" not in vpc.outputs
    for s in view.of_type(nv.SUBNET):
        assert [k for k in IPV6_SUBNET_KEYS if s.inputs.get(k)] == [], s.name
    assert _ipv6_routes(view) == []
    for lb in view.of_type("aws:lb/loadBalancer:LoadBalancer"):  # the ALB and the relay's NLB
        assert lb.inputs["ipAddressType"] == "ipv4", lb.name
    assert [r.inputs["type"] for r in view.of_type("aws:route53/record:Record") if r.inputs.get("aliases")] == ["A", "A"]
    assert [r.name for r in view.of_type(nv.SG_IN) + view.of_type(nv.SG_OUT) if r.inputs.get("cidrIpv6")] == []


@pytest.mark.parametrize(("stack", "v6"), [("staging", "2001:db8:1234::/48"), ("prod", "::/0")])
def test_net1_ipv6_off_refuses_ipv6_ingress_cidrs(stack: str, v6: str) -> None:
    """NET-1: with kakoi:ipv6=false, IPv6 entries in kakoi:ingressCidrs would be dead rules: the config
    is refused before anything is declared, with a message naming the key, the entries and the switch."""
    with pytest.raises(RenderError) as info:
        render(stack, overrides={"kakoi:ipv6": False})
    err = info.value
    assert err.exit_code == 2
    assert err.declared == 0
    line = next((ln for ln in str(err).splitlines() if "- kakoi:ingressCidrs:" in ln), None)
    assert line is not None, str(err)
    assert v6 in line and "kakoi:ipv6 is false" in line


# ---- the components on their own (issue 13) ---------------------------------------------


def test_net1_log1_foundation_components_build_on_their_own() -> None:
    """NET-1, LOG-1, BAK-1, MON-2: LogArchive, Keys, Network, SecurityGroups, Endpoints and Alerts built from a
    hand-made StackContext and config sections (no stack file) take every value from them: names from the
    context's prefix, the layout and the rules from NetworkConfig, retention from LogArchiveConfig, the keys'
    rotation and (no) DR copies from DataConfig, the topic's key from the Keys handle."""
    view = nv.standalone()
    vpc = nv.vpc(view)
    assert vpc.inputs["cidrBlock"] == "10.20.0.0/16"
    assert not vpc.inputs.get("assignGeneratedIpv6CidrBlock")
    assert vpc.inputs["tags"]["Name"] == "kakoi-dev-vpc"
    assert len(view.of_type(nv.SUBNET)) == 6, "three tiers over two AZs"
    [flow] = view.of_type("aws:ec2/flowLog:FlowLog")
    archive = view.one("aws:s3/bucket:Bucket", "logs-archive")
    assert flow.inputs["logDestination"] == f"{archive.outputs['arn']}/{PREFIX_FLOW_LOGS}/"
    assert view.one("aws:s3/bucket:Bucket", "logs-access-logs").inputs["bucket"] == "kakoi-dev-s3-access-logs-123456789012"
    [lock] = view.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "GOVERNANCE", "days": 30}
    keys = view.of_type("aws:kms/key:Key")
    assert len(keys) == 5 and {k.inputs["rotationPeriodInDays"] for k in keys} == {180}, "no DR keys, rotation from config"
    groups = {g.inputs["name"] for g in view.of_type(nv.SG)}
    assert groups == {"kakoi-dev-alb", "kakoi-dev-app", "kakoi-dev-db", "kakoi-dev-endpoints"}, "no relay groups without a relay"
    alb_in = {(nv.ports(r)[1], nv.peer(r)) for r in nv.ingress(view, nv.sg(view, "alb"))}
    assert alb_in == {(443, ("cidr4", "198.51.100.0/24")), (80, ("cidr4", "198.51.100.0/24"))}
    app_in = nv.ingress(view, nv.sg(view, "app"))
    assert [nv.ports(r) for r in app_in] == [("tcp", 8000, 8000)]
    assert len(view.of_type(nv.ENDPOINT)) == 1 + 2
    sns_key = view.one("aws:kms/key:Key", "keys-sns")
    assert view.one("aws:sns/topic:Topic", "alerts").inputs["kmsMasterKeyId"] == sns_key.outputs["arn"]
