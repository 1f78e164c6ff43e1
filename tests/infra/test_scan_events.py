"""Malware scan results as events (AV-1, issue 12): rule -> encrypted queue with DLQ and alarms -> the consumer service."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import scan_events
from tests.infra import deployview as dv
from tests.infra.detectionview import ACCOUNT, ALARM, KEY, REGION, ROLE, ROLE_POLICY, RULE, TARGET, matches, prefix, statements, topic_arn
from tools.stackview import Res, StackView

QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
REDRIVE_ALLOW = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"


def queues(view: StackView) -> tuple[Res, Res]:
    by_name = {q.inputs["name"]: q for q in view.of_type(QUEUE)}
    return by_name[f"{prefix(view)}-scan-results"], by_name[f"{prefix(view)}-scan-results-dlq"]


def media_bucket(view: StackView) -> str:
    return str(view.stack_outputs["mediaBucket"])


def sample_event(bucket: str, status: str = "NO_THREATS_FOUND") -> dict[str, Any]:
    """The documented event (https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html)."""
    return {
        "version": "0",
        "id": "af93f050-ee86-3db9-a262-4f8aefc49cec",
        "detail-type": "GuardDuty Malware Protection Object Scan Result",
        "source": "aws.guardduty",
        "account": ACCOUNT,
        "region": REGION,
        "detail": {
            "schemaVersion": "1.0",
            "scanStatus": "COMPLETED",
            "resourceType": "S3_OBJECT",
            "s3ObjectDetails": {"bucketName": bucket, "objectKey": "t/x/u/y/z", "eTag": "e", "versionId": "v", "s3Throttled": False},
            "scanResultDetails": {"scanResultStatus": status, "threats": None},
        },
    }


def test_av1_the_rule_sends_every_scan_result_of_the_media_bucket_to_the_queue(each_stack: StackView) -> None:
    """AV-1: the rule matches the documented event of the media bucket, every result, and nothing of another bucket."""
    rule = each_stack.one(RULE, "scan-events-rule")
    pattern = json.loads(rule.inputs["eventPattern"])
    bucket = media_bucket(each_stack)
    for status in ("NO_THREATS_FOUND", "THREATS_FOUND", "UNSUPPORTED", "ACCESS_DENIED", "FAILED"):
        assert matches(pattern, sample_event(bucket, status)), status
    assert not matches(pattern, sample_event("another-bucket"))
    assert not matches(pattern, {**sample_event(bucket), "detail-type": "GuardDuty Finding"})
    queue, dlq = queues(each_stack)
    (target,) = [t for t in each_stack.of_type(TARGET) if t.inputs["rule"] == rule.inputs["name"]]
    assert target.inputs["arn"] == queue.outputs["arn"]
    assert target.inputs["deadLetterConfig"] == {"arn": dlq.outputs["arn"]}
    assert target.inputs["retryPolicy"]["maximumEventAgeInSeconds"] <= 86400


def test_enc1_av1_queues_are_encrypted_with_their_own_rotated_key_that_only_this_rule_may_use(each_stack: StackView) -> None:
    """ENC-1 / AV-1: both queues use one customer-managed key (rotated, protected); EventBridge may use it only for
    this rule; the account's principals only through SQS."""
    queue, dlq = queues(each_stack)
    key = each_stack.one(KEY, "scan-events-key")
    assert queue.inputs["kmsMasterKeyId"] == dlq.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True and key.protect
    policy = statements(key.inputs["policy"])
    rule_arn = each_stack.one(RULE, "scan-events-rule").outputs["arn"]
    events = policy["EventBridgeDeliversScanResults"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert set(events["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert events["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}
    assert policy["UseThroughSqs"]["Condition"]["StringEquals"]["kms:ViaService"] == f"sqs.{REGION}.amazonaws.com"


def test_av1_queue_policies_accept_only_this_rule_and_tls(each_stack: StackView) -> None:
    """AV-1 / ENC-1: SendMessage only by EventBridge for this rule (to the queue and, for failed deliveries, the DLQ);
    every request without TLS refused."""
    rule_arn = each_stack.one(RULE, "scan-events-rule").outputs["arn"]
    queue, dlq = queues(each_stack)
    policies = {p.inputs["queueUrl"]: statements(p.inputs["policy"]) for p in each_stack.of_type(QUEUE_POLICY)}
    for q in (queue, dlq):
        policy = policies[q.outputs["url"]]
        send = policy["EventBridgeScanResults"]
        assert send["Action"] == "sqs:SendMessage" and send["Resource"] == q.outputs["arn"]
        assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}
        deny = policy["DenyInsecureTransport"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_av1_undeliverable_messages_move_to_the_dead_letter_queue(each_stack: StackView) -> None:
    """AV-1: after 5 receives without a delete (a malformed event) a message moves to the DLQ, kept 14 days; the DLQ
    accepts redrives from this queue only."""
    queue, dlq = queues(each_stack)
    redrive = json.loads(queue.inputs["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": 5}
    assert dlq.inputs["messageRetentionSeconds"] == 14 * 24 * 3600
    assert queue.inputs["visibilityTimeoutSeconds"] >= 30 and queue.inputs["receiveWaitTimeSeconds"] == 20
    (allow,) = each_stack.of_type(REDRIVE_ALLOW)
    assert json.loads(allow.inputs["redriveAllowPolicy"]) == {"redrivePermission": "byQueue", "sourceQueueArns": [queue.outputs["arn"]]}


def test_mon1_scan_alarms_watch_age_depth_dlq_and_the_consumer(each_stack: StackView) -> None:
    """MON-1 / MON-2: oldest-message age and depth of the queue, anything in the DLQ, no running consumer; ALARM and OK
    to the alert topic; a quiet new stack raises none (missing SQS data is not breaching)."""
    p = prefix(each_stack)
    by_name = {a.inputs["name"]: a for a in each_stack.of_type(ALARM)}
    queue, dlq = queues(each_stack)
    expect = {
        f"{p}-scan-queue-age": ("ApproximateAgeOfOldestMessage", queue, 900.0),
        f"{p}-scan-queue-depth": ("ApproximateNumberOfMessagesVisible", queue, 100.0),
        f"{p}-scan-dlq-messages": ("ApproximateNumberOfMessagesVisible", dlq, 0.0),
    }
    for name, (metric, q, threshold) in expect.items():
        alarm = by_name[name].inputs
        assert (alarm["namespace"], alarm["metricName"], alarm["dimensions"]) == ("AWS/SQS", metric, {"QueueName": q.inputs["name"]})
        assert alarm["threshold"] == threshold and alarm["comparisonOperator"] == "GreaterThanThreshold"
        assert alarm["treatMissingData"] == "notBreaching"
        assert alarm["alarmActions"] == alarm["okActions"] == [topic_arn(each_stack)]
    down = by_name[f"{p}-scan-consumer-down"].inputs
    assert down["dimensions"] == {"ClusterName": p, "ServiceName": f"{p}-scan-consumer"}
    assert (down["metricName"], down["comparisonOperator"], down["threshold"]) == ("RunningTaskCount", "LessThanThreshold", 1.0)


def test_av1_cmd1_the_consumer_runs_the_app_image_hardened_with_the_web_role_and_the_queue(each_stack: StackView) -> None:
    """AV-1 / CMD-1 / SQL-3: one container from the app image running `manage consume_scan_results` (allowed by the
    image's entrypoint), non-root, read-only root filesystem, capabilities dropped; kakoi_web credentials only;
    KAKOI_SCAN_QUEUE_URL is the queue."""
    from app.kakoi.entrypoint import MANAGE_ALLOWED

    consumer = dv.containers(each_stack, "scan-consumer")[scan_events.CONTAINER]
    web = dv.containers(each_stack, "app")["web"]
    assert consumer["image"] == web["image"]
    assert consumer["command"] == ["manage", "consume_scan_results"] and consumer["command"][1] in MANAGE_ALLOWED
    assert consumer["readonlyRootFilesystem"] is True and consumer["user"] == web["user"]
    assert consumer["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    queue, _ = queues(each_stack)
    env = dv.env(consumer)
    assert env["KAKOI_SCAN_QUEUE_URL"] == queue.outputs["url"]
    assert {k: v for k, v in env.items() if k != "KAKOI_SCAN_QUEUE_URL"} == {k: v for k, v in dv.env(web).items() if k != "PORT"}
    # the web container's secrets except the TURN relay's shared secret: only live calls (web) sign TURN credentials
    assert dv.secrets(consumer) == {k: v for k, v in dv.secrets(web).items() if k != "KAKOI_TURN_SECRET"}


def test_av1_the_consumer_role_has_least_privilege(each_stack: StackView) -> None:
    """AV-1: this queue (receive, delete, visibility, attributes), its key through SQS, scan tags and purges of the
    media bucket, mail from the app's address; nothing on "*"."""
    role = each_stack.one(ROLE, "scan-events-task")
    (policy,) = [p for p in each_stack.of_type(ROLE_POLICY) if p.inputs["role"] == role.outputs["id"]]
    stmts = statements(policy.inputs["policy"])
    queue, _ = queues(each_stack)
    assert stmts["ConsumeScanResults"]["Resource"] == queue.outputs["arn"]
    assert set(stmts["ConsumeScanResults"]["Action"]) == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
    }
    assert stmts["DecryptScanResultsThroughSqs"]["Action"] == "kms:Decrypt"
    bucket_arn = f"arn:aws:s3:::{media_bucket(each_stack)}"
    assert stmts["ScanTagsAndPurge"]["Resource"] == f"{bucket_arn}/*" and "s3:PutObject" not in stmts["ScanTagsAndPurge"]["Action"]
    assert stmts["ListVersionsToPurge"]["Resource"] == bucket_arn
    assert all(s.get("Resource") != "*" for s in stmts.values())
    td = dv.task_def(each_stack, "scan-consumer")
    assert td.inputs["taskRoleArn"] == role.outputs["arn"]


def test_avl1_the_consumer_service_runs_privately(each_stack: StackView) -> None:
    """AVL-1 / NET-1: one task in the private subnets without a public IP, with the app's security group, rolled back
    by the circuit breaker; SQS is reached through a VPC endpoint."""
    service = each_stack.one(dv.SERVICE, "scan-events-consumer")
    app = each_stack.one(dv.SERVICE, "app-service")
    assert service.inputs["desiredCount"] == 1
    assert service.inputs["networkConfiguration"] == app.inputs["networkConfiguration"]
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    endpoints = {e.inputs["serviceName"] for e in each_stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert f"com.amazonaws.{REGION}.sqs" in endpoints
    assert each_stack.stack_outputs["scanQueueUrl"] == queues(each_stack)[0].outputs["url"]


@pytest.mark.parametrize("stack", ["prod"])
def test_av1_no_consumer_service_before_the_app_service_is_enabled(stack: str) -> None:
    """AV-1: with kakoi:appServiceEnabled=false (first deploy) the queue and rule exist, the consumer service and its
    alarm do not (it could not start before the role secrets are filled)."""
    view = dv.rendered(stack, (("kakoi:appServiceEnabled", False),))
    assert not [s for s in view.of_type(dv.SERVICE) if s.inputs["name"].endswith("-scan-consumer")]
    assert f"{prefix(view)}-scan-consumer-down" not in {a.inputs["name"] for a in view.of_type(ALARM)}
    assert queues(view)[0].inputs["name"].endswith("-scan-results")
