"""Availability (AVL-1, MON-1): the public probe, its SLO alarm, the service-down composite and the dashboard."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import re
import ssl
import threading
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.availability_alarms import failures_allowed, service_down_rule
from components.canary import healthz_canary
from components.contract import contract
from components.dashboard import dashboard_body
from components.synthetics import ZIP_ENTRY, canary_zip, log_group_name
from stackconfig.detection import CANARY_RUNTIME_PATTERN
from tests.infra.detectionview import (
    ACCOUNT,
    ALARM,
    COMPOSITE,
    KEY,
    LOG_GROUP,
    REGION,
    ROLE,
    ROLE_POLICY,
    alarms,
    prefix,
    statements,
    topic_arn,
)
from tools.render import RenderError, render
from tools.stackview import StackView

CANARY = "aws:synthetics/canary:Canary"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"


def bucket_setting(view: StackView, typ: str) -> dict:
    return view.one(f"aws:s3/{typ[0].lower() + typ[1:]}:{typ}", "availability-artifacts").inputs


# --- the canary ------------------------------------------------------------------------------


def test_avl1_canary_probes_the_readiness_url_every_minute(each_stack: StackView) -> None:
    """AVL-1: rate(1 minute), https://<domainName>/healthz/ready, a Python runtime from config, the packaged handler."""
    canary = each_stack.one(CANARY).inputs
    domain = {"prod": "app.kakoi.example.com", "staging": "staging.kakoi.example.com"}[prefix(each_stack).split("-")[1]]
    assert canary["schedule"] == {"expression": "rate(1 minute)"}
    assert canary["runConfig"]["environmentVariables"] == {"HEALTH_URL": f"https://{domain}{contract.HEALTH_READY_PATH}"}
    assert canary["runConfig"]["timeoutInSeconds"] <= 60, "a run must end before the next one starts"
    assert canary["handler"] == "healthz_canary.handler"
    assert canary["runtimeVersion"] == "syn-python-selenium-12.0"
    assert canary["deleteLambda"] is True
    assert each_stack.stack_outputs["canaryName"] == canary["name"] == f"{prefix(each_stack)}-healthz"


def test_avl1_canary_runs_in_prod_and_is_stopped_in_staging(prod: StackView, staging: StackView) -> None:
    """AVL-1: prod probes; staging's load balancer admits office networks only, so its canary is declared but stopped."""
    assert prod.one(CANARY).inputs["startCanary"] is True
    assert staging.one(CANARY).inputs["startCanary"] is False


def test_avl1_canary_code_is_the_deterministic_zip_in_the_artifacts_bucket(each_stack: StackView) -> None:
    """AVL-1: the uploaded object is exactly canary_zip(), content-addressed, and the canary pins its version."""
    canary = each_stack.one(CANARY).inputs
    obj = each_stack.one(OBJECT)
    package = canary_zip()
    assert base64.b64decode(obj.inputs["contentBase64"]) == package
    assert obj.inputs["key"] == f"code/healthz-{hashlib.sha256(package).hexdigest()[:16]}.zip"
    bucket = each_stack.one("aws:s3/bucket:Bucket", "availability-artifacts").outputs["bucket"]
    assert (canary["s3Bucket"], canary["s3Key"], canary["s3Version"]) == (bucket, obj.inputs["key"], obj.outputs["versionId"])
    assert "zipFile" not in canary


def test_avl1_zip_is_byte_identical_and_laid_out_for_python_canaries() -> None:
    """AVL-1: fixed timestamps and permissions, stored, the script under python/; a changed script changes the bytes."""
    first, second = canary_zip(), canary_zip()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        (info,) = zf.infolist()
        assert info.filename == ZIP_ENTRY == "python/healthz_canary.py"
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_STORED
        assert (info.external_attr >> 16) & 0o777 == 0o644
        assert zf.read(info).decode() == healthz_canary.__loader__.get_source(healthz_canary.__name__)  # type: ignore[union-attr]
    assert canary_zip("print('other')\n") != first


def test_avl1_runtime_version_must_be_a_python_synthetics_runtime() -> None:
    """AVL-1: the script is Python, so only syn-python-selenium-N.N is accepted."""
    assert not re.fullmatch(CANARY_RUNTIME_PATTERN, "syn-nodejs-puppeteer-9.1")
    with pytest.raises(RenderError) as info:
        render("prod", overrides={"kakoi:canaryRuntimeVersion": "syn-nodejs-puppeteer-9.1"})
    assert info.value.exit_code == 2
    assert "kakoi:canaryRuntimeVersion" in str(info.value)


