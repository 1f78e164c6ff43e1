"""`make preflight` (tools/preflight.py): read-only account checks derived from the render.

Against a real moto server (``moto_server`` on a free port, reached through ``AWS_ENDPOINT_URL``
like any boto3 user would) for every API moto implements; with botocore's Stubber for the ones
it does not (rds DescribeDBEngineVersions / DescribeOrderableDBInstanceOptions /
DescribeSourceRegions / DescribeEngineDefaultParameters, wafv2 ListAvailableManagedRuleGroups,
synthetics DescribeRuntimeVersions, sesv2 GetAccount, Service Quotas outside the VPC service).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.conftest import rendered_doc
from tools import preflight
from tools.preflight import FAIL, PASS, WARN, Context, Result
from tools.stackfiles import stack_values
from tools.stackview import StackView

ROOT = Path(__file__).resolve().parents[2]
REGION, DR = "ap-northeast-1", "ap-northeast-3"
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A private moto server on an ephemeral port, stopped afterwards."""
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """boto3's standard environment pointed at the moto server, with a fresh account state."""
    for k, v in {**CREDS, "AWS_ENDPOINT_URL": moto_url, "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(k, raising=False)
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    yield moto_url


def config(stack: str = "prod", **overrides: Any):
    sv = stack_values(stack, overrides=overrides)
    import stackconfig

    return stackconfig.load(sv.values, project=sv.project, stack=stack)


def context(stack: str = "prod", doc: dict[str, Any] | None = None, cfg: Any = None, **kwargs: Any) -> Context:
    session = boto3.Session()
    account = session.client("sts", region_name=REGION).get_caller_identity()["Account"]
    return Context(
        stack=stack,
        cfg=cfg or config(stack),
        view=StackView(doc or rendered_doc(stack)),
        session=session,
        account_id=account,
        **kwargs,
    )


def results(ctx: Context, name: str) -> list[Result]:
    (check,) = [c for c in preflight.CHECKS if c.name == name]
    return list(check.run(ctx))


def stubbed(service: str, region: str = REGION) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x", endpoint_url="http://stub.invalid")
    stub = Stubber(client)
    stub.activate()
    return client, stub


def statuses(rs: list[Result]) -> list[str]:
    return [r.status for r in rs]


# --- render-derived checks against moto --------------------------------------------------------
def test_enc1_tls_policy_of_every_listener_is_checked_and_an_unknown_one_fails(aws: str) -> None:
    """ENC-1: the HTTPS listener's policy exists (moto knows the TLS13 policies); an unknown name FAILs; a new
    NLB TLS listener (as i15 adds) is checked with no new code."""
    (ok,) = results(context(), "tls-policy")
    assert ok.status == PASS and "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09" in ok.subject

    doc = copy.deepcopy(rendered_doc("prod"))
    listeners = [r for r in doc["deployment"]["resources"] if r["type"] == "aws:lb/listener:Listener" and r["inputs"].get("sslPolicy")]
    listeners[0]["inputs"]["sslPolicy"] = "ELBSecurityPolicy-TLS13-1-3-2099-01"
    nlb = copy.deepcopy(listeners[0])
    nlb["urn"] = nlb["urn"].rsplit("::", 1)[0] + "::relay-tls"
    nlb["inputs"].update(protocol="TLS", port=443, sslPolicy="ELBSecurityPolicy-TLS13-1-3-2021-06")
    doc["deployment"]["resources"].append(nlb)
    rs = results(context(doc=doc), "tls-policy")
    by_policy = {r.subject.split(" ")[0]: r for r in rs}
    assert by_policy["ELBSecurityPolicy-TLS13-1-3-2099-01"].status == FAIL
    assert "kakoi:tlsPolicy" in by_policy["ELBSecurityPolicy-TLS13-1-3-2099-01"].fix
    assert by_policy["ELBSecurityPolicy-TLS13-1-3-2021-06"].status == PASS
    assert "relay-tls" in by_policy["ELBSecurityPolicy-TLS13-1-3-2021-06"].subject


def test_every_declared_vpc_endpoint_service_is_checked_and_an_unknown_one_fails(aws: str) -> None:
    """NET-1: each endpoint's service must exist in the region and the AZs the subnets use."""
    doc = copy.deepcopy(rendered_doc("prod"))
    endpoints = [r for r in doc["deployment"]["resources"] if r["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    replaced = endpoints[0]["inputs"]["serviceName"]
    declared = {e["inputs"]["serviceName"] for e in endpoints}
    endpoints[0]["inputs"]["serviceName"] = f"com.amazonaws.{REGION}.no-such-service"
    rs = results(context(doc=doc), "vpc-endpoint-service")
    subjects = {r.subject.split(" ")[0]: r for r in rs}
    assert set(subjects) == (declared - {replaced}) | {f"com.amazonaws.{REGION}.no-such-service"}
    assert subjects[f"com.amazonaws.{REGION}.no-such-service"].status == FAIL
    assert subjects[f"com.amazonaws.{REGION}.secretsmanager"].status == PASS
    assert subjects[f"com.amazonaws.{REGION}.ecr.dkr"].status == PASS


def test_av1_existing_guardduty_detector_fails_and_names_the_config_key(aws: str) -> None:
    """AV-1: an account that already has a detector: FAIL saying to set kakoi:guardDutyDetectorId to it; once set, PASS;
    a configured detector that does not exist FAILs."""
    assert statuses(results(context(), "guardduty-detector")) == [PASS]
    detector = boto3.client("guardduty", region_name=REGION).create_detector(Enable=True)["DetectorId"]
    (r,) = results(context(), "guardduty-detector")
    assert r.status == FAIL and detector in r.detail
    assert r.fix == f"pulumi config set kakoi:guardDutyDetectorId {detector} -s prod"
    adopted = context(cfg=config(**{"kakoi:guardDutyDetectorId": detector}))
    assert statuses(results(adopted, "guardduty-detector")) == [PASS]
    other = context(cfg=config(**{"kakoi:guardDutyDetectorId": "0" * 32}))
    (r,) = results(other, "guardduty-detector")
    assert r.status == FAIL and detector in r.fix


def test_av1_organisation_managed_guardduty_warns() -> None:
    """AV-1: a delegated administrator manages GuardDuty here: WARN (Stubber: moto has no organisation admin)."""
    client, stub = stubbed("guardduty")
    stub.add_response("list_detectors", {"DetectorIds": ["d" * 32]})
    stub.add_response(
        "get_administrator_account",
        {"Administrator": {"AccountId": "999999999999", "InvitationId": "i", "RelationshipStatus": "Enabled", "InvitedAt": "x"}},
        {"DetectorId": "d" * 32},
    )
    ctx = Context(
        "prod", config(**{"kakoi:guardDutyDetectorId": "d" * 32}), StackView(rendered_doc("prod")), None, "1", {"guardduty": client}
    )
    rs = results(ctx, "guardduty-detector")
    assert statuses(rs) == [PASS, WARN]
    assert "999999999999" in rs[1].detail
    stub.assert_no_pending_responses()


def zone_config(zone_id: str):
    """The prod config with moto's zone ID (moto's IDs do not look like Route 53's, which config would refuse)."""
    cfg = config()
    return dataclasses.replace(cfg, edge=dataclasses.replace(cfg.edge, hosted_zone_id=zone_id))


def test_missing_hosted_zone_fails(aws: str) -> None:
    """A hosted zone ID that is not in the account FAILs, naming the key."""
    (r,) = results(context(), "hosted-zone")
    assert r.status == FAIL and "kakoi:hostedZoneId" in r.fix


def test_hosted_zone_must_contain_the_domains_and_be_delegated(aws: str) -> None:
    """The zone exists and is public; it must contain the app and mail domains; the public NS must be its own."""
    r53 = boto3.client("route53")
    zone = r53.create_hosted_zone(Name="kakoi.example.com", CallerReference="t1")
    zid = zone["HostedZone"]["Id"].split("/")[-1]
    ours = [n.lower() for n in zone["DelegationSet"]["NameServers"]]
    zone_cfg = zone_config(zid)
    assert statuses(results(context(cfg=zone_cfg, resolve_ns=lambda _z: ours), "hosted-zone")) == [PASS]
    (r,) = results(context(cfg=zone_cfg, resolve_ns=lambda _z: ["ns1.elsewhere.example"]), "hosted-zone")
    assert r.status == FAIL and "ns1.elsewhere.example" in r.detail and ours[0] in r.fix

    def offline(_zone: str) -> list[str]:
        raise OSError("no network")

    assert statuses(results(context(cfg=zone_cfg, resolve_ns=offline), "hosted-zone")) == [WARN]
    other = r53.create_hosted_zone(Name="other.example.org", CallerReference="t2")["HostedZone"]["Id"].split("/")[-1]
    (r,) = results(context(cfg=zone_config(other), resolve_ns=lambda _z: ours), "hosted-zone")
    assert r.status == FAIL and "app.kakoi.example.com" in r.detail
    private = r53.create_hosted_zone(
        Name="kakoi.example.com", CallerReference="t3", HostedZoneConfig={"PrivateZone": True}, VPC={"VPCRegion": REGION, "VPCId": "vpc-1"}
    )["HostedZone"]["Id"].split("/")[-1]
    (r,) = results(context(cfg=zone_config(private), resolve_ns=lambda _z: ours), "hosted-zone")
    assert r.status == FAIL and "private" in r.detail


def _self_signed(domain: str) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), pem


def test_existing_certificate_must_be_issued_and_cover_the_domain(aws: str) -> None:
    """ENC-1: kakoi:certificateArn must be an issued certificate for the domain, in the stack's region."""
    acm = boto3.client("acm", region_name=REGION)
    cert, key = _self_signed("app.kakoi.example.com")
    good = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    cert, key = _self_signed("other.example.org")
    wrong = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    (r,) = results(context(cfg=config(**{"kakoi:certificateArn": good})), "certificate")
    assert r.status == PASS, r
    (r,) = results(context(cfg=config(**{"kakoi:certificateArn": wrong})), "certificate")
    assert r.status == FAIL and "not app.kakoi.example.com" in r.detail


def test_existing_ses_identity_fails_with_the_import_command(aws: str) -> None:
    """An SES identity that already exists would make CreateEmailIdentity fail: FAIL with `pulumi import`."""
    assert statuses(results(context(), "ses-identity")) == [PASS]
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="kakoi.example.com")
    (r,) = results(context(), "ses-identity")
    assert r.status == FAIL and "pulumi import aws:sesv2/emailIdentity:EmailIdentity" in r.fix


def test_names_the_stack_creates_must_be_free(aws: str) -> None:
    """A retained bucket or a secret scheduled for deletion blocks the first `pulumi up`: FAIL naming it."""
    doc = rendered_doc("prod")
    assert statuses(results(context(), "name-free")) == [PASS] * 6
    view = StackView(doc)
    bucket = view.one("aws:s3/bucket:Bucket", "media").inputs["bucket"]
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    secret = view.of_type("aws:secretsmanager/secret:Secret")[0].inputs["name"]
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name=secret, SecretString="x")
    sm.delete_secret(SecretId=secret, RecoveryWindowInDays=7)
    rs = {r.subject: r for r in results(context(), "name-free")}
    assert rs["Bucket"].status == FAIL and bucket in rs["Bucket"].detail
    assert rs["Secret"].status == FAIL and "scheduled for deletion" in rs["Secret"].detail
    assert rs["Role"].status == PASS


