"""The public edge: TLS 1.3 only (ENC-1), HTTPS forced (ENC-2, XSS-2), headers (CJ-1, HDR-1), WAF, logs."""

from __future__ import annotations

import ipaddress
import json

import pytest

from components.contract import contract
from stackconfig.edge import TLS13_ONLY_POLICIES
from tests.infra import netview as nv
from tools.render import RenderError, render
from tools.stackview import StackView


def _listener(view: StackView, port: int):
    """The ALB's listener on `port` (the relay's NLB listener on 443 is tests/infra/test_relay.py's)."""
    [lst] = [r for r in view.of_type("aws:lb/listener:Listener") if r.inputs["port"] == port and r.name.startswith("edge-")]
    return lst


def test_enc1_https_listener_uses_the_default_tls13_only_policy(each_stack: StackView) -> None:
    https = _listener(each_stack, 443)
    assert https.inputs["protocol"] == "HTTPS"
    assert https.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09"
    assert https.inputs["sslPolicy"] in TLS13_ONLY_POLICIES
    assert https.inputs["certificateArn"].startswith("arn:aws:acm:ap-northeast-1:")


@pytest.mark.parametrize("policy", TLS13_ONLY_POLICIES)
def test_enc1_every_tls13_only_policy_is_accepted(policy: str) -> None:
    view = StackView(render("staging", overrides={"kakoi:tlsPolicy": policy}))
    assert _listener(view, 443).inputs["sslPolicy"] == policy


@pytest.mark.parametrize(
    "policy",
    [
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
        "ELBSecurityPolicy-2016-08",
        "ELBSecurityPolicy-TLS13-1-3",
    ],
)
def test_enc1_policies_allowing_tls12_are_refused(policy: str) -> None:
    """A TLS13 prefix is not enough: TLS13-1-2-* policies also accept TLS 1.2."""
    with pytest.raises(RenderError) as info:
        render("staging", overrides={"kakoi:tlsPolicy": policy})
    assert "kakoi:tlsPolicy" in str(info.value)
    assert info.value.declared == 0


