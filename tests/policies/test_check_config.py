"""AUDIT-1: tools/check_config.py validates policy config like `--policy-pack-config`, naming policy and setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel

from policies.kakoi_policy import all_policies
from tests.policies.minidoc import doc
from tools.check_config import POLICY_DIR, default_config_path, load_config, parse_config
from tools.check_errors import CheckError

PACK = all_policies()
ALB = "kakoi-enc-alb-tls13-only"


def test_audit1_levels_all_and_per_policy() -> None:
    """AUDIT-1: `all` sets every level; a policy's own level wins."""
    cfg = parse_config({"all": "advisory", ALB: "mandatory"}, PACK, "<t>")
    assert cfg.levels[ALB] == EnforcementLevel.MANDATORY
    assert set(cfg.levels.values()) == {EnforcementLevel.ADVISORY, EnforcementLevel.MANDATORY}
    assert len(cfg.levels) == len(PACK)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kakoi-nope": "advisory"}, "unknown policy 'kakoi-nope'"),
        ({ALB: "loud"}, "enforcement level 'loud' is not one of"),
        ({ALB: {"colour": "red"}}, r"kakoi-enc-alb-tls13-only: unknown setting 'colour'"),
        ({ALB: {"allowedPolicies": "x"}}, r"allowedPolicies: 'x' is not of type array"),
        ({ALB: {"allowedPolicies": []}}, "needs at least 1 item"),
        ({"kakoi-bak-rds-backup-plan": {"minimumMonthlyRetentionDays": -1}}, "below the minimum"),
        ([], "expected a JSON object keyed by policy name"),
    ],
)
def test_audit1_bad_config_names_the_field(data: object, message: str) -> None:
    """AUDIT-1: the first problem is a CheckError naming the source, the policy and the setting."""
    with pytest.raises(CheckError, match=message):
        parse_config(data, PACK, "<t>")


def test_audit1_numbers_reach_policies_as_floats_like_the_engine() -> None:
    """AUDIT-1: the engine hands config over as a protobuf Struct, so integers arrive as floats."""
    cfg = parse_config({"kakoi-bak-rds-backup-plan": {"minimumMonthlyRetentionDays": 400}}, PACK, "<t>")
    value = cfg.properties["kakoi-bak-rds-backup-plan"]["minimumMonthlyRetentionDays"]
    assert value == 400.0 and isinstance(value, float)


def test_audit1_config_files_and_the_default_for_the_stack(tmp_path: Path) -> None:
    """AUDIT-1: policies/config.<stack>.json is found from the export; a bad file is a CheckError."""
    assert default_config_path(doc()) == POLICY_DIR / "config.prod.json"
    assert load_config(POLICY_DIR / "config.prod.json", PACK).source == "policies/config.prod.json"
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(CheckError, match="not valid JSON"):
        load_config(bad, PACK)
    with pytest.raises(CheckError, match="policy config not found"):
        load_config(tmp_path / "none.json", PACK)