def test_vpc_quota_from_moto_and_fargate_vcpus_from_the_render(aws: str) -> None:
    """Quotas: VPCs per Region and interface endpoints per VPC from moto's Service Quotas; Fargate vCPUs needed
    = every service's autoscaling maximum (or desired count) x its task's vCPUs, derived from the render, so the
    scan consumer added on another branch counts without new code; FAIL above the quota (Stubber)."""
    rs = {r.subject.split(" (")[0]: r for r in results(context(), "quota")}
    assert rs["VPCs per Region"].status == PASS
    assert rs["Interface VPC endpoints per VPC"].status == PASS
    assert rs["Fargate On-Demand vCPU resource count"].status == WARN  # moto has no fargate quotas
    sq, stub = stubbed("service-quotas")
    for code, value in (("L-F678F1CE", 5.0), ("L-29B6F2EB", 50.0), ("L-3032A538", 6.0)):
        stub.add_response("get_service_quota", {"Quota": {"Value": value}}, {"ServiceCode": preflight_service(code), "QuotaCode": code})
    ctx = context(clients={"service-quotas": sq})
    rs = {r.subject.split(" (")[0]: r for r in results(ctx, "quota")}
    fargate = rs["Fargate On-Demand vCPU resource count"]
    # the web service at its autoscaling maximum (12 x 1 vCPU) + the scan consumer (1 x 0.25 vCPU) + the relay's maximum
    need = preflight.fargate_vcpus(ctx, REGION)
    assert need >= 12.25
    assert fargate.status == FAIL and f"= {need:g}, quota 6" in fargate.detail


