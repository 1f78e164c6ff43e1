"""GuardDuty (AV-1): detector, protection features, malware scanning of uploads, findings routed to the alert topic."""

from __future__ import annotations

import json
from functools import cache

import pytest

from components.guardduty import FEATURES, MANAGED_RULE_PREFIX, VALIDATION_OBJECT
from tests.infra.detectionview import ACCOUNT, REGION, ROLE, ROLE_POLICY, RULE, TARGET, matches, prefix, statements, topic_arn
from tools.render import RenderError, render
from tools.stackview import StackView

DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
PLAN = "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan"
ADOPTED = "0123456789abcdef0123456789abcdef"


@cache
def adopted() -> StackView:
    return StackView(render("prod", overrides={"kakoi:guardDutyDetectorId": ADOPTED}))


def test_av1_detector_publishes_every_15_minutes_and_is_protected(each_stack: StackView) -> None:
    """AV-1: one enabled detector, findings every 15 minutes, protected (deleting it deletes all findings)."""
    detector = each_stack.one(DETECTOR)
    assert detector.inputs["enable"] is True
    assert detector.inputs["findingPublishingFrequency"] == "FIFTEEN_MINUTES"
    assert detector.protect and detector.raw.get("retainOnDelete")
    assert "datasources" not in detector.inputs, "the deprecated datasources block must not be used"
    assert each_stack.stack_outputs["guardDutyDetectorId"] == detector.raw["id"]


