"""The media app's deployment: image, ECS Fargate service, autoscaling, mail (AVL-1, REC-1, MON-1).

Production may not weaken what the sheet requires: at least two tasks (one per
availability zone at minimum, AVL-1), whatever the stack file says.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core import CoreConfig
from .detection import check_log_retention_floor
from .edge import HOSTNAME_PATTERN
from .reader import EMAIL_PATTERN, LOG_RETENTION_DAYS, Reader

#: image platforms the service can run: Graviton (arm64) by default, x86_64 if the image needs it
PLATFORMS = {"linux/arm64": "ARM64", "linux/amd64": "X86_64"}

#: CloudWatch Container Insights values of the cluster setting `containerInsights`
#: (`disabled` is left out on purpose: Security Hub ECS.12).
#: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterSetting.html
CONTAINER_INSIGHTS = ("enhanced", "enabled")

#: an image digest as ECR reports it
DIGEST_PATTERN = r"sha256:[0-9a-f]{64}"


def fargate_memory_choices(cpu: int) -> tuple[int, ...]:
    """Memory sizes (MiB) Fargate accepts for a task CPU size (empty if the CPU size is not valid).

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html
    """
    gib = 1024
    table: dict[int, tuple[int, ...]] = {
        256: (512, 1 * gib, 2 * gib),
        512: tuple(range(1 * gib, 4 * gib + 1, gib)),
        1024: tuple(range(2 * gib, 8 * gib + 1, gib)),
        2048: tuple(range(4 * gib, 16 * gib + 1, gib)),
        4096: tuple(range(8 * gib, 30 * gib + 1, gib)),
        8192: tuple(range(16 * gib, 60 * gib + 1, 4 * gib)),
        16384: tuple(range(32 * gib, 120 * gib + 1, 8 * gib)),
    }
    return table.get(cpu, ())


FARGATE_CPUS = (256, 512, 1024, 2048, 4096, 8192, 16384)


@dataclass(frozen=True)
class AppConfig:
    #: `linux/arm64` or `linux/amd64` (the image build platform)
    platform: str
    cpu: int
    memory: int
    min_tasks: int
    max_tasks: int
    cpu_target_percent: int
    requests_per_target: int
    log_retention_days: int
    container_insights: str
    ecs_exec: bool
    #: false only for the very first deploy of a stack (the role secrets are empty until
    #: `ensure_db_roles` ran; see docs/runbooks/deploy.md)
    service_enabled: bool
    #: "" to build and push app/; a digest already in the repository to pin it (manual rollback)
    image_digest: str
    ecr_keep_images: int
    mail_domain: str
    mail_from: str

    @property
    def cpu_architecture(self) -> str:
        """The ECS runtime platform's `cpuArchitecture` for the image platform."""
        return PLATFORMS.get(self.platform, "ARM64")


def load(r: Reader, core: CoreConfig) -> AppConfig:
    is_production = core.is_production
    platform = r.string("appPlatform", choices=tuple(PLATFORMS))
    cpu = r.integer("appCpu", allowed=FARGATE_CPUS)
    memory = r.integer("appMemory", minimum=512)
    choices = list(fargate_memory_choices(cpu))
    if r.ok("appCpu", "appMemory") and choices and memory not in choices:
        valid = ", ".join(map(str, choices)) if len(choices) <= 4 else f"{choices[0]}-{choices[-1]} in steps of {choices[1] - choices[0]}"
        r.fail("appMemory", f"{memory} MiB is not a Fargate memory size for appCpu {cpu} (valid: {valid} MiB)")
    min_tasks = r.integer("appMinTasks", minimum=1, maximum=100)
    max_tasks = r.integer("appMaxTasks", minimum=1, maximum=100)
    if r.ok("appMinTasks", "appMaxTasks") and max_tasks < min_tasks:
        r.fail("appMaxTasks", f"{max_tasks} is below appMinTasks ({min_tasks})")
    if is_production and r.ok("appMinTasks") and min_tasks < 2:
        r.fail("appMinTasks", "production runs at least 2 tasks, so that losing one availability zone keeps the app up (AVL-1)")

    mail_domain = r.string("mailDomain", pattern=HOSTNAME_PATTERN, describe="a lower-case DNS name")
    mail_from = r.string("mailFrom", pattern=EMAIL_PATTERN, describe="an email address")
    if r.ok("mailDomain", "mailFrom"):
        domain = mail_from.rsplit("@", 1)[1].lower()
        if domain != mail_domain and not domain.endswith(f".{mail_domain}"):
            r.fail("mailFrom", f"{mail_from!r} is not an address in mailDomain {mail_domain!r} (SES sends only from the verified domain)")

    log_retention = r.integer("appLogRetentionDays", allowed=LOG_RETENTION_DAYS)
    check_log_retention_floor(r, core, "appLogRetentionDays", log_retention)
    ecs_exec = r.boolean("ecsExec")
    if r.ok("ecsExec") and ecs_exec and core.policy_mandatory("kakoi-ecs-exec-disabled"):
        r.fail(
            "ecsExec",
            f"must be false in stack {core.stack}: ECS Exec opens a shell in the running tasks and kakoi-ecs-exec-disabled "
            "(CMD-1) is mandatory there; a stack that needs it for debugging lists that policy in policies/kakoi_policy/levels.py",
        )

    return AppConfig(
        platform=platform,
        cpu=cpu,
        memory=memory,
        min_tasks=min_tasks,
        max_tasks=max_tasks,
        cpu_target_percent=r.integer("appCpuTargetPercent", minimum=10, maximum=90),
        requests_per_target=r.integer("appRequestsPerTarget", minimum=1, maximum=100_000),
        log_retention_days=log_retention,
        container_insights=r.string("containerInsights", choices=CONTAINER_INSIGHTS),
        ecs_exec=ecs_exec,
        service_enabled=r.boolean("appServiceEnabled"),
        image_digest=r.string(
            "appImageDigest", required=False, allow_empty=True, pattern=DIGEST_PATTERN, describe="an image digest sha256:<64 hex>"
        ),
        ecr_keep_images=r.integer("ecrKeepImages", minimum=5, maximum=1000),
        mail_domain=mail_domain,
        mail_from=mail_from,
    )
