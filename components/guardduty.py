"""GuardDuty (AV-1): threat detection at all times, malware scanning of uploads, findings to the alert topic.

* **Detector** - one per account and region. By default this component creates it
  (findings published every 15 minutes). Accounts whose detector already exists
  (often created by the organisation's delegated administrator) set
  ``kakoi:guardDutyDetectorId``: no detector is created, and only the features
  below are turned on for that detector.
* **Protection features**, one ``aws.guardduty.DetectorFeature`` each (the
  detector's ``datasources`` block is deprecated). Names from the API reference
  (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DetectorFeatureConfiguration.html,
  https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DetectorAdditionalConfiguration.html):

  - ``S3_DATA_EVENTS`` - S3 Protection: suspicious access to the media and log buckets;
  - ``RDS_LOGIN_EVENTS`` - RDS Protection: anomalous logins to the PostgreSQL database;
  - ``EBS_MALWARE_PROTECTION`` - Malware Protection for EC2 (scans volumes of
    workloads a finding points at);
  - ``RUNTIME_MONITORING`` with ``ECS_FARGATE_AGENT_MANAGEMENT`` - GuardDuty
    manages its security agent in the app's Fargate tasks. The other two additional
    configurations of that feature (``EC2_AGENT_MANAGEMENT``, ``EKS_ADDON_MANAGEMENT``) are
    declared too, ``DISABLED`` (no EC2 instances, no EKS here): ``GetDetector`` returns the
    whole set of a feature's additional configurations, the provider stores what AWS
    returns, and a declaration naming only one of them differs from it on every later
    ``pulumi up`` (a perpetual diff; docs/deploy-reality.md). The list is in name order.
    https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DetectorAdditionalConfigurationResult.html
    https://github.com/prowler-cloud/prowler/pull/12564 (a live GetDetector's additional configurations)

  Removing a DetectorFeature resource does not turn the feature off in AWS.
* **Malware Protection for S3** - a plan on the media bucket scans every new
  object and tags it ``GuardDutyMalwareScanStatus`` (NO_THREATS_FOUND,
  THREATS_FOUND, UNSUPPORTED, ACCESS_DENIED, FAILED). It runs under a role with
  exactly the documented permissions for that bucket
  (https://docs.aws.amazon.com/guardduty/latest/ug/malware-protection-s3-iam-policy-prerequisite.html):
  its own EventBridge managed rule, the bucket's EventBridge notification, read
  and tag objects, write the validation object, and (SSE-KMS bucket) decrypt
  through S3. Declared only once the media bucket exists.
* **Routing** - EventBridge rules send to the alert topic every finding of
  medium severity or higher (``severity >= 4``, numeric matching;
  https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html)
  and every S3 object scan result with ``THREATS_FOUND``
  (https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam_policies
from components.context import StackContext
from components.iam_policies import Statement
from stackconfig.detection import DetectionConfig

CONTROLS: dict[str, str] = {
    "AV-1": "GuardDuty detector (or the adopted one) with S3, RDS login, EBS malware and ECS Fargate runtime "
    "protection; Malware Protection plan scans and tags every new media object; findings of medium severity "
    "and above and malware detections go to the alert topic",
    "MON-2": "GuardDuty findings (severity >= 4) and THREATS_FOUND scan results notify the alert topic",
}

#: (feature, additional configurations turned on) - see the module docstring for why each
FEATURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("S3_DATA_EVENTS", ()),
    ("RDS_LOGIN_EVENTS", ()),
    ("EBS_MALWARE_PROTECTION", ()),
    ("RUNTIME_MONITORING", ("ECS_FARGATE_AGENT_MANAGEMENT",)),
)
#: every additional configuration AWS reports for a feature (API_DetectorAdditionalConfigurationResult):
#: all of them are declared, the ones not in FEATURES as DISABLED, so the declaration equals what AWS returns
ADDITIONAL_CONFIGURATIONS: dict[str, tuple[str, ...]] = {
    "RUNTIME_MONITORING": ("EC2_AGENT_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EKS_ADDON_MANAGEMENT"),
}


def additional_configurations(
    feature: str, enabled: Sequence[str]
) -> list[aws.guardduty.DetectorFeatureAdditionalConfigurationArgsDict] | None:
    """The full, name-ordered set of a feature's additional configurations (None when it has none)."""
    names = ADDITIONAL_CONFIGURATIONS.get(feature, ())
    unknown = set(enabled) - set(names)
    if unknown:
        raise ValueError(f"{feature}: unknown additional configuration(s) {sorted(unknown)}")
    configs: list[aws.guardduty.DetectorFeatureAdditionalConfigurationArgsDict] = [
        {"name": x, "status": "ENABLED" if x in enabled else "DISABLED"} for x in names
    ]
    return configs or None


