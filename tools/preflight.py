"""`make preflight STACK=prod`: read-only checks of the target AWS account before the first `pulumi up`.

    python -m tools.preflight --stack prod [--only NAME,...] [--skip NAME,...] [--format text|json] [--print-policy]

What the offline render cannot know, asked of the account with the caller's own credentials
(boto3's standard chain and environment: ``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID``/..., SSO,
``AWS_ENDPOINT_URL``). Only read calls; the exact IAM policy they need is ``--print-policy``
(and docs/preflight.md).

The facts come from the offline render (tools/render.py), not from code that knows the stack:
every ``sslPolicy`` of every load balancer listener, every VPC endpoint ``serviceName``, every
RDS engine version / instance class / parameter group family / parameter value, every WAF
managed rule group, every Synthetics runtime, every named bucket/secret/role/..., every
Fargate service's task size and maximum count, each in the region the resource is declared
in. A new listener, endpoint or service is checked without new code. A check that needs code
is one entry of ``CHECKS`` (the only registry): a name, a title, the IAM actions it calls and
a function ``(Context) -> Iterable[Result]``.

Output: one line per checked thing, ``PASS`` / ``WARN`` / ``FAIL`` with what to do, then a
summary; a progress line on stderr while it runs. Exit 0 (no FAIL), 1 (a FAIL), 2 (no
credentials, or the stack config cannot be read).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import stackconfig  # noqa: E402
from tools.mocks import ACCOUNT_ID as MOCK_ACCOUNT  # noqa: E402
from tools.render import RenderError, render  # noqa: E402
from tools.stackfiles import StackFileError, stack_values  # noqa: E402
from tools.stackview import Res, StackView  # noqa: E402

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
#: a Synthetics runtime deprecated within this many days is a WARN
RUNTIME_DEPRECATION_WARN_DAYS = 90
#: an imported certificate expiring within this many days is a WARN
CERT_EXPIRY_WARN_DAYS = 30
#: Service Quotas codes (https://docs.aws.amazon.com/servicequotas/latest/userguide/ and the
#: Service Quotas console; the VPC ones also in https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html)
QUOTA_VPCS = ("vpc", "L-F678F1CE", "VPCs per Region")
QUOTA_INTERFACE_ENDPOINTS = ("vpc", "L-29B6F2EB", "Interface VPC endpoints per VPC")
QUOTA_EIPS = ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs")
QUOTA_FARGATE_VCPU = ("fargate", "L-3032A538", "Fargate On-Demand vCPU resource count")


class PreflightError(Exception):
    """Preflight cannot start (exit 2): no credentials, or the stack config cannot be read."""


@dataclass(frozen=True)
class Result:
    status: str
    check: str
    subject: str
    detail: str
    #: what to do (FAIL and WARN)
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status}  {self.check:<24} {self.subject}: {self.detail}"
        return f"{text} -> {self.fix}" if self.fix else text


Resolver = Callable[[str], list[str]]


def dns_nameservers(zone: str) -> list[str]:
    """The NS records the public DNS returns for `zone` (dnspython, the system's resolver)."""
    import dns.resolver

    resolver = dns.resolver.Resolver()
    resolver.lifetime = 5.0
    return [str(r.target).rstrip(".").lower() for r in resolver.resolve(zone, "NS")]


@dataclass
class Context:
    """What a check gets: the stack, its config, the render, and read-only AWS clients."""

    stack: str
    cfg: stackconfig.StackConfig
    view: StackView
    session: Any
    account_id: str = ""
    #: (service, region) or service -> a client to use instead of the session's (tests: botocore Stubber)
    clients: dict[Any, Any] = field(default_factory=dict)
    resolve_ns: Resolver = dns_nameservers
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.cfg.core.region

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.region
        for key in ((service, region), service):
            if key in self.clients:
                return self.clients[key]
        if (service, region) not in self._cache:
            self._cache[(service, region)] = self.session.client(service, region_name=region)
        return self._cache[(service, region)]

    def of_type(self, typ: str) -> list[Res]:
        return self.view.of_type(typ)

    def region_of(self, res: Res) -> str:
        if res.region:
            return res.region
        provider = self.view.by_urn.get(res.provider_urn)
        if provider is not None and provider.inputs.get("region"):
            return str(provider.inputs["region"])
        return self.region

    def real(self, value: str) -> str:
        """A name or ARN from the render with the real account ID in place of the mock one."""
        return value.replace(MOCK_ACCOUNT, self.account_id) if self.account_id else value


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    #: the IAM actions it calls (docs/preflight.md's policy is the union over CHECKS)
    actions: tuple[str, ...]
    run: Callable[[Context], Iterable[Result]]


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def denied(check: str, subject: str, exc: ClientError, action: str) -> Result:
    """A read that failed: access denied (say which permission), or another error (say which)."""
    code = error_code(exc)
    if code in ACCESS_DENIED:
        return Result(
            FAIL,
            check,
            subject,
            f"{action} refused ({code})",
            "attach the read-only preflight policy (docs/preflight.md, `make preflight-policy`) to your role",
        )
    message = str(exc.response.get("Error", {}).get("Message", ""))[:160]
    return Result(FAIL, check, subject, f"{action} failed ({code}: {message})", "rerun; if it persists, check the service in this region")


ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException"}


def _nested(page: dict[str, Any], key: str) -> list[Any]:
    node: Any = page
    for part in key.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, list) else []


