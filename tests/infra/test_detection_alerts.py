"""The alert topic (MON-2): encrypted, only this stack's alarms and rules publish, subscribers from config."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from components.alerts import key_policy, topic_policy
from tests.infra.detectionview import (
    ACCOUNT,
    ALARM,
    COMPOSITE,
    KEY,
    REGION,
    RULE,
    arn_like,
    prefix,
    render_program,
    stack_name,
    statements,
    topic_arn,
)
from tools.render import RenderError, render
from tools.stackview import StackView

TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
EMAILS = {
    "prod": {"oncall@kakoi.example.com", "platform-team@kakoi.example.com"},
    "staging": {"platform-team@kakoi.example.com"},
}


def topic_statements(view: StackView) -> dict:
    return statements(view.one("aws:sns/topicPolicy:TopicPolicy", "alerts").inputs["policy"])


def test_mon2_topic_is_encrypted_with_the_sns_key(each_stack: StackView) -> None:
    """MON-2: SSE with the data tier's customer-managed sns key, whose policy admits CloudWatch and EventBridge."""
    topic = each_stack.one(TOPIC, "alerts")
    sns_key = each_stack.one(KEY, "keys-sns")
    assert topic.inputs["kmsMasterKeyId"] == sns_key.outputs["arn"]
    assert topic.inputs["name"] == f"{prefix(each_stack)}-alerts"
    st = statements(sns_key.inputs["policy"])
    principals = {s["Principal"].get("Service") for s in st.values() if "Service" in s["Principal"]}
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= principals
    assert each_stack.stack_outputs["alertTopicArn"] == topic.outputs["arn"]


def test_mon2_subscribers_come_from_config_per_stack(each_stack: StackView) -> None:
    """MON-2: one email subscription per kakoi:alertEmails address (staging has its own list)."""
    subs = each_stack.of_type(SUBSCRIPTION)
    assert {s.inputs["endpoint"] for s in subs} == EMAILS[stack_name(each_stack)]
    for sub in subs:
        assert sub.inputs["protocol"] == "email"
        assert sub.inputs["topic"] == topic_arn(each_stack)
        # stable names: adding or removing one address never replaces the others
        assert sub.name == "alerts-email-" + hashlib.sha256(sub.inputs["endpoint"].encode()).hexdigest()[:10]


