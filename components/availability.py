"""Availability (AVL-1, MON-1): a public probe every minute, an SLO alarm at 99.9 %, and the dashboard.

* **Canary** - a CloudWatch Synthetics canary runs ``components/canary/healthz_canary.py``
  every minute (``rate(1 minute)``) from outside the VPC, so it takes the path
  users take (DNS, WAF, load balancer, TLS 1.3, app, database readiness) to
  ``https://<domainName>/healthz/ready``. Runtime: a Python Synthetics runtime from
  config (``kakoi:canaryRuntimeVersion``, supported versions:
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_python_selenium.html).
  The script is zipped here in code, deterministically (fixed timestamps and
  permissions, stored uncompressed, ``python/`` folder as Synthetics requires:
  https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryCodeInput.html),
  and uploaded to the artifacts bucket under a content-addressed key.
  (pulumi-aws's ``zip_file`` is a path to a local file, so it cannot take bytes.)
* **Artifacts bucket** - KMS-encrypted with a dedicated key (rotation on), no
  public access, no ACLs, TLS only, versioned, server access logs to the log
  archive; run artifacts expire after ``kakoi:canaryArtifactRetentionDays``.
* **Execution role** - what the canary Lambda needs and nothing more
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_Roles.html):
  write its artifacts under ``artifacts/``, find the bucket, put metrics in the
  ``CloudWatchSynthetics`` namespace only, write to its own log group, and use the
  artifacts key through S3. It cannot create log groups: this component creates
  the canary's ``/aws/lambda/cwsyn-...`` group itself (KMS-encrypted, retention
  from config), named after the canary's Lambda (``engine_arn``).
* **Alarms** (to the alert topic, on ALARM and OK):
  ``availability-slo`` - the share of successful probes over the rolling window
  (``kakoi:availabilityWindowMinutes``, one probe a minute) is below
  ``kakoi:availabilitySloPercent``. Expressed as "more failed minutes in the
  window than the error budget allows" (an M-out-of-N alarm on the per-minute
  ``SuccessPercent``): with N probes, success >= SLO exactly while failures <=
  floor(N x (100 - SLO) / 100). Minutes without a probe result are ignored (they
  are not failures of the service). ``canary-failing`` - three failed probes in a row:
  the fast signal. Missing probe results are ``missing`` (not ``breaching``): a new alarm
  on a canary that has not reported yet would otherwise open in ALARM on a healthy new
  stack (CloudWatch treats every missing point of the evaluation range as bad:
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data).
  A canary that stops probing is reported instead by the ``canary-stopped`` EventBridge
  rule (``Synthetics Canary Status Change`` to ``STOPPED`` or ``ERROR``,
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/monitoring-events-eventbridge.html)
  to the alert topic. ``service-down`` - a composite alarm, in ALARM when the canary
  fails or no target is healthy (components.alarms passes its hard-down alarms).
* **Only what is there**: with no app serving (``serving`` False: the ECS service is not
  declared) the canary is declared stopped and no availability alarm, rule or composite
  exists; when it is, the canary starts only after the service reached a steady state
  (``serving_ready``), so its first probe meets a healthy app.
* **Dashboard** - availability, latency, errors, the WAF, database health, the
  service, the TURN relay beside it (healthy tasks, active/new TLS connections, TLS
  negotiation errors, CPU/memory and tasks), GuardDuty findings (matched by the routing
  rules), alarm states.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components import bucket_baseline, iam_policies, kms, kms_policies, s3_policies
from components.alarms import RUNBOOK, Monitored
from components.contract import contract
from components.iam_policies import Statement

CONTROLS: dict[str, str] = {
    "AVL-1": "Synthetics canary probes https://<domain>/healthz/ready every minute; an SLO alarm fires when "
    "successful probes over the rolling window fall below 99.9 %",
    "MON-1": "CloudWatch dashboard: availability, latency, errors, WAF, database health, service, TURN relay, GuardDuty findings",
    "MON-2": "availability alarms notify the alert topic",
}

SCRIPT = Path(__file__).parent / "canary" / "healthz_canary.py"
#: path of the script inside the zip: Python canaries keep it under python/
ZIP_ENTRY = "python/healthz_canary.py"
HANDLER = "healthz_canary.handler"
HEALTH_PATH = contract.HEALTH_READY_PATH
SCHEDULE = "rate(1 minute)"
ARTIFACTS_PREFIX = "artifacts/"
CODE_PREFIX = "code/"
#: a zip timestamp cannot be earlier than 1980-01-01
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
SYNTHETICS = "CloudWatchSynthetics"


def canary_zip(script: str | None = None) -> bytes:
    """The canary package: the same bytes for the same script, on any machine, at any time."""
    text = SCRIPT.read_text(encoding="utf-8") if script is None else script
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        info = zipfile.ZipInfo(ZIP_ENTRY, date_time=ZIP_EPOCH)
        info.create_system = 3  # unix, so the permissions below are what Lambda sees
        info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
        info.compress_type = zipfile.ZIP_STORED
        zf.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def failures_allowed(window_minutes: int, slo_percent: float) -> int:
    """Failed one-minute probes the window can hold while success stays >= the SLO."""
    # round first: 1440 * 0.1 / 100 is 1.4400000000000002 in floating point
    return math.floor(round(window_minutes * (100 - slo_percent) / 100, 9))


@dataclass(frozen=True)
class AvailabilityArgs:
    name_prefix: str
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    region: str
    domain_name: str
    alerts_topic_arn: pulumi.Input[str]
    runtime_version: str
    artifact_retention_days: int
    slo_percent: float
    window_minutes: int
    #: key of the canary's log group (Keys.logs_key_arn) and its retention
    log_group_kms_key_arn: pulumi.Input[str]
    log_retention_days: int
    #: the bucket that receives S3 server access logs (LogArchive.access_logs_bucket_name)
    access_logs_bucket: pulumi.Input[str]
    #: False stops the canary and declares no availability alarm (it cannot reach the load balancer)
    enabled: bool = True
    #: the app is declared (an ECS service registers targets): without it the canary has nothing to probe
    serving: bool = True
    #: what must exist before the canary starts (the ECS service, which `pulumi up` waits on to be steady)
    serving_ready: Sequence[pulumi.Resource] = field(default_factory=tuple)
    #: what the dashboard shows (the same inputs as the alarms; missing groups are left out)
    monitored: Monitored = field(default_factory=Monitored)
    #: EventBridge rules whose matches the dashboard counts as GuardDuty findings
    findings_rule_names: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    #: alarm ARNs (components.alarms) shown in the dashboard's alarm-status widget
    alarm_arns: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    #: names of alarms (components.alarms) whose ALARM means the service is down, for the composite
    down_alarm_names: Sequence[pulumi.Input[str]] = field(default_factory=tuple)


#: canary states in which nothing probes the app (API_CanaryStatus)
CANARY_STOPPED_STATES = ("STOPPED", "ERROR")


def canary_stopped_pattern(canary_name: str) -> str:
    """EventBridge pattern: this canary entered STOPPED or ERROR (Synthetics Canary Status Change events)."""
    return json.dumps(
        {
            "source": ["aws.synthetics"],
            "detail-type": ["Synthetics Canary Status Change"],
            "detail": {"canary-name": [canary_name], "current-state": list(CANARY_STOPPED_STATES)},
        },
        sort_keys=True,
    )


def role_trust(account: str) -> str:
    return iam_policies.service_trust_policy("lambda.amazonaws.com", source_account=account)


def role_policy(partition: str, region: str, account: str, bucket_arn: str, key_arn: str, canary_name: str) -> str:
    statements: list[Statement] = [
        {
            "Sid": "WriteArtifacts",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": f"{bucket_arn}/{ARTIFACTS_PREFIX}*",
        },
        {"Sid": "LocateArtifactsBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arn},
        # Synthetics lists buckets to check the artifact location; the action has no resource scope
        {"Sid": "ListBuckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        {
            "Sid": "PublishCanaryMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": SYNTHETICS}},
        },
        {
            # not logs:CreateLogGroup: the group is created (encrypted, with retention) by this component
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/cwsyn-{canary_name}-*:*",
        },
        {
            "Sid": "EncryptArtifacts",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        },
    ]
    return iam_policies.document(*statements)


def key_policy(partition: str, account: str) -> str:
    """Administration through IAM only: the canary role's IAM policy is what lets it use the key."""
    return kms_policies.document(kms_policies.root_admin(partition, account))


