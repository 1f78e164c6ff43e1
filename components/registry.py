"""The app's container registry and image (Security Hub ECR.1, ECR.2, ECR.3; ENC-1; REC-1).

* **Repository** (``<prefix>/app``): scan on push (ECR.1), immutable tags (ECR.2), SSE-KMS
  with this component's own customer-managed key (rotation on, from config), a lifecycle
  policy (ECR.3), protected from ``pulumi destroy``: the images it holds are what the
  service and its rollbacks run.
* **Key**: none of the data tier's keys fits (each key policy names only its own service),
  so the registry has its own. Key policy: the account root (delegates to IAM, see
  components/kms.py), and use through ECR only, by principals of this account
  (``kms:ViaService`` ``ecr.<region>.amazonaws.com``), grants only for AWS resources. ECR
  creates the grants it needs when the repository is created, and pulls decrypt through
  them: the task execution role needs no KMS permission to pull.
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html
* **Image**: pulumi-docker-build builds ``app/Dockerfile`` (context ``app/``) for
  ``kakoi:appPlatform`` (``linux/arm64`` by default: Graviton Fargate) and pushes it with
  credentials from ``aws.ecr.get_authorization_token_output``. Tags are immutable, so each
  build needs a tag never used before: ``build-<arch>-<hash>``, the hash being a SHA-256
  of the platform, the Dockerfile and every file of the build context that
  ``app/.dockerignore`` lets through. Unchanged sources give the same tag (and docker-build sees nothing to do);
  changed sources a new one. The service refers to the image by digest
  (``<repo>@sha256:...``), never by tag. ``kakoi:appImageDigest`` pins an image already in
  the repository instead of building (manual rollback, docs/runbooks/deploy.md).
  No build on preview (previews need no Docker engine); no registry cache (a cache tag
  would have to be overwritten, which immutable tags refuse).
* **More images** (``extra_images``): the TURN relay's image (``relay/Dockerfile``, context
  ``relay/``, components/relay.py) gets its own repository ``<prefix>/relay`` under the same key
  with the same settings, is tagged and built the same way and pinned the same way
  (``kakoi:relayImageDigest``).
* **Lifecycle**: keep the newest ``kakoi:ecrKeepImages`` ``build-`` images, expire older
  ones. There is no rule on untagged images on purpose: the per-platform manifest and the
  attestation manifest of a pushed image index are untagged, and an age rule on untagged
  images could expire them under an index the service still runs.
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from components import kms, kms_policies

if TYPE_CHECKING:
    from components.context import StackContext
    from stackconfig.app import AppConfig

CONTROLS: dict[str, str] = {
    "ENC-1": "the image repository is encrypted with its own customer-managed KMS key (rotation on)",
    "REC-1": "images are immutable and referenced by digest; the newest N are kept, so any recent release can be redeployed",
    "BOF-2": "every pushed image is scanned for known vulnerabilities in its OS and language packages (scan on push)",
}

ROOT = Path(__file__).resolve().parent.parent
#: build context and Dockerfile, relative to the project directory (where pulumi runs)
CONTEXT = "app"
DOCKERFILE = "app/Dockerfile"
TAG_PREFIX = "build-"


def _dockerignore(context: Path) -> list[str]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line.lstrip("/").rstrip("/"))
    return patterns


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex over slash-separated paths: `*` and `?` stay inside one
    path segment, `**` spans any number of them (moby/patternmatcher semantics)."""
    out = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        out += "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
        i += 1
    return re.compile(out)


def _ignored(rel: str, patterns: list[str]) -> bool:
    """Whether `rel` stays out of the build context: the last matching pattern wins, `!` re-includes,
    and a pattern that matches a directory excludes everything below it. When in doubt a file counts
    as sent: a needlessly new tag is harmless, a reused one would be refused by the immutable repo."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern[1:] if negate else pattern)
        if any(regex.fullmatch(p) for p in prefixes):
            ignored = not negate
    return ignored


def context_hash(platform: str, context: Path | None = None, dockerfile: Path | None = None) -> str:
    """SHA-256 over the platform, the Dockerfile and the (path, content) of every file the build
    context sends. The Dockerfile counts even when .dockerignore leaves it out of the context
    (app/.dockerignore does): it shapes the image all the same."""
    context = context or ROOT / CONTEXT
    dockerfile = dockerfile or context / "Dockerfile"
    patterns = _dockerignore(context)
    h = hashlib.sha256(platform.encode())
    h.update(b"\0Dockerfile\0" + (dockerfile.read_bytes() if dockerfile.is_file() else b""))
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        rel = path.relative_to(context).as_posix()
        if _ignored(rel, patterns):
            continue
        h.update(b"\0" + rel.encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def image_tag(platform: str, context: Path | None = None) -> str:
    """`build-<arch>-<first 20 hex of the context hash>`, e.g. `build-arm64-0f3a...`."""
    arch = platform.split("/")[-1]
    return f"{TAG_PREFIX}{arch}-{context_hash(platform, context)[:20]}"


def lifecycle_policy(keep: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the newest {keep} builds (rollback targets), expire older ones",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPrefixList": [TAG_PREFIX],
                        "countType": "imageCountMoreThan",
                        "countNumber": keep,
                    },
                    "action": {"type": "expire"},
                }
            ]
        },
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class ImageSpec:
    """One more image: repository `<prefix>/<name>`, built from `context/Dockerfile` (context relative to the project)."""

    name: str
    context: str
    #: "" to build it; a digest already in its repository to pin it
    pinned_digest: str = ""


@dataclass(frozen=True)
class RegistryArgs:
    """The app's repository and image, and more images under the same key."""

    #: prefix, account, partition, region: repositories `<prefix>/<image>`, the key alias
    #: `alias/<prefix>/ecr`, its policy (use through ECR in this region only, ENC-1); required
    context: StackContext
    #: the app's section: the image platform (kakoi:appPlatform), how many builds the lifecycle keeps
    #: (kakoi:ecrKeepImages, REC-1) and a digest to pin instead of building (kakoi:appImageDigest,
    #: "" = build app/, REC-1); required
    config: AppConfig
    #: rotation period of the repositories' customer-managed key, days (kakoi:kmsKeyRotationDays, ENC-1); required
    key_rotation_days: int
    #: more images of the same platform, each in its own repository `<prefix>/<name>` under this key
    #: (the TURN relay's, built from relay/; scanned and kept like the app's, BOF-2, REC-1); @default none
    extra_images: Sequence[ImageSpec] = ()