def paginate(client: Any, method: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item under `key` (dotted for nested, e.g. EngineDefaults.Parameters) over all pages."""
    if client.can_paginate(method):
        for page in client.get_paginator(method).paginate(**kwargs):
            yield from _nested(page, key)
    else:
        yield from _nested(getattr(client, method)(**kwargs), key)


# --- facts from the render ----------------------------------------------------------------------
def by_region(ctx: Context, typ: str) -> dict[str, list[Res]]:
    out: dict[str, list[Res]] = defaultdict(list)
    for r in ctx.of_type(typ):
        out[ctx.region_of(r)].append(r)
    return dict(sorted(out.items()))


def rds_regions(ctx: Context) -> dict[str, str]:
    """Regions that use the database's engine: where an instance lives, and where its automated
    backups are replicated to (a restore there needs the same engine version and family)."""
    regions = {ctx.region_of(r): "database" for r in ctx.of_type("aws:rds/instance:Instance")}
    for r in ctx.of_type("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"):
        regions.setdefault(ctx.region_of(r), "replicated backups (restore)")
    return dict(sorted(regions.items()))


def managed_rule_groups(statement: Any) -> Iterator[dict[str, Any]]:
    """Every managedRuleGroupStatement inside a WAF statement (also nested under and/or/not)."""
    if isinstance(statement, dict):
        if "managedRuleGroupStatement" in statement:
            yield statement["managedRuleGroupStatement"]
        for value in statement.values():
            yield from managed_rule_groups(value)
    elif isinstance(statement, list):
        for value in statement:
            yield from managed_rule_groups(value)


# --- checks --------------------------------------------------------------------------------------
def check_tls_policies(ctx: Context) -> Iterator[Result]:
    """Every TLS policy of every listener (ALB HTTPS, NLB TLS) exists in its region and offers TLS 1.3 only (ENC-1)."""
    name = "tls-policy"
    for region, listeners in by_region(ctx, "aws:lb/listener:Listener").items():
        wanted: dict[str, list[str]] = defaultdict(list)
        for listener in listeners:
            if listener.inputs.get("sslPolicy"):
                wanted[str(listener.inputs["sslPolicy"])].append(listener.name)
        elb = ctx.client("elbv2", region)
        for policy, users in sorted(wanted.items()):
            subject = f"{policy} ({region}; {', '.join(users)})"
            try:
                found = elb.describe_ssl_policies(Names=[policy]).get("SslPolicies", [])
            except ClientError as exc:
                if error_code(exc) in ACCESS_DENIED:
                    yield denied(name, subject, exc, "elasticloadbalancing:DescribeSSLPolicies")
                    continue
                found = []
            if not found:
                yield Result(
                    FAIL,
                    name,
                    subject,
                    "no such security policy in this region",
                    "set kakoi:tlsPolicy to a TLS 1.3-only policy `aws elbv2 describe-ssl-policies` lists here",
                )
                continue
            protocols = sorted(found[0].get("SslProtocols") or [])
            if protocols and protocols != ["TLSv1.3"]:
                yield Result(FAIL, name, subject, f"offers {', '.join(protocols)}", "ENC-1 needs a TLS13-1-3 policy")
            else:
                yield Result(PASS, name, subject, "exists, TLS 1.3 only")


def check_endpoint_services(ctx: Context) -> Iterator[Result]:
    """Every VPC endpoint service declared exists in its region, of the declared type, in the AZs the stack uses."""
    name = "vpc-endpoint-service"
    az_count = ctx.cfg.network.az_count
    for region, endpoints in by_region(ctx, "aws:ec2/vpcEndpoint:VpcEndpoint").items():
        ec2 = ctx.client("ec2", region)
        names = sorted({str(e.inputs["serviceName"]) for e in endpoints if e.inputs.get("serviceName")})
        try:
            zones = ec2.describe_availability_zones(Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}])
            # the program takes the first azCount available zones (components/network.py)
            used = [z["ZoneName"] for z in zones.get("AvailabilityZones", []) if z.get("State") == "available"][:az_count]
        except ClientError as exc:
            yield denied(name, region, exc, "ec2:DescribeAvailabilityZones")
            continue
        if len(used) < az_count:
            yield Result(
                FAIL, f"{name}", f"availability zones ({region})", f"only {len(used)} available", f"set kakoi:azCount to {len(used)}"
            )
        details: dict[str, dict[str, Any]] = {}
        for svc in names:
            try:
                for d in ec2.describe_vpc_endpoint_services(ServiceNames=[svc]).get("ServiceDetails", []):
                    details[d["ServiceName"]] = d
            except ClientError as exc:
                if error_code(exc) in ACCESS_DENIED:
                    yield denied(name, svc, exc, "ec2:DescribeVpcEndpointServices")
                    return
                # InvalidServiceName: the service does not exist here
        for endpoint in sorted(endpoints, key=lambda e: str(e.inputs.get("serviceName"))):
            svc = str(endpoint.inputs.get("serviceName"))
            kind = str(endpoint.inputs.get("vpcEndpointType") or "Gateway")
            subject = f"{svc} ({kind}, {endpoint.name})"
            d = details.get(svc)
            if d is None:
                yield Result(
                    FAIL, name, subject, f"not offered in {region}", "remove this endpoint (and what uses it) or choose another region"
                )
                continue
            types = {t.get("ServiceType") for t in d.get("ServiceType", [])}
            if kind not in types:
                yield Result(FAIL, name, subject, f"offered as {', '.join(sorted(str(t) for t in types))} only", "declare that type")
                continue
            missing = sorted(set(used) - set(d.get("AvailabilityZones") or used)) if kind == "Interface" else []
            if missing:
                yield Result(
                    FAIL,
                    name,
                    subject,
                    f"not offered in {', '.join(missing)} (the stack's subnets)",
                    "lower kakoi:azCount or drop the endpoint",
                )
            else:
                yield Result(PASS, name, subject, "offered" + (f" in {', '.join(used)}" if kind == "Interface" else ""))


def check_rds_engine(ctx: Context) -> Iterator[Result]:
    """The engine version and instance class exist in every region that uses them; DR backup replication is supported."""
    name = "rds-engine"
    instances = ctx.of_type("aws:rds/instance:Instance")
    regions = rds_regions(ctx)
    for inst in instances:
        engine, version = str(inst.inputs.get("engine")), str(inst.inputs.get("engineVersion"))
        klass, multi_az = str(inst.inputs.get("instanceClass")), bool(inst.inputs.get("multiAz"))
        for region, why in regions.items():
            rds = ctx.client("rds", region)
            subject = f"{engine} {version} ({region}, {why})"
            try:
                versions = [
                    v["EngineVersion"]
                    for v in paginate(rds, "describe_db_engine_versions", "DBEngineVersions", Engine=engine)
                    if v["EngineVersion"] == version or v["EngineVersion"].startswith(f"{version}.")
                ]
            except ClientError as exc:
                yield denied(name, subject, exc, "rds:DescribeDBEngineVersions")
                continue
            if not versions:
                yield Result(FAIL, name, subject, "no such engine version here", "set kakoi:dbEngineVersion to one both regions offer")
                continue
            yield Result(PASS, name, subject, f"available ({', '.join(sorted(versions)[-3:])})")
            if region != ctx.region_of(inst):
                continue
            try:
                options = list(
                    paginate(
                        rds,
                        "describe_orderable_db_instance_options",
                        "OrderableDBInstanceOptions",
                        Engine=engine,
                        DBInstanceClass=klass,
                    )
                )
            except ClientError as exc:
                yield denied(name, klass, exc, "rds:DescribeOrderableDBInstanceOptions")
                continue
            fits = [o for o in options if o.get("EngineVersion") in versions and (o.get("MultiAZCapable") or not multi_az)]
            if fits:
                yield Result(PASS, name, f"{klass} ({region})", "orderable" + (" Multi-AZ" if multi_az else ""))
            else:
                yield Result(FAIL, name, f"{klass} ({region})", f"not orderable for {engine} {version}", "set kakoi:dbInstanceClass")
    for rep in ctx.of_type("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"):
        dest = ctx.region_of(rep)
        source = str(rep.inputs.get("sourceDbInstanceArn", "")).split(":")[3:4] or [ctx.region]
        subject = f"backup replication {source[0]} -> {dest}"
        try:
            sources = ctx.client("rds", dest).describe_source_regions(RegionName=source[0]).get("SourceRegions", [])
        except ClientError as exc:
            yield denied(name, subject, exc, "rds:DescribeSourceRegions")
            continue
        ok = [s for s in sources if s.get("RegionName") == source[0] and s.get("SupportsDBInstanceAutomatedBackupsReplication")]
        if ok:
            yield Result(PASS, name, subject, "supported")
        else:
            yield Result(FAIL, name, subject, "not supported between these regions", "choose another kakoi:drRegion")


def _allowed(value: str, allowed: str) -> bool:
    """Is `value` inside an RDS `AllowedValues` (ranges like `0-2147483647`, or comma-separated choices)?"""
    allowed = allowed.strip()
    if not allowed:
        return True
    if re.fullmatch(r"-?\d+(\.\d+)?--?\d+(\.\d+)?(,-?\d+(\.\d+)?--?\d+(\.\d+)?)*", allowed):
        try:
            number = float(value)
        except ValueError:
            return False
        for part in allowed.split(","):
            low, high = re.match(r"(-?[\d.]+)-(-?[\d.]+)", part).groups()  # type: ignore[union-attr]
            if float(low) <= number <= float(high):
                return True
        return False
    choices = {c.strip().lower() for c in allowed.split(",")}
    return all(v.strip().lower() in choices for v in value.split(","))


def check_rds_parameters(ctx: Context) -> Iterator[Result]:
    """Each parameter group family exists where the engine is used; each parameter exists, is modifiable,
    takes the value we set and the apply method we declare."""
    name = "rds-parameters"
    engines = {str(i.inputs.get("engine")) for i in ctx.of_type("aws:rds/instance:Instance")} or {"postgres"}
    for group in ctx.of_type("aws:rds/parameterGroup:ParameterGroup"):
        family = str(group.inputs.get("family"))
        for region, why in (rds_regions(ctx) or {ctx.region_of(group): "database"}).items():
            rds = ctx.client("rds", region)
            subject = f"{family} ({region}, {why})"
            try:
                known = any(
                    True
                    for engine in sorted(engines)
                    for _ in paginate(rds, "describe_db_engine_versions", "DBEngineVersions", Engine=engine, DBParameterGroupFamily=family)
                )
                defaults = {
                    p["ParameterName"]: p
                    for p in paginate(rds, "describe_engine_default_parameters", "EngineDefaults.Parameters", DBParameterGroupFamily=family)
                }
            except ClientError as exc:
                yield denied(name, subject, exc, "rds:DescribeEngineDefaultParameters")
                continue
            if not known:
                yield Result(
                    FAIL, name, subject, "no such parameter group family", "set kakoi:dbEngineVersion to a version with this family"
                )
                continue
            problems: list[str] = []
            for p in group.inputs.get("parameters") or []:
                pname, value, method = str(p["name"]), str(p["value"]), str(p.get("applyMethod") or "immediate")
                d = defaults.get(pname)
                if d is None:
                    problems.append(f"{pname}: unknown")
                elif d.get("IsModifiable") is False:
                    problems.append(f"{pname}: not modifiable")
                elif not _allowed(value, str(d.get("AllowedValues") or "")):
                    problems.append(f"{pname}={value}: not in {d.get('AllowedValues')}")
                elif d.get("ApplyType") == "static" and method == "immediate":
                    problems.append(f"{pname}: static, needs applyMethod pending-reboot")
            count = len(group.inputs.get("parameters") or [])
            if problems:
                yield Result(FAIL, name, subject, "; ".join(problems), "fix components/database.py's parameters for this family")
            else:
                yield Result(PASS, name, subject, f"family exists; {count} parameter(s) valid with our values")


def check_waf_rule_groups(ctx: Context) -> Iterator[Result]:
    """Every managed rule group of every web ACL is offered in its region (and the pinned version, if any)."""
    name = "waf-managed-rule-group"
    for region, acls in by_region(ctx, "aws:wafv2/webAcl:WebAcl").items():
        waf = ctx.client("wafv2", region)
        for acl in acls:
            scope = str(acl.inputs.get("scope") or "REGIONAL")
            groups = {(g["vendorName"], g["name"], g.get("version")) for g in managed_rule_groups(acl.inputs.get("rules") or [])}
            if not groups:
                continue
            try:
                available: set[tuple[str, str]] = set()
                marker: str | None = None
                while True:
                    page = waf.list_available_managed_rule_groups(Scope=scope, **({"NextMarker": marker} if marker else {}))
                    available |= {(g["VendorName"], g["Name"]) for g in page.get("ManagedRuleGroups", [])}
                    marker = page.get("NextMarker")
                    if not marker or not page.get("ManagedRuleGroups"):
                        break
            except ClientError as exc:
                yield denied(name, acl.name, exc, "wafv2:ListAvailableManagedRuleGroups")
                continue
            for vendor, group, version in sorted(groups, key=lambda g: (g[0], g[1])):
                subject = f"{vendor}/{group} ({region}, {acl.name})"
                if (vendor, group) not in available:
                    yield Result(
                        FAIL, name, subject, "not offered", "use a rule group `aws wafv2 list-available-managed-rule-groups` lists"
                    )
                    continue
                if version:
                    versions = waf.list_available_managed_rule_group_versions(VendorName=vendor, Name=group, Scope=scope)
                    if version not in {v["Name"] for v in versions.get("Versions", [])}:
                        yield Result(FAIL, name, subject, f"version {version} not offered", "pin an offered version or none")
                        continue
                yield Result(PASS, name, subject, "offered")


def check_synthetics_runtime(ctx: Context) -> Iterator[Result]:
    """Every canary's runtime exists in its region and is not deprecated."""
    name = "synthetics-runtime"
    for region, canaries in by_region(ctx, "aws:synthetics/canary:Canary").items():
        wanted = sorted({str(c.inputs.get("runtimeVersion")) for c in canaries})
        try:
            runtimes: dict[str, dict[str, Any]] = {}
            token: str | None = None
            client = ctx.client("synthetics", region)
            while True:
                page = client.describe_runtime_versions(**({"NextToken": token} if token else {}))
                runtimes |= {r["VersionName"]: r for r in page.get("RuntimeVersions", [])}
                token = page.get("NextToken")
                if not token:
                    break
        except ClientError as exc:
            yield denied(name, region, exc, "synthetics:DescribeRuntimeVersions")
            continue
        for version in wanted:
            subject = f"{version} ({region})"
            r = runtimes.get(version)
            fix = "set kakoi:canaryRuntimeVersion to a current runtime (`aws synthetics describe-runtime-versions`)"
            if r is None:
                yield Result(FAIL, name, subject, "no such runtime", fix)
                continue
            deprecated = r.get("DeprecationDate")
            if isinstance(deprecated, datetime):
                if deprecated <= ctx.now:
                    yield Result(FAIL, name, subject, f"deprecated since {deprecated:%Y-%m-%d}", fix)
                    continue
                if deprecated <= ctx.now + timedelta(days=RUNTIME_DEPRECATION_WARN_DAYS):
                    yield Result(WARN, name, subject, f"deprecated on {deprecated:%Y-%m-%d}", fix)
                    continue
            yield Result(PASS, name, subject, "available")


def check_guardduty(ctx: Context) -> Iterator[Result]:
    """An existing detector (CreateDetector would fail) and whether an organisation manages GuardDuty here."""
    name = "guardduty-detector"
    configured = ctx.cfg.detection.guardduty_detector_id
    region = ctx.region
    gd = ctx.client("guardduty", region)
    try:
        detectors = list(paginate(gd, "list_detectors", "DetectorIds"))
    except ClientError as exc:
        yield denied(name, region, exc, "guardduty:ListDetectors")
        return
    subject = f"detector ({region})"
    if not configured and detectors:
        yield Result(
            FAIL,
            name,
            subject,
            f"this account already has detector {detectors[0]} (CreateDetector would fail)",
            f"pulumi config set kakoi:guardDutyDetectorId {detectors[0]} -s {ctx.stack}",
        )
    elif configured and configured not in detectors:
        found = f" (the account has {', '.join(detectors)})" if detectors else " (the account has none)"
        yield Result(
            FAIL,
            name,
            subject,
            f"kakoi:guardDutyDetectorId {configured} does not exist here{found}",
            f"pulumi config set kakoi:guardDutyDetectorId {detectors[0]}" if detectors else "pulumi config rm kakoi:guardDutyDetectorId",
        )
    elif configured:
        yield Result(PASS, name, subject, f"adopting {configured} (kakoi:guardDutyDetectorId)")
    else:
        yield Result(PASS, name, subject, "none yet: the stack creates it")
    for detector in detectors:
        try:
            admin = gd.get_administrator_account(DetectorId=detector).get("Administrator") or {}
        except ClientError as exc:
            if error_code(exc) in ACCESS_DENIED:
                yield denied(name, detector, exc, "guardduty:GetAdministratorAccount")
            continue
        if admin.get("AccountId"):
            yield Result(
                WARN,
                name,
                f"organisation ({region})",
                f"administrator account {admin['AccountId']} manages GuardDuty here ({admin.get('RelationshipStatus', '?')})",
                "ask the delegated administrator to enable S3, RDS, EBS malware and runtime monitoring (Fargate agent); "
                "member accounts cannot change organisation-managed features",
            )


def _covers(pattern: str, domain: str) -> bool:
    pattern, domain = pattern.lower().rstrip("."), domain.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = domain.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == domain


def check_hosted_zone(ctx: Context) -> Iterator[Result]:
    """The hosted zone exists, is public, contains the app and mail domains and is what the public DNS delegates to."""
    name = "hosted-zone"
    zone_id = ctx.cfg.edge.hosted_zone_id
    domain = ctx.cfg.edge.domain_name
    if not zone_id:
        yield Result(PASS, name, domain, "no hosted zone configured: certificateArn is used; publish DNS records yourself")
        return
    r53 = ctx.client("route53", "us-east-1")
    try:
        zone = r53.get_hosted_zone(Id=zone_id)
    except ClientError as exc:
        if error_code(exc) == "NoSuchHostedZone":
            yield Result(FAIL, name, zone_id, "no such hosted zone in this account", "set kakoi:hostedZoneId to the zone of " + domain)
        else:
            yield denied(name, zone_id, exc, "route53:GetHostedZone")
        return
    zname = str(zone["HostedZone"]["Name"]).rstrip(".").lower()
    subject = f"{zone_id} {zname}"
    if zone["HostedZone"].get("Config", {}).get("PrivateZone"):
        yield Result(
            FAIL, name, subject, "a private zone: certificate validation and the app's record need a public one", "use the public zone"
        )
        return
    outside = [d for d in (domain, ctx.cfg.app.mail_domain) if d and d != zname and not d.endswith(f".{zname}")]
    if outside:
        yield Result(FAIL, name, subject, f"does not contain {', '.join(outside)}", "set kakoi:hostedZoneId to the zone that does")
        return
    ours = sorted(n.rstrip(".").lower() for n in zone.get("DelegationSet", {}).get("NameServers", []))
    try:
        public = sorted(ctx.resolve_ns(zname))
    except Exception as exc:  # any resolver failure is reported, never fatal
        yield Result(
            WARN,
            name,
            subject,
            f"could not look up the public NS of {zname} ({type(exc).__name__})",
            f"check: dig NS {zname} (expect {', '.join(ours)})",
        )
        return
    if ours and set(public) != set(ours):
        yield Result(
            FAIL,
            name,
            subject,
            f"the public DNS delegates {zname} to {', '.join(public) or 'nothing'}, not to this zone",
            f"set the NS records of {zname} at its parent/registrar to {', '.join(ours)} (a step only you can do)",
        )
    else:
        yield Result(PASS, name, subject, f"public, contains {domain}, delegated to this zone")


def check_certificate(ctx: Context) -> Iterator[Result]:
    """An existing certificate (kakoi:certificateArn) is issued and covers the domain."""
    name = "certificate"
    arn = ctx.cfg.edge.certificate_arn
    domain = ctx.cfg.edge.domain_name
    if not arn:
        yield Result(PASS, name, domain, "the stack requests a DNS-validated certificate in the hosted zone")
        return
    region = arn.split(":")[3] or ctx.region
    try:
        cert = ctx.client("acm", region).describe_certificate(CertificateArn=arn)["Certificate"]
    except ClientError as exc:
        if error_code(exc) in ACCESS_DENIED:
            yield denied(name, arn, exc, "acm:DescribeCertificate")
        else:
            yield Result(FAIL, name, arn, f"not found ({error_code(exc)})", "set kakoi:certificateArn to a certificate in " + ctx.region)
        return
    names = [cert.get("DomainName", ""), *(cert.get("SubjectAlternativeNames") or [])]
    if region != ctx.region:
        yield Result(FAIL, name, arn, f"in {region}; the load balancer is in {ctx.region}", "use a certificate in the stack's region")
    elif cert.get("Status") != "ISSUED":
        yield Result(FAIL, name, arn, f"status {cert.get('Status')}", "finish validation or choose an issued certificate")
    elif not any(_covers(n, domain) for n in names if n):
        yield Result(FAIL, name, arn, f"covers {', '.join(sorted(set(names)))}, not {domain}", "use a certificate for the domain")
    else:
        not_after = cert.get("NotAfter")
        if (
            cert.get("Type") == "IMPORTED"
            and isinstance(not_after, datetime)
            and not_after < ctx.now + timedelta(days=CERT_EXPIRY_WARN_DAYS)
        ):
            yield Result(WARN, name, arn, f"imported, expires {not_after:%Y-%m-%d}", "import a renewed certificate")
        else:
            yield Result(PASS, name, arn, f"issued, covers {domain}")


def check_ses_identity(ctx: Context) -> Iterator[Result]:
    """The mail domain is not already an SES identity (CreateEmailIdentity would fail)."""
    name = "ses-identity"
    domain = ctx.cfg.app.mail_domain
    if not ctx.of_type("aws:sesv2/emailIdentity:EmailIdentity"):
        return
    try:
        identity = ctx.client("sesv2").get_email_identity(EmailIdentity=domain)
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            yield Result(PASS, name, f"{domain} ({ctx.region})", "not an identity yet: the stack creates it")
        else:
            yield denied(name, domain, exc, "ses:GetEmailIdentity")
        return
    status = identity.get("VerificationStatus") or ("SUCCESS" if identity.get("VerifiedForSendingStatus") else "PENDING")
    yield Result(
        FAIL,
        name,
        f"{domain} ({ctx.region})",
        f"already an SES identity (verification {status}); CreateEmailIdentity would fail",
        f"import it: pulumi import aws:sesv2/emailIdentity:EmailIdentity mail-identity {domain} -s {ctx.stack} (or delete it)",
    )


def check_ses_account(ctx: Context) -> Iterator[Result]:
    """SES sending is enabled, and out of the sandbox (mail reaches unverified addresses)."""
    name = "ses-account"
    if not ctx.of_type("aws:sesv2/emailIdentity:EmailIdentity"):
        return
    try:
        account = ctx.client("sesv2").get_account()
    except ClientError as exc:
        yield denied(name, ctx.region, exc, "ses:GetAccount")
        return
    if not account.get("SendingEnabled", True):
        yield Result(FAIL, name, ctx.region, "sending is disabled for this account", "contact AWS support (SES account status)")
    elif not account.get("ProductionAccessEnabled"):
        yield Result(
            WARN,
            name,
            ctx.region,
            "in the SES sandbox: mail reaches verified addresses only",
            "request production access (SES console > Account dashboard); only a person can",
        )
    else:
        yield Result(PASS, name, ctx.region, "production access, sending enabled")


def _quota(ctx: Context, region: str, quota: tuple[str, str, str]) -> float | None:
    service, code, _ = quota
    client = ctx.client("service-quotas", region)
    try:
        return float(client.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])
    except ClientError as exc:
        if error_code(exc) not in ("NoSuchResourceException",):
            raise
    try:
        return float(client.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])
    except ClientError:
        return None


