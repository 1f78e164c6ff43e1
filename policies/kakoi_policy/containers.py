"""ECS and ECR: the app's tasks (NET-1, MON-1, REC-1) and its image repository."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs

from .base import ADVISORY, HIGH, LOW, MANDATORY, MEDIUM, Cfg, KakoiResourcePolicy, KakoiStackPolicy, Node, Stack, Violation
from .constants import ECR_LIFECYCLE, ECR_REPO, ECS_CLUSTER, ECS_SERVICE, ECS_TASK


def containers(props: Node) -> list[dict[str, Any]]:
    """The task definition's containers (containerDefinitions is a JSON string)."""
    doc = props.json("containerDefinitions")
    return [c for c in doc if isinstance(c, dict)] if isinstance(doc, list) else []


def _check_public_ip(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if props.get("networkConfiguration", "assignPublicIp") is True:  # default false
        yield "networkConfiguration.assignPublicIp is true: tasks get public IP addresses"


ecs_no_public_ip = KakoiResourcePolicy(
    name="kakoi-net-ecs-no-public-ip",
    description="ECS services do not give their tasks public IP addresses (omitted means false); tasks sit in private subnets.",
    types=(ECS_SERVICE,),
    check=_check_public_ip,
    level=MANDATORY,
    severity=HIGH,
    sheet=("NET-1",),
    securityhub=("ECS.2",),
    remediation="Remove assignPublicIp (or set it to false) and use the private app subnets.",
)


def _check_privileged(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if props.get("pidMode") == "host":
        yield "pidMode is host: tasks share the host's process namespace"
    for c in containers(props):
        if c.get("privileged") is True:
            yield f"container {c.get('name')} runs privileged"


ecs_not_privileged = KakoiResourcePolicy(
    name="kakoi-ecs-not-privileged",
    description="No container runs privileged and no task shares the host's process namespace.",
    types=(ECS_TASK,),
    check=_check_privileged,
    level=ADVISORY,
    severity=HIGH,
    securityhub=("ECS.3", "ECS.4"),
    remediation="Remove privileged=true from the container definition and pidMode=host from the task definition.",
)


def _check_readonly(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    for c in containers(props):
        if c.get("readonlyRootFilesystem") is not True:  # default false
            yield f"container {c.get('name')} can write to its root filesystem (readonlyRootFilesystem)"


ecs_readonly_root = KakoiResourcePolicy(
    name="kakoi-ecs-readonly-root-filesystem",
    description="Containers have a read-only root filesystem (omitted means writable); scratch space is an explicit volume.",
    types=(ECS_TASK,),
    check=_check_readonly,
    level=ADVISORY,
    severity=MEDIUM,
    securityhub=("ECS.5",),
    remediation="Set readonlyRootFilesystem=true and mount a volume for the paths the app writes.",
)

SECRET_NAMES = re.compile(
    r"(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|ECS_ENGINE_AUTH_DATA|PASSWORD|SECRET|TOKEN|PRIVATE_KEY|API_KEY)", re.IGNORECASE
)


def _check_env_secrets(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    allowed = set(cfg["allowedNames"])
    for c in containers(props):
        for env in c.get("environment") or []:
            name = str(env.get("name") if isinstance(env, dict) else "")
            value = str(env.get("value") if isinstance(env, dict) else "")
            if value.startswith("arn:"):
                continue  # a reference to a secret (its ARN), not the secret itself
            if name and name not in allowed and SECRET_NAMES.search(name):
                yield f"container {c.get('name')} passes {name} as a plain environment variable; use `secrets` (Secrets Manager)"


ecs_no_env_secrets = KakoiResourcePolicy(
    name="kakoi-ecs-no-secrets-in-environment",
    description="Credentials reach containers through `secrets` (Secrets Manager/SSM), never as plain environment variables.",
    types=(ECS_TASK,),
    check=_check_env_secrets,
    level=ADVISORY,
    severity=HIGH,
    securityhub=("ECS.8",),
    remediation="Move the value to Secrets Manager and reference it in the container's `secrets` list.",
    config={
        "allowedNames": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Environment variable names that look secret but are not (e.g. a secret's ARN or name).",
            "default": [],
        }
    },
)


def _check_logging(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    for c in containers(props):
        log = c.get("logConfiguration")
        if not isinstance(log, dict) or not log.get("logDriver"):
            yield f"container {c.get('name')} has no logConfiguration: its output is lost"


ecs_logging = KakoiResourcePolicy(
    name="kakoi-mon-ecs-logging",
    description="Every container sends its output to a log driver (awslogs), so every server process is visible.",
    types=(ECS_TASK,),
    check=_check_logging,
    level=MANDATORY,
    severity=HIGH,
    sheet=("MON-1",),
    securityhub=("ECS.9",),
    remediation="Add logConfiguration={logDriver: 'awslogs', options: {awslogs-group, awslogs-region, awslogs-stream-prefix}}.",
)


def _check_insights(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    for setting in props.nodes("settings"):
        if setting.get("name") == "containerInsights" and setting.get("value") in ("enabled", "enhanced"):
            return
    yield "Container Insights is not enabled on the cluster (settings containerInsights=enabled)"


ecs_container_insights = KakoiResourcePolicy(
    name="kakoi-mon-ecs-container-insights",
    description="ECS clusters collect Container Insights metrics (omitted follows the account default, usually off).",
    types=(ECS_CLUSTER,),
    check=_check_insights,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("MON-1",),
    securityhub=("ECS.12",),
    remediation="Set settings=[{name: 'containerInsights', value: 'enhanced'}].",
)


def _check_rollback(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    controller = props.get("deploymentController", "type") or "ECS"
    if controller != "ECS":
        return  # CODE_DEPLOY / EXTERNAL roll back on their own terms
    breaker = props.node("deploymentCircuitBreaker")
    if breaker is None or breaker.get("enable") is not True or breaker.get("rollback") is not True:
        yield "the deployment circuit breaker with rollback is off: a failing deployment is not rolled back automatically"


ecs_rollback = KakoiResourcePolicy(
    name="kakoi-rec-ecs-rollback",
    description="ECS deployments roll back automatically when the new tasks fail (deployment circuit breaker with rollback).",
    types=(ECS_SERVICE,),
    check=_check_rollback,
    level=MANDATORY,
    severity=HIGH,
    sheet=("REC-1",),
    securityhub=(),
    remediation="Set deploymentCircuitBreaker={enable: true, rollback: true} (and alarms for the deployment).",
)


def _check_exec(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if props.get("enableExecuteCommand") is True:  # default false
        yield "enableExecuteCommand is true: ECS Exec opens an interactive shell in the running tasks (kakoi:ecsExec)"


ecs_exec_off = KakoiResourcePolicy(
    name="kakoi-ecs-exec-disabled",
    description="ECS services do not allow ECS Exec into their tasks (omitted means off); kakoi:ecsExec turns it on for debugging.",
    types=(ECS_SERVICE,),
    check=_check_exec,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("CMD-1",),
    securityhub=(),
    remediation="Set kakoi:ecsExec false (enableExecuteCommand=false) once the debugging session is over.",
)


def _check_scan(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if props.get("imageScanningConfiguration", "scanOnPush") is not True:  # default false
        yield "images are not scanned on push (imageScanningConfiguration.scanOnPush)"


def _check_immutable(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    mutability = props.get("imageTagMutability") or "MUTABLE"
    if not str(mutability).startswith("IMMUTABLE"):
        yield f"image tags are {mutability}: a pushed tag can be replaced"


ecr_scan_on_push = KakoiResourcePolicy(
    name="kakoi-ecr-scan-on-push",
    description="ECR scans every pushed image for known vulnerabilities (omitted means no scan).",
    types=(ECR_REPO,),
    check=_check_scan,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("BOF-2",),
    securityhub=("ECR.1",),
    remediation="Set imageScanningConfiguration={scanOnPush: true} (or enhanced scanning on the registry).",
)
ecr_immutable_tags = KakoiResourcePolicy(
    name="kakoi-ecr-immutable-tags",
    description="ECR image tags are immutable (omitted means MUTABLE).",
    types=(ECR_REPO,),
    check=_check_immutable,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("REC-1",),
    securityhub=("ECR.2",),
    remediation="Set imageTagMutability=IMMUTABLE; deploy by digest.",
)


def _check_ecr_lifecycle(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    with_policy: set[str] = set()
    for lp in stack.of(ECR_LIFECYCLE):
        with stack.deciding():
            with_policy.add(str(lp.get("repository")))
    for repo in stack.of(ECR_REPO):
        with stack.deciding():
            if str(repo.get("name")) not in with_policy:
                yield repo.urn, f"repository {repo.get('name')} has no lifecycle policy"


ecr_lifecycle = KakoiStackPolicy(
    name="kakoi-ecr-lifecycle-policy",
    description="Every ECR repository has a lifecycle policy that expires old images.",
    types=(ECR_REPO,),
    check=_check_ecr_lifecycle,
    level=ADVISORY,
    severity=LOW,
    securityhub=("ECR.3",),
    remediation="Declare aws.ecr.LifecyclePolicy(repository=repo.name, policy=...).",
)

POLICIES = [
    ecs_no_public_ip,
    ecs_not_privileged,
    ecs_readonly_root,
    ecs_no_env_secrets,
    ecs_logging,
    ecs_container_insights,
    ecs_rollback,
    ecs_exec_off,
    ecr_scan_on_push,
    ecr_immutable_tags,
    ecr_lifecycle,
]
