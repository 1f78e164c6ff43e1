"""The URN manifest (tests/infra/urns/<stack>.txt): a refactor moves no URN without `aliases` (REC-1, BAK-1).

A deployed resource whose URN changes is replaced by `pulumi up`: the database, the buckets,
the keys and the audit log would be lost. Every recorded URN must still be rendered, or be an
alias of a rendered resource; every rendered URN must be recorded (re-record with `make urns`).
"""

from __future__ import annotations

import copy

import pytest

from tests.conftest import rendered_doc
from tools import urns


@pytest.mark.parametrize("stack", urns.STACKS)
def test_rec1_every_recorded_urn_is_still_rendered_or_aliased(stack: str) -> None:
    result = urns.compare(urns.read_manifest(stack), rendered_doc(stack))
    assert not result.lost, f"URNs gone without an alias (the resource would be replaced): {result.lost}"
    assert not result.added, f"URNs not in tests/infra/urns/{stack}.txt (run `make urns`): {result.added}"


def test_rec1_a_renamed_resource_without_alias_is_reported_lost() -> None:
    doc = copy.deepcopy(rendered_doc("prod"))
    recorded = list(urns.urns_of(doc))
    victim = next(r for r in doc["deployment"]["resources"] if r["type"] == "aws:rds/instance:Instance")
    old = victim["urn"]
    victim["urn"] = old + "-renamed"
    result = urns.compare(recorded, doc)
    assert result.lost == (old,)
    assert result.added == (old + "-renamed",)


def test_rec1_a_renamed_resource_with_alias_is_moved_not_lost() -> None:
    doc = copy.deepcopy(rendered_doc("prod"))
    recorded = list(urns.urns_of(doc))
    victim = next(r for r in doc["deployment"]["resources"] if r["type"] == "aws:rds/instance:Instance")
    old = victim["urn"]
    victim["urn"] = old + "-renamed"
    victim["aliases"] = [old]
    result = urns.compare(recorded, doc)
    assert result.ok
    assert result.moved == {old: old + "-renamed"}


def test_rec1_equivalence_reports_a_changed_input_and_follows_aliases() -> None:
    old = rendered_doc("prod")
    new = copy.deepcopy(old)
    res = next(r for r in new["deployment"]["resources"] if r["type"] == "aws:rds/instance:Instance")
    assert urns.equivalence(old, new) == []
    old_urn = res["urn"]
    res["urn"], res["aliases"] = old_urn + "-moved", [old_urn]
    for other in new["deployment"]["resources"]:
        if "dependencies" in other:
            other["dependencies"] = [old_urn + "-moved" if d == old_urn else d for d in other["dependencies"]]
    assert urns.equivalence(old, new) == [], "a resource moved with an alias is compared with its old self"
    res["inputs"] = {**res["inputs"], "multiAz": not res["inputs"].get("multiAz")}
    assert urns.equivalence(old, new) == [f"inputs differs: {old_urn}"]