def check_quotas(ctx: Context) -> Iterator[Result]:
    """VPCs, interface endpoints per VPC, Elastic IPs (NAT) and Fargate vCPUs the stack needs fit the quotas."""
    name = "quota"
    view = ctx.view
    for region, vpcs in by_region(ctx, "aws:ec2/vpc:Vpc").items():
        ec2 = ctx.client("ec2", region)
        try:
            needs: list[tuple[tuple[str, str, str], float, float, str]] = []
            existing = len(list(paginate(ec2, "describe_vpcs", "Vpcs")))
            needs.append((QUOTA_VPCS, existing + len(vpcs), existing, f"{existing} existing + {len(vpcs)}"))
            interface: dict[str, int] = defaultdict(int)
            for e in view.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
                if e.inputs.get("vpcEndpointType") == "Interface" and ctx.region_of(e) == region:
                    interface[str(e.inputs.get("vpcId"))] += 1
            if interface:
                most = max(interface.values())
                needs.append((QUOTA_INTERFACE_ENDPOINTS, most, 0, f"{most} in one VPC"))
            nats = [n for n in view.of_type("aws:ec2/natGateway:NatGateway") if ctx.region_of(n) == region]
            if nats:
                eips = len(ec2.describe_addresses().get("Addresses", []))
                needs.append((QUOTA_EIPS, eips + len(nats), eips, f"{eips} existing + {len(nats)} for NAT"))
            vcpus = fargate_vcpus(ctx, region)
            if vcpus:
                needs.append((QUOTA_FARGATE_VCPU, vcpus, 0, f"{vcpus:g} vCPU at every service's maximum task count"))
            for quota, need, _, how in needs:
                limit = _quota(ctx, region, quota)
                subject = f"{quota[2]} ({region})"
                if limit is None:
                    yield Result(
                        WARN,
                        name,
                        subject,
                        f"could not read quota {quota[0]}/{quota[1]}; needs {how}",
                        "check it in the Service Quotas console",
                    )
                elif need > limit:
                    yield Result(
                        FAIL, name, subject, f"needs {how} = {need:g}, quota {limit:g}", f"request an increase of {quota[0]}/{quota[1]}"
                    )
                else:
                    yield Result(PASS, name, subject, f"needs {how} = {need:g} of {limit:g}")
        except ClientError as exc:
            yield denied(name, region, exc, "service-quotas/ec2 read")


