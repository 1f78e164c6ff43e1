"""The data tier's customer-managed KMS keys (BAK-1, BCP-1, ENC-1)."""

from __future__ import annotations

from typing import Any

import pytest

from tools.stackview import Res, StackView

KEY = "aws:kms/key:Key"
PRIMARY = {"keys-database", "keys-backup", "keys-media", "keys-logs", "keys-sns"}
DR = {"keys-dr-database", "keys-dr-backup", "keys-dr-media"}


def statements(key: Res) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in key.json_input("policy")["Statement"]}


def data_keys(view: StackView) -> dict[str, Res]:
    return {k.name: k for k in view.of_type(KEY) if k.name in PRIMARY | DR}


def test_bak1_bcp1_every_data_key_exists_in_its_region(each_stack: StackView) -> None:
    """BAK-1, BCP-1: five keys in Tokyo, three in the DR region (Osaka) for what is copied there."""
    keys = data_keys(each_stack)
    assert set(keys) == PRIMARY | DR
    for name in PRIMARY:
        assert keys[name].region == "ap-northeast-1", name
    for name in DR:
        assert keys[name].region == "ap-northeast-3", name


def test_bak1_keys_rotate_and_are_protected(each_stack: StackView) -> None:
    """BAK-1: rotation on (period from config), symmetric, 30-day deletion window, protected from destroy."""
    for key in data_keys(each_stack).values():
        assert key.inputs["enableKeyRotation"] is True, key.name
        assert key.inputs["rotationPeriodInDays"] == 365, key.name
        assert key.inputs["deletionWindowInDays"] == 30, key.name
        assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT", key.name
        assert key.protect and key.raw.get("retainOnDelete"), key.name


def test_enc1_every_key_has_root_admin_and_nothing_public(each_stack: StackView) -> None:
    """ENC-1: administration is delegated to the account's IAM; any '*' principal is limited to this account."""
    for key in data_keys(each_stack).values():
        st = statements(key)
        admin = st["AccountAdministration"]
        assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
        for sid, s in st.items():
            assert s["Effect"] == "Allow"
            if s["Principal"] == {"AWS": "*"}:
                assert s["Condition"]["StringEquals"]["kms:CallerAccount"] == "123456789012", (key.name, sid)
                assert "kms:ViaService" in s["Condition"]["StringEquals"], (key.name, sid)


@pytest.mark.parametrize(
    ("key", "services"),
    [
        ("keys-database", ["rds.ap-northeast-1.amazonaws.com", "secretsmanager.ap-northeast-1.amazonaws.com"]),
        ("keys-backup", "backup.ap-northeast-1.amazonaws.com"),
        ("keys-media", "s3.ap-northeast-1.amazonaws.com"),
        ("keys-dr-database", ["rds.ap-northeast-3.amazonaws.com", "secretsmanager.ap-northeast-3.amazonaws.com"]),
        ("keys-dr-backup", ["backup.ap-northeast-3.amazonaws.com", "rds.ap-northeast-3.amazonaws.com"]),
        ("keys-dr-media", "s3.ap-northeast-3.amazonaws.com"),
    ],
)
def test_bak1_keys_usable_only_through_their_service(prod: StackView, key: str, services: Any) -> None:
    """BAK-1, BCP-1: data keys are usable only via the service (and region) that stores the data."""
    st = statements(prod.one(KEY, key))
    use = [s for sid, s in st.items() if sid.startswith("UseThrough")]
    assert len(use) == 1
    assert use[0]["Condition"]["StringEquals"]["kms:ViaService"] == services
    assert "kms:*" not in use[0]["Action"]
    for sid, s in st.items():
        if sid.startswith("GrantsFor"):
            assert s["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


def test_enc1_logs_key_scoped_to_account_log_groups(prod: StackView) -> None:
    """ENC-1: only the regional CloudWatch Logs service, only for this account's log groups."""
    st = statements(prod.one(KEY, "keys-logs"))
    assert set(st) == {"AccountAdministration", "CloudWatchLogs"}
    logs = st["CloudWatchLogs"]
    assert logs["Principal"] == {"Service": "logs.ap-northeast-1.amazonaws.com"}
    assert logs["Condition"]["ArnLike"] == {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:ap-northeast-1:123456789012:log-group:*"}


def test_enc1_sns_key_lets_alarms_and_eventbridge_publish(prod: StackView) -> None:
    """ENC-1 (MON-2 support): CloudWatch alarms of this account and EventBridge may publish to the encrypted topic."""
    st = statements(prod.one(KEY, "keys-sns"))
    assert set(st) == {"AccountAdministration", "CloudWatchAlarmsPublish", "EventBridgePublish"}
    cw = st["CloudWatchAlarmsPublish"]
    assert cw["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cw["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert cw["Condition"]["ArnLike"]["aws:SourceArn"].startswith("arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:")
    for s in (cw, st["EventBridgePublish"]):
        assert sorted(s["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_bak1_keys_have_aliases(each_stack: StackView) -> None:
    """BAK-1: each key has an alias alias/<project>-<stack>/<purpose> in the key's region."""
    aliases = {a.inputs["name"]: a for a in each_stack.of_type("aws:kms/alias:Alias")}
    stack = each_stack.resources[0].urn.split("::")[0].split(":")[-1]  # urn:pulumi:<stack>::...
    for purpose in ("database", "backup", "media", "logs", "sns", "dr-database", "dr-backup", "dr-media"):
        alias = aliases[f"alias/kakoi-{stack}/{purpose}"]
        assert alias.region == ("ap-northeast-3" if purpose.startswith("dr-") else "ap-northeast-1")