def test_enc1_load_balancer_limits_count_the_alb_and_the_relay_nlb(aws: str) -> None:
    """ENC-1/NET-1: the relay's NLB and the ALB, derived from the render, are checked against the account's
    Elastic Load Balancing limits (moto); a limit below what exists plus what the stack adds fails (Stubber)."""
    rs = {r.subject.split(" (")[0]: r for r in results(context(), "lb-quota")}
    assert rs["application load balancers"].status == PASS, rs
    assert rs["network load balancers"].status == PASS, rs
    assert "0 existing + 1" in rs["network load balancers"].detail
    elbv2, stub = stubbed("elbv2")
    stub.add_response(
        "describe_account_limits",
        {"Limits": [{"Name": "application-load-balancers", "Max": "50"}, {"Name": "network-load-balancers", "Max": "1"}]},
    )
    stub.add_response("describe_load_balancers", {"LoadBalancers": [{"LoadBalancerName": "other", "Type": "network"}]})
    rs = {r.subject.split(" (")[0]: r for r in results(context(clients={"elbv2": elbv2}), "lb-quota")}
    assert rs["network load balancers"].status == FAIL
    assert "1 existing + 1 = 2, limit 1" in rs["network load balancers"].detail
    assert rs["application load balancers"].status == PASS


def preflight_service(code: str) -> str:
    return {
        q[1]: q[0] for q in (preflight.QUOTA_VPCS, preflight.QUOTA_INTERFACE_ENDPOINTS, preflight.QUOTA_EIPS, preflight.QUOTA_FARGATE_VCPU)
    }[code]