def test_av1_each_protection_feature_is_its_own_resource_on_the_detector(each_stack: StackView) -> None:
    """AV-1: S3 data events, RDS logins, EBS malware, runtime monitoring with the ECS Fargate agent, on this detector."""
    detector = each_stack.one(DETECTOR)
    features = {f.inputs["name"]: f for f in each_stack.of_type(FEATURE)}
    assert set(features) == {"S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "EBS_MALWARE_PROTECTION", "RUNTIME_MONITORING"}
    for name, feature in features.items():
        assert feature.inputs["detectorId"] == detector.raw["id"], name
        assert feature.inputs["status"] == "ENABLED", name
    # the whole set AWS returns, in name order: only the Fargate agent is on (no perpetual diff, docs/deploy-reality.md)
    assert features["RUNTIME_MONITORING"].inputs["additionalConfigurations"] == [
        {"name": "EC2_AGENT_MANAGEMENT", "status": "DISABLED"},
        {"name": "ECS_FARGATE_AGENT_MANAGEMENT", "status": "ENABLED"},
        {"name": "EKS_ADDON_MANAGEMENT", "status": "DISABLED"},
    ]
    for name in ("S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "EBS_MALWARE_PROTECTION"):
        assert not features[name].inputs.get("additionalConfigurations"), name


def test_av1_feature_names_are_the_api_values() -> None:
    """AV-1: names AWS accepts (API_DetectorFeatureConfiguration / API_DetectorAdditionalConfiguration)."""
    valid = {"S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "EKS_RUNTIME_MONITORING",
             "LAMBDA_NETWORK_LOGS", "RUNTIME_MONITORING"}  # fmt: skip
    valid_extra = {"EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT"}
    names = [f for f, _ in FEATURES]
    assert set(names) <= valid
    # EKS_RUNTIME_MONITORING and RUNTIME_MONITORING together are an API error
    assert not {"EKS_RUNTIME_MONITORING", "RUNTIME_MONITORING"} <= set(names)
    assert {x for _, extra in FEATURES for x in extra} <= valid_extra


def test_av1_an_existing_detector_is_adopted_not_created() -> None:
    """AV-1: with kakoi:guardDutyDetectorId set, no detector is declared and the features go on that ID."""
    view = adopted()
    assert view.of_type(DETECTOR) == []
    features = view.of_type(FEATURE)
    assert len(features) == len(FEATURES)
    assert {f.inputs["detectorId"] for f in features} == {ADOPTED}
    assert view.stack_outputs["guardDutyDetectorId"] == ADOPTED
    # scanning and routing do not depend on who created the detector
    assert len(view.of_type(PLAN)) == 1
    assert {r.inputs["name"] for r in guardduty_rules(view)} == {"kakoi-prod-guardduty-findings", "kakoi-prod-malware-threats-found"}


def guardduty_rules(view: StackView) -> list:
    return [r for r in view.of_type(RULE) if r.parent.endswith("GuardDuty::guardduty")]


def test_av1_a_malformed_detector_id_is_refused() -> None:
    """AV-1: a detector ID that is not 32 lower-case alphanumerics fails the config check."""
    with pytest.raises(RenderError) as info:
        render("prod", overrides={"kakoi:guardDutyDetectorId": "not-a-detector"})
    assert info.value.exit_code == 2
    assert "kakoi:guardDutyDetectorId" in str(info.value)


def test_av1_malware_plan_scans_the_media_bucket_and_tags_objects(each_stack: StackView) -> None:
    """AV-1: every new object of the media bucket is scanned and tagged GuardDutyMalwareScanStatus."""
    plan = each_stack.one(PLAN)
    media = each_stack.one("aws:s3/bucket:Bucket", "media").outputs["bucket"]
    assert plan.inputs["protectedResource"] == {"s3Bucket": {"bucketName": media}}
    assert plan.inputs["actions"] == [{"taggings": [{"status": "ENABLED"}]}]
    role = each_stack.one(ROLE, "guardduty-malware-scan")
    assert plan.inputs["role"] == role.outputs["arn"]
    # the plan is created only once the role can do its job (GuardDuty validates the role on creation)
    policy = each_stack.one(ROLE_POLICY, "guardduty-malware-scan")
    assert policy.urn in plan.dependencies


def test_av1_scan_role_trusts_only_the_malware_protection_service_of_this_account(each_stack: StackView) -> None:
    (trust,) = each_stack.one(ROLE, "guardduty-malware-scan").json_input("assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "malware-protection-plan.guardduty.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_av1_scan_role_has_the_documented_permissions_for_the_media_bucket_only(each_stack: StackView) -> None:
    """AV-1: malware-protection-s3-iam-policy-prerequisite.html, scoped to this bucket and key, nothing else."""
    media = each_stack.one("aws:s3/bucket:Bucket", "media").outputs["bucket"]
    bucket_arn = f"arn:aws:s3:::{media}"
    media_key = each_stack.one("aws:kms/key:Key", "keys-media").outputs["arn"]
    st = statements(each_stack.one(ROLE_POLICY, "guardduty-malware-scan").inputs["policy"])
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{MANAGED_RULE_PREFIX}*"
    assert st["AllowManagedRuleToSendS3EventsToGuardDuty"]["Resource"] == rule
    assert st["AllowManagedRuleToSendS3EventsToGuardDuty"]["Condition"] == {
        "StringLike": {"events:ManagedBy": "malware-protection-plan.guardduty.amazonaws.com"}
    }
    assert st["AllowGuardDutyToMonitorEventBridgeManagedRule"]["Resource"] == rule
    assert st["AllowPostScanTag"]["Resource"] == f"{bucket_arn}/*"
    assert st["AllowEnableS3EventBridgeEvents"]["Resource"] == bucket_arn
    assert st["AllowPutValidationObject"] == {
        "Sid": "AllowPutValidationObject",
        "Effect": "Allow",
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/{VALIDATION_OBJECT}",
    }
    assert st["AllowCheckBucketOwnership"]["Action"] == "s3:ListBucket"
    assert st["AllowMalwareScan"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    kms = st["AllowDecryptForMalwareScan"]
    assert kms["Resource"] == media_key
    assert kms["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert kms["Condition"] == {"StringLike": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
    # nothing broader: every statement is an Allow on this bucket, this key or the managed rule
    for sid, s in st.items():
        assert s["Effect"] == "Allow", sid
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        for res in resources:
            assert res in (bucket_arn, f"{bucket_arn}/*", f"{bucket_arn}/{VALIDATION_OBJECT}", media_key, rule), (sid, res)
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert not any(a.endswith("*") for a in actions), (sid, actions)


FINDING = {
    "source": "aws.guardduty",
    "detail-type": "GuardDuty Finding",
    "detail": {"severity": 0.0, "type": "Recon:EC2/PortProbeUnprotectedPort"},
}


def _rule(view: StackView, suffix: str) -> dict:
    rule = next(r for r in view.of_type(RULE) if r.inputs["name"] == f"{prefix(view)}-{suffix}")
    return json.loads(rule.inputs["eventPattern"])


@pytest.mark.parametrize(
    ("severity", "alerted"), [(1.0, False), (3.9, False), (4.0, True), (5.5, True), (7.0, True), (8.9, True), (10, True)]
)
def test_av1_mon2_findings_of_medium_severity_and_above_reach_the_topic(prod: StackView, severity: float, alerted: bool) -> None:
    """AV-1, MON-2: the findings rule matches severity >= 4 (medium, high, critical) and nothing below."""
    pattern = _rule(prod, "guardduty-findings")
    event = {**FINDING, "detail": {**FINDING["detail"], "severity": severity}}
    assert matches(pattern, event) is alerted
    # other sources and detail types never match
    assert not matches(pattern, {**event, "source": "aws.securityhub"})
    assert not matches(pattern, {**event, "detail-type": "GuardDuty Malware Protection Object Scan Result"})


@pytest.mark.parametrize(
    ("status", "alerted"),
    [("THREATS_FOUND", True), ("NO_THREATS_FOUND", False), ("UNSUPPORTED", False), ("ACCESS_DENIED", False), ("FAILED", False)],
)
def test_av1_malware_scan_threats_reach_the_topic(prod: StackView, status: str, alerted: bool) -> None:
    """AV-1: a scan result with THREATS_FOUND is an alert; a clean scan is not."""
    pattern = _rule(prod, "malware-threats-found")
    event = {
        "source": "aws.guardduty",
        "detail-type": "GuardDuty Malware Protection Object Scan Result",
        "detail": {"scanStatus": "COMPLETED", "resourceType": "S3_OBJECT", "scanResultDetails": {"scanResultStatus": status}},
    }
    assert matches(pattern, event) is alerted


def test_mon2_both_rules_target_the_alert_topic_and_are_named_for_its_policy(each_stack: StackView) -> None:
    """MON-2: each routing rule has exactly one target, the alert topic, and a name the topic policy admits."""
    topic = topic_arn(each_stack)
    rules = guardduty_rules(each_stack)
    assert len(rules) == 2
    for rule in rules:
        assert rule.inputs["name"].startswith(prefix(each_stack) + "-")
        targets = [t for t in each_stack.of_type(TARGET) if t.inputs["rule"] == rule.inputs["name"]]
        assert [t.inputs["arn"] for t in targets] == [topic], rule.name
        # SNS targets use the topic's resource policy, never a role (a role breaks delivery to encrypted topics)
        assert "roleArn" not in targets[0].inputs


def test_av1_runtime_monitoring_declares_every_additional_configuration_aws_returns(each_stack: StackView) -> None:
    """AV-1: a second `pulumi up` is a no-op: RUNTIME_MONITORING declares the full set GetDetector returns
    (EC2_AGENT_MANAGEMENT, ECS_FARGATE_AGENT_MANAGEMENT, EKS_ADDON_MANAGEMENT), each once, name-ordered."""
    from components.guardduty import ADDITIONAL_CONFIGURATIONS, additional_configurations

    for feature in each_stack.of_type(FEATURE):
        declared = feature.inputs.get("additionalConfigurations") or []
        names = [c["name"] for c in declared]
        assert names == sorted(names) == list(ADDITIONAL_CONFIGURATIONS.get(feature.inputs["name"], ())), feature.name
    with pytest.raises(ValueError, match="EKS_RUNTIME"):
        additional_configurations("RUNTIME_MONITORING", ["EKS_RUNTIME"])
