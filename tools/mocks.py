"""Deterministic stand-ins for the AWS provider under Pulumi's mock runtime.

`KakoiMocks.new_resource` returns what the provider would: the inputs plus the
computed properties the program reads (ids, ARNs, DNS names, ...), derived from
a hash of the resource's type and name so that the same program and config give
byte-identical output. `KakoiMocks.call` answers every data-source call the
program makes; an unknown call is an error (add it here), never a silent None.

Account: 123456789012 (the documented example account).
"""

from __future__ import annotations

import hashlib
import importlib
import ipaddress
import json
from collections.abc import Callable
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
PARTITION = "aws"

#: ELB log-delivery accounts for the regions kakoi uses
#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_ACCOUNTS = {"ap-northeast-1": "582318560864", "ap-northeast-3": "383597477331"}
#: Availability zones (names, ids) a typical account sees; ap-northeast-1b is closed to new accounts
AZS = {
    "ap-northeast-1": (["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"], ["apne1-az4", "apne1-az1", "apne1-az2"]),
    "ap-northeast-3": (["ap-northeast-3a", "ap-northeast-3b", "ap-northeast-3c"], ["apne3-az3", "apne3-az1", "apne3-az2"]),
}


def digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


def split_token(typ: str) -> tuple[str, str, str]:
    """'aws:ec2/vpc:Vpc' -> ('aws', 'ec2', 'Vpc')."""
    pkg, mod, name = typ.split(":")
    return pkg, mod.split("/")[0], name


# type token -> id prefix for EC2-style ids
EC2_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": "eigw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/route:Route": "r-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/networkAcl:NetworkAcl": "acl-",
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "acl-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
}

_CLASS_CACHE: dict[str, type | None] = {}


def resource_class(typ: str) -> type | None:
    """The pulumi-aws Python class of a type token (None when unknown)."""
    if typ not in _CLASS_CACHE:
        pkg, mod, name = split_token(typ)
        cls = None
        if pkg == "aws" and mod != "index":
            try:
                cls = getattr(importlib.import_module(f"pulumi_aws.{mod}"), name)
            except (ImportError, AttributeError):
                cls = None
        _CLASS_CACHE[typ] = cls
    return _CLASS_CACHE[typ]


def is_taggable(typ: str) -> bool:
    """Whether the resource has `tags_all` (so the provider's default tags apply)."""
    return hasattr(resource_class(typ), "tags_all")


def is_regional(typ: str) -> bool:
    """Whether the resource has a `region` (pulumi-aws v7); IAM, Route 53 and the like are global."""
    return hasattr(resource_class(typ), "region")


