"""NET-1: security groups allow only the load balancer -> app -> database chain, from allow-listed CIDRs."""

from __future__ import annotations

import ipaddress
import re

import pytest

from components.contract import contract
from components.security_groups import DESCRIPTION_PATTERN, check_description, cidr_key
from tests.infra import netview as nv
from tools.render import RenderError, render
from tools.stackview import StackView

WORLD = {("cidr4", "0.0.0.0/0"), ("cidr6", "::/0")}


#: the only CIDRs a group other than the load balancer's may name: RFC 1918 and IPv6 ULA
#: (stricter than `ipaddress.is_private`, which also counts documentation and reserved ranges)
PRIVATE_RANGES = [ipaddress.ip_network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]


def _is_rfc1918_or_ula(cidr: str) -> bool:
    net = ipaddress.ip_network(cidr)
    return any(net.version == p.version and net.subnet_of(p) for p in PRIVATE_RANGES)  # pyright: ignore[reportArgumentType]


def _is_public(kind: str, value: str) -> bool:
    return kind in ("cidr4", "cidr6") and not _is_rfc1918_or_ula(value)


def _rules(view: StackView) -> list:
    return view.of_type(nv.SG_IN) + view.of_type(nv.SG_OUT)


def test_net1_rules_are_separate_resources_never_inline(each_stack: StackView) -> None:
    """NET-1: groups carry no inline rules and the legacy rule resource is not mixed in (it would fight
    the vpc.* rule resources), so the rendered rule resources are the complete rule set."""
    assert each_stack.of_type(nv.SG_RULE_LEGACY) == []
    groups = each_stack.of_type(nv.SG)
    assert {g.name for g in groups} >= {"sg-alb", "sg-app", "sg-db", "sg-endpoints"}
    for g in groups:
        assert not g.inputs.get("ingress") and not g.inputs.get("egress"), g.name


def test_net1_nothing_public_except_the_load_balancer_on_443_and_80(each_stack: StackView) -> None:
    """NET-1: no ingress from 0.0.0.0/0, ::/0 or any public CIDR except the ALB group on 443 and 80 and the
    relay's load balancer group on 443."""
    alb = nv.rid(nv.sg(each_stack, "alb"))
    nlb = nv.rid(nv.sg(each_stack, "nlb"))
    for rule in each_stack.of_type(nv.SG_IN):
        kind, value = nv.peer(rule)
        if _is_public(kind, value):
            assert rule.inputs["securityGroupId"] in (alb, nlb), f"{rule.name} opens a non-load-balancer group to {value}"
            allowed = {("tcp", 443, 443), ("tcp", 80, 80)} if rule.inputs["securityGroupId"] == alb else {("tcp", 443, 443)}
            assert nv.ports(rule) in allowed, rule.name


def test_net1_staging_alb_takes_exactly_the_office_cidrs(staging: StackView) -> None:
    """NET-1: staging's load balancer is reachable on 443/80 from the office CIDRs and nothing else."""
    office = nv.config("staging", "ingressCidrs")
    assert office and not any(c in ("0.0.0.0/0", "::/0") for c in office)
    got = {(nv.ports(r)[1], nv.peer(r)[1]) for r in nv.ingress(staging, nv.sg(staging, "alb"))}
    assert got == {(port, cidr) for port in (443, 80) for cidr in office}
    # and IPv6 CIDRs land in the IPv6 field
    for r in nv.ingress(staging, nv.sg(staging, "alb")):
        kind, value = nv.peer(r)
        assert kind == ("cidr6" if ":" in value else "cidr4")


def test_net1_prod_alb_is_public_on_443_and_80_only(prod: StackView) -> None:
    """NET-1: prod is a public SaaS: the world may reach the ALB, on 443 and 80 only."""
    rules = nv.ingress(prod, nv.sg(prod, "alb"))
    assert {(nv.ports(r)[1], nv.peer(r)) for r in rules} == {(p, w) for p in (443, 80) for w in WORLD}


