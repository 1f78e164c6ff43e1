"""AUDIT-1: tools/exports.py reads `pulumi stack export` files and refuses bad ones with a clear message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.policies.minidoc import BUCKET, PROVIDER_URN, doc, resource, urn
from tools.check_errors import CheckError
from tools.exports import parse_export, read_export, stack_name, urn_name


def test_audit1_read_export_names_the_file_and_the_problem(tmp_path: Path) -> None:
    """AUDIT-1: missing, empty and truncated files are CheckErrors naming the file, never tracebacks."""
    with pytest.raises(CheckError, match="file not found"):
        read_export(tmp_path / "nope.json")
    empty = tmp_path / "empty.json"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(CheckError, match="the file is empty"):
        read_export(empty)
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(doc())[:-20], encoding="utf-8")
    with pytest.raises(CheckError, match=r"cut\.json: not valid JSON at line 1.*looks truncated"):
        read_export(cut)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc()), encoding="utf-8")
    assert read_export(good)["version"] == 3


def test_audit1_parse_export_validates_the_deployment() -> None:
    """AUDIT-1: the version, the resources list, URNs and duplicates are checked, each with its position."""
    with pytest.raises(CheckError, match="unsupported deployment version 2"):
        parse_export({"version": 2, "deployment": {}})
    with pytest.raises(CheckError, match=r"'deployment\.resources' is not a list"):
        parse_export({"version": 3, "deployment": {"resources": {}}})
    bad_urn = doc({"urn": "nope", "type": BUCKET})
    with pytest.raises(CheckError, match=r"deployment\.resources\[2\] has no valid 'urn'"):
        parse_export(bad_urn)
    twice = doc(resource(BUCKET, "b"), resource(BUCKET, "b"))
    with pytest.raises(CheckError, match="duplicate urn"):
        parse_export(twice)


def test_audit1_parse_export_reads_what_the_analyzer_needs() -> None:
    """AUDIT-1: provider URN without its id, dependencies, options; pending deletes are not part of the state."""
    b = resource(BUCKET, "media", {"bucket": "m"}, protect=True, dependencies=[urn("x:y:Z", "dep")])
    gone = resource(BUCKET, "old", delete=True)
    parsed = {r.name: r for r in parse_export(doc(b, gone))}
    assert "old" not in parsed
    media = parsed["media"]
    assert media.provider_urn == PROVIDER_URN and media.protect and media.custom
    assert media.dependencies == (urn("x:y:Z", "dep"),) and media.inputs == {"bucket": "m"}


def test_audit1_stack_name_and_urn_name() -> None:
    """AUDIT-1: the stack name comes from the Stack resource's URN (for policies/config.<stack>.json)."""
    assert stack_name(doc()) == "prod"
    assert stack_name({"deployment": {}}) is None
    assert urn_name(urn(BUCKET, "media")) == "media"
