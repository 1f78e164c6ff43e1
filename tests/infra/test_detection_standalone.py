"""The detection components on their own (AV-1, LOG-1, MON-1, MON-2, AVL-1): each takes a hand-made
StackContext, its config section and typed handles of what it watches, and declares only what those say."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

from tests.infra.detectionview import ALARM, COMPOSITE, RULE, render_program
from tools.stackview import StackView

PLAN = "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan"
DETECTOR = "aws:guardduty/detector:Detector"
TRAIL = "aws:cloudtrail/trail:Trail"
CANARY = "aws:synthetics/canary:Canary"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
ADOPTED = "0123456789abcdef0123456789abcdef"

PROGRAM = """
import dataclasses
from components.alarms import Alarms, AlarmsArgs, Monitored
from components.availability import Availability, AvailabilityArgs
from components.cloudtrail import CloudTrail, CloudTrailArgs, TrailArchive
from components.context import StackContext
from components.guardduty import GuardDuty, GuardDutyArgs, ScannedBucket

ctx = StackContext(project="solo", stack="test", region="ap-northeast-1", dr_region="ap-northeast-3",
                   account_id="123456789012", partition="aws", opts=opts)
topic = "arn:aws:sns:ap-northeast-1:123456789012:solo-test-alerts"
GuardDuty("gd", GuardDutyArgs(context=ctx, config=cfg.detection, alerts_topic_arn=topic), opts=opts)
GuardDuty("gd-adopted", GuardDutyArgs(
    context=dataclasses.replace(ctx, stack="adopted"),
    config=dataclasses.replace(cfg.detection, guardduty_detector_id="ADOPTED"),
    alerts_topic_arn=topic, scanned=ScannedBucket(bucket_name="solo-media")), opts=opts)
CloudTrail("trail", CloudTrailArgs(context=ctx, config=cfg.detection, archive=TrailArchive(bucket_name="solo-archive"),
                                   log_group_kms_key_arn="arn:aws:kms:ap-northeast-1:123456789012:key/logs"), opts=opts)
Alarms("alarms", AlarmsArgs(context=ctx, config=cfg.detection, alerts_topic_arn=topic,
                            monitored=Monitored(db_instance_identifier="solo-db")), opts=opts)
Availability("availability", AvailabilityArgs(
    context=ctx, config=cfg.detection, domain_name="solo.example.com", alerts_topic_arn=topic,
    log_group_kms_key_arn="arn:aws:kms:ap-northeast-1:123456789012:key/logs", access_logs_bucket="solo-access-logs"),
    opts=opts)
pulumi.export("auditLogRetentionDays", cfg.detection.audit_log_retention_days)
""".replace("ADOPTED", ADOPTED)


@cache
def _solo(tmp: str) -> StackView:
    return render_program(Path(tmp), PROGRAM)


def test_av1_guardduty_alone_creates_or_adopts_and_scans_only_a_given_bucket(tmp_path: Path) -> None:
    """AV-1: without a scanned bucket no Malware Protection plan; a detector ID in the config section adopts it."""
    view = _solo(str(tmp_path))
    assert [d.name for d in view.of_type(DETECTOR)] == ["gd"]
    plans = view.of_type(PLAN)
    assert [p.inputs["protectedResource"]["s3Bucket"]["bucketName"] for p in plans] == ["solo-media"]
    rules = {r.inputs["name"] for r in view.of_type(RULE)}
    assert {"solo-test-guardduty-findings", "solo-adopted-guardduty-findings"} <= rules


def test_log1_cloudtrail_alone_takes_its_retention_and_archive_from_its_handles(tmp_path: Path) -> None:
    """LOG-1: the trail writes to the given archive under the CloudTrail prefix; its log group keeps the audit retention."""
    view = _solo(str(tmp_path))
    trail = view.one(TRAIL).inputs
    assert (trail["name"], trail["s3BucketName"], trail["s3KeyPrefix"]) == ("solo-test-trail", "solo-archive", "cloudtrail")
    group = view.one("aws:cloudwatch/logGroup:LogGroup", "trail").inputs
    assert group["retentionInDays"] == view.stack_outputs["auditLogRetentionDays"]


def test_mon1_mon2_alarms_alone_watch_only_what_monitored_names(tmp_path: Path) -> None:
    """MON-1, MON-2: given only a database, exactly the four database alarms, named after the context's prefix."""
    view = _solo(str(tmp_path))
    names = {a.inputs["name"] for a in view.of_type(ALARM) if a.parent.endswith("alarms")}
    assert names == {f"solo-test-{k}" for k in ("db-cpu", "db-free-storage", "db-freeable-memory", "db-connections")}


def test_avl1_availability_alone_with_nothing_serving_stops_the_canary_and_declares_no_alarm(tmp_path: Path) -> None:
    """AVL-1: the default Monitored registers no targets: the canary is declared stopped, no SLO alarm, no composite,
    and the dashboard still shows the canary."""
    view = _solo(str(tmp_path))
    canary = view.one(CANARY).inputs
    assert canary["name"] == "solo-test-healthz" and canary["startCanary"] is False
    assert canary["runConfig"]["environmentVariables"]["HEALTH_URL"] == "https://solo.example.com/healthz/ready"
    assert not [a for a in view.of_type(ALARM) if a.parent.endswith("availability")]
    assert not view.of_type(COMPOSITE)
    assert view.one(DASHBOARD).inputs["dashboardName"] == "solo-test-service"


def test_monitored_defaults_declare_nothing() -> None:
    """MON-1: an empty Monitored has no group (each alarm group needs its inputs)."""
    from components.alarms import ALARMS, Monitored, dimensions

    empty = Monitored()
    assert all(dimensions(spec.group, empty, "ap-northeast-1") is None for spec in ALARMS)
    assert dataclasses.replace(empty, relay_flow_capacity=1000).relay_flow_limit == 900