class KakoiMocks(pulumi.runtime.Mocks):
    def __init__(self, default_region: str):
        self.default_region = default_region
        # provider reference id -> (region, default tags)
        self.providers: dict[str, tuple[str, dict[str, str]]] = {}
        self.calls: Callable[[pulumi.runtime.MockCallArgs], dict[str, Any]] | None = None

    # -- helpers --------------------------------------------------------------
    def _provider(self, ref: str | None) -> tuple[str, dict[str, str]]:
        if ref:
            pid = ref.split("::")[-1]
            if pid in self.providers:
                return self.providers[pid]
        return self.default_region, {}

    def arn(self, service: str, region: str, resource: str, *, account: bool = True) -> str:
        return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT_ID if account else ''}:{resource}"

    # -- resources ------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        if not args.custom:
            return None, {}
        if typ.startswith("pulumi:providers:"):
            pid = digest(typ, name, length=8) + "-" + digest(name, typ, length=4) + "-4000-8000-" + digest(name, length=12)
            if typ == "pulumi:providers:aws":
                tags = inputs.get("defaultTags") or {}
                if isinstance(tags, str):
                    tags = json.loads(tags)
                region = str(inputs.get("region") or self.default_region)
                self.providers[pid] = (region, dict((tags or {}).get("tags") or {}))
            return pid, inputs
        region_default, default_tags = self._provider(args.provider)
        region = str(inputs.get("region") or region_default)
        state = self._state(typ, name, inputs, region)
        if typ.startswith("aws:") and is_regional(typ):
            state.setdefault("region", region)
        # provider default tags apply to global resources (IAM roles, ...) too
        if typ.startswith("aws:") and is_taggable(typ):
            state["tagsAll"] = {**default_tags, **(inputs.get("tags") or {})}
        rid = str(args.resource_id or state.pop("__id"))
        state.setdefault("id", rid)
        return rid, state

    def _state(self, typ: str, name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
        """Inputs plus computed outputs; `__id` is the resource id."""
        pkg, mod, kind = split_token(typ)
        h = digest(typ, name)
        out: dict[str, Any] = dict(inputs)
        physical = str(inputs.get("name") or f"{name}-{h[:7]}")
        rid = physical
        arn = self.arn(mod, region, f"{kind.lower()}/{physical}")
        if typ in EC2_ID_PREFIX:
            rid = EC2_ID_PREFIX[typ] + h
            arn = self.arn("ec2", region, f"{kind[0].lower() + kind[1:]}/{rid}")
        handler = SPECIAL.get(typ)
        if handler is not None:
            extra = handler(self, name, inputs, region, h)
            rid = extra.pop("__id", rid)
            arn = extra.pop("__arn", arn)
            out.update(extra)
        if pkg == "aws":
            out.setdefault("arn", arn)
        out["__id"] = rid
        return out

    # -- data sources ---------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        region, _ = self._provider(args.provider)
        region = str(args.args.get("region") or region)
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline-render",
                "userId": "AIDAOFFLINE",
                "id": ACCOUNT_ID,
            }
        if token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com", "description": region}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws", "id": PARTITION}
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names, ids = AZS.get(region, ([f"{region}a", f"{region}b", f"{region}c"], ["az1", "az2", "az3"]))
            return {"names": names, "zoneIds": ids, "id": region, "groupNames": [region]}
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            acct = ELB_ACCOUNTS.get(region)
            if acct is None:
                raise ValueError(f"no ELB log-delivery account known for {region}")
            return {"id": acct, "arn": f"arn:aws:iam::{acct}:root"}
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "id": region,
                "authorizationToken": "offline",
                "userName": "AWS",
                "password": "offline-render",
                "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com",
                "expiresAt": "1970-01-01T00:00:00Z",
            }
        if token == "aws:ec2/getPrefixList:getPrefixList":
            name = str(args.args.get("name") or "")
            pl = s3_prefix_list_id(region) if name == f"com.amazonaws.{region}.s3" else "pl-" + digest("prefix-list", name, length=8)
            return {"id": pl, "prefixListId": pl, "name": name, "cidrBlocks": ["52.219.0.0/20"], "region": region}
        if self.calls is not None:
            return self.calls(args)
        raise LookupError(f"the offline render has no mock for data source {token}; add it to tools/mocks.py")


# --- per-type computed outputs ---------------------------------------------------
Handler = Callable[[KakoiMocks, str, dict[str, Any], str, str], dict[str, Any]]