#: elbv2 DescribeAccountLimits names per load balancer type
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Limit.html
LB_LIMITS = {"application": "application-load-balancers", "network": "network-load-balancers"}


def check_load_balancer_quotas(ctx: Context) -> Iterator[Result]:
    """Application and network load balancers the stack declares (the ALB, the relay's NLB), plus those
    the account already has in the region, fit the account's Elastic Load Balancing limits."""
    name = "lb-quota"
    for region, lbs in by_region(ctx, "aws:lb/loadBalancer:LoadBalancer").items():
        declared: dict[str, int] = defaultdict(int)
        for lb in lbs:
            declared[str(lb.inputs.get("loadBalancerType") or "application")] += 1
        elbv2 = ctx.client("elbv2", region)
        try:
            limits = {str(x["Name"]): float(x["Max"]) for x in paginate(elbv2, "describe_account_limits", "Limits")}
            existing: dict[str, int] = defaultdict(int)
            for lb in paginate(elbv2, "describe_load_balancers", "LoadBalancers"):
                existing[str(lb.get("Type") or "application")] += 1
        except ClientError as exc:
            yield denied(name, region, exc, "elasticloadbalancing:DescribeAccountLimits/DescribeLoadBalancers")
            continue
        for typ, count in sorted(declared.items()):
            limit_name = LB_LIMITS.get(typ)
            subject = f"{typ} load balancers ({region})"
            need = existing[typ] + count
            how = f"{existing[typ]} existing + {count}"
            limit = limits.get(limit_name) if limit_name else None
            if limit is None:
                yield Result(
                    WARN, name, subject, f"no limit {limit_name or typ!r} reported; needs {how}", "check it in the Service Quotas console"
                )
            elif need > limit:
                yield Result(FAIL, name, subject, f"needs {how} = {need}, limit {limit:g}", f"request an increase of {limit_name}")
            else:
                yield Result(PASS, name, subject, f"needs {how} = {need} of {limit:g}")