# --- artifacts bucket, key, role, log group ----------------------------------------------------


def test_avl1_artifacts_bucket_is_encrypted_private_and_expires_runs(each_stack: StackView) -> None:
    """AVL-1: SSE-KMS with its own rotating key, no public access, no ACLs, versioned, TLS only, artifacts expire."""
    key = each_stack.one(KEY, "availability-artifacts")
    assert key.inputs["enableKeyRotation"] is True
    (rule,) = bucket_setting(each_stack, "BucketServerSideEncryptionConfiguration")["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"kmsMasterKeyId": key.outputs["arn"], "sseAlgorithm": "aws:kms"}
    pab = bucket_setting(each_stack, "BucketPublicAccessBlock")
    assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert bucket_setting(each_stack, "BucketOwnershipControls")["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert bucket_setting(each_stack, "BucketVersioning")["versioningConfiguration"] == {"status": "Enabled"}
    (deny,) = json.loads(bucket_setting(each_stack, "BucketPolicy")["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    rules = {r["id"]: r for r in bucket_setting(each_stack, "BucketLifecycleConfiguration")["rules"]}
    runs = rules["expire-run-artifacts"]
    assert runs["filter"] == {"prefix": "artifacts/"} and runs["expiration"] == {"days": 30}
    canary = each_stack.one(CANARY).inputs
    assert canary["artifactS3Location"].endswith("/artifacts/")
    assert canary["successRetentionPeriod"] == canary["failureRetentionPeriod"] == 30
    assert canary["artifactConfig"] == {"s3Encryption": {"encryptionMode": "SSE_KMS", "kmsKeyArn": key.outputs["arn"]}}
    # the script package is not under the expiring prefix
    assert not each_stack.one(OBJECT).inputs["key"].startswith("artifacts/")
    logs = bucket_setting(each_stack, "BucketLogging")
    assert logs["targetBucket"] == each_stack.one("aws:s3/bucket:Bucket", "logs-access-logs").outputs["bucket"]


def test_avl1_execution_role_is_least_privilege(each_stack: StackView) -> None:
    """AVL-1: artifacts prefix only, metrics in CloudWatchSynthetics only, its own log streams, the key via S3; no CreateLogGroup."""
    role = each_stack.one(ROLE, "availability-canary")
    assert each_stack.one(CANARY).inputs["executionRoleArn"] == role.outputs["arn"]
    (trust,) = role.json_input("assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    bucket_arn = each_stack.one("aws:s3/bucket:Bucket", "availability-artifacts").outputs["arn"]
    st_ = statements(each_stack.one(ROLE_POLICY, "availability-canary").inputs["policy"])
    assert st_["WriteArtifacts"]["Resource"] == f"{bucket_arn}/artifacts/*"
    assert st_["PublishCanaryMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}}
    assert st_["WriteOwnLogs"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert (
        st_["WriteOwnLogs"]["Resource"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/cwsyn-{prefix(each_stack)}-healthz-*:*"
    )
    assert st_["EncryptArtifacts"]["Resource"] == each_stack.one(KEY, "availability-artifacts").outputs["arn"]
    assert st_["EncryptArtifacts"]["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
    actions = [a for s in st_.values() for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert "logs:CreateLogGroup" not in actions
    assert not any(a.endswith(":*") or a == "*" for a in actions)
    # only ListAllMyBuckets and PutMetricData (namespace-conditioned) have no resource scope
    for sid, s in st_.items():
        if s["Resource"] == "*":
            assert sid in ("ListBuckets", "PublishCanaryMetrics"), sid


def test_avl1_canary_log_group_is_created_encrypted_with_retention(each_stack: StackView) -> None:
    """AVL-1: the canary Lambda's log group, named after its function, KMS (logs key), kakoi:logRetentionDays."""
    canary = each_stack.one(CANARY)
    group = each_stack.one(LOG_GROUP, "availability-canary").inputs
    function = canary.outputs["engineArn"].split(":")[6]
    assert group["name"] == f"/aws/lambda/{function}"
    assert function.startswith(f"cwsyn-{canary.inputs['name']}-")
    assert group["kmsKeyId"] == each_stack.one(KEY, "keys-logs").outputs["arn"]
    assert group["retentionInDays"] == 365


def test_avl1_log_group_name_parses_engine_arns() -> None:
    arn = "arn:aws:lambda:us-west-2:123456789012:function:cwsyn-my-canary-dc5015c2-db17-4cb5-afb1-EXAMPLE991:8"
    assert log_group_name(arn) == "/aws/lambda/cwsyn-my-canary-dc5015c2-db17-4cb5-afb1-EXAMPLE991"
    assert log_group_name(arn.rsplit(":", 1)[0]) == "/aws/lambda/cwsyn-my-canary-dc5015c2-db17-4cb5-afb1-EXAMPLE991"
    with pytest.raises(ValueError):
        log_group_name("arn:aws:lambda:us-west-2:123456789012:layer:x:1")


# --- the SLO alarm -------------------------------------------------------------------------------


def test_avl1_slo_alarm_fires_when_success_over_the_window_drops_below_99_9(prod: StackView) -> None:
    """AVL-1: the last 1440 one-minute probes, 99.9 %: at most 1 failure keeps the SLO, the 2nd failure alarms."""
    a = alarms(prod)["kakoi-prod-availability-slo"].inputs
    assert (a["namespace"], a["metricName"], a["dimensions"]) == (
        "CloudWatchSynthetics",
        "SuccessPercent",
        {"CanaryName": "kakoi-prod-healthz"},
    )
    assert (a["statistic"], a["period"]) == ("Average", 60)
    assert (a["comparisonOperator"], a["threshold"]) == ("LessThanThreshold", 100)
    assert a["evaluationPeriods"] == 1440
    assert a["datapointsToAlarm"] == 2
    assert a["evaluationPeriods"] * a["period"] <= 86400, "CloudWatch evaluates at most one day for sub-hour periods"
    # minutes without a probe result are not failures of the service (canary-failing reports a silent probe)
    assert a["treatMissingData"] == "ignore"
    assert a["alarmActions"] == a["okActions"] == [topic_arn(prod)]


@given(window=st.integers(min_value=60, max_value=1440), slo_tenths=st.integers(min_value=900, max_value=999))
def test_avl1_error_budget_matches_the_slo_definition(window: int, slo_tenths: int) -> None:
    """AVL-1: with N probes, success >= SLO exactly when failures <= failures_allowed(N, SLO)."""
    slo = slo_tenths / 10
    budget = failures_allowed(window, slo)
    assert (window - budget) * 1000 >= slo_tenths * window  # budget failures still meet the SLO
    assert (window - budget - 1) * 1000 < slo_tenths * window  # one more does not


def test_avl1_canary_failing_and_service_down_in_prod(prod: StackView) -> None:
    """AVL-1: three failed probes in a row alarm; service-down is ALARM when the canary fails or no target is healthy."""
    fast = alarms(prod)["kakoi-prod-canary-failing"].inputs
    assert (fast["evaluationPeriods"], fast["datapointsToAlarm"], fast["period"]) == (3, 3, 60)
    # not "breaching": a new alarm on a canary that has not reported yet would open in ALARM on a healthy
    # new stack; a canary that stops probing is reported by the canary-stopped rule instead
    assert fast["treatMissingData"] == "missing"
    rule = prod.one("aws:cloudwatch/eventRule:EventRule", "availability-canary-stopped")
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern == {
        "source": ["aws.synthetics"],
        "detail-type": ["Synthetics Canary Status Change"],
        "detail": {"canary-name": ["kakoi-prod-healthz"], "current-state": ["STOPPED", "ERROR"]},
    }
    target = prod.one("aws:cloudwatch/eventTarget:EventTarget", "availability-canary-stopped")
    assert target.inputs["arn"] == topic_arn(prod) and rule.inputs["name"].startswith("kakoi-prod-")
    composite = prod.one(COMPOSITE).inputs
    assert composite["alarmName"] == "kakoi-prod-service-down"
    assert composite["alarmRule"] == 'ALARM("kakoi-prod-canary-failing") OR ALARM("kakoi-prod-alb-no-healthy-targets")'
    assert composite["alarmActions"] == composite["okActions"] == [topic_arn(prod)]
    for name in ("kakoi-prod-canary-failing", "kakoi-prod-alb-no-healthy-targets"):
        assert alarms(prod)[name].urn in prod.one(COMPOSITE).dependencies, "the composite must be created after its alarms"


def test_avl1_staging_declares_no_availability_alarm_for_a_stopped_canary(staging: StackView) -> None:
    """AVL-1: no SLO/canary alarm that could only ever be in ALARM; service-down still watches the targets."""
    names = set(alarms(staging))
    assert "kakoi-staging-availability-slo" not in names and "kakoi-staging-canary-failing" not in names
    assert staging.one(COMPOSITE).inputs["alarmRule"] == 'ALARM("kakoi-staging-alb-no-healthy-targets")'


def test_avl1_service_down_rule_syntax() -> None:
    assert service_down_rule(["a"]) == 'ALARM("a")'
    assert service_down_rule(["a", "b", "c"]) == 'ALARM("a") OR ALARM("b") OR ALARM("c")'


# --- the dashboard -------------------------------------------------------------------------------


def _metrics(body: dict) -> set[tuple[str, str]]:
    return {(m[0], m[1]) for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]}


def test_mon1_dashboard_shows_availability_latency_errors_database_and_guardduty(each_stack: StackView) -> None:
    """MON-1: one dashboard with every area the sheet asks to see, alarm states included."""
    dash = each_stack.one("aws:cloudwatch/dashboard:Dashboard")
    assert dash.inputs["dashboardName"] == each_stack.stack_outputs["dashboardName"] == f"{prefix(each_stack)}-service"
    body = json.loads(dash.inputs["dashboardBody"])
    metrics = _metrics(body)
    for want in [
        ("CloudWatchSynthetics", "SuccessPercent"),
        ("AWS/ApplicationELB", "TargetResponseTime"),
        ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/WAFV2", "BlockedRequests"),
        ("AWS/RDS", "CPUUtilization"),
        ("AWS/RDS", "FreeStorageSpace"),
        ("AWS/RDS", "FreeableMemory"),
        ("AWS/RDS", "DatabaseConnections"),
        ("AWS/Events", "MatchedEvents"),
    ]:
        assert want in metrics, want
    rules = {m[3] for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"] if m[0] == "AWS/Events"}
    assert rules == {f"{prefix(each_stack)}-guardduty-findings", f"{prefix(each_stack)}-malware-threats-found"}
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    shown = set(alarm_widget["properties"]["alarms"])
    every_alarm = {
        a.outputs["arn"]
        for a in each_stack.of_type(ALARM) + each_stack.of_type(COMPOSITE)
        if a.inputs.get("alarmActions") == [topic_arn(each_stack)]
    }
    assert every_alarm <= shown
    for w in body["widgets"]:
        assert w["type"] != "metric" or w["properties"]["region"] == REGION


def test_mon1_dashboard_leaves_out_what_is_not_declared() -> None:
    """MON-1: without a database or service, no widget refers to them (no empty graphs)."""
    body = json.loads(dashboard_body(REGION, "c", {"load_balancer": "app/x/1"}, [], []))
    namespaces = {m[0] for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert namespaces == {"CloudWatchSynthetics", "AWS/ApplicationELB"}
    assert all(w["type"] == "metric" for w in body["widgets"])


# --- the probe script itself ---------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {"/ok": (200, {}), "/down": (503, {}), "/moved": (302, {"Location": "/ok"}), "/teapot": (418, {})}

    def do_GET(self) -> None:
        status, headers = self.routes.get(self.path, (404, {}))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(b"ready" if status == 200 else b"no")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_avl1_probe_passes_on_200(server: str) -> None:
    assert healthz_canary.check(f"{server}/ok", timeout=5) == 200


@pytest.mark.parametrize(("path", "why"), [("/down", "HTTP 503"), ("/teapot", "HTTP 418"), ("/moved", "HTTP 302"), ("/nope", "HTTP 404")])
def test_avl1_probe_fails_on_errors_and_does_not_follow_redirects(server: str, path: str, why: str) -> None:
    """AVL-1: an error status or a redirect fails the run (a readiness URL answers 200 itself)."""
    with pytest.raises(RuntimeError, match=why):
        healthz_canary.check(f"{server}{path}", timeout=5)


def test_avl1_probe_fails_when_nothing_listens() -> None:
    with pytest.raises(RuntimeError, match="unreachable"):
        healthz_canary.check("http://127.0.0.1:9/", timeout=2)


def test_avl1_probe_insists_on_https_and_tls13(monkeypatch: pytest.MonkeyPatch) -> None:
    """AVL-1, ENC-1: the handler refuses a non-https URL; its TLS context verifies and starts at TLS 1.3."""
    monkeypatch.setenv("HEALTH_URL", "http://app.kakoi.example.com/healthz/ready")
    with pytest.raises(RuntimeError, match="https"):
        healthz_canary.handler({}, None)
    ctx = healthz_canary.tls13_context()
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_3
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    with pytest.raises(RuntimeError, match="not an http"):
        healthz_canary.check("file:///etc/passwd")
