"""The image registry and the image: Security Hub ECR.1/2/3, ENC-1, REC-1 (digests), BOF-2 (scanning)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from components import registry
from tests.conftest import view as stack_view
from tests.infra import deployview as dv
from tools.render import RenderError, render
from tools.stackview import StackView

REPO = "aws:ecr/repository:Repository"
IMAGE = "docker-build:index:Image"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _repo(view: StackView):
    return view.one(REPO, "registry-app")


def test_bof2_ecr1_images_are_scanned_on_push(each_stack: StackView) -> None:
    """BOF-2 / Security Hub ECR.1: every pushed image is scanned for known vulnerabilities."""
    assert _repo(each_stack).inputs["imageScanningConfiguration"] == {"scanOnPush": True}


def test_rec1_ecr2_tags_are_immutable(each_stack: StackView) -> None:
    """REC-1 / Security Hub ECR.2: a tag, once pushed, always means the same image."""
    assert _repo(each_stack).inputs["imageTagMutability"] == "IMMUTABLE"


def test_enc1_repository_is_encrypted_with_its_own_rotating_key(each_stack: StackView) -> None:
    """ENC-1: SSE-KMS with a customer-managed key of the registry, rotation on, protected."""
    repo = _repo(each_stack)
    [enc] = repo.inputs["encryptionConfigurations"]
    key = each_stack.one("aws:kms/key:Key", "registry-key")
    assert enc["encryptionType"] == "KMS"
    assert enc["kmsKey"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert 90 <= key.inputs["rotationPeriodInDays"] <= 2560
    assert key.protect and repo.protect
    assert repo.inputs["forceDelete"] is False


def test_enc1_registry_key_is_usable_only_through_ecr_by_this_account(each_stack: StackView) -> None:
    """ENC-1: besides the account root (which hands the decision to IAM), only ECR in this region may use the key."""
    policy = each_stack.one("aws:kms/key:Key", "registry-key").json_input("policy")
    others = [s for s in policy["Statement"] if s["Sid"] != "AccountAdministration"]
    assert others, "no statement for ECR"
    for s in others:
        cond = s["Condition"]["StringEquals"]
        assert cond["kms:ViaService"] == "ecr.ap-northeast-1.amazonaws.com"
        assert cond["kms:CallerAccount"] == "123456789012"
    grants = [s for s in others if "kms:CreateGrant" in s["Action"]]
    assert grants and all(s["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"} for s in grants)


@pytest.mark.parametrize(("stack", "keep"), [("prod", 30), ("staging", 10)])
def test_rec1_ecr3_lifecycle_keeps_the_newest_builds_from_config(stack: str, keep: int) -> None:
    """REC-1 / Security Hub ECR.3: a lifecycle policy expires old builds but keeps the newest N (rollback targets)."""
    view = stack_view(stack)
    lifecycle = view.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "registry-app")
    assert lifecycle.inputs["repository"] == _repo(view).outputs["name"]
    [rule] = json.loads(lifecycle.inputs["policy"])["rules"]
    assert rule["selection"] == {
        "tagStatus": "tagged",
        "tagPrefixList": [registry.TAG_PREFIX],
        "countType": "imageCountMoreThan",
        "countNumber": keep,
    }
    assert rule["action"] == {"type": "expire"}


def test_rec1_ecr3_no_rule_expires_untagged_images(each_stack: StackView) -> None:
    """REC-1: the platform and attestation manifests under a running image index are untagged; nothing expires them."""
    policy = json.loads(each_stack.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "registry-app").inputs["policy"])
    assert all(r["selection"]["tagStatus"] == "tagged" for r in policy["rules"])


def test_rec1_image_is_built_from_app_for_arm64_and_pushed_with_an_ecr_token(each_stack: StackView) -> None:
    """REC-1: pulumi-docker-build builds app/Dockerfile for Graviton and pushes it to this repository."""
    image = each_stack.one(IMAGE, "registry-app")
    repo = _repo(each_stack)
    assert image.inputs["context"] == {"location": "app"}
    assert image.inputs["dockerfile"] == {"location": "app/Dockerfile"}
    assert image.inputs["platforms"] == ["linux/arm64"]
    assert image.inputs["push"] is True
    assert image.inputs["buildOnPreview"] is False
    [reg] = image.inputs["registries"]
    assert reg["address"] == repo.outputs["repositoryUrl"].split("/")[0]
    assert reg["username"] == "AWS"
    assert reg["password"]["ciphertext"], "the registry password must be a secret"
    [tag] = image.inputs["tags"]
    # the hash part is checked against registry.image_tag in the unit tests below (app/ may change under a long session)
    assert re.fullmatch(re.escape(repo.outputs["repositoryUrl"]) + r":build-arm64-[0-9a-f]{20}", tag)
    assert image.provider_urn.endswith("pulumi:providers:docker-build::registry-docker-build")


def test_rec1_tasks_run_the_pushed_image_by_digest_never_by_tag(each_stack: StackView) -> None:
    """REC-1: every container runs `<repo>@sha256:...` of the image just pushed, so a tag can never swap it."""
    image = each_stack.one(IMAGE, "registry-app")
    assert DIGEST.fullmatch(image.outputs["digest"])
    expected = f"{_repo(each_stack).outputs['repositoryUrl']}@{image.outputs['digest']}"
    for family in ("app", "db-provision"):
        for c in dv.containers(each_stack, family).values():
            assert c["image"] == expected
    assert each_stack.stack_outputs["appImage"] == expected


def test_rec1_amd64_platform_builds_and_runs_x86() -> None:
    """REC-1 / AVL-1: kakoi:appPlatform switches the build platform and the tasks' CPU architecture together."""
    view = dv.rendered("staging", (("kakoi:appPlatform", "linux/amd64"),))
    image = view.one(IMAGE, "registry-app")
    assert image.inputs["platforms"] == ["linux/amd64"]
    assert re.search(r":build-amd64-[0-9a-f]{20}$", image.inputs["tags"][0])
    for family in ("app", "db-provision"):
        assert dv.task_def(view, family).inputs["runtimePlatform"] == {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}