def fargate_vcpus(ctx: Context, region: str) -> float:
    """vCPUs of every ECS service at its maximum task count (autoscaling max, else desired count), from the render."""
    view = ctx.view
    task_cpu = {t.outputs.get("arn"): float(t.inputs.get("cpu") or 0) / 1024 for t in view.of_type("aws:ecs/taskDefinition:TaskDefinition")}
    maxima = {}
    for target in view.of_type("aws:appautoscaling/target:Target"):
        if target.inputs.get("serviceNamespace") == "ecs":
            maxima[str(target.inputs.get("resourceId", "")).rsplit("/", 1)[-1]] = float(target.inputs.get("maxCapacity") or 0)
    total = 0.0
    for svc in view.of_type("aws:ecs/service:Service"):
        if ctx.region_of(svc) != region or svc.inputs.get("launchType") not in (None, "FARGATE"):
            continue
        count = maxima.get(str(svc.inputs.get("name")), float(svc.inputs.get("desiredCount") or 1))
        total += count * task_cpu.get(svc.inputs.get("taskDefinition"), 0.0)
    return total


#: physical names that must be free before the first `pulumi up`: (type, input key, how to look, IAM action)
NAMED = (
    ("aws:s3/bucket:Bucket", "bucket", "s3", "s3:ListBucket"),
    ("aws:secretsmanager/secret:Secret", "name", "secretsmanager", "secretsmanager:DescribeSecret"),
    ("aws:ecr/repository:Repository", "name", "ecr", "ecr:DescribeRepositories"),
    ("aws:cloudwatch/logGroup:LogGroup", "name", "logs", "logs:DescribeLogGroups"),
    ("aws:iam/role:Role", "name", "iam", "iam:GetRole"),
    ("aws:kms/alias:Alias", "name", "kms", "kms:ListAliases"),
)


