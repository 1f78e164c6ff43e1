"""Availability (AVL-1, MON-1): a public probe every minute, an SLO alarm at 99.9 %, and the dashboard.

One component, five concerns, each in its own module (their resources are children of this
component, with the names they always had):

* **Canary** (``components.synthetics``) - a CloudWatch Synthetics canary probes
  ``https://<domainName>/healthz/ready`` every minute from outside the VPC, the path users take
  (DNS, WAF, load balancer, TLS 1.3, app, database readiness); its script is packaged
  deterministically and uploaded content-addressed; its Lambda's log group is created encrypted.
* **Artifacts bucket** (``components.canary_artifacts``) - KMS-encrypted with a dedicated key, no
  public access, no ACLs, TLS only, versioned, access-logged; run artifacts expire after
  ``kakoi:canaryArtifactRetentionDays``.
* **Execution role** (``components.canary_role``) - what the canary Lambda needs and nothing more.
* **Alarms** (``components.availability_alarms``) - ``availability-slo`` (successful probes over
  the rolling window below ``kakoi:availabilitySloPercent``), ``canary-failing`` (three failed
  probes in a row), the ``canary-stopped`` rule, and the ``service-down`` composite.
* **Dashboard** (``components.dashboard``) - availability, latency, errors, the WAF, database
  health, the service, the TURN relay, GuardDuty findings, alarm states.

**Only what is there**: with no app serving (``Monitored.targets_registered`` False: the ECS
service is not declared) the canary is declared stopped and no availability alarm, rule or
composite exists; when it is, the canary starts only after the service reached a steady state
(``Monitored.targets_ready``), so its first probe meets a healthy app.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import availability_alarms, canary_artifacts, canary_role, dashboard, synthetics
from components.alarms import Monitored
from components.context import StackContext
from components.contract import contract
from stackconfig.detection import DetectionConfig

CONTROLS: dict[str, str] = {
    "AVL-1": "Synthetics canary probes https://<domain>/healthz/ready every minute; an SLO alarm fires when "
    "successful probes over the rolling window fall below 99.9 %",
    "MON-1": "CloudWatch dashboard: availability, latency, errors, WAF, database health, service, TURN relay, GuardDuty findings",
    "MON-2": "availability alarms notify the alert topic",
}

HEALTH_PATH = contract.HEALTH_READY_PATH


@dataclass(frozen=True)
class AvailabilityArgs:
    """Inputs of `Availability` (AVL-1, MON-1, MON-2)."""

    #: name prefix (canary, bucket, role, alarm and dashboard names), account, partition and region; required. AVL-1
    context: StackContext
    #: the detection section: `canary_enabled` (kakoi:availabilityCanary: False stops the canary and declares
    #: no availability alarm, where it cannot reach the load balancer), `canary_runtime_version`,
    #: `canary_artifact_retention_days`, `availability_slo_percent`, `availability_window_minutes` and
    #: `log_retention_days` (the canary's log group); required. AVL-1
    config: DetectionConfig
    #: the public name the canary probes (EdgeConfig.domain_name: `https://<domain>/healthz/ready`); required. AVL-1
    domain_name: str
    #: the alert topic the availability alarms notify on ALARM and OK (Alerts.topic_arn); required. MON-2
    alerts_topic_arn: pulumi.Input[str]
    #: key of the canary's log group (Keys.logs_key_arn); required. ENC-1, MON-1
    log_group_kms_key_arn: pulumi.Input[str]
    #: the bucket that receives S3 server access logs of the artifacts bucket
    #: (LogArchive.access_logs_bucket_name); required. LOG-1
    access_logs_bucket: pulumi.Input[str]
    #: what there is to watch (the same handle as the alarms'): the dashboard shows its groups, and the canary
    #: probes only when targets are registered (`targets_registered`), starting after `targets_ready`;
    #: @default nothing (canary stopped, no availability alarm, a dashboard of the canary only). AVL-1, MON-1
    monitored: Monitored = field(default_factory=Monitored)
    #: EventBridge rules whose matches the dashboard counts as GuardDuty findings (GuardDuty.findings_rule_name,
    #: GuardDuty.malware_rule_name); @default () (no findings widget). MON-1, AV-1
    findings_rule_names: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    #: alarm ARNs (Alarms.alarm_arns and others) shown in the dashboard's alarm-status widget after the
    #: availability alarms; @default () (only the availability alarms). MON-1
    alarm_arns: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    #: names of alarms whose ALARM means the service is down (Alarms.down_alarm_names), for the `service-down`
    #: composite; @default () (the canary's alone). MON-2, AVL-1
    down_alarm_names: Sequence[pulumi.Input[str]] = field(default_factory=tuple)


class Availability(pulumi.ComponentResource):
    canary: aws.synthetics.Canary
    canary_name: str
    artifacts_bucket: aws.s3.Bucket
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    dashboard: aws.cloudwatch.Dashboard

    def __init__(self, name: str, args: AvailabilityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:availability:Availability", name, None, opts)
        ctx, cfg, mon = args.context, args.config, args.monitored
        self.canary_name = f"{ctx.name_prefix}-healthz"
        self.health_url = f"https://{args.domain_name}{HEALTH_PATH}"
        # probing only when there is an app to probe
        probing = cfg.canary_enabled and mon.targets_registered

        artifacts = canary_artifacts.declare(
            name,
            parent=self,
            context=ctx,
            retention_days=cfg.canary_artifact_retention_days,
            access_logs_bucket=args.access_logs_bucket,
        )
        self.key, self.artifacts_bucket = artifacts.key, artifacts.bucket
        self.role, role_policy = canary_role.declare(
            name,
            parent=self,
            context=ctx,
            canary_name=self.canary_name,
            bucket_arn=artifacts.bucket.arn,
            key_arn=artifacts.key.arn,
        )
        probe = synthetics.declare(
            name,
            parent=self,
            config=cfg,
            canary_name=self.canary_name,
            health_url=self.health_url,
            artifacts=artifacts,
            role_arn=self.role.arn,
            probing=probing,
            ready=[role_policy, *mon.targets_ready],
            log_group_kms_key_arn=args.log_group_kms_key_arn,
        )
        self.code, self.canary, self.log_group = probe.code, probe.canary, probe.log_group

        declared = availability_alarms.declare(
            name,
            parent=self,
            context=ctx,
            config=cfg,
            canary=self.canary,
            canary_name=self.canary_name,
            health_url=self.health_url,
            alerts_topic_arn=args.alerts_topic_arn,
            probing=probing,
            down_alarm_names=args.down_alarm_names,
        )
        self.alarms, self.stopped_rule, self.service_down = declared.alarms, declared.stopped_rule, declared.service_down

        own_alarms = [a.arn for a in self.alarms.values()] + ([self.service_down.arn] if self.service_down else [])
        self.dashboard = dashboard.declare(
            name,
            parent=self,
            context=ctx,
            canary_name=self.canary_name,
            monitored=mon,
            findings_rule_names=args.findings_rule_names,
            alarm_arns=[*own_alarms, *args.alarm_arns],
        )

        self.alarm_names = {k: a.name for k, a in self.alarms.items()}
        self.canary_failing_alarm_name = self.alarms["canary-failing"].name if probing else None
        self.register_outputs(
            {
                "canary": self.canary.name,
                "healthUrl": self.health_url,
                "artifactsBucket": self.artifacts_bucket.bucket,
                "dashboard": self.dashboard.dashboard_name,
                "alarms": self.alarm_names,
            }
        )