def test_net1_alb_egress_only_to_the_app_port(each_stack: StackView) -> None:
    """NET-1: the load balancer may only open connections to the app group on the app port."""
    app_port = int(nv.config(nv.stack_name(each_stack), "appPort"))
    rules = nv.egress(each_stack, nv.sg(each_stack, "alb"))
    assert [(nv.ports(r), nv.peer(r)) for r in rules] == [(("tcp", app_port, app_port), ("sg", nv.rid(nv.sg(each_stack, "app"))))]


def test_net1_app_takes_only_the_app_port_from_the_alb(each_stack: StackView) -> None:
    """NET-1: the app group takes the app port from the load balancer group and nothing else."""
    app_port = int(nv.config(nv.stack_name(each_stack), "appPort"))
    rules = nv.ingress(each_stack, nv.sg(each_stack, "app"))
    assert [(nv.ports(r), nv.peer(r)) for r in rules] == [(("tcp", app_port, app_port), ("sg", nv.rid(nv.sg(each_stack, "alb"))))]


def test_net1_app_egress_is_db_endpoints_and_s3_only(each_stack: StackView) -> None:
    """NET-1: without NAT the app may reach the database, the interface endpoints, S3 (through the
    gateway endpoint's prefix list) and HTTPS inside its own VPC (the guardduty-data endpoint that
    GuardDuty creates for its runtime agent, AV-1), each on its one port, and nothing else."""
    [s3] = [e for e in each_stack.of_type(nv.ENDPOINT) if e.inputs.get("vpcEndpointType") == "Gateway"]
    vpc_cidr = nv.config(nv.stack_name(each_stack), "vpcCidr")
    got = {(nv.ports(r), nv.peer(r)) for r in nv.egress(each_stack, nv.sg(each_stack, "app"))}
    assert got == {
        (("tcp", contract.DB_PORT, contract.DB_PORT), ("sg", nv.rid(nv.sg(each_stack, "db")))),
        (("tcp", 443, 443), ("sg", nv.rid(nv.sg(each_stack, "endpoints")))),
        (("tcp", 443, 443), ("pl", s3.outputs["prefixListId"])),
        (("tcp", 443, 443), ("cidr4", vpc_cidr)),
    }


def test_net1_db_takes_5432_only_from_the_app_and_private_admin_cidrs(each_stack: StackView) -> None:
    """NET-1: the database group takes 5432 from the app group and from each configured admin CIDR,
    all of them private; it has no egress rule at all."""
    db = nv.sg(each_stack, "db")
    admin = nv.config(nv.stack_name(each_stack), "dbAdminCidrs")
    rules = nv.ingress(each_stack, db)
    assert all(nv.ports(r) == ("tcp", contract.DB_PORT, contract.DB_PORT) for r in rules)
    peers = [nv.peer(r) for r in rules]
    assert peers.count(("sg", nv.rid(nv.sg(each_stack, "app")))) == 1
    cidrs = sorted(v for k, v in peers if k in ("cidr4", "cidr6"))
    assert cidrs == sorted(admin)
    assert all(_is_rfc1918_or_ula(c) for c in cidrs)
    assert len(peers) == 1 + len(admin), "no other source"
    assert nv.egress(each_stack, db) == []


def test_net1_prod_db_admin_network_is_allowed(prod: StackView) -> None:
    """NET-1: prod's configured admin network (a private range) reaches the database, staging has none."""
    assert ("cidr4", "10.99.0.0/24") in [nv.peer(r) for r in nv.ingress(prod, nv.sg(prod, "db"))]


def test_net1_endpoints_take_https_from_the_app_only(each_stack: StackView) -> None:
    """NET-1: interface endpoints accept 443 from the app and relay groups only and open no connections."""
    group = nv.sg(each_stack, "endpoints")
    rules = nv.ingress(each_stack, group)
    assert sorted((nv.ports(r), nv.peer(r)) for r in rules) == sorted(
        (("tcp", 443, 443), ("sg", nv.rid(nv.sg(each_stack, key)))) for key in ("app", "relay")
    )
    assert nv.egress(each_stack, group) == []