def test_rec1_manual_rollback_pins_a_digest_without_building() -> None:
    """REC-1: kakoi:appImageDigest runs an image already in the repository; nothing is built or pushed."""
    pinned = "sha256:" + "ab" * 32
    view = dv.rendered("staging", (("kakoi:appImageDigest", pinned),))
    assert not [i for i in view.of_type(IMAGE) if i.name == "registry-app"]
    url = _repo(view).outputs["repositoryUrl"]
    for c in dv.containers(view, "app").values():
        assert c["image"] == f"{url}@{pinned}"


@pytest.mark.parametrize("bad", ["latest", "sha256:1234", "sha512:" + "ab" * 32])
def test_rec1_pinned_digest_must_be_a_sha256_digest(bad: str) -> None:
    """REC-1: a tag or a malformed digest is refused before anything is declared."""
    with pytest.raises(RenderError) as info:
        render("staging", overrides={"kakoi:appImageDigest": bad})
    assert "kakoi:appImageDigest" in str(info.value)
    assert info.value.declared == 0


def _context(tmp_path: Path, files: dict[str, str], ignore: str = "") -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if ignore:
        (tmp_path / ".dockerignore").write_text(ignore, encoding="utf-8")
    return tmp_path


def test_rec1_tag_changes_with_the_sources_and_the_platform(tmp_path: Path) -> None:
    """REC-1: a new build gets a new tag (immutable tags refuse a reused one); the same sources keep theirs."""
    ctx = _context(tmp_path, {"Dockerfile": "FROM scratch\n", "app/views.py": "x = 1\n"})
    first = registry.image_tag("linux/arm64", ctx)
    assert re.fullmatch(r"build-arm64-[0-9a-f]{20}", first)
    assert registry.image_tag("linux/arm64", ctx) == first
    assert registry.image_tag("linux/amd64", ctx).startswith("build-amd64-")
    assert registry.context_hash("linux/amd64", ctx) != registry.context_hash("linux/arm64", ctx)
    (ctx / "app/views.py").write_text("x = 2\n", encoding="utf-8")
    assert registry.image_tag("linux/arm64", ctx) != first


def test_rec1_tag_ignores_what_dockerignore_keeps_out_of_the_context(tmp_path: Path) -> None:
    """REC-1: files .dockerignore excludes (with directory and `**` patterns, `!` re-includes) do not change the tag."""
    ctx = _context(
        tmp_path,
        {"main.py": "a\n", "tests/test_x.py": "t\n", "pkg/__pycache__/m.pyc": "c\n", "docs/keep.md": "k\n", "docs/drop.md": "d\n"},
        ignore="# comment\ntests\n**/__pycache__\ndocs/*.md\n!docs/keep.md\n",
    )
    before = registry.context_hash("linux/arm64", ctx)
    for rel in ("tests/test_x.py", "pkg/__pycache__/m.pyc", "docs/drop.md"):
        (ctx / rel).write_text("changed\n", encoding="utf-8")
        assert registry.context_hash("linux/arm64", ctx) == before, rel
    (ctx / "docs/keep.md").write_text("changed\n", encoding="utf-8")
    assert registry.context_hash("linux/arm64", ctx) != before


def test_rec1_star_in_dockerignore_stays_inside_one_directory(tmp_path: Path) -> None:
    """REC-1: `*.md` excludes top-level files only (Docker semantics); a nested one still changes the tag."""
    ctx = _context(tmp_path, {"README.md": "r\n", "docs/guide.md": "g\n"}, ignore="*.md\n")
    before = registry.context_hash("linux/arm64", ctx)
    (ctx / "README.md").write_text("changed\n", encoding="utf-8")
    assert registry.context_hash("linux/arm64", ctx) == before
    (ctx / "docs/guide.md").write_text("changed\n", encoding="utf-8")
    assert registry.context_hash("linux/arm64", ctx) != before


def test_rec1_dockerfile_changes_the_tag_even_when_dockerignore_lists_it(tmp_path: Path) -> None:
    """REC-1: a new base image in the Dockerfile is a new image, so it gets a new tag (app/.dockerignore lists it)."""
    ctx = _context(tmp_path, {"Dockerfile": "FROM python:3.12-slim@sha256:aaa\n", "main.py": "m\n"}, ignore="Dockerfile\n")
    before = registry.context_hash("linux/arm64", ctx)
    (ctx / "Dockerfile").write_text("FROM python:3.12-slim@sha256:bbb\n", encoding="utf-8")
    assert registry.context_hash("linux/arm64", ctx) != before


def test_rec1_the_real_context_leaves_out_what_app_dockerignore_excludes() -> None:
    """REC-1: app/.dockerignore keeps tests and bytecode out of the image, so they cannot change the tag."""
    patterns = registry._dockerignore(registry.ROOT / "app")
    assert registry._ignored("tests/test_views.py", patterns)
    assert registry._ignored("accounts/__pycache__/views.cpython-312.pyc", patterns)
    assert not registry._ignored("accounts/views.py", patterns)
    assert not registry._ignored("requirements.txt", patterns)
