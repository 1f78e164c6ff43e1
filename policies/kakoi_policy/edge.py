"""The public edge: load balancer listeners (ENC-1, ENC-2, XSS-2, CJ-1), access logs (LOG-1), WAF."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from .base import ADVISORY, HIGH, LOW, MANDATORY, MEDIUM, Cfg, KakoiResourcePolicy, KakoiStackPolicy, Node, Stack, Violation
from .constants import (
    CERTIFICATE,
    ELB_DEFAULT_SSL_POLICY,
    LB,
    LISTENER,
    LISTENER_RULE,
    TARGET_GROUP,
    TLS13_ONLY_POLICIES,
    WEB_ACL,
    WEB_ACL_ASSOCIATION,
    WEB_ACL_LOGGING,
)

ELB_DOCS = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html"


def listener_protocol(props: Node) -> str:
    """The listener's protocol; omitted means HTTP (the ALB API default)."""
    return str(props.get("protocol") or "HTTP").upper()


def lb_type(props: Node) -> str:
    """`loadBalancerType`; omitted means application."""
    return str(props.get("loadBalancerType") or "application")


# --- ENC-1: TLS 1.3 only -----------------------------------------------------------
def _check_tls_policy(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    protocol = listener_protocol(props)
    if protocol in ("HTTPS", "TLS"):
        allowed = list(cfg["allowedPolicies"])
        policy = props.get("sslPolicy")
        if policy is None:
            yield (
                f"{protocol} listener without sslPolicy: the API default {ELB_DEFAULT_SSL_POLICY} accepts TLS 1.0-1.2; set one of {allowed}"
            )
        elif policy not in allowed:
            yield f"sslPolicy {policy} is not TLS-1.3-only; allowed: {allowed}"
    elif protocol in ("TCP", "UDP", "TCP_UDP"):
        yield f"{protocol} listener on port {props.get('port')} carries application traffic without TLS"


alb_tls13_only = KakoiResourcePolicy(
    name="kakoi-enc-alb-tls13-only",
    description=(
        "Every HTTPS/TLS listener of every load balancer (the ALB's HTTPS, the TURN relay NLB's TLS) uses an ELB "
        "security policy that negotiates TLS 1.3 and nothing older, "
        "checked against an exact allow-list (a `TLS13` prefix is not enough: TLS13-1-2 policies accept TLS 1.2). "
        f"An omitted sslPolicy means {ELB_DEFAULT_SSL_POLICY}, which fails."
    ),
    types=LISTENER,
    check=_check_tls_policy,
    level=MANDATORY,
    severity=HIGH,
    sheet=("ENC-1",),
    securityhub=("ELB.17", "ELB.18"),
    remediation=(
        "Set sslPolicy to one of the TLS-1.3-only policies (kakoi:tlsPolicy; default "
        f"ELBSecurityPolicy-TLS13-1-3-PQ-2025-09). See {ELB_DOCS}"
    ),
    config={
        "allowedPolicies": {
            "type": "array",
            "items": {"type": "string", "enum": list(TLS13_ONLY_POLICIES)},
            "minItems": 1,
            "description": "ELB security policies accepted on HTTPS/TLS listeners (exact names).",
            "default": list(TLS13_ONLY_POLICIES),
        }
    },
)


# --- ENC-1 / NET-1: what an internet-facing load balancer accepts and forwards -------------------
#: target group protocols that carry clear text or UDP (TLS is re-encryption, HTTP is the ALB's app hop)
PLAIN_TARGET_PROTOCOLS = ("TCP", "UDP", "TCP_UDP", "QUIC", "TCP_QUIC", "GENEVE")
NLB_LISTENER_DOCS = "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-listeners.html"


def _forwarded_target_groups(actions: list[Node]) -> list[str]:
    """Target group ARNs a listener's (or rule's) actions forward to (`targetGroupArn` or `forward.targetGroups`)."""
    arns: list[str] = []
    for action in actions:
        if action.get("type") != "forward":
            continue
        if action.get("targetGroupArn"):
            arns.append(str(action.get("targetGroupArn")))
        for tg in action.nodes("forward", "targetGroups"):
            if tg.get("arn"):
                arns.append(str(tg.get("arn")))
    return arns


def _check_internet_listeners(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    internet: dict[str, str] = {}  # lb arn -> type
    for lb in stack.of(*LB):
        with stack.deciding():
            if lb.get("internal") is not True:
                internet[str(lb.get("arn"))] = lb_type(lb.node)
    groups: dict[str, tuple[str, str, str]] = {}  # tg arn -> (urn, name, protocol)
    for tg in stack.of(*TARGET_GROUP):
        with stack.deciding():
            groups[str(tg.get("arn"))] = (tg.urn, tg.name, str(tg.get("protocol") or "").upper())
    forwarded: dict[str, str] = {}  # tg arn -> the listener that forwards internet traffic to it
    listener_lb: dict[str, str] = {}
    for listener in stack.of(*LISTENER):
        with stack.deciding():
            lb_arn = str(listener.get("loadBalancerArn"))
            listener_lb[str(listener.get("arn"))] = lb_arn
            if lb_arn not in internet:
                continue
            protocol = listener_protocol(listener.node)
            port = listener.get("port")
            if protocol in ("HTTPS", "TLS"):
                pass  # kakoi-enc-alb-tls13-only judges the security policy
            elif protocol == "HTTP" and internet[lb_arn] == "application":
                pass  # the port-80 redirect: kakoi-enc-http-listener-redirects-to-https judges it
            else:
                yield (
                    listener.urn,
                    (
                        f"listener {listener.name} ({protocol} on port {port}) takes traffic from the internet without TLS "
                        f"(load balancer type {internet[lb_arn]}); only HTTPS or TLS on a TLS-1.3-only policy may face it"
                    ),
                )
            for arn in _forwarded_target_groups(listener.node.nodes("defaultActions")):
                forwarded.setdefault(arn, listener.name)
    for rule in stack.of(*LISTENER_RULE):
        with stack.deciding():
            if listener_lb.get(str(rule.get("listenerArn"))) in internet:
                for arn in _forwarded_target_groups(rule.node.nodes("actions")):
                    forwarded.setdefault(arn, rule.name)
    for arn, via in sorted(forwarded.items()):
        if arn not in groups:
            continue
        urn, name, protocol = groups[arn]
        if protocol in PLAIN_TARGET_PROTOCOLS:
            yield urn, f"target group {name} carries internet traffic from {via} as {protocol} (clear text or UDP); use TLS"


internet_listeners_tls_only = KakoiStackPolicy(
    name="kakoi-enc-lb-internet-traffic-tls-only",
    description=(
        "Every listener of an internet-facing load balancer, of any type (application, network, gateway), is HTTPS or "
        "TLS (whose security policy kakoi-enc-alb-tls13-only checks); the ALB's port-80 redirect is the one exception. "
        "No listener takes UDP, TCP, TCP_UDP or QUIC from the internet, and no target group behind such a listener "
        "carries the traffic on as plain TCP, UDP or QUIC: live media (the TURN relay) is TLS 1.3 on 443 and "
        "re-encrypted to the relay tasks."
    ),
    types=LB,
    check=_check_internet_listeners,
    level=MANDATORY,
    severity=HIGH,
    sheet=("ENC-1", "NET-1"),
    securityhub=(),
    remediation=(
        "Give the listener protocol TLS (NLB) or HTTPS (ALB) with a TLS-1.3-only sslPolicy and a certificate, and its "
        f"target group protocol TLS (NLB) or HTTP/HTTPS (ALB); never UDP or TCP pass-through. See {NLB_LISTENER_DOCS}"
    ),
)


# --- ENC-2 / XSS-2: port 80 only redirects --------------------------------------------
def redirect_problem(actions: list[Node]) -> str | None:
    """None when the actions are exactly one permanent redirect to HTTPS on 443."""
    if len(actions) != 1:
        return f"has {len(actions)} actions; only a single redirect to HTTPS is allowed"
    action = actions[0]
    kind = action.get("type")
    if kind != "redirect":
        return f"action type is {kind!r}: plain HTTP would serve content"
    redirect = action.node("redirect")
    if redirect is None:
        return "redirect action without a redirect block"
    protocol = str(redirect.get("protocol") or "#{protocol}").upper()
    status = redirect.get("statusCode")
    port = str(redirect.get("port") or "#{port}")
    if protocol != "HTTPS":
        return f"redirects to protocol {protocol} (omitted keeps HTTP); it must be HTTPS"
    if status != "HTTP_301":
        return f"redirect status is {status}; it must be HTTP_301 (permanent)"
    if port != "443":
        return f"redirects to port {port} (omitted keeps 80); it must be 443"
    return None


def _check_http_redirect(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if listener_protocol(props) != "HTTP":
        return
    problem = redirect_problem(props.nodes("defaultActions"))
    if problem:
        yield f"HTTP listener on port {props.get('port')} {problem}"


REDIRECT_WHY = (
    "A port-80 listener whose only action is a 301 redirect to HTTPS is compliant: it never serves content or "
    "accepts data over plain HTTP, it only sends the browser to the TLS listener (Security Hub ELB.1 asks for "
    "exactly this; ELB.18 and some published packs flag any HTTP listener, which this policy deliberately does not)."
)

http_redirect_only = KakoiResourcePolicy(
    name="kakoi-enc-http-listener-redirects-to-https",
    description="HTTPS is forced at the load balancer: an HTTP listener only answers with a 301 redirect to HTTPS on 443. " + REDIRECT_WHY,
    types=LISTENER,
    check=_check_http_redirect,
    level=MANDATORY,
    severity=HIGH,
    sheet=("ENC-2", "XSS-2"),
    securityhub=("ELB.1",),
    remediation=(
        "Give the HTTP listener a single default action {type: redirect, redirect: {protocol: HTTPS, port: '443', "
        "statusCode: HTTP_301}}, or remove it."
    ),
)


def _check_https_everywhere(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    listeners_by_lb: dict[str, list[str]] = {}
    http_listener_arns: set[str] = set()
    for listener in stack.of(*LISTENER):
        with stack.deciding():
            protocol = listener_protocol(listener.node)
            listeners_by_lb.setdefault(str(listener.get("loadBalancerArn")), []).append(protocol)
            if protocol == "HTTP":
                http_listener_arns.add(str(listener.get("arn")))
    for lb in stack.of(*LB):
        with stack.deciding():
            if lb_type(lb.node) != "application":
                continue
            protocols = listeners_by_lb.get(str(lb.get("arn")), [])
            if "HTTPS" not in protocols:
                yield lb.urn, f"load balancer {lb.name} has no HTTPS listener (listeners: {sorted(protocols) or 'none'})"
    for rule in stack.of(*LISTENER_RULE):
        with stack.deciding():
            if str(rule.get("listenerArn")) in http_listener_arns:
                problem = redirect_problem(rule.node.nodes("actions"))
                if problem:
                    yield rule.urn, f"listener rule {rule.name} on an HTTP listener {problem}"


https_everywhere = KakoiStackPolicy(
    name="kakoi-enc-alb-https-only",
    description=(
        "Every application load balancer serves HTTPS, and no listener rule on an HTTP listener does anything "
        "but redirect to HTTPS. " + REDIRECT_WHY
    ),
    types=LB,
    check=_check_https_everywhere,
    level=MANDATORY,
    severity=HIGH,
    sheet=("ENC-1", "ENC-2", "XSS-2"),
    securityhub=("ELB.1",),
    remediation="Add an HTTPS listener with a TLS-1.3-only policy; make every rule on the HTTP listener a 301 redirect to HTTPS.",
)


# --- ENC-2 (HSTS) and CJ-1 (X-Frame-Options) at the listener -------------------------------
HSTS_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


def _check_hsts(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if listener_protocol(props) != "HTTPS":
        return
    value = props.get("routingHttpResponseStrictTransportSecurityHeaderValue")
    minimum = int(cfg["minimumMaxAge"])
    if not value:
        yield "the HTTPS listener does not send Strict-Transport-Security (routingHttpResponseStrictTransportSecurityHeaderValue)"
        return
    match = HSTS_MAX_AGE.search(str(value))
    if not match or int(match.group(1)) < minimum:
        yield f"Strict-Transport-Security {value!r} has a max-age below {minimum} seconds"


alb_hsts = KakoiResourcePolicy(
    name="kakoi-enc-alb-hsts",
    description="The HTTPS listener adds Strict-Transport-Security with a max-age of at least a year, so browsers never try HTTP again.",
    types=LISTENER,
    check=_check_hsts,
    level=MANDATORY,
    severity=MEDIUM,
    sheet=("ENC-2", "XSS-2"),
    securityhub=(),
    remediation="Set routingHttpResponseStrictTransportSecurityHeaderValue to 'max-age=31536000; includeSubDomains' (kakoi:hstsMaxAge).",
    config={
        "minimumMaxAge": {
            "type": "integer",
            "minimum": 0,
            "description": "Smallest acceptable HSTS max-age in seconds.",
            "default": 31536000,
        }
    },
)


def _check_frame_options(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if listener_protocol(props) != "HTTPS":
        return
    value = props.get("routingHttpResponseXFrameOptionsHeaderValue")
    allowed = [str(v).upper() for v in cfg["allowedValues"]]
    if not value:
        yield "the HTTPS listener does not send X-Frame-Options (routingHttpResponseXFrameOptionsHeaderValue)"
    elif str(value).upper() not in allowed:
        yield f"X-Frame-Options is {value!r}; allowed: {allowed}"


alb_frame_options = KakoiResourcePolicy(
    name="kakoi-cj-alb-x-frame-options",
    description="The HTTPS listener adds X-Frame-Options (DENY or SAMEORIGIN) to every response, so no other site can frame the app.",
    types=LISTENER,
    check=_check_frame_options,
    level=MANDATORY,
    severity=MEDIUM,
    sheet=("CJ-1",),
    securityhub=(),
    remediation="Set routingHttpResponseXFrameOptionsHeaderValue to DENY on the HTTPS listener.",
    config={
        "allowedValues": {
            "type": "array",
            "items": {"type": "string", "enum": ["DENY", "SAMEORIGIN"]},
            "description": "Accepted X-Frame-Options values.",
            "default": ["DENY", "SAMEORIGIN"],
        }
    },
)


# --- LOG-1: access logs ------------------------------------------------------------------------
def _check_access_logs(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    # accessLogs is disabled unless enabled=true and a bucket is given
    if props.get("accessLogs", "enabled") is not True or not props.get("accessLogs", "bucket"):
        yield "access logs are off (accessLogs.enabled with a bucket in the log archive)"


alb_access_logs = KakoiResourcePolicy(
    name="kakoi-log-alb-access-logs",
    description="Every load balancer delivers its access logs to S3 (the never-expiring log archive).",
    types=LB,
    check=_check_access_logs,
    level=MANDATORY,
    severity=HIGH,
    sheet=("LOG-1",),
    securityhub=("ELB.5",),
    remediation="Set accessLogs={enabled: true, bucket: <log archive>, prefix: 'alb'} (the bucket must use SSE-S3).",
)


# --- advisory ELB hardening ------------------------------------------------------------------
def _alb_only(props: Node) -> bool:
    return lb_type(props) == "application"


def _check_drop_invalid_headers(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if _alb_only(props) and props.get("dropInvalidHeaderFields") is not True:
        yield "dropInvalidHeaderFields is not true (default false): invalid header fields reach the app"


def _check_deletion_protection(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if props.get("enableDeletionProtection") is not True:
        yield "enableDeletionProtection is not true (default false)"


def _check_desync(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    mode = props.get("desyncMitigationMode") or "defensive"  # API default
    if _alb_only(props) and mode not in ("defensive", "strictest"):
        yield f"desyncMitigationMode is {mode!r}; use defensive or strictest"


def _check_multi_az(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    count = len(props.get("subnets") or []) or len(props.get("subnetMappings") or [])
    if count < 2:
        yield f"the load balancer spans {count} subnet(s); use at least two availability zones"


elb_drop_invalid_headers = KakoiResourcePolicy(
    name="kakoi-elb-drop-invalid-headers",
    description="Application load balancers drop HTTP headers with invalid fields.",
    types=LB,
    check=_check_drop_invalid_headers,
    level=ADVISORY,
    severity=MEDIUM,
    securityhub=("ELB.4",),
    remediation="Set dropInvalidHeaderFields=true.",
)
elb_deletion_protection = KakoiResourcePolicy(
    name="kakoi-elb-deletion-protection",
    description="Load balancers have deletion protection (production turns it on through kakoi:albDeletionProtection).",
    types=LB,
    check=_check_deletion_protection,
    level=ADVISORY,
    severity=LOW,
    sheet=("AVL-1",),
    securityhub=("ELB.6",),
    remediation="Set enableDeletionProtection=true (kakoi:albDeletionProtection).",
)
elb_desync_mitigation = KakoiResourcePolicy(
    name="kakoi-elb-desync-mitigation",
    description="Application load balancers use the defensive or strictest desync mitigation mode (omitted means defensive).",
    types=LB,
    check=_check_desync,
    level=ADVISORY,
    severity=MEDIUM,
    securityhub=("ELB.12",),
    remediation="Set desyncMitigationMode to strictest (or leave it at the defensive default).",
)
elb_multi_az = KakoiResourcePolicy(
    name="kakoi-elb-multi-az",
    description="Load balancers span at least two availability zones.",
    types=LB,
    check=_check_multi_az,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("AVL-1",),
    securityhub=("ELB.13",),
    remediation="Place the load balancer in the public subnets of every availability zone.",
)


# --- WAF -------------------------------------------------------------------------------------------
def _check_waf_association(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    protected: set[str] = set()
    for assoc in stack.of(WEB_ACL_ASSOCIATION):
        with stack.deciding():
            protected.add(str(assoc.get("resourceArn")))
    for lb in stack.of(*LB):
        with stack.deciding():
            if lb_type(lb.node) != "application" or lb.get("internal") is True:
                continue
            if str(lb.get("arn")) not in protected:
                yield lb.urn, f"internet-facing load balancer {lb.name} has no WAF web ACL association"


elb_waf = KakoiStackPolicy(
    name="kakoi-elb-waf-associated",
    description="Every internet-facing application load balancer is associated with a WAF web ACL.",
    types=LB,
    check=_check_waf_association,
    level=ADVISORY,
    severity=MEDIUM,
    securityhub=("ELB.16",),
    remediation="Add an aws.wafv2.WebAclAssociation(resource_arn=<load balancer arn>, web_acl_arn=<web ACL arn>).",
)


def _check_waf_logging(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    logged: set[str] = set()
    for conf in stack.of(WEB_ACL_LOGGING):
        with stack.deciding():
            if conf.get("logDestinationConfigs"):
                logged.add(str(conf.get("resourceArn")))
    for acl in stack.of(WEB_ACL):
        with stack.deciding():
            if str(acl.get("arn")) not in logged:
                yield acl.urn, f"web ACL {acl.name} has no logging configuration"


waf_logging = KakoiStackPolicy(
    name="kakoi-log-waf-logging",
    description="Every WAF web ACL logs its requests (to the log archive), as part of the audit logs kept forever.",
    types=(WEB_ACL,),
    check=_check_waf_logging,
    level=MANDATORY,
    severity=MEDIUM,
    sheet=("LOG-1",),
    securityhub=("WAF.11",),
    remediation="Add an aws.wafv2.WebAclLoggingConfiguration for the web ACL with the log archive (aws-waf-logs-*) as destination.",
)


def _check_waf_rules(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    rules = props.nodes("rules")
    if not rules and not props.get("ruleJson"):
        yield "the web ACL has no rules"
    # the property is spelled cloudwatchMetricsEnabled (lower-case w) in the wafv2 schema
    if props.get("visibilityConfig", "cloudwatchMetricsEnabled") is not True:
        yield "the web ACL does not publish CloudWatch metrics"
    for rule in rules:
        if rule.get("visibilityConfig", "cloudwatchMetricsEnabled") is not True:
            yield f"rule {rule.get('name')} does not publish CloudWatch metrics"


waf_rules = KakoiResourcePolicy(
    name="kakoi-waf-rules-and-metrics",
    description="WAF web ACLs have at least one rule and publish CloudWatch metrics for the ACL and every rule.",
    types=(WEB_ACL,),
    check=_check_waf_rules,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("MON-1",),
    securityhub=("WAF.10", "WAF.12"),
    remediation="Add managed rule groups and a rate-based rule; set visibilityConfig.cloudwatchMetricsEnabled=true everywhere.",
)


# --- ACM -----------------------------------------------------------------------------------------------
STRONG_KEYS = ("RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1")


def _check_cert_key(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    algorithm = props.get("keyAlgorithm") or "RSA_2048"  # ACM's default for requested certificates
    if algorithm not in STRONG_KEYS:
        yield f"certificate key algorithm {algorithm} is weaker than RSA 2048 / ECDSA P-256"


acm_key = KakoiResourcePolicy(
    name="kakoi-acm-strong-key",
    description="ACM certificates use RSA keys of at least 2048 bits or ECDSA (omitted means RSA_2048).",
    types=(CERTIFICATE,),
    check=_check_cert_key,
    level=ADVISORY,
    severity=LOW,
    sheet=("ENC-1",),
    securityhub=("ACM.2",),
    remediation="Request the certificate with keyAlgorithm RSA_2048 or EC_prime256v1.",
)

POLICIES = [
    alb_tls13_only,
    internet_listeners_tls_only,
    http_redirect_only,
    https_everywhere,
    alb_hsts,
    alb_frame_options,
    alb_access_logs,
    elb_drop_invalid_headers,
    elb_deletion_protection,
    elb_desync_mitigation,
    elb_multi_az,
    elb_waf,
    waf_logging,
    waf_rules,
    acm_key,
]