def _bucket(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    bucket = str(inputs.get("bucket") or f"{name}-{h[:8]}")
    return {
        "__id": bucket,
        "__arn": f"arn:aws:s3:::{bucket}",
        "bucket": bucket,
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
        "hostedZoneId": "Z2M4EHUR26P7ZW",
    }


def _kms_key(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    key_id = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-8{digest(name, length=3)}-{digest(name, h, length=12)}"
    return {"__id": key_id, "__arn": m.arn("kms", region, f"key/{key_id}"), "keyId": key_id}


def _kms_alias(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    alias = str(inputs.get("name") or f"alias/{name}")
    return {"__id": alias, "__arn": m.arn("kms", region, alias)}


def _lb(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    lb_name = str(inputs.get("name") or f"{name}-{h[:7]}")[:32]
    # ARN suffixes (the CloudWatch LoadBalancer dimension) start with app/ or net/ by type
    kind = {"network": "net", "gateway": "gwy"}.get(str(inputs.get("loadBalancerType") or "application"), "app")
    suffix = f"{kind}/{lb_name}/{h[:16]}"
    arn = m.arn("elasticloadbalancing", region, f"loadbalancer/{suffix}")
    return {
        "__id": arn,
        "__arn": arn,
        "arnSuffix": suffix,
        "name": lb_name,
        # NLB names are <name>-<id>.elb.<region>.amazonaws.com, in the NLB hosted zone of the region
        # https://docs.aws.amazon.com/general/latest/gr/elb.html
        "dnsName": f"{lb_name}-{h[:16]}.elb.{region}.amazonaws.com"
        if kind == "net"
        else f"{lb_name}-{int(h[:8], 16)}.{region}.elb.amazonaws.com",
        "zoneId": "Z31USIVHYNEOWT" if kind == "net" else "Z14GRHDCWA56QT",
    }


def _target_group(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    tg_name = str(inputs.get("name") or f"{name}-{h[:7]}")[:32]
    suffix = f"targetgroup/{tg_name}/{h[:16]}"
    arn = m.arn("elasticloadbalancing", region, suffix)
    return {"__id": arn, "__arn": arn, "arnSuffix": suffix, "name": tg_name}


def _listener(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    kind = "net" if "/net/" in str(inputs.get("loadBalancerArn") or "") else "app"
    arn = m.arn("elasticloadbalancing", region, f"listener/{kind}/{name}/{h[:16]}/{h[16:17]}{h[:15]}")
    return {"__id": arn, "__arn": arn}


def _certificate(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    cert_id = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-9{h[15:17]}0-{digest(name, length=12)}"
    arn = m.arn("acm", region, f"certificate/{cert_id}")
    domain = str(inputs.get("domainName") or "example.com")
    names = [domain, *(inputs.get("subjectAlternativeNames") or [])]
    return {
        "__id": arn,
        "__arn": arn,
        "domainValidationOptions": [
            {
                "domainName": d,
                "resourceRecordName": f"_{digest(d, length=32)}.{d}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{digest(d, 'v', length=32)}.acm-validations.aws.",
            }
            for d in names
        ],
        "status": "ISSUED",
    }


def _wafv2(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    acl_name = str(inputs.get("name") or name)
    wid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:17]}abc-{digest(name, length=12)}"
    return {"__id": wid, "__arn": m.arn("wafv2", region, f"regional/webacl/{acl_name}/{wid}"), "capacity": 700}


def _log_group(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    group = str(inputs.get("name") or f"{name}-{h[:7]}")
    return {"__id": group, "__arn": m.arn("logs", region, f"log-group:{group}"), "name": group}


def _iam_role(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    role = str(inputs.get("name") or f"{name}-{h[:7]}")
    return {"__id": role, "__arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}", "name": role, "uniqueId": f"AROA{h[:17].upper()}"}


def _iam_policy(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    policy = str(inputs.get("name") or f"{name}-{h[:7]}")
    arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/{policy}"
    return {"__id": arn, "__arn": arn, "name": policy, "policyId": f"ANPA{h[:17].upper()}"}


def _sns_topic(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    topic = str(inputs.get("name") or f"{name}-{h[:7]}")
    arn = m.arn("sns", region, topic)
    return {"__id": arn, "__arn": arn, "name": topic}


def _vpc(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "defaultSecurityGroupId": "sg-" + digest(name, "default-sg"),
        "defaultNetworkAclId": "acl-" + digest(name, "default-acl"),
        "defaultRouteTableId": "rtb-" + digest(name, "default-rtb"),
        "mainRouteTableId": "rtb-" + digest(name, "default-rtb"),
        "ownerId": ACCOUNT_ID,
    }
    if inputs.get("assignGeneratedIpv6CidrBlock"):
        # an Amazon-provided /56 (2406:da14::/32 is an Amazon range), canonical form as AWS returns it
        block = ipaddress.ip_network(f"2406:da14:{h[:4]}:{h[4:6]}00::/56")
        out["ipv6CidrBlock"] = str(block)
        out["ipv6AssociationId"] = "vpc-cidr-assoc-" + digest(name, "ipv6")
        out["ipv6CidrBlockNetworkBorderGroup"] = region
    return out


def _route53_record(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    rid = f"{inputs.get('zoneId')}_{inputs.get('name')}_{inputs.get('type')}"
    return {"__id": rid, "fqdn": str(inputs.get("name") or "").rstrip(".")}


def _secret(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    secret = str(inputs.get("name") or f"{name}-{h[:7]}")
    arn = m.arn("secretsmanager", region, f"secret:{secret}-{h[:6]}")
    return {"__id": arn, "__arn": arn, "name": secret}


def s3_prefix_list_id(region: str) -> str:
    """The AWS-managed prefix list of S3 in `region` (getPrefixList and the gateway endpoint agree)."""
    return "pl-" + digest("s3-prefix-list", region, length=8)


def _vpc_endpoint(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    service = str(inputs.get("serviceName") or "")
    if inputs.get("vpcEndpointType") == "Gateway":
        return {
            "prefixListId": s3_prefix_list_id(region) if service.endswith(".s3") else "pl-" + digest(service, length=8),
            "state": "available",
        }
    short = service.removeprefix(f"com.amazonaws.{region}.")
    return {
        "dnsEntries": [{"dnsName": f"vpce-{h}.{short}.{region}.vpce.amazonaws.com", "hostedZoneId": "Z2E726K9Y6RL4W"}],
        "networkInterfaceIds": ["eni-" + digest(name, str(i)) for i in range(len(inputs.get("subnetIds") or []))],
        "state": "available",
    }


def _rds_instance(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    ident = str(inputs.get("identifier") or f"{name}-{h[:7]}")
    port = int(inputs.get("port") or 5432)
    address = f"{ident}.c{h[:12]}.{region}.rds.amazonaws.com"
    out: dict[str, Any] = {
        "__id": ident,
        "__arn": m.arn("rds", region, f"db:{ident}"),
        "identifier": ident,
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "resourceId": f"db-{h.upper()[:26]}",
        "hostedZoneId": "Z24O6O9L7SGTNB",
    }
    if inputs.get("manageMasterUserPassword"):
        out["masterUserSecrets"] = [
            {
                "secretArn": m.arn(
                    "secretsmanager", region, f"secret:rds!db-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:17]}abc-{digest(name, length=12)}-{h[:6]}"
                ),
                "kmsKeyId": str(inputs.get("masterUserSecretKmsKeyId") or ""),
                "secretStatus": "active",
            }
        ]
    return out


def _backup_vault(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    vault = str(inputs.get("name") or f"{name}-{h[:7]}")
    return {"__id": vault, "__arn": m.arn("backup", region, f"backup-vault:{vault}"), "name": vault, "recoveryPoints": 0}


def _backup_plan(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    plan_id = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-8{h[15:17]}0-{digest(name, length=12)}"
    return {"__id": plan_id, "__arn": m.arn("backup", region, f"backup-plan:{plan_id}"), "version": digest(name, "v", length=32)}


# --- detection and alerting (components.guardduty, cloudtrail, alarms, availability)
def _guardduty_detector(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    detector_id = digest("detector", name, length=32)
    return {"__id": detector_id, "__arn": m.arn("guardduty", region, f"detector/{detector_id}"), "accountId": ACCOUNT_ID}


def _malware_plan(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    plan_id = digest("plan", name, length=20)
    return {"__id": plan_id, "__arn": m.arn("guardduty", region, f"malware-protection-plan/{plan_id}"), "status": "ACTIVE"}


def _trail(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    trail = str(inputs.get("name") or f"{name}-{h[:7]}")
    arn = m.arn("cloudtrail", region, f"trail/{trail}")
    return {"__id": trail, "__arn": arn, "homeRegion": region}


def _metric_alarm(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    alarm = str(inputs.get("name") or inputs.get("alarmName") or f"{name}-{h[:7]}")
    return {"__id": alarm, "__arn": m.arn("cloudwatch", region, f"alarm:{alarm}")}


def _event_rule(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    rule = str(inputs.get("name") or f"{name}-{h[:7]}")
    return {"__id": rule, "__arn": m.arn("events", region, f"rule/{rule}")}


def _canary(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    canary = str(inputs.get("name") or name)
    fn = f"cwsyn-{canary}-{h[:8]}-{h[8:12]}-4{h[12:15]}-8{h[15:17]}0-{digest(name, length=12)}"
    return {
        "__id": canary,
        "__arn": m.arn("synthetics", region, f"canary:{canary}"),
        "engineArn": m.arn("lambda", region, f"function:{fn}:1"),
        "sourceLocationArn": m.arn("lambda", region, f"layer:cwsyn-{canary}-{h[:8]}:1"),
        "status": "RUNNING" if inputs.get("startCanary") else "READY",
    }


def _bucket_object(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    key = str(inputs.get("key") or name)
    return {
        "__id": key,
        "__arn": f"arn:aws:s3:::{inputs.get('bucket')}/{key}",
        "versionId": digest("version", name, h, length=32),
        "etag": h,
    }


def _dashboard(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    dash = str(inputs.get("dashboardName") or name)
    return {
        "__id": dash,
        "__arn": f"arn:aws:cloudwatch::{ACCOUNT_ID}:dashboard/{dash}",
        "dashboardArn": f"arn:aws:cloudwatch::{ACCOUNT_ID}:dashboard/{dash}",
    }


# --- the app's deployment (components.registry, app_service, mail)
def _sqs_queue(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    """SQS: the id is the queue URL; the ARN has no resource type (arn:aws:sqs:<region>:<account>:<name>)."""
    queue = str(inputs.get("name") or f"{name}-{h[:7]}")
    url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{queue}"
    return {"__id": url, "__arn": m.arn("sqs", region, queue), "url": url}


def _ecr_repository(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    repo = str(inputs.get("name") or f"{name}-{h[:7]}")
    return {
        "__id": repo,
        "__arn": m.arn("ecr", region, f"repository/{repo}"),
        "registryId": ACCOUNT_ID,
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{repo}",
    }


def _docker_image(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    """docker-build:index:Image: a digest derived from the tags and platforms (deterministic)."""
    tags = [str(t) for t in inputs.get("tags") or []]
    image_digest = "sha256:" + hashlib.sha256("\x00".join([name, *tags, *map(str, inputs.get("platforms") or [])]).encode()).hexdigest()
    return {
        "__id": image_digest,
        "digest": image_digest,
        "ref": f"{tags[0].rsplit(':', 1)[0]}@{image_digest}" if tags else "",
        "contextHash": digest("context", name, *tags, length=64),
    }


def _ecs_task_definition(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    family = str(inputs.get("family") or name)
    arn = m.arn("ecs", region, f"task-definition/{family}:1")
    return {"__id": family, "__arn": arn, "arnWithoutRevision": m.arn("ecs", region, f"task-definition/{family}"), "revision": 1}


def _ecs_service(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    service = str(inputs.get("name") or name)
    cluster = str(inputs.get("cluster") or "default").rsplit("/", 1)[-1]
    arn = m.arn("ecs", region, f"service/{cluster}/{service}")
    return {"__id": arn, "__arn": arn}


def _ses_identity(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    identity = str(inputs.get("emailIdentity") or name)
    dkim = dict(inputs.get("dkimSigningAttributes") or {})
    dkim.update(
        {
            "tokens": [digest("dkim", identity, str(i), length=32) for i in range(3)],
            "status": "PENDING",
            "signingAttributesOrigin": "AWS_SES",
            "currentSigningKeyLength": dkim.get("nextSigningKeyLength") or "RSA_2048_BIT",
        }
    )
    return {
        "__id": identity,
        "__arn": m.arn("ses", region, f"identity/{identity}"),
        "identityType": "DOMAIN" if "@" not in identity else "EMAIL_ADDRESS",
        "dkimSigningAttributes": dkim,
        "verifiedForSendingStatus": False,
    }


def _ses_configuration_set(m: KakoiMocks, name: str, inputs: dict[str, Any], region: str, h: str) -> dict[str, Any]:
    config_set = str(inputs.get("configurationSetName") or name)
    return {"__id": config_set, "__arn": m.arn("ses", region, f"configuration-set/{config_set}")}


SPECIAL: dict[str, Handler] = {
    "aws:guardduty/detector:Detector": _guardduty_detector,
    "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan": _malware_plan,
    "aws:cloudtrail/trail:Trail": _trail,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _metric_alarm,
    "aws:cloudwatch/eventRule:EventRule": _event_rule,
    "aws:synthetics/canary:Canary": _canary,
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/replicaKey:ReplicaKey": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:lb/loadBalancer:LoadBalancer": _lb,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:lb/listener:Listener": _listener,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:wafv2/webAcl:WebAcl": _wafv2,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:route53/record:Record": _route53_record,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:rds/instance:Instance": _rds_instance,
    "aws:backup/vault:Vault": _backup_vault,
    "aws:backup/plan:Plan": _backup_plan,
    "aws:ecr/repository:Repository": _ecr_repository,
    "docker-build:index:Image": _docker_image,
    "aws:ecs/taskDefinition:TaskDefinition": _ecs_task_definition,
    "aws:ecs/service:Service": _ecs_service,
    "aws:sqs/queue:Queue": _sqs_queue,
    "aws:sesv2/emailIdentity:EmailIdentity": _ses_identity,
    "aws:sesv2/configurationSet:ConfigurationSet": _ses_configuration_set,
}
