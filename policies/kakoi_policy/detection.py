"""Detection: GuardDuty and malware scanning (AV-1), CloudTrail (LOG-1)."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from .base import ADVISORY, HIGH, MANDATORY, MEDIUM, Cfg, KakoiResourcePolicy, KakoiStackPolicy, Node, Stack, Violation
from .constants import BUCKET, CUSTOMER_MEDIA, DATA_CLASS_TAG, GUARDDUTY, GUARDDUTY_FEATURE, MALWARE_PLAN, TRAIL
from .storage import DATA_CLASSES_CONFIG, judged_as, log_targets

REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def _detector_ids(stack: Stack, cfg: Cfg) -> tuple[set[str], list[str]]:
    """(ids of enabled detectors in the stack or adopted by config, problems)."""
    ids: set[str] = set()
    problems: list[str] = []
    adopted = str(cfg["adoptedDetectorId"] or "")
    if adopted:
        ids.add(adopted)
    for det in stack.of(GUARDDUTY):
        with stack.deciding():
            if det.get("enable") is False:  # default true
                problems.append(f"GuardDuty detector {det.name} is disabled (enable=false)")
            elif det.get("id"):
                ids.add(str(det.get("id")))
    return ids, problems


def _check_guardduty(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    ids, problems = _detector_ids(stack, cfg)
    for problem in problems:
        yield None, problem
    if not ids and not stack.undecided:
        yield None, "no GuardDuty detector in the stack, and none adopted (adoptedDetectorId is empty)"


guardduty_enabled = KakoiStackPolicy(
    name="kakoi-av-guardduty-enabled",
    description=(
        "GuardDuty watches the account at all times: the stack declares an enabled detector, or the policy config "
        "names the account's existing one (adoptedDetectorId), because a region holds only one detector."
    ),
    types=(GUARDDUTY,),
    check=_check_guardduty,
    level=MANDATORY,
    severity=HIGH,
    sheet=("AV-1",),
    securityhub=("GuardDuty.1",),
    remediation=(
        "Let the detection component create aws.guardduty.Detector, or set kakoi:guardDutyDetectorId and this policy's "
        "adoptedDetectorId to the existing detector's ID."
    ),
    config={
        "adoptedDetectorId": {
            "type": "string",
            "description": "ID of an existing detector the stack adopts instead of creating one ('' when the stack creates it).",
            "default": "",
        }
    },
)


def _check_features(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    ids, _ = _detector_ids(stack, cfg)
    if cfg["managedByOrganization"]:
        return
    enabled: dict[str, set[str]] = {}
    for feat in stack.of(GUARDDUTY_FEATURE):
        with stack.deciding():
            if feat.get("status") == "ENABLED" and (not ids or str(feat.get("detectorId")) in ids):
                extra = {str(a.get("name")) for a in feat.node.nodes("additionalConfigurations") if a.get("status") == "ENABLED"}
                enabled[str(feat.get("name"))] = extra
    for name in cfg["requiredFeatures"]:
        if name not in enabled:
            yield None, f"GuardDuty feature {name} is not enabled by a DetectorFeature on the detector"
    if (
        cfg["requireEcsFargateAgent"]
        and "RUNTIME_MONITORING" in enabled
        and "ECS_FARGATE_AGENT_MANAGEMENT" not in enabled["RUNTIME_MONITORING"]
    ):
        yield None, "RUNTIME_MONITORING does not enable ECS_FARGATE_AGENT_MANAGEMENT: the app's Fargate tasks are not watched"


guardduty_features = KakoiStackPolicy(
    name="kakoi-av-guardduty-features",
    description=(
        "The detector's protection features are on (DetectorFeature resources; Detector.datasources is deprecated): "
        "S3 data events, RDS login events and runtime monitoring of the Fargate tasks by default."
    ),
    types=(GUARDDUTY,),
    check=_check_features,
    level=MANDATORY,
    severity=HIGH,
    sheet=("AV-1",),
    securityhub=("GuardDuty.9", "GuardDuty.10", "GuardDuty.11", "GuardDuty.12"),
    remediation="Declare aws.guardduty.DetectorFeature(detector_id=..., name=<feature>, status='ENABLED') for each required feature.",
    config={
        "adoptedDetectorId": {
            "type": "string",
            "description": "ID of the adopted detector (same value as kakoi-av-guardduty-enabled's).",
            "default": "",
        },
        "requiredFeatures": {
            "type": "array",
            "items": {
                "type": "string",
                "enum": [
                    "S3_DATA_EVENTS",
                    "EKS_AUDIT_LOGS",
                    "EBS_MALWARE_PROTECTION",
                    "RDS_LOGIN_EVENTS",
                    "EKS_RUNTIME_MONITORING",
                    "LAMBDA_NETWORK_LOGS",
                    "RUNTIME_MONITORING",
                ],
            },
            "description": "Detector features that must be ENABLED.",
            "default": ["S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "RUNTIME_MONITORING"],
        },
        "requireEcsFargateAgent": {
            "type": "boolean",
            "description": "RUNTIME_MONITORING must manage the agent on ECS Fargate (ECS_FARGATE_AGENT_MANAGEMENT).",
            "default": True,
        },
        "managedByOrganization": {
            "type": "boolean",
            "description": "The adopted detector's features are managed by the organization's GuardDuty administrator.",
            "default": False,
        },
    },
)


def _check_malware_scan(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    classes = [str(c) for c in cfg["dataClasses"]]
    logs = log_targets(stack)
    replicas: set[str] = set()
    for rep in stack.of(REPLICATION):
        with stack.deciding():
            for rule in rep.node.nodes("rules"):
                dest = str(rule.get("destination", "bucket") or "")
                replicas.add(dest.split(":::", 1)[-1])
    protected: set[str] = set()
    for plan in stack.of(MALWARE_PLAN):
        with stack.deciding():
            name = plan.get("protectedResource", "s3Bucket", "bucketName")
            if name:
                protected.add(str(name))
    for bucket in stack.of(*BUCKET):
        with stack.deciding():
            if not judged_as(bucket, classes):
                continue
            name = str(bucket.get("bucket") or bucket.get("id"))
            if name in replicas:
                continue  # a replica: objects were scanned when they arrived in the source bucket
            if name in logs:
                continue  # receives AWS log deliveries, not uploads
            if name not in protected:
                yield bucket.urn, f"uploads to bucket {name} are not scanned for malware (no GuardDuty MalwareProtectionPlan)"


media_malware_scan = KakoiStackPolicy(
    name="kakoi-av-media-malware-scan",
    description=(
        f"Every bucket that receives user uploads ({DATA_CLASS_TAG} in dataClasses, default {CUSTOMER_MEDIA}; a bucket "
        "without a valid tag counts as one) is watched by a GuardDuty "
        "Malware Protection plan; replication destinations are exempt because their objects were scanned at the source, "
        "and buckets that receive AWS log deliveries hold no uploads."
    ),
    types=BUCKET,
    check=_check_malware_scan,
    level=MANDATORY,
    severity=HIGH,
    sheet=("AV-1",),
    securityhub=(),
    remediation="Declare aws.guardduty.MalwareProtectionPlan(protected_resource={'s3_bucket': {'bucket_name': ...}}, role=..., actions=[tagging]).",
    config={
        "dataClasses": {
            **DATA_CLASSES_CONFIG,
            "description": f"Values of the bucket tag {DATA_CLASS_TAG} whose buckets receive user uploads.",
        }
    },
)


# --- CloudTrail -------------------------------------------------------------------------------
def _trail_problems(trail: Node) -> list[str]:
    problems = []
    if trail.get("isMultiRegionTrail") is not True:  # default false
        problems.append("is not multi-region")
    if trail.get("enableLogging") is False:  # default true
        problems.append("has logging turned off")
    if trail.get("enableLogFileValidation") is not True:  # default false
        problems.append("has no log file validation")
    if trail.get("includeGlobalServiceEvents") is False:  # default true
        problems.append("excludes global service events")
    for sel in trail.nodes("eventSelectors"):
        if sel.get("includeManagementEvents") is False or (sel.get("readWriteType") or "All") != "All":
            problems.append("does not record all read and write management events")
            break
    return problems


def _check_trail(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    if cfg["organizationTrail"]:
        return
    good = False
    findings: list[Violation] = []
    for trail in stack.of(TRAIL):
        with stack.deciding():
            problems = _trail_problems(trail.node)
            if problems:
                findings.append((trail.urn, f"trail {trail.name} " + ", ".join(problems)))
            else:
                good = True
    if not good and not stack.undecided:
        yield from findings
        if not findings:
            yield None, "no CloudTrail trail in the stack (and organizationTrail is false)"


cloudtrail_enabled = KakoiStackPolicy(
    name="kakoi-log-cloudtrail",
    description=(
        "A multi-region CloudTrail trail records every read and write management event with log file validation "
        "(tamper-evident digests), unless the organization's trail covers the account (organizationTrail)."
    ),
    types=(TRAIL,),
    check=_check_trail,
    level=MANDATORY,
    severity=HIGH,
    sheet=("LOG-1",),
    securityhub=("CloudTrail.1", "CloudTrail.4"),
    remediation="Set isMultiRegionTrail=true and enableLogFileValidation=true on the trail (components/cloudtrail.py).",
    config={
        "organizationTrail": {
            "type": "boolean",
            "description": "An organization trail already records this account.",
            "default": False,
        }
    },
)


def _check_trail_kms(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if not props.get("kmsKeyId"):
        yield "the trail's log files are encrypted with SSE-S3 only (no kmsKeyId)"


def _check_trail_cw(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if not props.get("cloudWatchLogsGroupArn"):
        yield "the trail does not deliver to CloudWatch Logs (cloudWatchLogsGroupArn)"


cloudtrail_kms = KakoiResourcePolicy(
    name="kakoi-log-cloudtrail-kms",
    description="CloudTrail log files are encrypted with a KMS key.",
    types=(TRAIL,),
    check=_check_trail_kms,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("LOG-1",),
    securityhub=("CloudTrail.2",),
    remediation="Set kmsKeyId to a key whose policy lets cloudtrail.amazonaws.com encrypt.",
)
cloudtrail_cloudwatch = KakoiResourcePolicy(
    name="kakoi-mon-cloudtrail-cloudwatch",
    description="CloudTrail also delivers to CloudWatch Logs, so API activity can raise alarms.",
    types=(TRAIL,),
    check=_check_trail_cw,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("MON-1",),
    securityhub=("CloudTrail.5",),
    remediation="Set cloudWatchLogsGroupArn (':*' suffixed) and cloudWatchLogsRoleArn.",
)

POLICIES = [guardduty_enabled, guardduty_features, media_malware_scan, cloudtrail_enabled, cloudtrail_kms, cloudtrail_cloudwatch]