def test_enc2_port_80_only_redirects_to_https_with_301(each_stack: StackView) -> None:
    http = _listener(each_stack, 80)
    assert http.inputs["protocol"] == "HTTP"
    [action] = http.inputs["defaultActions"]
    assert action["type"] == "redirect"
    assert action["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


def test_enc2_xss2_only_two_listeners(each_stack: StackView) -> None:
    ports = sorted(r.inputs["port"] for r in each_stack.of_type("aws:lb/listener:Listener") if r.name.startswith("edge-"))
    assert ports == [80, 443]


def test_enc2_cj1_hdr1_security_headers_at_the_listener(prod: StackView) -> None:
    https = _listener(prod, 443)
    assert https.inputs["routingHttpResponseStrictTransportSecurityHeaderValue"] == "max-age=31536000; includeSubDomains"
    assert https.inputs["routingHttpResponseXContentTypeOptionsHeaderValue"] == "nosniff"
    assert https.inputs["routingHttpResponseXFrameOptionsHeaderValue"] == "DENY"
    assert https.inputs["routingHttpResponseServerEnabled"] is False


def test_load_balancer_hardening(prod: StackView, staging: StackView) -> None:
    """Security Hub ELB.4 (drop invalid headers), ELB.12 (desync strictest), ELB.6 (deletion protection in prod)."""
    for view, protected in ((prod, True), (staging, False)):
        lb = view.one("aws:lb/loadBalancer:LoadBalancer", "edge")
        assert lb.inputs["dropInvalidHeaderFields"] is True
        assert lb.inputs["desyncMitigationMode"] == "strictest"
        assert lb.inputs["enableDeletionProtection"] is protected
        assert lb.inputs["internal"] is False
        assert lb.inputs["loadBalancerType"] == "application"


def test_log1_load_balancer_logs_go_to_the_archive(each_stack: StackView) -> None:
    lb = each_stack.one("aws:lb/loadBalancer:LoadBalancer", "edge")
    archive = each_stack.one("aws:s3/bucket:Bucket", "logs-archive").outputs["bucket"]
    assert lb.inputs["accessLogs"] == {"bucket": archive, "enabled": True, "prefix": "alb"}
    assert lb.inputs["connectionLogs"]["bucket"] == archive
    # creation fails unless the bucket policy that lets the ELB account write exists first
    policy = next(r for r in each_stack.of_type("aws:s3/bucketPolicy:BucketPolicy") if r.inputs["bucket"] == archive)
    assert policy.urn in lb.dependencies


def test_log1_archive_policy_admits_every_load_balancer_log_prefix(each_stack: StackView) -> None:
    """LOG-1: the ELB account may write under the prefix of the access logs AND of the connection logs.

    ELB checks write access to each enabled log destination when the load balancer is created or
    changed; a prefix the bucket policy does not grant fails the deployment ("Access Denied for bucket").
    """
    lb = each_stack.one("aws:lb/loadBalancer:LoadBalancer", "edge")
    archive = each_stack.one("aws:s3/bucket:Bucket", "logs-archive")
    policy = next(r for r in each_stack.of_type("aws:s3/bucketPolicy:BucketPolicy") if r.inputs["bucket"] == archive.outputs["bucket"])
    doc = json.loads(policy.inputs["policy"])
    elb = next(s for s in doc["Statement"] if s["Sid"] == "AlbAccessLogDelivery")
    granted = set(elb["Resource"] if isinstance(elb["Resource"], list) else [elb["Resource"]])
    for key in ("accessLogs", "connectionLogs"):
        logs = lb.inputs[key]
        assert logs["enabled"] is True
        assert f"{archive.outputs['arn']}/{logs['prefix']}/AWSLogs/123456789012/*" in granted, key


def test_avl1_load_balancer_spans_every_public_subnet(each_stack: StackView) -> None:
    lb = each_stack.one("aws:lb/loadBalancer:LoadBalancer", "edge")
    public = [s for s in each_stack.of_type("aws:ec2/subnet:Subnet") if "public" in s.name]
    assert len(lb.inputs["subnets"]) == 3
    assert set(lb.inputs["subnets"]) == {s.raw["id"] for s in public}


def test_net1_waf_with_managed_rules_and_rate_limit(prod: StackView, staging: StackView) -> None:
    for view, limit in ((prod, 2000), (staging, 1000)):
        [acl] = view.of_type("aws:wafv2/webAcl:WebAcl")
        assert acl.inputs["scope"] == "REGIONAL"
        groups = {
            r["statement"]["managedRuleGroupStatement"]["name"]
            for r in acl.inputs["rules"]
            if "managedRuleGroupStatement" in r["statement"]
        }
        assert groups == {
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesSQLiRuleSet",
            "AWSManagedRulesAmazonIpReputationList",
        }
        [rate] = [r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"]]
        assert rate["statement"]["rateBasedStatement"]["limit"] == limit
        assert rate["action"] == {"block": {}}
        assert all(r["visibilityConfig"]["cloudwatchMetricsEnabled"] for r in acl.inputs["rules"])
        [assoc] = view.of_type("aws:wafv2/webAclAssociation:WebAclAssociation")
        lb = view.one("aws:lb/loadBalancer:LoadBalancer", "edge")
        assert assoc.inputs["resourceArn"] == lb.outputs["arn"]


def test_log1_waf_logs_to_the_archive_with_credentials_redacted(prod: StackView) -> None:
    [cfg] = prod.of_type("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    archive = prod.one("aws:s3/bucket:Bucket", "logs-archive")
    assert cfg.inputs["logDestinationConfigs"] == [archive.outputs["arn"]]
    assert archive.outputs["bucket"].startswith("aws-waf-logs-"), "WAF only delivers to buckets named aws-waf-logs-*"
    redacted = {f["singleHeader"]["name"] for f in cfg.inputs["redactedFields"]}
    assert redacted == {"cookie", "authorization"}


def test_log1_waf_logging_waits_for_the_archive_policy(each_stack: StackView) -> None:
    """LOG-1: WAF log delivery writes its own bucket policy when it finds none; the logging
    configuration is created after the archive's declared policy so the two never race."""
    [cfg] = each_stack.of_type("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    archive = each_stack.one("aws:s3/bucket:Bucket", "logs-archive")
    policy = next(r for r in each_stack.of_type("aws:s3/bucketPolicy:BucketPolicy") if r.inputs["bucket"] == archive.outputs["bucket"])
    assert policy.urn in cfg.dependencies


def test_enc1_certificate_is_dns_validated_in_the_configured_zone(prod: StackView) -> None:
    cert = prod.one("aws:acm/certificate:Certificate", "cert")
    assert cert.inputs["domainName"] == "app.kakoi.example.com"
    assert cert.inputs["validationMethod"] == "DNS"
    records = prod.of_type("aws:route53/record:Record")
    assert {r.inputs["zoneId"] for r in records} == {"Z0123456789KAKOIPROD"}
    validation = prod.one("aws:acm/certificateValidation:CertificateValidation", "cert")
    assert validation.inputs["certificateArn"] == cert.outputs["arn"]


def test_enc1_existing_certificate_arn_is_used_as_is() -> None:
    arn = "arn:aws:acm:ap-northeast-1:123456789012:certificate/00000000-1111-2222-3333-444444444444"
    relay_arn = arn.replace("00000000-", "99999999-")
    view = StackView(
        render("staging", overrides={"kakoi:certificateArn": arn, "kakoi:hostedZoneId": "", "kakoi:relayCertificateArn": relay_arn})
    )
    assert not view.of_type("aws:acm/certificate:Certificate")
    assert _listener(view, 443).inputs["certificateArn"] == arn
    assert not view.of_type("aws:route53/record:Record")


def test_avl1_target_group_health_checks_liveness_not_readiness(each_stack: StackView) -> None:
    """AVL-1: the target group checks /healthz/live, so a database failover (readiness 503 on every task)
    never makes ECS replace every web task; 3 failures 15 s apart still take a dead process out."""
    tg = each_stack.one("aws:lb/targetGroup:TargetGroup", "edge")
    assert tg.inputs["targetType"] == "ip"
    assert tg.inputs["port"] == 8000
    check = tg.inputs["healthCheck"]
    assert check["path"] == contract.HEALTH_LIVE_PATH
    assert check["matcher"] == "200"
    assert (check["interval"], check["unhealthyThreshold"]) == (15, 3)


# ---- dual stack (kakoi:ipv6, on by default) -----------------------------------------------


def test_net1_load_balancer_is_dualstack_over_ipv6_subnets(each_stack: StackView) -> None:
    """NET-1: the load balancer takes IPv4 and IPv6 clients, and every subnet it sits in has an IPv6 /64
    (AWS refuses dualstack otherwise), so the IPv6 entries of ingressCidrs are live rules."""
    lb = each_stack.one("aws:lb/loadBalancer:LoadBalancer", "edge")
    assert lb.inputs["ipAddressType"] == "dualstack"
    subnets = {s.raw["id"]: s for s in each_stack.of_type("aws:ec2/subnet:Subnet")}
    for sid in lb.inputs["subnets"]:
        assert subnets[sid].inputs.get("ipv6CidrBlock", "").endswith("/64"), sid


def test_net1_aaaa_alias_beside_the_a_alias(each_stack: StackView) -> None:
    """NET-1: Route 53 has an A and an AAAA alias for the app's name, both to the load balancer's
    dualstack name (which resolves to its IPv6 addresses too) in the load balancer's zone."""
    lb = each_stack.one("aws:lb/loadBalancer:LoadBalancer", "edge")
    aliases = [r for r in each_stack.of_type("aws:route53/record:Record") if r.inputs.get("aliases") and r.name.startswith("edge-")]
    assert sorted(r.inputs["type"] for r in aliases) == ["A", "AAAA"]
    assert len({r.inputs["name"] for r in aliases}) == 1
    assert len({r.inputs["zoneId"] for r in aliases}) == 1
    for r in aliases:
        [target] = r.inputs["aliases"]
        assert target["name"] == f"dualstack.{lb.outputs['dnsName']}", r.name
        assert target["zoneId"] == lb.outputs["zoneId"], r.name
        assert target["evaluateTargetHealth"] is True, r.name


def test_net1_ipv6_rules_only_on_the_load_balancer_443_and_80_from_configured_cidrs(each_stack: StackView) -> None:
    """NET-1: the only IPv6 CIDR rules are the load balancer group's ingress on tcp 443 and 80 (and the relay's
    load balancer group's on tcp 443), one per configured IPv6 ingress CIDR (prod ::/0, staging the office /48);
    no IPv6 egress anywhere."""
    stack = nv.stack_name(each_stack)
    configured_v6 = [c for c in nv.config(stack, "ingressCidrs") if ipaddress.ip_network(c).version == 6]
    assert configured_v6, f"{stack} configures no IPv6 ingress CIDR"
    alb = nv.rid(nv.sg(each_stack, "alb"))
    nlb = nv.rid(nv.sg(each_stack, "nlb"))
    v6_in = [r for r in each_stack.of_type(nv.SG_IN) if r.inputs.get("cidrIpv6")]
    assert {r.inputs["securityGroupId"] for r in v6_in} == {alb, nlb}
    got = sorted((r.inputs["securityGroupId"], nv.ports(r), r.inputs["cidrIpv6"]) for r in v6_in)
    want = sorted(
        [(alb, ("tcp", p, p), c) for p in (443, 80) for c in configured_v6] + [(nlb, ("tcp", 443, 443), c) for c in configured_v6]
    )
    assert got == want
    assert [r.name for r in each_stack.of_type(nv.SG_OUT) if r.inputs.get("cidrIpv6")] == []


def test_enc1_log1_edge_components_build_on_their_own() -> None:
    """ENC-1, ENC-2, LOG-1, NET-1: Certificate, Edge and Waf built from a hand-made StackContext and EdgeConfig
    and the foundation's handles: names from the context, TLS policy, HSTS and the rate limit from the config,
    the app port from the security groups, IPv4 only because the network is, logs into the archive."""
    view = nv.standalone()
    lb = view.one("aws:lb/loadBalancer:LoadBalancer", "edge")
    assert lb.inputs["name"] == "kakoi-dev-alb"
    assert lb.inputs["ipAddressType"] == "ipv4"
    archive = view.one("aws:s3/bucket:Bucket", "logs-archive")
    assert lb.inputs["accessLogs"]["bucket"] == archive.outputs["bucket"]
    policy = view.one("aws:s3/bucketPolicy:BucketPolicy", "logs-archive")
    assert policy.urn in lb.dependencies
    assert view.one("aws:lb/targetGroup:TargetGroup", "edge").inputs["port"] == 8000
    https = _listener(view, 443)
    assert https.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-3-2021-06"
    assert https.inputs["routingHttpResponseStrictTransportSecurityHeaderValue"] == "max-age=31536000; includeSubDomains"
    assert view.one("aws:acm/certificate:Certificate", "cert").inputs["domainName"] == "dev.example.com"
    assert [r.inputs["type"] for r in view.of_type("aws:route53/record:Record") if r.name.startswith("edge-alias")] == ["A"]
    acl = view.one("aws:wafv2/webAcl:WebAcl", "waf")
    assert acl.inputs["name"] == "kakoi-dev-web"
    [rate] = [r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"]]
    assert rate["statement"]["rateBasedStatement"]["limit"] == 1000