#: GuardDuty severities: low 1.0-3.9, medium 4.0-6.9, high 7.0-8.9, critical 9.0-10.0
MIN_ALERT_SEVERITY = 4
SCAN_STATUS_TAG = "GuardDutyMalwareScanStatus"
#: the object GuardDuty writes to prove it can reach the bucket
VALIDATION_OBJECT = "malware-protection-resource-validation-object"
MANAGED_RULE_PREFIX = "DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3"


def scan_role_name(name_prefix: str) -> str:
    """The Malware Protection plan's role: the only principal GuardDuty reads and tags media objects as
    (components.media_bucket exempts it from the bucket's TLS 1.3 deny, ENC-1)."""
    return f"{name_prefix}-guardduty-malware-scan"


@dataclass(frozen=True)
class ScannedBucket:
    """A bucket Malware Protection for S3 scans (AV-1): typed handle of what GuardDuty watches besides the account."""

    #: the bucket's name (MediaBucket.bucket_name); required. AV-1
    bucket_name: pulumi.Input[str]
    #: the bucket's SSE-KMS key (Keys.media_key_arn), which the scan role may use through S3;
    #: @default None (an SSE-S3 bucket). AV-1, ENC-1
    kms_key_arn: pulumi.Input[str] | None = None
    #: object prefixes to scan; @default () (every new object). AV-1
    object_prefixes: Sequence[str] = ()


@dataclass(frozen=True)
class GuardDutyArgs:
    """Inputs of `GuardDuty` (AV-1, MON-2)."""

    #: name prefix (role and rule names), account, partition and region of the scan role's policy; required. AV-1
    context: StackContext
    #: the detection section: `guardduty_detector_id` ("" creates the detector, an ID adopts the account's
    #: existing one: kakoi:guardDutyDetectorId); required. AV-1
    config: DetectionConfig
    #: the alert topic that findings and malware detections go to (Alerts.topic_arn); required. MON-2
    alerts_topic_arn: pulumi.Input[str]
    #: the bucket to scan for malware (the media bucket); @default None (no Malware Protection plan, e.g.
    #: until the data tier declares the bucket). AV-1
    scanned: ScannedBucket | None = None


def findings_pattern() -> str:
    """GuardDuty findings of medium severity and above."""
    return json.dumps(
        {
            "source": ["aws.guardduty"],
            "detail-type": ["GuardDuty Finding"],
            "detail": {"severity": [{"numeric": [">=", MIN_ALERT_SEVERITY]}]},
        },
        separators=(",", ":"),
    )


def malware_pattern() -> str:
    """Malware Protection for S3 scan results that found a threat."""
    return json.dumps(
        {
            "source": ["aws.guardduty"],
            "detail-type": ["GuardDuty Malware Protection Object Scan Result"],
            "detail": {"scanResultDetails": {"scanResultStatus": ["THREATS_FOUND"]}},
        },
        separators=(",", ":"),
    )


def scan_role_trust(account: str) -> str:
    return iam_policies.service_trust_policy("malware-protection-plan.guardduty.amazonaws.com", source_account=account)