# --- Stubber checks (moto lacks these APIs) --------------------------------------------------------
def rds_ctx(stubs: dict[str, Any]) -> Context:
    return Context("prod", config(), StackView(rendered_doc("prod")), None, "123456789012", {("rds", r): c for r, c in stubs.items()})


def test_rds_engine_version_must_exist_in_both_regions() -> None:
    """BCP-1: PostgreSQL 18 must exist in Tokyo and Osaka (restore target), the class orderable Multi-AZ, backup
    replication supported; an Osaka without 18 FAILs."""
    tokyo, t = stubbed("rds", REGION)
    osaka, o = stubbed("rds", DR)
    t.add_response("describe_db_engine_versions", {"DBEngineVersions": [{"EngineVersion": "18.1"}, {"EngineVersion": "17.6"}]})
    t.add_response(
        "describe_orderable_db_instance_options", {"OrderableDBInstanceOptions": [{"EngineVersion": "18.1", "MultiAZCapable": True}]}
    )
    o.add_response("describe_db_engine_versions", {"DBEngineVersions": [{"EngineVersion": "17.6"}]})
    o.add_response(
        "describe_source_regions",
        {"SourceRegions": [{"RegionName": REGION, "SupportsDBInstanceAutomatedBackupsReplication": True}]},
        {"RegionName": REGION},
    )
    rs = results(rds_ctx({REGION: tokyo, DR: osaka}), "rds-engine")
    assert [(r.status, r.subject.split(" (")[0]) for r in rs] == [
        (PASS, "postgres 18"),
        (PASS, "db.m7g.large"),
        (FAIL, "postgres 18"),
        (PASS, f"backup replication {REGION} -> {DR}"),
    ]
    assert DR in rs[2].subject and "kakoi:dbEngineVersion" in rs[2].fix


def _defaults(**overrides: dict[str, Any]) -> dict[str, Any]:
    params = {
        "rds.force_ssl": {"AllowedValues": "0,1", "ApplyType": "dynamic", "IsModifiable": True},
        "ssl_min_protocol_version": {"AllowedValues": "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3", "ApplyType": "dynamic", "IsModifiable": True},
        "log_connections": {
            "AllowedValues": "receipt,authentication,authorization,setup_durations,all",
            "ApplyType": "dynamic",
            "IsModifiable": True,
        },
        "log_disconnections": {"AllowedValues": "0,1", "ApplyType": "dynamic", "IsModifiable": True},
    }
    for k, v in overrides.items():
        params[k] = {**params.get(k, {}), **v}
    return {"EngineDefaults": {"Parameters": [{"ParameterName": k, **v} for k, v in params.items()]}}