def test_net1_no_wildcard_egress_without_nat(each_stack: StackView) -> None:
    """NET-1: no group may send to 0.0.0.0/0 or ::/0 (natGateways is 0 in both stacks), no rule uses
    all protocols, and no rule opens a port range except the relay's UDP range between relay tasks."""
    relay = nv.rid(nv.sg(each_stack, "relay"))
    for rule in _rules(each_stack):
        assert nv.peer(rule) not in WORLD or rule.type == nv.SG_IN, f"{rule.name} is wildcard egress"
        proto, lo, hi = nv.ports(rule)
        if proto == "udp":
            assert rule.inputs["securityGroupId"] == relay and nv.peer(rule) == ("sg", relay), f"{rule.name}: UDP outside the relay"
            assert (lo, hi) == (49152, 49407), f"{rule.name}: {lo}-{hi}"
            continue
        assert proto == "tcp" and lo == hi, f"{rule.name}: {proto} {lo}-{hi}"


def test_net1_internet_egress_only_from_the_app_and_only_with_nat() -> None:
    """NET-1: natGateways=1 (an explicit config switch) adds exactly one wildcard egress rule: the app
    group, 443, IPv4."""
    view = nv.render_with("staging", {"kakoi:natGateways": 1})
    wild = [r for r in view.of_type(nv.SG_OUT) if nv.peer(r) in WORLD]
    assert [(r.inputs["securityGroupId"], nv.ports(r)) for r in wild] == [(nv.rid(nv.sg(view, "app")), ("tcp", 443, 443))]


def test_net1_every_group_and_rule_has_a_valid_description(each_stack: StackView) -> None:
    """NET-1: every group and every rule says why it exists, in characters EC2 accepts."""
    for r in each_stack.of_type(nv.SG) + _rules(each_stack):
        text = r.inputs.get("description") or ""
        assert re.fullmatch(DESCRIPTION_PATTERN, text), f"{r.name}: {text!r}"


def test_net1_description_check_refuses_what_ec2_refuses() -> None:
    """NET-1: the description check rejects characters EC2 refuses in rule descriptions and long text."""
    assert check_description("HTTPS from allowed network 2001:db8::/48") == "HTTPS from allowed network 2001:db8::/48"
    for bad in ("a > b", "Tom's rule", "R&D", "x" * 256, ""):
        with pytest.raises(ValueError):
            check_description(bad)


@pytest.mark.parametrize("cidr", ["8.8.8.0/24", "0.0.0.0/0", "::/0", "2001:4860::/32"])
def test_net1_public_db_admin_cidr_is_refused_by_config(cidr: str) -> None:
    """NET-1: a public CIDR in dbAdminCidrs stops the program before anything is declared."""
    with pytest.raises(RenderError) as err:
        render("staging", overrides={"kakoi:dbAdminCidrs": [cidr]})
    assert err.value.exit_code == 2
    assert "dbAdminCidrs" in str(err.value)


# ---- rule names: what the rule allows, never a list index (issue 13) ---------------------------

#: every rule first deployed under an index-based name: its name now -> the name it was deployed as
#: (tests/infra/urns/<stack>.txt at 731b9dc). Written out, not derived, so that a change to the naming
#: code cannot move both sides at once.
DEPLOYED_AS = {
    "prod": {
        "sg-alb-443-v4-0.0.0.0-0": "sg-alb-443-v4-0",
        "sg-alb-443-v6-..-0": "sg-alb-443-v6-0",
        "sg-alb-80-v4-0.0.0.0-0": "sg-alb-80-v4-0",
        "sg-alb-80-v6-..-0": "sg-alb-80-v6-0",
        "sg-db-from-admin-10.99.0.0-24": "sg-db-from-admin-0",
        "sg-nlb-443-v4-0.0.0.0-0": "sg-nlb-443-v4-0",
        "sg-nlb-443-v6-..-0": "sg-nlb-443-v6-0",
    },
    "staging": {
        "sg-alb-443-v4-203.0.113.0-24": "sg-alb-443-v4-0",
        "sg-alb-443-v4-198.51.100.32-28": "sg-alb-443-v4-1",
        "sg-alb-443-v6-2001.db8.1234..-48": "sg-alb-443-v6-0",
        "sg-alb-80-v4-203.0.113.0-24": "sg-alb-80-v4-0",
        "sg-alb-80-v4-198.51.100.32-28": "sg-alb-80-v4-1",
        "sg-alb-80-v6-2001.db8.1234..-48": "sg-alb-80-v6-0",
        "sg-nlb-443-v4-203.0.113.0-24": "sg-nlb-443-v4-0",
        "sg-nlb-443-v4-198.51.100.32-28": "sg-nlb-443-v4-1",
        "sg-nlb-443-v6-2001.db8.1234..-48": "sg-nlb-443-v6-0",
    },
}


