"""Stack configuration: validated up front, with messages that name the key and the reason."""

from __future__ import annotations

import pytest

import stackconfig
from stackconfig.reader import ConfigError, Reader
from tools.render import RenderError, render
from tools.stackfiles import available_stacks, project_schema, stack_values

TYPE_OF = {"string": "string", "integer": "integer", "boolean": "boolean", "array": "array"}


def _reader_for(stack: str) -> Reader:
    sv = stack_values(stack)
    _, reader = stackconfig.load_reader(sv.values, project=sv.project, stack=sv.stack)
    return reader


def test_every_stack_file_is_valid() -> None:
    for stack in available_stacks():
        sv = stack_values(stack)
        cfg = stackconfig.load(sv.values, project=sv.project, stack=sv.stack)
        assert cfg.core.stack == stack


def test_every_setting_read_is_declared_in_pulumi_yaml_with_its_type() -> None:
    schema = project_schema()
    reader = _reader_for("prod")
    for key, typ in reader.read.items():
        if key.startswith("aws:"):
            continue
        assert key in schema, f"{key} is read by stackconfig but not declared in Pulumi.yaml"
        assert schema[key].get("type") == TYPE_OF[typ], f"{key}: Pulumi.yaml says {schema[key].get('type')}, code reads {typ}"
        assert schema[key].get("description"), f"{key} has no description in Pulumi.yaml"


def test_every_declared_setting_is_read() -> None:
    reader = _reader_for("prod")
    unused = sorted(k for k in project_schema() if k not in reader.read)
    assert not unused, f"declared in Pulumi.yaml but never read: {unused}"


BAD_CONFIGS = [
    # (override, key the message must name, words the reason must contain)
    ({"kakoi:ingressCidrs": ["10.0.0.0/33"]}, "kakoi:ingressCidrs[0]", "not a CIDR"),
    ({"kakoi:ingressCidrs": []}, "kakoi:ingressCidrs", "at least 1"),
    ({"kakoi:dbAdminCidrs": ["8.8.8.0/24"]}, "kakoi:dbAdminCidrs[0]", "not a private range"),
    ({"kakoi:dbAdminCidrs": ["203.0.113.0/24"]}, "kakoi:dbAdminCidrs[0]", "not a private range"),
    ({"kakoi:dbAdminCidrs": ["10.0.0.0/7"]}, "kakoi:dbAdminCidrs[0]", "not a private range"),
    ({"kakoi:tlsPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}, "kakoi:tlsPolicy", "is not one of"),
    ({"kakoi:tlsPolicy": "ELBSecurityPolicy-2016-08"}, "kakoi:tlsPolicy", "is not one of"),
    ({"kakoi:azCount": 7}, "kakoi:azCount", "above the maximum 3"),
    ({"kakoi:azCount": "three"}, "kakoi:azCount", "not an integer"),
    ({"kakoi:owner": None}, "kakoi:owner", "is required"),
    ({"kakoi:drRegion": "ap-northeast-1"}, "kakoi:drRegion", "must differ"),
    ({"kakoi:environment": "prod"}, "kakoi:environment", "not one of"),
    ({"kakoi:albDeletionProtection": "yes"}, "kakoi:albDeletionProtection", "not a boolean"),
    ({"kakoi:hostedZoneId": "", "kakoi:certificateArn": ""}, "kakoi:hostedZoneId", "certificateArn"),
    ({"kakoi:vpcCidr": "8.0.0.0/16"}, "kakoi:vpcCidr", "private IPv4"),
    ({"kakoi:hstsMaxAge": 300}, "kakoi:hstsMaxAge", "below the minimum"),
    ({"kakoi:logArchiveObjectLockMode": "NONE"}, "kakoi:logArchiveObjectLockMode", "not one of"),
]


@pytest.mark.parametrize(("override", "key", "reason"), BAD_CONFIGS, ids=[c[1] + ":" + c[2] for c in BAD_CONFIGS])
def test_bad_config_fails_before_any_resource_is_declared(override: dict, key: str, reason: str) -> None:
    """A wrong value fails the render with exit code 2, names the key and the reason, and declares nothing."""
    with pytest.raises(RenderError) as info:
        render("staging", overrides=override)
    err = info.value
    assert err.exit_code == 2
    assert err.declared == 0, "resources were declared before the config was validated"
    line = next((ln for ln in str(err).splitlines() if f"- {key}:" in ln), None)
    assert line is not None, f"message does not name {key}: {err}"
    assert reason in line


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(RenderError) as info:
        render("prod", overrides={"kakoi:azCount": 9, "kakoi:ingressCidrs": ["nope"], "kakoi:owner": None})
    text = str(info.value)
    assert "3 problem(s)" in text
    for key in ("kakoi:azCount", "kakoi:ingressCidrs[0]", "kakoi:owner"):
        assert key in text


def test_unknown_stack_is_a_clear_error() -> None:
    with pytest.raises(RenderError) as info:
        render("nosuchstack")
    assert info.value.exit_code == 2
    assert "Pulumi.nosuchstack.yaml not found" in str(info.value)


def test_reader_rejects_duplicates_and_non_lists() -> None:
    r = Reader({"kakoi:a": '["10.0.0.0/8", "10.0.0.0/8"]', "kakoi:b": '{"x": 1}', "kakoi:c": "not json"})
    r.cidr_list("a")
    r.string_list("b")
    r.string_list("c")
    with pytest.raises(ConfigError) as info:
        r.finish()
    assert info.value.problems == [
        "kakoi:a: has duplicate items",
        "kakoi:b: must be a list of strings",
        "kakoi:c: is not a list (expected a YAML/JSON array of strings)",
    ]


def test_tags_come_from_config() -> None:
    sv = stack_values("staging")
    cfg = stackconfig.load(sv.values, project=sv.project, stack=sv.stack)
    assert cfg.core.tags == {
        "project": "kakoi",
        "stack": "staging",
        "environment": "staging",
        "owner": "platform-team",
        "data-classification": "internal",
    }


def test_readme_config_reference_matches_pulumi_yaml() -> None:
    """The README's config table is generated from Pulumi.yaml; regenerate with `make docs`."""
    from tools.config_doc import render_readme
    from tools.stackfiles import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render_readme(text) == text, "README config reference is stale: run `make docs`"