def _exists(ctx: Context, service: str, region: str, value: str) -> str:
    """'' when the name is free, else why it is not."""
    client = ctx.client(service, "us-east-1" if service == "iam" else region)
    try:
        if service == "s3":
            client.head_bucket(Bucket=value)
            return "exists in this account (retained by an earlier stack?)"
        if service == "secretsmanager":
            secret = client.describe_secret(SecretId=value)
            if secret.get("DeletedDate"):
                return "scheduled for deletion (restore it, or delete it with --force-delete-without-recovery)"
            return "exists"
        if service == "ecr":
            client.describe_repositories(repositoryNames=[value])
            return "exists"
        if service == "logs":
            groups = client.describe_log_groups(logGroupNamePrefix=value).get("logGroups", [])
            return "exists" if any(g.get("logGroupName") == value for g in groups) else ""
        if service == "iam":
            client.get_role(RoleName=value)
            return "exists"
        if service == "kms":
            aliases = {a["AliasName"] for a in paginate(client, "list_aliases", "Aliases")}
            return "exists" if value in aliases else ""
    except ClientError as exc:
        code = error_code(exc)
        if code in ("404", "NoSuchBucket", "ResourceNotFoundException", "RepositoryNotFoundException", "NoSuchEntity"):
            return ""
        if service == "s3" and code in ("403", "AccessDenied"):
            return "taken (S3 names are global; another account owns it, or you may not read it)"
        raise
    return ""