def test_net1_removing_the_first_ingress_cidr_renames_no_other_rule(staging: StackView) -> None:
    """NET-1: dropping ingressCidrs[0] removes exactly its three rules (ALB 443 and 80, relay NLB 443);
    every other rule keeps its URN, so `pulumi up` replaces none of them."""
    office = nv.config("staging", "ingressCidrs")
    fewer = nv.render_with("staging", {"kakoi:ingressCidrs": office[1:]})
    before = {r.urn: r for r in _rules(staging)}
    after = {r.urn: r for r in _rules(fewer)}
    assert set(after) <= set(before), f"rules renamed: {sorted(set(after) - set(before))}"
    gone = set(before) - set(after)
    assert sorted(before[u].name for u in gone) == sorted(f"sg-{k}-v4-{cidr_key(office[0])}" for k in ("alb-443", "alb-80", "nlb-443"))
    for urn, rule in after.items():
        # nothing about the rule changes, its Name tag included (named after what it allows, not its index)
        assert rule.inputs == before[urn].inputs, rule.name


def test_net1_removing_an_admin_cidr_renames_no_other_rule() -> None:
    """NET-1: the database's admin rules are named after their CIDR too: dropping the first keeps the second."""
    two = nv.render_with("staging", {"kakoi:dbAdminCidrs": ["10.1.0.0/24", "fd00:1::/64"]})
    one = nv.render_with("staging", {"kakoi:dbAdminCidrs": ["fd00:1::/64"]})
    names = {r.name for r in nv.ingress(two, nv.sg(two, "db"))}
    assert "sg-db-from-admin-fd00.1..-64" in names
    assert {r.name for r in nv.ingress(one, nv.sg(one, "db"))} == names - {"sg-db-from-admin-10.1.0.0-24"}


def test_rec1_renamed_rules_answer_to_the_urns_they_were_deployed_under(each_stack: StackView) -> None:
    """REC-1, NET-1: each rule renamed from its index-based name carries that URN as its only alias and
    keeps what it allows, so the rename moves no rule (its Name tag follows the new name: an in-place
    tag update); the other rules have none."""
    stack = nv.stack_name(each_stack)
    deployed_as = DEPLOYED_AS[stack]
    rules = {r.name: r for r in _rules(each_stack)}
    assert set(deployed_as) <= set(rules), sorted(set(deployed_as) - set(rules))
    for name, rule in rules.items():
        old = deployed_as.get(name)
        if old is None:
            assert not rule.raw.get("aliases"), name
            continue
        assert rule.raw.get("aliases") == [rule.urn.rsplit("::", 1)[0] + "::" + old], name
        assert rule.inputs["tags"]["Name"] == f"kakoi-{stack}-{name.removeprefix('sg-')}", name


def test_net1_rule_names_from_cidrs_are_safe_and_one_to_one() -> None:
    """NET-1: `cidr_key` gives a short name part of letters, digits, dots and dashes, a different one for
    every CIDR (also across IPv4 and IPv6), the same for one network however it is written."""
    cidrs = [
        "0.0.0.0/0",
        "::/0",
        "10.0.0.0/8",
        "10.0.0.0/16",
        "1.0.0.0/8",
        "1::/16",
        "1:0:0:1::/64",
        "1::1:0:0:0/80",
        "2001:db8::/32",
        "2001:db8:0:1::/64",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
        "255.255.255.255/32",
    ]
    keys = [cidr_key(c) for c in cidrs]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[a-z0-9.-]{1,43}", k) for k in keys), keys
    assert cidr_key("2001:DB8:0::/32") == cidr_key("2001:db8::/32") == "2001.db8..-32"
    with pytest.raises(ValueError):
        cidr_key("10.0.0.1/8")