def test_mon2_only_this_stacks_alarms_and_rules_may_publish(each_stack: StackView) -> None:
    """MON-2: two Allow statements (CloudWatch alarms, EventBridge rules of this account, region and stack), TLS only."""
    st = topic_statements(each_stack)
    topic = topic_arn(each_stack)
    p = prefix(each_stack)
    assert set(st) == {"CloudWatchAlarmsOfThisStack", "EventBridgeRulesOfThisStack", "DenyInsecureTransport"}
    cw, eb, tls = st["CloudWatchAlarmsOfThisStack"], st["EventBridgeRulesOfThisStack"], st["DenyInsecureTransport"]
    for s, service in ((cw, "cloudwatch.amazonaws.com"), (eb, "events.amazonaws.com")):
        assert s["Effect"] == "Allow"
        assert s["Principal"] == {"Service": service}
        assert s["Action"] == "sns:Publish"
        assert s["Resource"] == topic
        assert s["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    alarm_pattern = cw["Condition"]["ArnLike"]["aws:SourceArn"]
    rule_pattern = eb["Condition"]["ArnLike"]["aws:SourceArn"]
    assert arn_like(alarm_pattern, f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{p}-db-cpu")
    assert not arn_like(alarm_pattern, f"arn:aws:cloudwatch:{REGION}:999999999999:alarm:{p}-db-cpu"), "another account"
    assert not arn_like(alarm_pattern, f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{p}-db-cpu"), "another region"
    other = "kakoi-staging" if p == "kakoi-prod" else "kakoi-prod"
    assert not arn_like(alarm_pattern, f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{other}-db-cpu"), "another stack"
    assert arn_like(rule_pattern, f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{p}-guardduty-findings")
    assert not arn_like(rule_pattern, f"arn:aws:events:{REGION}:{ACCOUNT}:rule/someone-elses-rule")
    assert tls == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_mon2_every_alarm_and_rule_of_the_stack_can_publish_to_the_topic(each_stack: StackView) -> None:
    """MON-2: every alarm in the stack notifies the topic on ALARM and OK, and its ARN passes the topic policy."""
    topic = topic_arn(each_stack)
    st = topic_statements(each_stack)
    alarm_pattern = st["CloudWatchAlarmsOfThisStack"]["Condition"]["ArnLike"]["aws:SourceArn"]
    rule_pattern = st["EventBridgeRulesOfThisStack"]["Condition"]["ArnLike"]["aws:SourceArn"]
    alarms = each_stack.of_type(ALARM) + each_stack.of_type(COMPOSITE)
    assert len(alarms) >= 10
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [topic], alarm.name
        assert alarm.inputs["okActions"] == [topic], alarm.name
        assert alarm.inputs.get("actionsEnabled") is True, alarm.name
        assert arn_like(alarm_pattern, alarm.outputs["arn"]), f"{alarm.outputs['arn']} would be refused by the topic policy"
    for rule in each_stack.of_type(RULE):
        targets = [t for t in each_stack.of_type("aws:cloudwatch/eventTarget:EventTarget") if t.inputs["rule"] == rule.inputs["name"]]
        if any(t.inputs["arn"] == topic for t in targets):
            assert arn_like(rule_pattern, rule.outputs["arn"]), rule.outputs["arn"]


def test_mon2_policy_documents_are_deterministic_json() -> None:
    """MON-2: the same inputs give the same policy text (no diff on every preview)."""
    a = topic_policy("arn:aws:sns:ap-northeast-1:1:t", "1", "ap-northeast-1", "kakoi-prod", "aws")
    assert a == topic_policy("arn:aws:sns:ap-northeast-1:1:t", "1", "ap-northeast-1", "kakoi-prod", "aws")
    assert key_policy("1", "ap-northeast-1", "aws") == key_policy("1", "ap-northeast-1", "aws")


def test_mon2_without_a_key_the_topic_gets_its_own_least_privilege_key(tmp_path: Path) -> None:
    """MON-2: Alerts without kms_key_arn creates a rotating key that only CloudWatch alarms and EventBridge may use."""
    view = render_program(
        tmp_path,
        """
        import dataclasses
        from components.alerts import Alerts, AlertsArgs
        from components.context import StackContext
        ctx = StackContext(project="kakoi", stack="prod", region="ap-northeast-1", dr_region="ap-northeast-3",
                           account_id="123456789012", partition="aws", opts=opts)
        detection = dataclasses.replace(cfg.detection, alert_emails=("a@example.com",))
        Alerts("alerts", AlertsArgs(ctx, detection), opts=opts)
        """,
    )
    key = view.one(KEY, "alerts-key")
    assert view.one(TOPIC, "alerts").inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect
    st = statements(key.inputs["policy"])
    assert set(st) == {"AccountAdministration", "CloudWatchAlarmsPublish", "EventBridgePublish"}
    for sid in ("CloudWatchAlarmsPublish", "EventBridgePublish"):
        assert st[sid]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert st["CloudWatchAlarmsPublish"]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


@pytest.mark.parametrize(
    ("emails", "reason"),
    [
        ([], "at least 1"),
        (["not-an-address"], "not an email address"),
        (["ops@example.com", "OPS@example.com"], "same address twice"),
        (["ops@example.com", "ops@example.com"], "duplicate"),
    ],
)
def test_mon2_alert_emails_are_validated(emails: list[str], reason: str) -> None:
    """MON-2: at least one address, each an email, no duplicates (also ignoring case)."""
    with pytest.raises(RenderError) as info:
        render("staging", overrides={"kakoi:alertEmails": emails})
    assert info.value.exit_code == 2
    assert info.value.declared == 0
    line = next(ln for ln in str(info.value).splitlines() if "kakoi:alertEmails" in ln)
    assert reason in line


def _runbook_anchors() -> set[str]:
    text = (Path(__file__).resolve().parents[2] / "docs" / "runbooks" / "alerts.md").read_text(encoding="utf-8")
    return {line[3:].strip() for line in text.splitlines() if line.startswith("## ")}


def test_mon2_every_alert_has_a_runbook_section(each_stack: StackView) -> None:
    """MON-2: each alarm's description links a section of docs/runbooks/alerts.md that exists; so do both finding rules."""
    anchors = _runbook_anchors()
    for alarm in each_stack.of_type(ALARM) + each_stack.of_type(COMPOSITE):
        description = alarm.inputs["alarmDescription"]
        assert "Runbook: docs/runbooks/alerts.md#" in description, alarm.name
        anchor = description.rsplit("#", 1)[1]
        assert anchor in anchors, f"{alarm.name}: no '## {anchor}' in docs/runbooks/alerts.md"
    assert {"guardduty-finding", "malware-threats-found", "service-cpu", "service-memory", "service-tasks-below-desired"} <= anchors