def check_names_free(ctx: Context) -> Iterator[Result]:
    """No bucket, secret, repository, log group, role or alias the stack names exists already."""
    name = "name-free"
    for typ, key, service, action in NAMED:
        taken: list[str] = []
        count = 0
        label = typ.split(":")[-1]
        for region, resources in by_region(ctx, typ).items():
            for r in resources:
                value = ctx.real(str(r.inputs.get(key) or ""))
                if not value:
                    continue
                count += 1
                try:
                    why = _exists(ctx, service, region, value)
                except ClientError as exc:
                    yield denied(name, value, exc, action)
                    continue
                if why:
                    taken.append(f"{value} ({region}): {why}")
        if taken:
            yield Result(
                FAIL,
                name,
                label,
                "; ".join(taken),
                "import it into the stack (`pulumi import`), or delete it, before `pulumi up`",
            )
        elif count:
            yield Result(PASS, name, label, f"{count} name(s) free")


#: The registry: every check, in the order they run. To add one, append a Check here.
CHECKS: list[Check] = [
    Check("tls-policy", "TLS policies of every listener", ("elasticloadbalancing:DescribeSSLPolicies",), check_tls_policies),
    Check(
        "vpc-endpoint-service",
        "VPC endpoint services",
        ("ec2:DescribeAvailabilityZones", "ec2:DescribeVpcEndpointServices"),
        check_endpoint_services,
    ),
    Check(
        "rds-engine",
        "RDS engine version, instance class, DR backup replication",
        ("rds:DescribeDBEngineVersions", "rds:DescribeOrderableDBInstanceOptions", "rds:DescribeSourceRegions"),
        check_rds_engine,
    ),
    Check(
        "rds-parameters",
        "RDS parameter group families and values",
        ("rds:DescribeDBEngineVersions", "rds:DescribeEngineDefaultParameters"),
        check_rds_parameters,
    ),
    Check(
        "waf-managed-rule-group",
        "WAF managed rule groups",
        ("wafv2:ListAvailableManagedRuleGroups", "wafv2:ListAvailableManagedRuleGroupVersions"),
        check_waf_rule_groups,
    ),
    Check("synthetics-runtime", "Synthetics runtimes", ("synthetics:DescribeRuntimeVersions",), check_synthetics_runtime),
    Check(
        "guardduty-detector",
        "GuardDuty detector and organisation",
        ("guardduty:ListDetectors", "guardduty:GetAdministratorAccount"),
        check_guardduty,
    ),
    Check("hosted-zone", "Route 53 hosted zone and delegation", ("route53:GetHostedZone",), check_hosted_zone),
    Check("certificate", "existing ACM certificate", ("acm:DescribeCertificate",), check_certificate),
    Check("ses-identity", "SES identity", ("ses:GetEmailIdentity",), check_ses_identity),
    Check("ses-account", "SES sending and sandbox", ("ses:GetAccount",), check_ses_account),
    Check(
        "quota",
        "service quotas",
        ("servicequotas:GetServiceQuota", "servicequotas:GetAWSDefaultServiceQuota", "ec2:DescribeVpcs", "ec2:DescribeAddresses"),
        check_quotas,
    ),
    Check(
        "lb-quota",
        "load balancer limits",
        ("elasticloadbalancing:DescribeAccountLimits", "elasticloadbalancing:DescribeLoadBalancers"),
        check_load_balancer_quotas,
    ),
    Check("name-free", "names the stack creates are free", tuple(sorted({a for *_, a in NAMED})), check_names_free),
]