def test_sql_parameter_values_must_be_allowed_in_every_region() -> None:
    """ENC-1: rds.force_ssl=1 and ssl_min_protocol_version=TLSv1.3 etc. must be parameters of postgres18 that take our
    values and apply immediately, in both regions; a value outside AllowedValues or a static parameter FAILs."""
    tokyo, t = stubbed("rds", REGION)
    osaka, o = stubbed("rds", DR)
    for stub, defaults in (
        (t, _defaults()),
        (o, _defaults(ssl_min_protocol_version={"AllowedValues": "TLSv1.2"}, log_disconnections={"ApplyType": "static"})),
    ):
        stub.add_response("describe_db_engine_versions", {"DBEngineVersions": [{"EngineVersion": "18.1"}]})
        stub.add_response("describe_engine_default_parameters", defaults, {"DBParameterGroupFamily": "postgres18"})
    rs = results(rds_ctx({REGION: tokyo, DR: osaka}), "rds-parameters")
    assert statuses(rs) == [PASS, FAIL]
    assert "ssl_min_protocol_version=TLSv1.3: not in TLSv1.2" in rs[1].detail
    assert "log_disconnections: static" in rs[1].detail


def test_allowed_values_parsing() -> None:
    assert preflight._allowed("5", "1-10") and not preflight._allowed("11", "1-10")
    assert preflight._allowed("-1", "-1-2147483647")
    assert preflight._allowed("receipt,authorization", "receipt,authentication,authorization")
    assert not preflight._allowed("everything", "receipt,authentication")


def test_xss2_waf_managed_rule_groups_must_be_offered() -> None:
    """XSS-2: every managed rule group in the web ACL is offered (Stubber); a missing one FAILs."""
    waf, stub = stubbed("wafv2")
    offered = ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"]
    stub.add_response(
        "list_available_managed_rule_groups",
        {"ManagedRuleGroups": [{"VendorName": "AWS", "Name": n} for n in offered]},
        {"Scope": "REGIONAL"},
    )
    ctx = Context("prod", config(), StackView(rendered_doc("prod")), None, "1", {"wafv2": waf})
    rs = {r.subject.split(" ")[0]: r for r in results(ctx, "waf-managed-rule-group")}
    assert rs["AWS/AWSManagedRulesSQLiRuleSet"].status == FAIL
    assert all(rs[f"AWS/{n}"].status == PASS for n in offered)


def test_mon1_synthetics_runtime_unknown_or_deprecated_fails() -> None:
    """MON-1/AVL-1: the canary's runtime must exist and not be deprecated (Stubber)."""
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    runtime = config().detection.canary_runtime_version
    cases = (
        ([{"VersionName": runtime}], PASS),
        ([{"VersionName": runtime, "DeprecationDate": now + dt.timedelta(days=30)}], WARN),
        ([{"VersionName": runtime, "DeprecationDate": now - dt.timedelta(days=1)}], FAIL),
        ([{"VersionName": "syn-nodejs-puppeteer-9.1"}], FAIL),
    )
    for versions, expected in cases:
        client, stub = stubbed("synthetics")
        stub.add_response("describe_runtime_versions", {"RuntimeVersions": versions})
        ctx = Context("prod", config(), StackView(rendered_doc("prod")), None, "1", {"synthetics": client}, now=now)
        assert statuses(results(ctx, "synthetics-runtime")) == [expected], versions


def test_ses_sandbox_warns() -> None:
    """SES in the sandbox: WARN with the manual step (Stubber: moto has no GetAccount)."""
    for account, expected in (
        ({"ProductionAccessEnabled": False, "SendingEnabled": True}, WARN),
        ({"ProductionAccessEnabled": True, "SendingEnabled": True}, PASS),
        ({"SendingEnabled": False}, FAIL),
    ):
        client, stub = stubbed("sesv2")
        stub.add_response("get_account", account)
        ctx = Context("prod", config(), StackView(rendered_doc("prod")), None, "1", {"sesv2": client})
        assert statuses(results(ctx, "ses-account")) == [expected]


def test_access_denied_names_the_permission() -> None:
    """A refused read FAILs naming the IAM action and the policy to attach."""
    client, stub = stubbed("guardduty")
    stub.add_client_error("list_detectors", service_error_code="AccessDeniedException", http_status_code=403)
    ctx = Context("prod", config(), StackView(rendered_doc("prod")), None, "1", {"guardduty": client})
    (r,) = results(ctx, "guardduty-detector")
    assert r.status == FAIL and "guardduty:ListDetectors refused" in r.detail and "docs/preflight.md" in r.fix


