"""policies/config.<stack>.json is generated from the stack config (tools/policy_config.py, `make policy-config`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import stackconfig
from stackconfig.edge import TLS13_ONLY_POLICIES
from stackconfig.policy import advisory_policies
from tools import policy_config
from tools.policy_config import build, render, stale
from tools.stackfiles import available_stacks

DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"


@pytest.mark.parametrize("stack", available_stacks())
def test_committed_policy_config_is_up_to_date(stack: str) -> None:
    """AUDIT-1: the committed file equals what the stack config generates; regenerate with `make policy-config`."""
    path = policy_config.path_for(stack)
    assert path.is_file(), f"policies/config.{stack}.json is missing: run `make policy-config`"
    assert path.read_text(encoding="utf-8") == render(stack), f"policies/config.{stack}.json is stale: run `make policy-config`"


def test_bak1_bcp1_av1_values_come_from_the_stack_config() -> None:
    """BAK-1, BCP-1, AV-1: regions, DR region and the adopted detector follow the stack's config, not a hand copy."""
    # a DR bring-up stack (docs/runbooks/restore.md C2): Osaka is primary, Tokyo receives the copies
    dr = build(
        "prod",
        overrides={
            "aws:region": "ap-northeast-3",
            "kakoi:drRegion": "ap-northeast-1",
            "kakoi:guardDutyDetectorId": DETECTOR,
        },
    )
    assert dr["kakoi-gov-allowed-regions"]["allowedRegions"] == ["ap-northeast-3", "ap-northeast-1"]
    assert dr["kakoi-bcp-rds-cross-region-backups"]["drRegion"] == "ap-northeast-1"
    assert dr["kakoi-bcp-backup-copies-to-dr"]["drRegion"] == "ap-northeast-1"
    assert dr["kakoi-av-guardduty-enabled"]["adoptedDetectorId"] == DETECTOR
    assert dr["kakoi-av-guardduty-features"]["adoptedDetectorId"] == DETECTOR
    prod = build("prod")
    assert prod["kakoi-av-guardduty-enabled"]["adoptedDetectorId"] == ""
    assert prod["kakoi-enc-alb-tls13-only"]["allowedPolicies"] == list(TLS13_ONLY_POLICIES)


def test_log1_log_retention_floor_follows_the_environment() -> None:
    """LOG-1: the log-group floor is the environment's (production 365 days, staging 90)."""
    assert build("prod")["kakoi-log-group-retention"]["minimumRetentionDays"] == 365
    assert build("staging")["kakoi-log-group-retention"]["minimumRetentionDays"] == 90


@pytest.mark.parametrize("stack", available_stacks())
def test_audit1_levels_come_from_levels_py(stack: str) -> None:
    """AUDIT-1: every policy is mandatory except the exceptions levels.py lists for the stack."""
    doc = build(stack)
    assert doc["all"] == "mandatory"
    advisory = {name for name, value in doc.items() if isinstance(value, dict) and value.get("enforcementLevel") == "advisory"}
    assert advisory == set(advisory_policies(stack))


def test_output_is_deterministic_and_json() -> None:
    for stack in available_stacks():
        text = render(stack)
        assert text == render(stack) and text.endswith("}\n")
        assert json.loads(text) == build(stack)


def test_an_invalid_stack_config_generates_nothing() -> None:
    with pytest.raises(stackconfig.ConfigError):
        build("prod", overrides={"kakoi:dbMaintenanceWindow": "mon:01:00-mon:01:30"})


def test_check_names_the_command_for_a_stale_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--check` exits 1 and names `make policy-config`; `--write` fixes it; `--check` then passes."""
    monkeypatch.setattr(policy_config, "POLICY_DIR", tmp_path)
    (tmp_path / "config.prod.json").write_text('{"all": "mandatory"}\n', encoding="utf-8")
    assert stale(["prod"]) == ["prod"]
    assert policy_config.main(["--check", "--stack", "prod"]) == 1
    assert "policies/config.prod.json is stale (or missing): run `make policy-config`" in capsys.readouterr().err
    assert policy_config.main(["--write", "--stack", "prod"]) == 0
    assert policy_config.main(["--check", "--stack", "prod"]) == 0
    assert (tmp_path / "config.prod.json").read_text(encoding="utf-8") == render("prod")