def iam_policy(checks: Sequence[Check] = CHECKS) -> dict[str, Any]:
    """The exact read-only policy the preflight needs (sts:GetCallerIdentity needs no permission)."""
    actions = sorted({a for c in checks for a in c.actions}, key=str.lower)
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "KakoiPreflightReadOnly", "Effect": "Allow", "Action": actions, "Resource": "*"}],
    }


# --- running ---------------------------------------------------------------------------------------
def load_config(stack: str) -> stackconfig.StackConfig:
    """The validated stack config; PreflightError when it cannot be read."""
    try:
        sv = stack_values(stack)
        return stackconfig.load(sv.values, project=sv.project, stack=stack)
    except (StackFileError, stackconfig.ConfigError) as exc:
        raise PreflightError(f"stack {stack}: {exc}") from exc


def load_export(stack: str, file: str | None = None) -> dict[str, Any]:
    """The offline render of the stack (or a given `pulumi stack export` file)."""
    if file:
        try:
            return json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PreflightError(f"{file}: {exc}") from exc
    try:
        return render(stack)
    except RenderError as exc:
        raise PreflightError(f"render of {stack}: {exc}") from exc


def connect(cfg: stackconfig.StackConfig, profile: str | None = None) -> tuple[Any, str]:
    """A boto3 session (the standard chain and environment) and the caller's account ID."""
    try:
        session = boto3.Session(profile_name=profile) if profile else boto3.Session()
        ident = session.client("sts", region_name=cfg.core.region).get_caller_identity()
    except NoCredentialsError as exc:
        raise PreflightError("no AWS credentials: set AWS_PROFILE (or run `aws sso login`, or export AWS_ACCESS_KEY_ID/...)") from exc
    except (ClientError, BotoCoreError) as exc:
        raise PreflightError(f"AWS credentials not usable: {exc}") from exc
    return session, str(ident["Account"])


def run(ctx: Context, checks: Sequence[Check], progress: Callable[[int, int, Check], None] | None = None) -> list[Result]:
    results: list[Result] = []
    for i, check in enumerate(checks, 1):
        if progress:
            progress(i, len(checks), check)
        try:
            results.extend(check.run(ctx))
        except (ClientError, BotoCoreError, ResponseParserError) as exc:
            detail = str(exc).splitlines()[0][:200]
            results.append(Result(FAIL, check.name, "-", f"unexpected AWS error: {detail}", "rerun; if it persists, report it"))
    return results


def select(only: str, skip: str) -> list[Check]:
    names = {c.name for c in CHECKS}
    chosen = [x for x in only.split(",") if x] if only else [c.name for c in CHECKS]
    skipped = [x for x in skip.split(",") if x]
    unknown = sorted((set(chosen) | set(skipped)) - names)
    if unknown:
        raise PreflightError(f"unknown check(s) {', '.join(unknown)} (checks: {', '.join(c.name for c in CHECKS)})")
    return [c for c in CHECKS if c.name in chosen and c.name not in skipped]


def summary(results: Sequence[Result]) -> dict[str, int]:
    return {s: sum(1 for r in results if r.status == s) for s in (PASS, WARN, FAIL)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools.preflight", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", default="prod", help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--file", help="a stack export to derive the checks from (default: the offline render)")
    parser.add_argument("--profile", help="AWS profile (default: boto3's chain, e.g. AWS_PROFILE)")
    parser.add_argument("--only", default="", help="comma-separated check names")
    parser.add_argument("--skip", default="", help="comma-separated check names")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--print-policy", action="store_true", help="print the IAM policy the preflight needs and exit")
    args = parser.parse_args(argv)
    if args.print_policy:
        print(json.dumps(iam_policy(), indent=2))
        return 0
    started = time.perf_counter()
    tty = sys.stderr.isatty()

    def progress(i: int, n: int, check: Check) -> None:
        text = f"[{i}/{n}] {check.title} ..."
        print(f"\r\x1b[K{text}" if tty else text, end="" if tty else "\n", file=sys.stderr, flush=True)

    try:
        checks = select(args.only, args.skip)
        cfg = load_config(args.stack)
        session, account = connect(cfg, args.profile)
        print(f"preflight {args.stack}: account {account}; rendering the stack offline ...", file=sys.stderr, flush=True)
        doc = load_export(args.stack, args.file)
    except PreflightError as exc:
        print(f"preflight: {exc}", file=sys.stderr)
        return 2
    ctx = Context(stack=args.stack, cfg=cfg, view=StackView(doc), session=session, account_id=account)
    results = run(ctx, checks, progress)
    if tty:
        print("\r\x1b[K", end="", file=sys.stderr, flush=True)
    counts = summary(results)
    elapsed = time.perf_counter() - started
    if args.format == "json":
        print(json.dumps({"stack": args.stack, "account": account, "results": [r.__dict__ for r in results], "summary": counts}, indent=2))
    else:
        for r in results:
            print(r.line())
        print(
            f"\npreflight {args.stack} (account {account}, {cfg.core.region}/{cfg.core.dr_region}): {len(checks)} checks, "
            f"{len(results)} results: {counts[PASS]} PASS, {counts[WARN]} WARN, {counts[FAIL]} FAIL ({elapsed:.1f} s)"
        )
        if counts[FAIL]:
            print("Fix every FAIL before `pulumi up`; WARN lines need a decision or a manual step.")
    return 1 if counts[FAIL] else 0


if __name__ == "__main__":
    raise SystemExit(main())