# --- the CLI ------------------------------------------------------------------------------------------
def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "tools.preflight", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


#: the checks whose APIs moto implements (the rest are proven with Stubber above)
MOTO_CHECKS = "tls-policy,vpc-endpoint-service,guardduty-detector,hosted-zone,certificate,ses-identity,name-free"


def test_cli_against_moto_lines_summary_progress_and_exit_codes(moto_url: str, tmp_path: Path) -> None:
    """`make preflight`: one line per check result, a summary, progress on stderr; exit 1 on a FAIL (the prod
    zone does not exist in the empty moto account), through a named profile (AWS_PROFILE) and AWS_ENDPOINT_URL."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    (tmp_path / "config").write_text("[profile kakoi-test]\nregion = ap-northeast-1\n")
    (tmp_path / "credentials").write_text("[kakoi-test]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_PROFILE": "kakoi-test",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    proc = cli("--stack", "prod", "--only", MOTO_CHECKS, env=env)
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if re.match(r"^(PASS|WARN|FAIL)  ", line)]
    assert any(line.startswith("FAIL  hosted-zone") and "kakoi:hostedZoneId" in line for line in lines)
    assert any(line.startswith("PASS  tls-policy") for line in lines)
    assert re.search(r"preflight prod \(account 123456789012, .*\): 7 checks, \d+ results: \d+ PASS, \d+ WARN, [1-9]\d* FAIL", proc.stdout)
    assert "[1/7] TLS policies of every listener" in proc.stderr and "[7/7]" in proc.stderr
    export = tmp_path / "prod.stack.json"
    export.write_text(json.dumps(rendered_doc("prod")))
    ok = cli("--stack", "prod", "--file", str(export), "--only", "tls-policy,name-free", "--format", "json", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["summary"]["FAIL"] == 0


def test_cli_exit_2_without_credentials_or_with_a_bad_stack(tmp_path: Path) -> None:
    """No credentials: exit 2 saying how to get them; an unknown stack or a bad stack config: exit 2."""
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    proc = cli("--stack", "prod", env=env)
    assert proc.returncode == 2 and "no AWS credentials" in proc.stderr
    proc = cli("--stack", "nosuchstack", env=env)
    assert proc.returncode == 2 and "unknown stack 'nosuchstack'" in proc.stderr
    proc = cli("--stack", "prod", "--only", "nonsense", env=env)
    assert proc.returncode == 2 and "unknown check(s) nonsense" in proc.stderr


def test_docs_carry_the_exact_iam_policy() -> None:
    """docs/preflight.md holds exactly the policy `make preflight-policy` prints (the union of every check's actions),
    read-only actions only."""
    text = (ROOT / "docs" / "preflight.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- preflight-policy:begin -->\n```json\n(.*?)\n```\n<!-- preflight-policy:end -->", text, re.S)
    assert block, "docs/preflight.md: the policy block is missing"
    assert json.loads(block.group(1)) == preflight.iam_policy()
    verbs = {a.split(":")[1] for a in preflight.iam_policy()["Statement"][0]["Action"]}
    assert all(re.match(r"(Describe|Get|List|Head)", v) for v in verbs), verbs
    names = {c.name for c in preflight.CHECKS}
    assert len(names) == len(preflight.CHECKS)
    for name in names:
        assert f"`{name}`" in text, f"docs/preflight.md does not describe the check {name}"


def test_checks_registry_is_the_only_list() -> None:
    """Every check is a Check in CHECKS with a title and at least one IAM action; `select` knows them all."""
    assert [c.name for c in preflight.select("", "")] == [c.name for c in preflight.CHECKS]
    assert all(dataclasses.is_dataclass(c) and c.title and c.actions for c in preflight.CHECKS)


def test_cli_exit_2_on_an_invalid_stack_config(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A stack config that does not validate: exit 2 naming the key, before any AWS call or render."""
    real = preflight.stack_values

    def broken(stack: str):
        sv = real(stack)
        return dataclasses.replace(sv, values={**sv.values, "kakoi:tlsPolicy": "ELBSecurityPolicy-2016-08"})

    monkeypatch.setattr(preflight, "stack_values", broken)
    monkeypatch.setattr(preflight, "connect", lambda *_a: pytest.fail("no AWS call with a bad config"))
    assert preflight.main(["--stack", "prod"]) == 2
    assert "kakoi:tlsPolicy" in capsys.readouterr().err
