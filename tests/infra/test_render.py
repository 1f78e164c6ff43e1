"""The offline render: stack-export format, determinism, provider and tags, prod-shaped staging."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import STACKS, rendered_doc
from tools.mocks import is_taggable
from tools.render import dumps, render
from tools.stackfiles import ROOT
from tools.stackview import StackView

REQUIRED_TAGS = {"project", "stack", "environment", "owner", "data-classification"}


def test_every_stack_file_renders() -> None:
    assert set(STACKS) >= {"prod", "staging"}
    for stack in STACKS:
        view = StackView(rendered_doc(stack))
        assert sum(1 for r in view if r.custom) > 10


def test_export_has_the_pulumi_stack_export_shape(prod: StackView) -> None:
    doc = prod.doc
    assert doc["version"] == 3
    assert {"manifest", "resources"} <= set(doc["deployment"])
    for r in prod:
        assert r.urn.startswith("urn:pulumi:prod::kakoi::")
        assert {"urn", "type", "custom", "inputs", "outputs"} <= set(r.raw)
        if r.custom and not r.type.startswith("pulumi:providers:"):
            assert r.raw["id"], r.urn
            assert r.raw["provider"].count("::") >= 4, r.urn
        if r.type != "pulumi:pulumi:Stack":
            assert r.parent in prod.by_urn, f"{r.urn} has an unknown parent"
        for dep in r.dependencies:
            assert dep in prod.by_urn, f"{r.urn} depends on unknown {dep}"


def test_resources_come_after_what_they_depend_on(prod: StackView) -> None:
    seen: set[str] = set()
    for r in prod:
        for need in [r.parent, r.provider_urn, *r.dependencies]:
            assert not need or need in seen, f"{r.urn} listed before {need}"
        seen.add(r.urn)


def test_render_is_byte_identical_across_runs() -> None:
    first = dumps(render("prod"))
    second = dumps(render("prod"))
    assert first == second


def test_render_cli_writes_the_file_and_is_deterministic_across_processes(tmp_path) -> None:
    outs = []
    for i in range(2):
        out = tmp_path / f"prod{i}.json"
        proc = subprocess.run(
            [sys.executable, "-m", "tools.render", "--stack", "prod", "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert "rendered prod:" in proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["deployment"]["resources"]


def test_render_cli_bad_config_exits_2_with_message(tmp_path) -> None:
    bad = tmp_path / "Pulumi.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "tools.render", "--stack", "does-not-exist", "--out", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "not found" in proc.stderr
    assert not bad.exists()


def test_aws_provider_is_explicit_with_region_and_default_tags(each_stack: StackView) -> None:
    providers = each_stack.of_type("pulumi:providers:aws")
    assert [p.name for p in providers] == ["aws"], "one explicit AWS provider, no default provider"
    p = providers[0]
    assert p.inputs["region"] == "ap-northeast-1"
    tags = json.loads(p.inputs["defaultTags"])["tags"]
    assert set(tags) == REQUIRED_TAGS
    for r in each_stack:
        if r.custom and r.type.startswith("aws:"):
            assert r.provider_urn == p.urn, f"{r.urn} does not use the explicit provider"


def test_every_taggable_resource_carries_the_required_tags(each_stack: StackView) -> None:
    stack = each_stack.resources[0].urn.split("::")[0].split(":")[-1]
    checked = 0
    for r in each_stack:
        if r.custom and r.type.startswith("aws:") and is_taggable(r.type):
            tags = r.outputs.get("tagsAll") or {}
            assert set(tags) >= REQUIRED_TAGS, f"{r.urn} lacks {REQUIRED_TAGS - set(tags)}"
            assert tags["stack"] == stack
            checked += 1
    assert checked > 5


def test_staging_is_prod_shaped(prod: StackView, staging: StackView) -> None:
    """Staging declares the same resource types as prod; only config-driven things differ."""
    prod_types = {r.type for r in prod}
    staging_types = {r.type for r in staging}
    # a stack may only lack what its config switches off (listed here, each with its switch)
    config_switched = {
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",  # mediaReplication
        "aws:backup/vaultLockConfiguration:VaultLockConfiguration",  # backupVaultLock
        "aws:iam/rolePolicy:RolePolicy",  # mediaReplication (the replication role's inline policy)
    }
    assert prod_types - staging_types <= config_switched
    assert staging_types - prod_types <= config_switched


def test_component_type_tokens_follow_the_convention(prod: StackView) -> None:
    for r in prod:
        if not r.custom and r.type != "pulumi:pulumi:Stack":
            pkg, module, name = r.type.split(":")
            assert pkg == "kakoi"
            assert (ROOT / "components" / f"{module}.py").is_file(), f"{r.type}: no components/{module}.py"
            assert name[0].isupper()


def test_an_unmocked_data_source_is_an_error_not_a_silent_none() -> None:
    """A data source the mocks do not know fails the render with its token, instead of returning nothing."""
    import pulumi
    import pytest

    from tools.mocks import KakoiMocks

    mocks = KakoiMocks(default_region="ap-northeast-1")
    with pytest.raises(LookupError, match="aws:ec2/getAmi:getAmi"):
        mocks.call(pulumi.runtime.MockCallArgs(token="aws:ec2/getAmi:getAmi", args={}, provider=""))
    got = mocks.call(pulumi.runtime.MockCallArgs(token="aws:elb/getServiceAccount:getServiceAccount", args={}, provider=""))
    assert got["arn"] == "arn:aws:iam::582318560864:root"
