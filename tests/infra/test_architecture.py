"""AUDIT-1: docs/architecture.md stays true to the code: its diagram is derived from the render and tiers/,
and every repository path it names exists."""

from __future__ import annotations

import glob
import re
import textwrap
from pathlib import Path

import pulumi
import pytest

from tests.conftest import rendered_doc
from tools import architecture
from tools.stackfiles import ROOT

DOC = ROOT / "docs" / "architecture.md"


@pytest.fixture(scope="module")
def arch() -> architecture.Architecture:
    return architecture.collect(architecture.DEFAULT_STACK)


def test_audit1_architecture_diagram_is_up_to_date(arch: architecture.Architecture) -> None:
    """AUDIT-1: the generated section of docs/architecture.md is what the code derives today."""
    text = DOC.read_text(encoding="utf-8")
    assert architecture.render_doc(text, arch) == text, "docs/architecture.md is stale: run `make architecture`"
    assert architecture.SVG.read_text(encoding="utf-8") == architecture.svg(arch), "docs/architecture.svg is stale: run `make architecture`"


def test_audit1_svg_draws_every_component_and_edge(arch: architecture.Architecture) -> None:
    """AUDIT-1: the SVG has a box per component (its name and type token) and a curve per dependency and nesting."""
    picture = architecture.svg(arch)
    assert picture.startswith("<svg ") and picture.rstrip().endswith("</svg>")
    for c in arch.components:
        assert f">{c.type}</text>" in picture
    nested = sum(1 for c in arch.components if c.parent)
    assert picture.count("<path d=") == len(arch.edges) + nested + 1  # + the arrowhead marker
    assert picture.count('stroke-dasharray="5 4"') == nested


def test_audit1_every_tier_and_component_of_the_render_is_in_the_diagram(arch: architecture.Architecture) -> None:
    """AUDIT-1: every tiers/ module with a `build` is a tier, every kakoi component of the render a node in one."""
    tiers = {m.__name__.rsplit(".", 1)[1] for m in architecture.tier_modules()}
    assert tiers and {t.name for t in arch.tiers} == tiers, (
        "a tier was not built during the render, or a component was built outside any tier"
    )
    rendered = {
        r["urn"]
        for r in rendered_doc(architecture.DEFAULT_STACK)["deployment"]["resources"]
        if r["type"].startswith("kakoi:") and not r["custom"]
    }
    assert {c.urn for c in arch.components} == rendered
    chart = architecture.mermaid(arch)
    for c in arch.components:
        assert c.tier in tiers, f"{c.type} {c.name} belongs to no tier"
        assert f'{c.node_id}["<b>{c.name}</b><br/>{c.type}"]' in chart
        assert (ROOT / c.source_path).is_file(), c.source_path


def test_audit1_diagram_edges_are_real_dependencies(arch: architecture.Architecture) -> None:
    """AUDIT-1: the HTTPS listener takes the certificate's ARN and the network's subnets: those edges are drawn, none is a self-edge."""
    by_name = {c.name: c.urn for c in arch.components}
    assert (by_name["cert"], by_name["edge"]) in arch.edges
    assert (by_name["network"], by_name["edge"]) in arch.edges
    assert (by_name["edge"], by_name["cert"]) not in arch.edges
    assert all(a != b for a, b in arch.edges)
    tier_of = {c.urn: c.tier for c in arch.components}
    assert ("foundation", "edge") in {(tier_of[a], tier_of[b]) for a, b in arch.edges}


def test_audit1_stale_or_missing_section_is_caught(arch: architecture.Architecture) -> None:
    """AUDIT-1: a hand-edited section is rewritten; a document without the markers is an error naming them."""
    stale = f"intro\n{architecture.BEGIN}\nold diagram\n{architecture.END}\noutro\n"
    fresh = architecture.render_doc(stale, arch)
    assert "old diagram" not in fresh and fresh.startswith("intro\n") and fresh.endswith(f"{architecture.END}\noutro\n")
    assert "```mermaid\nflowchart TB\n" in fresh
    with pytest.raises(ValueError, match="architecture:begin"):
        architecture.render_doc("no markers", arch)


def test_audit1_collecting_leaves_the_program_unpatched(arch: architecture.Architecture) -> None:
    """AUDIT-1: after the diagram's render, tier builders and ComponentResource are the originals (other renders are unaffected)."""
    assert arch.components
    assert pulumi.ComponentResource.__init__.__module__ == "pulumi.resource"
    for module in architecture.tier_modules():
        assert module.build.__module__ == module.__name__ and not hasattr(module.build, "__wrapped__")