def scan_role_policy(partition: str, region: str, account: str, bucket: str, kms_key_arn: str | None) -> str:
    """The documented permissions of a Malware Protection for S3 role, for one bucket and nothing else."""
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    rule_arn = f"arn:{partition}:events:{region}:{account}:rule/{MANAGED_RULE_PREFIX}*"
    statements: list[Statement] = [
        {
            "Sid": "AllowManagedRuleToSendS3EventsToGuardDuty",
            "Effect": "Allow",
            "Action": ["events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets"],
            "Resource": rule_arn,
            "Condition": {"StringLike": {"events:ManagedBy": "malware-protection-plan.guardduty.amazonaws.com"}},
        },
        {
            "Sid": "AllowGuardDutyToMonitorEventBridgeManagedRule",
            "Effect": "Allow",
            "Action": ["events:DescribeRule", "events:ListTargetsByRule"],
            "Resource": rule_arn,
        },
        {
            "Sid": "AllowPostScanTag",
            "Effect": "Allow",
            "Action": ["s3:PutObjectTagging", "s3:GetObjectTagging", "s3:PutObjectVersionTagging", "s3:GetObjectVersionTagging"],
            "Resource": f"{bucket_arn}/*",
        },
        {
            "Sid": "AllowEnableS3EventBridgeEvents",
            "Effect": "Allow",
            "Action": ["s3:PutBucketNotification", "s3:GetBucketNotification"],
            "Resource": bucket_arn,
        },
        {
            "Sid": "AllowPutValidationObject",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{VALIDATION_OBJECT}",
        },
        {
            "Sid": "AllowCheckBucketOwnership",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
        },
        {
            "Sid": "AllowMalwareScan",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"{bucket_arn}/*",
        },
    ]
    if kms_key_arn:
        statements.append(
            {
                # SSE-KMS bucket: read the objects (Decrypt) and write the validation object (GenerateDataKey),
                # only through S3 in this region
                "Sid": "AllowDecryptForMalwareScan",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": kms_key_arn,
                "Condition": {"StringLike": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            }
        )
    return iam_policies.document(*statements)


class GuardDuty(pulumi.ComponentResource):
    detector: aws.guardduty.Detector | None
    detector_id: pulumi.Output[str]
    features: list[aws.guardduty.DetectorFeature]
    malware_plan: aws.guardduty.MalwareProtectionPlan | None

    def __init__(self, name: str, args: GuardDutyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:guardduty:GuardDuty", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, scanned = args.context, args.scanned
        acct = pulumi.Output.from_input(ctx.account_id)
        part = pulumi.Output.from_input(ctx.partition)

        # ---- the detector: created, or adopted by ID (an account holds one per region)
        self.detector = None
        if args.config.guardduty_detector_id:
            self.detector_id = pulumi.Output.from_input(args.config.guardduty_detector_id)
        else:
            # deleting a detector deletes every finding it holds: protected from `pulumi destroy`
            self.detector = aws.guardduty.Detector(
                name,
                enable=True,
                finding_publishing_frequency="FIFTEEN_MINUTES",
                opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
            )
            self.detector_id = self.detector.id

        # ---- protection features, one resource each
        self.features = []
        for feature, extra in FEATURES:
            self.features.append(
                aws.guardduty.DetectorFeature(
                    f"{name}-{feature.lower().replace('_', '-')}",
                    detector_id=self.detector_id,
                    name=feature,
                    status="ENABLED",
                    additional_configurations=additional_configurations(feature, extra),
                    opts=child,
                )
            )

        # ---- Malware Protection for S3 on the media bucket
        self.malware_plan = None
        self.scan_role: aws.iam.Role | None = None
        if scanned is not None:
            self.scan_role = aws.iam.Role(
                f"{name}-malware-scan",
                name=scan_role_name(ctx.name_prefix),
                description="GuardDuty Malware Protection for S3: scans and tags new objects of the media bucket",
                assume_role_policy=acct.apply(scan_role_trust),
                opts=child,
            )
            policy = pulumi.Output.all(part, acct, scanned.bucket_name, scanned.kms_key_arn).apply(
                lambda v: scan_role_policy(v[0], ctx.region, v[1], v[2], v[3])
            )
            scan_policy = aws.iam.RolePolicy(f"{name}-malware-scan", role=self.scan_role.id, policy=policy, opts=child)
            plan_deps: list[pulumi.Resource] = [scan_policy, *([self.detector] if self.detector else [])]
            s3_bucket = aws.guardduty.MalwareProtectionPlanProtectedResourceS3BucketArgs(
                bucket_name=scanned.bucket_name, object_prefixes=list(scanned.object_prefixes) or None
            )
            self.malware_plan = aws.guardduty.MalwareProtectionPlan(
                f"{name}-media",
                role=self.scan_role.arn,
                protected_resource=aws.guardduty.MalwareProtectionPlanProtectedResourceArgs(s3_bucket=s3_bucket),
                # tag every scanned object with GuardDutyMalwareScanStatus
                actions=[{"taggings": [{"status": "ENABLED"}]}],
                opts=pulumi.ResourceOptions(parent=self, depends_on=plan_deps),
            )

        # ---- routing to the alert topic (rule names start with the prefix: the topic policy requires it)
        self.findings_rule = aws.cloudwatch.EventRule(
            f"{name}-findings",
            name=f"{ctx.name_prefix}-guardduty-findings",
            description=f"GuardDuty findings of severity {MIN_ALERT_SEVERITY} (medium) and above",
            event_pattern=findings_pattern(),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-findings", rule=self.findings_rule.name, target_id="alerts-topic", arn=args.alerts_topic_arn, opts=child
        )
        self.malware_rule = aws.cloudwatch.EventRule(
            f"{name}-malware",
            name=f"{ctx.name_prefix}-malware-threats-found",
            description="GuardDuty Malware Protection for S3 found a threat in an uploaded object",
            event_pattern=malware_pattern(),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-malware", rule=self.malware_rule.name, target_id="alerts-topic", arn=args.alerts_topic_arn, opts=child
        )

        self.findings_rule_name = self.findings_rule.name
        self.malware_rule_name = self.malware_rule.name
        self.register_outputs(
            {
                "detectorId": self.detector_id,
                "findingsRule": self.findings_rule.name,
                "malwareRule": self.malware_rule.name,
                "malwarePlanArn": self.malware_plan.arn if self.malware_plan else None,
            }
        )