class Registry(pulumi.ComponentResource):
    key: aws.kms.Key
    repository: aws.ecr.Repository
    image: docker_build.Image | None

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:registry:Registry", name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        child = pulumi.ResourceOptions(parent=self)

        ctx = args.context
        key_policy = pulumi.Output.all(ctx.partition, ctx.account_id).apply(
            lambda v: kms_policies.document(
                kms_policies.root_admin(v[0], v[1]),
                *kms_policies.via_services(v[1], "Ecr", [kms_policies.service_endpoint("ecr", ctx.region)], grants=True),
            )
        )
        self.key, _ = kms.customer_key(
            f"{name}-key",
            parent=self,
            description=f"{ctx.name_prefix}: ECR repository of the app image",
            alias=f"alias/{ctx.name_prefix}/ecr",
            policy=key_policy,
            rotation_days=args.key_rotation_days,
        )

        self.docker_provider: docker_build.Provider | None = None
        #: image name -> what the task definitions reference (`<repository url>@sha256:...`)
        self.image_refs: dict[str, pulumi.Output[str]] = {}
        self.repository_arns: dict[str, pulumi.Output[str]] = {}
        app = self._image(name, "app", CONTEXT, DOCKERFILE, args.config.image_digest, args, keep, child)
        self.repository, self.lifecycle, self.image, self.tag, self.digest = app
        self.repository_url = self.repository.repository_url
        self.repository_arn = self.repository.arn
        self.image_ref = self.image_refs["app"]
        for extra in args.extra_images:
            self._image(name, extra.name, extra.context, f"{extra.context}/Dockerfile", extra.pinned_digest, args, keep, child)
        self.register_outputs(
            {
                "repositoryUrl": self.repository_url,
                "repositoryArn": self.repository_arn,
                "imageRef": self.image_ref,
                **({"imageRefs": self.image_refs} if args.extra_images else {}),
            }
        )

    def _image(
        self,
        name: str,
        image: str,
        context: str,
        dockerfile: str,
        pinned_digest: str,
        args: RegistryArgs,
        keep: pulumi.ResourceOptions,
        child: pulumi.ResourceOptions,
    ) -> tuple[aws.ecr.Repository, aws.ecr.LifecyclePolicy, docker_build.Image | None, str, pulumi.Output[str]]:
        """The repository `<prefix>/<image>` (this component's key, scan on push, immutable tags, lifecycle)
        and, unless `pinned_digest` names one already pushed, the image built from `context` and pushed."""
        repository = aws.ecr.Repository(
            f"{name}-{image}",
            name=f"{args.context.name_prefix}/{image}",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": self.key.arn}],
            force_delete=False,
            opts=keep,
        )
        lifecycle = aws.ecr.LifecyclePolicy(
            f"{name}-{image}",
            repository=repository.name,
            policy=lifecycle_policy(args.config.ecr_keep_images),
            opts=child,
        )
        built: docker_build.Image | None = None
        if pinned_digest:
            tag = ""
            digest: pulumi.Output[str] = pulumi.Output.from_input(pinned_digest)
        else:
            tag = image_tag(args.config.platform, ROOT / context)
            auth = aws.ecr.get_authorization_token_output(registry_id=repository.registry_id, opts=pulumi.InvokeOutputOptions(parent=self))
            if self.docker_provider is None:
                # an explicit provider (rather than the engine's default one) so that the image has a provider
                # reference like every other resource, in the offline render as in the real state
                self.docker_provider = docker_build.Provider(f"{name}-docker-build", opts=child)
            built = docker_build.Image(
                f"{name}-{image}",
                context={"location": context},
                dockerfile={"location": dockerfile},
                platforms=[docker_build.Platform(args.config.platform)],
                tags=[repository.repository_url.apply(lambda url: f"{url}:{tag}")],
                push=True,
                build_on_preview=False,
                registries=[
                    {
                        "address": repository.repository_url.apply(lambda url: url.split("/", 1)[0]),
                        "username": auth.user_name,
                        "password": pulumi.Output.secret(auth.password),
                    }
                ],
                opts=pulumi.ResourceOptions(parent=self, provider=self.docker_provider, depends_on=[lifecycle]),
            )
            digest = built.digest
        self.image_refs[image] = pulumi.Output.all(repository.repository_url, digest).apply(lambda v: f"{v[0]}@{v[1]}")
        self.repository_arns[image] = repository.arn
        return repository, lifecycle, built, tag, digest