PROGRAM = textwrap.dedent(
    """
    import pulumi
    import pulumi_aws as aws


    class Inner(pulumi.ComponentResource):
        def __init__(self, name, opts=None):
            super().__init__("kakoi:demo:Inner", name, None, opts)
            self.topic = aws.sns.Topic(f"{name}-topic", opts=pulumi.ResourceOptions(parent=self))
            self.register_outputs({})


    class Outer(pulumi.ComponentResource):
        def __init__(self, name, opts=None):
            super().__init__("kakoi:demo:Outer", name, None, opts)
            self.inner = Inner(f"{name}-inner", opts=pulumi.ResourceOptions(parent=self))
            self.register_outputs({})


    class User(pulumi.ComponentResource):
        def __init__(self, name, topic, opts=None):
            super().__init__("kakoi:demo:User", name, None, opts)
            aws.sns.TopicPolicy(f"{name}-policy", arn=topic.arn, policy="{}", opts=pulumi.ResourceOptions(parent=self))
            self.register_outputs({})


    outer = Outer("outer")
    User("user", outer.inner.topic)
    """
)


def test_audit1_derivation_on_a_small_program(tmp_path: Path) -> None:
    """AUDIT-1: nesting and dependencies come from the render; components no tier built are grouped apart."""
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM, encoding="utf-8")
    arch = architecture.collect("prod", program=program)
    by_name = {c.name: c for c in arch.components}
    assert set(by_name) == {"outer", "outer-inner", "user"}
    assert by_name["outer-inner"].parent == by_name["outer"].urn
    # the policy's arn comes from the nested component's topic: an edge from the nested component, not its parent
    assert arch.edges == [(by_name["outer-inner"].urn, by_name["user"].urn)]
    assert {c.tier for c in arch.components} == {architecture.NO_TIER}
    assert [t.name for t in arch.tiers] == [architecture.NO_TIER]
    assert by_name["user"].python_class.endswith(".User") and by_name["user"].handle == ""
    chart = architecture.mermaid(arch)
    assert "demo__outer -.-> demo__outer_inner" in chart and "demo__outer_inner --> demo__user" in chart


#: backticked words that look like paths but are build output or local state, not repository files
NOT_IN_REPO = ("build/", ".venv/")


def _backticked_paths(text: str) -> list[str]:
    out = []
    for token in re.findall(r"`([^`\n]+)`", text):
        token = token.split("#", 1)[0]
        if " " in token or ":" in token or token.startswith(NOT_IN_REPO):
            continue
        if "/" in token or re.fullmatch(r"[\w.<>*-]+\.(py|md|yaml|yml|json|txt|toml|po|html|in|cfg)", token):
            out.append(token)
    return out


def test_audit1_every_backticked_path_in_architecture_md_exists() -> None:
    """AUDIT-1: each `path` docs/architecture.md names exists (`<stack>`-style placeholders must match at least one)."""
    paths = _backticked_paths(DOC.read_text(encoding="utf-8"))
    assert "tiers/edge.py" in paths
    missing = []
    for path in paths:
        pattern = re.sub(r"<[^>]+>", "*", path)
        if not glob.glob(str(ROOT / pattern)):
            missing.append(path)
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_audit1_every_link_in_architecture_md_resolves() -> None:
    """AUDIT-1: each relative Markdown link of docs/architecture.md points to a file or folder of the repository."""
    text = DOC.read_text(encoding="utf-8")
    links = [t.split("#", 1)[0] for t in re.findall(r"\]\(([^)\s]+)\)", text) if not t.startswith(("http", "#"))]
    assert links
    missing = [link for link in links if not (DOC.parent / link).exists()]
    assert not missing, f"docs/architecture.md links to missing files: {missing}"


def test_audit1_path_finder_sees_paths_and_skips_commands() -> None:
    """AUDIT-1: the path check reads paths and placeholders, not commands, type tokens or build output."""
    text = "`tiers/edge.py` `Pulumi.<stack>.yaml` `make urns` `kakoi:edge:Edge` `build/prod.stack.json` `tools.render` `docs/controls.md#enc-1`"
    assert _backticked_paths(text) == ["tiers/edge.py", "Pulumi.<stack>.yaml", "docs/controls.md"]
