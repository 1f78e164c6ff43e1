"""Detection tier: GuardDuty, CloudTrail, the alarms, the availability canary and dashboard.

Only what is declared is watched (`Monitored`). (AV-1, LOG-1, MON-1, MON-2, AVL-1)
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.alarms import Alarms, AlarmsArgs, Monitored
from components.availability import Availability, AvailabilityArgs
from components.cloudtrail import CloudTrail, CloudTrailArgs, TrailArchive
from components.context import StackContext
from components.guardduty import GuardDuty, GuardDutyArgs, ScannedBucket
from stackconfig import StackConfig
from tiers.app import App
from tiers.data import Data
from tiers.edge import EdgeTier
from tiers.foundation import Foundation


@dataclass(frozen=True)
class Detection:
    """Typed handles of the detection tier."""

    guardduty: GuardDuty
    trail: CloudTrail
    alarms: Alarms
    availability: Availability


def build(ctx: StackContext, cfg: StackConfig, base: Foundation, front: EdgeTier, data: Data, app: App) -> Detection:
    guardduty = GuardDuty(
        "guardduty",
        GuardDutyArgs(
            context=ctx,
            config=cfg.detection,
            alerts_topic_arn=base.alerts.topic_arn,
            scanned=ScannedBucket(bucket_name=data.media.bucket_name, kms_key_arn=base.keys.media_key_arn),
        ),
        opts=ctx.opts,
    )
    trail = CloudTrail(
        "trail",
        CloudTrailArgs(
            context=ctx,
            config=cfg.detection,
            archive=TrailArchive(bucket_name=base.logs.archive_bucket_name, ready=[base.logs.archive_policy]),
            log_group_kms_key_arn=base.keys.logs_key_arn,
        ),
        opts=ctx.opts,
    )
    # only what is declared is watched: without the ECS service (appServiceEnabled false) there is no
    # service to alarm on, no target to be healthy and nothing for the canary to probe
    serving = app.service.service is not None
    monitored = Monitored(
        load_balancer_arn_suffix=front.edge.load_balancer_arn_suffix,
        target_group_arn_suffix=front.edge.target_group_arn_suffix,
        web_acl_name=front.waf.name,
        # the instance's output, not the plain name: the alarms (db-free-storage treats silence as trouble) are
        # created only once the instance exists and reports
        db_instance_identifier=data.database.instance.identifier,
        cluster_name=app.service.cluster_name if serving else None,
        service_name=app.service.service_name if serving else None,
        targets_registered=serving,
        targets_ready=(app.service.service,) if app.service.service is not None else (),
        relay_load_balancer_arn_suffix=app.relay.load_balancer_arn_suffix,
        relay_target_group_arn_suffix=app.relay.target_group_arn_suffix,
        relay_cluster_name=app.relay.cluster_name if app.relay.service else None,
        relay_service_name=app.relay.service_name if app.relay.service else None,
        relay_flow_capacity=cfg.relay.flow_capacity,
    )
    alarms = Alarms(
        "alarms",
        AlarmsArgs(context=ctx, config=cfg.detection, alerts_topic_arn=base.alerts.topic_arn, monitored=monitored),
        opts=ctx.opts,
    )
    availability = Availability(
        "availability",
        AvailabilityArgs(
            context=ctx,
            config=cfg.detection,
            domain_name=cfg.edge.domain_name,
            alerts_topic_arn=base.alerts.topic_arn,
            log_group_kms_key_arn=base.keys.logs_key_arn,
            access_logs_bucket=base.logs.access_logs_bucket_name,
            monitored=monitored,
            findings_rule_names=[guardduty.findings_rule_name, guardduty.malware_rule_name],
            alarm_arns=[*alarms.alarm_arns, *app.scan_events.alarm_arns, *(app.schedules.alarm_arns if app.schedules else [])],
            down_alarm_names=alarms.down_alarm_names,
        ),
        opts=ctx.opts,
    )
    pulumi.export("guardDutyDetectorId", guardduty.detector_id)
    pulumi.export("cloudTrailArn", trail.trail_arn)
    pulumi.export("canaryName", availability.canary.name)
    pulumi.export("dashboardName", availability.dashboard.dashboard_name)

    return Detection(guardduty=guardduty, trail=trail, alarms=alarms, availability=availability)