def service_down_rule(alarm_names: Sequence[str]) -> str:
    """Composite alarm rule: ALARM when any of the named alarms is in ALARM."""
    return " OR ".join(f'ALARM("{n}")' for n in alarm_names)


def log_group_name(engine_arn: str) -> str:
    """`arn:aws:lambda:<region>:<account>:function:cwsyn-<canary>-<uuid>[:<version>]` -> its log group."""
    parts = engine_arn.split(":")
    if len(parts) < 7 or parts[5] != "function":
        raise ValueError(f"not a Lambda function ARN: {engine_arn!r}")
    return f"/aws/lambda/{parts[6]}"


def dashboard_body(
    region: str,
    canary_name: str | None,
    monitored: dict[str, str | None],
    findings_rules: list[str],
    alarm_arns: list[str],
) -> str:
    """The dashboard JSON (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)."""
    widgets: list[dict[str, Any]] = []

    def add(title: str, metrics: list[list[Any]], *, stat: str = "Average", period: int = 60, **props: Any) -> None:
        widgets.append(
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region,
                    "view": "timeSeries",
                    "stat": stat,
                    "period": period,
                    "metrics": metrics,
                    **props,
                },
            }
        )

    lb, tg = monitored.get("load_balancer"), monitored.get("target_group")
    if canary_name:
        add(
            "Availability: successful probes (%)",
            [[SYNTHETICS, "SuccessPercent", "CanaryName", canary_name]],
            yAxis={"left": {"min": 0, "max": 100}},
        )
        add("Availability: probe duration (ms)", [[SYNTHETICS, "Duration", "CanaryName", canary_name]])
    if lb and tg:
        add(
            "Latency: app response time (s)",
            [
                ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", tg, {"stat": "p50", "label": "p50"}],
                ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", tg, {"stat": "p90", "label": "p90"}],
                ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", tg, {"stat": "p99", "label": "p99"}],
            ],
        )
        add(
            "Targets: healthy / unhealthy",
            [
                ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", lb, "TargetGroup", tg],
                ["AWS/ApplicationELB", "UnHealthyHostCount", "LoadBalancer", lb, "TargetGroup", tg],
            ],
            stat="Minimum",
        )
    if lb:
        add(
            "Errors: requests and 5xx",
            [
                ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb],
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb],
                *([["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, "TargetGroup", tg]] if tg else []),
                *([["AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", "LoadBalancer", lb, "TargetGroup", tg]] if tg else []),
            ],
            stat="Sum",
        )
    acl = monitored.get("web_acl")
    if acl:
        add(
            "WAF: allowed / blocked requests",
            [
                ["AWS/WAFV2", "AllowedRequests", "WebACL", acl, "Region", region, "Rule", "ALL"],
                ["AWS/WAFV2", "BlockedRequests", "WebACL", acl, "Region", region, "Rule", "ALL"],
            ],
            stat="Sum",
            period=300,
        )
    db = monitored.get("database")
    if db:
        add(
            "Database: CPU (%) and connections",
            [
                ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", db],
                ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db, {"yAxis": "right", "stat": "Maximum"}],
            ],
            period=300,
        )
        add(
            "Database: free storage and freeable memory (bytes)",
            [
                ["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", db],
                ["AWS/RDS", "FreeableMemory", "DBInstanceIdentifier", db, {"yAxis": "right"}],
            ],
            stat="Minimum",
            period=300,
        )
    cluster, service = monitored.get("cluster"), monitored.get("service")
    if cluster and service:
        add(
            "Service: CPU and memory (% of reservation)",
            [
                ["AWS/ECS", "CPUUtilization", "ClusterName", cluster, "ServiceName", service],
                ["AWS/ECS", "MemoryUtilization", "ClusterName", cluster, "ServiceName", service],
            ],
            period=300,
        )
        add(
            "Service: running / desired tasks",
            [
                ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", cluster, "ServiceName", service],
                ["ECS/ContainerInsights", "DesiredTaskCount", "ClusterName", cluster, "ServiceName", service],
            ],
        )
    rlb, rtg = monitored.get("relay_load_balancer"), monitored.get("relay_target_group")
    rcluster, rservice = monitored.get("relay_cluster"), monitored.get("relay_service")
    if rlb and rtg:
        nlb = "AWS/NetworkELB"
        add(
            "Relay: healthy / unhealthy tasks",
            [
                [nlb, "HealthyHostCount", "LoadBalancer", rlb, "TargetGroup", rtg],
                [nlb, "UnHealthyHostCount", "LoadBalancer", rlb, "TargetGroup", rtg],
            ],
            stat="Minimum",
        )
        add(
            "Relay: active and new TLS connections",
            [
                [nlb, "ActiveFlowCount_TLS", "LoadBalancer", rlb, {"stat": "Maximum", "label": "active"}],
                [nlb, "NewFlowCount_TLS", "LoadBalancer", rlb, {"stat": "Sum", "label": "new", "yAxis": "right"}],
            ],
        )
        add(
            "Relay: TLS negotiation errors (clients, tasks)",
            [
                [nlb, "ClientTLSNegotiationErrorCount", "LoadBalancer", rlb],
                [nlb, "TargetTLSNegotiationErrorCount", "LoadBalancer", rlb],
            ],
            stat="Sum",
            period=300,
        )
    if rcluster and rservice:
        add(
            "Relay: CPU and memory (% of reservation), running / desired tasks",
            [
                ["AWS/ECS", "CPUUtilization", "ClusterName", rcluster, "ServiceName", rservice],
                ["AWS/ECS", "MemoryUtilization", "ClusterName", rcluster, "ServiceName", rservice],
                ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", rcluster, "ServiceName", rservice, {"yAxis": "right"}],
                ["ECS/ContainerInsights", "DesiredTaskCount", "ClusterName", rcluster, "ServiceName", rservice, {"yAxis": "right"}],
            ],
        )
    if findings_rules:
        add(
            "GuardDuty: findings and malware detections sent to the alert topic",
            [["AWS/Events", "MatchedEvents", "RuleName", rule] for rule in findings_rules],
            stat="Sum",
            period=300,
        )
    if alarm_arns:
        widgets.append(
            {
                "type": "alarm",
                "width": 24,
                "height": 4,
                "properties": {"title": f"Alarms (runbook: {RUNBOOK})", "alarms": alarm_arns},
            }
        )
    # lay the widgets out two per row, in the order above
    for i, w in enumerate(widgets):
        w["x"] = 0 if w["width"] == 24 else (i % 2) * 12
        w["y"] = (i // 2) * 6
    return json.dumps({"widgets": widgets}, separators=(",", ":"))


class Availability(pulumi.ComponentResource):
    canary: aws.synthetics.Canary
    canary_name: str
    artifacts_bucket: aws.s3.Bucket
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    dashboard: aws.cloudwatch.Dashboard

    def __init__(self, name: str, args: AvailabilityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:availability:Availability", name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        child = pulumi.ResourceOptions(parent=self)
        acct = pulumi.Output.from_input(args.account_id)
        part = pulumi.Output.from_input(args.partition)
        self.canary_name = f"{args.name_prefix}-healthz"
        self.health_url = f"https://{args.domain_name}{HEALTH_PATH}"

        # ---- artifacts: a dedicated key and a hardened bucket
        self.key, _ = kms.customer_key(
            f"{name}-artifacts",
            parent=self,
            description=f"{args.name_prefix}: canary artifacts",
            alias=f"alias/{args.name_prefix}/canary-artifacts",
            policy=pulumi.Output.all(part, acct).apply(lambda v: key_policy(v[0], v[1])),
        )
        self.artifacts_bucket = aws.s3.Bucket(
            f"{name}-artifacts",
            bucket=acct.apply(lambda a: f"{args.name_prefix}-canary-artifacts-{a}"),
            force_destroy=False,
            opts=keep,
        )
        bucket = self.artifacts_bucket
        bucket_baseline.harden_bucket(
            f"{name}-artifacts",
            bucket,
            parent=self,
            kms_key_arn=self.key.arn,
            lifecycle_rules=[
                {
                    # run artifacts (screenshots, logs, HAR files) are kept for the retention period, then deleted
                    "id": "expire-run-artifacts",
                    "status": "Enabled",
                    "filter": {"prefix": ARTIFACTS_PREFIX},
                    "expiration": {"days": args.artifact_retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                },
                {
                    # the current script package stays (the canary is updated from it); replaced ones go
                    "id": "expire-replaced-code",
                    "status": "Enabled",
                    "filter": {"prefix": CODE_PREFIX},
                    "noncurrent_version_expiration": {"noncurrent_days": 30},
                },
                bucket_baseline.abort_incomplete_uploads_rule(),
            ],
        )
        aws.s3.BucketLogging(
            f"{name}-artifacts",
            bucket=bucket.id,
            target_bucket=args.access_logs_bucket,
            target_prefix="canary-artifacts/",
            opts=child,
        )
        bucket_policy = aws.s3.BucketPolicy(
            f"{name}-artifacts",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: s3_policies.document(s3_policies.deny_insecure_transport(arn))),
            opts=child,
        )

        # ---- the script package, content-addressed (a new script is a new key, so the canary updates)
        package = canary_zip()
        digest = hashlib.sha256(package).hexdigest()
        self.code = aws.s3.BucketObjectv2(
            f"{name}-code",
            bucket=bucket.id,
            key=f"{CODE_PREFIX}healthz-{digest[:16]}.zip",
            content_base64=base64.b64encode(package).decode("ascii"),
            content_type="application/zip",
            server_side_encryption="aws:kms",
            kms_key_id=self.key.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket_policy]),
        )

        # ---- the execution role
        self.role = aws.iam.Role(
            f"{name}-canary",
            name=f"{args.name_prefix}-canary",
            description=f"CloudWatch Synthetics canary {self.canary_name}",
            assume_role_policy=acct.apply(role_trust),
            opts=child,
        )
        role_policy_res = aws.iam.RolePolicy(
            f"{name}-canary",
            role=self.role.id,
            policy=pulumi.Output.all(part, acct, bucket.arn, self.key.arn).apply(
                lambda v: role_policy(v[0], args.region, v[1], v[2], v[3], self.canary_name)
            ),
            opts=child,
        )

        # ---- the canary (probing only when there is an app to probe)
        probing = args.enabled and args.serving
        self.canary = aws.synthetics.Canary(
            f"{name}-healthz",
            name=self.canary_name,
            runtime_version=args.runtime_version,
            handler=HANDLER,
            s3_bucket=bucket.id,
            s3_key=self.code.key,
            s3_version=self.code.version_id,
            execution_role_arn=self.role.arn,
            artifact_s3_location=bucket.id.apply(lambda b: f"s3://{b}/{ARTIFACTS_PREFIX}"),
            artifact_config={"s3_encryption": {"encryption_mode": "SSE_KMS", "kms_key_arn": self.key.arn}},
            schedule={"expression": SCHEDULE},
            run_config={
                # the script gives up after its own 10 s timeout; a run must end before the next starts
                "timeout_in_seconds": 30,
                "environment_variables": {"HEALTH_URL": self.health_url},
                "active_tracing": False,
            },
            success_retention_period=args.artifact_retention_days,
            failure_retention_period=args.artifact_retention_days,
            start_canary=probing,
            # remove the canary's Lambda function and layers with it
            delete_lambda=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy_res, *args.serving_ready]),
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-canary",
            name=self.canary.engine_arn.apply(log_group_name),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_group_kms_key_arn,
            opts=child,
        )

        # ---- availability alarms
        self.alarms = {}
        self.stopped_rule: aws.cloudwatch.EventRule | None = None
        if probing:
            budget = failures_allowed(args.window_minutes, args.slo_percent)
            self.alarms["availability-slo"] = self._alarm(
                name,
                args,
                "availability-slo",
                f"Successful probes among the last {args.window_minutes} (one a minute) below {args.slo_percent:g} % "
                f"(more than {budget} failed)",
                evaluation_periods=args.window_minutes,
                datapoints_to_alarm=budget + 1,
                # judged on the probes that ran: minutes without a result (before the canary's first run, or
                # while it is stopped) are not counted as failures here, so a new canary does not open with a
                # day of false "outage"; a probe that stops reporting is canary-failing's business
                treat_missing_data="ignore",
            )
            self.alarms["canary-failing"] = self._alarm(
                name,
                args,
                "canary-failing",
                f"{self.health_url} failed 3 probes in a row",
                evaluation_periods=3,
                datapoints_to_alarm=3,
                # judged on probes that ran: before the first run there is no data, and "breaching" would
                # open a new stack in ALARM; a canary that stops running is canary-stopped's business
                treat_missing_data="missing",
            )
            self.stopped_rule = aws.cloudwatch.EventRule(
                f"{name}-canary-stopped",
                name=f"{args.name_prefix}-canary-stopped",
                description=f"The availability canary {self.canary_name} stopped or failed: nothing probes the app",
                event_pattern=canary_stopped_pattern(self.canary_name),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-canary-stopped",
                rule=self.stopped_rule.name,
                target_id="alerts-topic",
                arn=args.alerts_topic_arn,
                opts=child,
            )

        # ---- the composite: the service is down when any hard-down signal is in ALARM
        down: list[pulumi.Input[str]] = [*([self.alarms["canary-failing"].name] if probing else []), *args.down_alarm_names]
        self.service_down: aws.cloudwatch.CompositeAlarm | None = None
        if down:
            self.service_down = aws.cloudwatch.CompositeAlarm(
                f"{name}-service-down",
                alarm_name=f"{args.name_prefix}-service-down",
                alarm_description=f"The service is down: users cannot use the app. Runbook: {RUNBOOK}#service-down",
                alarm_rule=pulumi.Output.all(*down).apply(service_down_rule),
                actions_enabled=True,
                alarm_actions=[args.alerts_topic_arn],
                ok_actions=[args.alerts_topic_arn],
                opts=child,
            )

        # ---- the dashboard
        mon = args.monitored
        inputs: dict[str, pulumi.Input[str] | None] = {
            "load_balancer": mon.load_balancer_arn_suffix,
            "target_group": mon.target_group_arn_suffix if mon.has_target_group else None,
            "web_acl": mon.web_acl_name,
            "database": mon.db_instance_identifier,
            "cluster": mon.cluster_name if mon.has_service else None,
            "service": mon.service_name if mon.has_service else None,
            "relay_load_balancer": mon.relay_load_balancer_arn_suffix if mon.has_relay else None,
            "relay_target_group": mon.relay_target_group_arn_suffix if mon.has_relay else None,
            "relay_cluster": mon.relay_cluster_name if mon.has_relay_service else None,
            "relay_service": mon.relay_service_name if mon.has_relay_service else None,
        }
        present = {k: v for k, v in inputs.items() if v is not None}
        own_alarms = [a.arn for a in self.alarms.values()] + ([self.service_down.arn] if self.service_down else [])
        body = pulumi.Output.all(
            present,
            list(args.findings_rule_names),
            [*own_alarms, *args.alarm_arns],
        ).apply(lambda v: dashboard_body(args.region, self.canary_name, v[0], v[1], v[2]))
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"{args.name_prefix}-service",
            dashboard_body=body,
            opts=child,
        )

        self.alarm_names = {k: a.name for k, a in self.alarms.items()}
        self.canary_failing_alarm_name = self.alarms["canary-failing"].name if probing else None
        self.register_outputs(
            {
                "canary": self.canary.name,
                "healthUrl": self.health_url,
                "artifactsBucket": bucket.bucket,
                "dashboard": self.dashboard.dashboard_name,
                "alarms": self.alarm_names,
            }
        )

    def _alarm(self, name: str, args: AvailabilityArgs, key: str, summary: str, **kwargs: Any) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{key}",
            name=f"{args.name_prefix}-{key}",
            alarm_description=f"{summary}. Runbook: {RUNBOOK}#{key}",
            namespace=SYNTHETICS,
            metric_name="SuccessPercent",
            dimensions={"CanaryName": self.canary.name},
            # one probe a minute: each datapoint is 100 (passed) or 0 (failed)
            statistic="Average",
            period=60,
            comparison_operator="LessThanThreshold",
            threshold=100,
            actions_enabled=True,
            alarm_actions=[args.alerts_topic_arn],
            ok_actions=[args.alerts_topic_arn],
            opts=pulumi.ResourceOptions(parent=self),
            **kwargs,
        )
