"""Runs during `pulumi up` (components/provisioning.py), before the ECS service: the Django key, then db-provision.

    python -m tools.run_db_provision run

1. **The Django signing key.** If its secret (``KAKOI_DJANGO_SECRET_ARN``) has no current value,
   a new one (64 random bytes, URL-safe) is generated here and written straight to Secrets
   Manager. It is never printed, never an input or output of any resource, so it is in no
   config and no state file. An existing value is kept (rotating it signs everyone out).
2. **The one-off db-provision task** (``KAKOI_TASK_DEFINITION`` on ``KAKOI_CLUSTER`` in the
   private subnets ``KAKOI_SUBNETS`` with ``KAKOI_SECURITY_GROUP``): ``ensure_db_roles``
   (create or update ``kakoi_owner``/``kakoi_web`` and their grants, fill the role secrets,
   keeping stored passwords), then the migrations. Waits until it stopped and fails (exit 1,
   so `pulumi up` stops before the service) unless its container exited 0.

Only the ARN of the task, its status and the log stream are printed (the command provider
keeps stdout in the stack's state). Credentials: boto3's standard chain, inherited from the
`pulumi up` environment (e.g. ``AWS_PROFILE``), region ``AWS_REGION``.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from components.contract import contract

#: the container of the db-provision task definition (the contract's process)
CONTAINER = contract.DB_PROVISION.name
#: bytes of randomness in a new Django key (token_urlsafe: ~86 characters)
DJANGO_KEY_BYTES = 64


class ProvisionError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    region: str
    cluster: str
    task_definition: str
    subnets: list[str]
    security_group: str
    django_secret_arn: str
    log_group: str
    timeout_seconds: int = 1500
    #: other secrets the tasks read that start empty and are generated the same way (the TURN relay's
    #: shared secret: KAKOI_GENERATED_SECRET_ARNS, comma-separated)
    generated_secret_arns: tuple[str, ...] = ()
    poll_seconds: float = 6.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        missing = [
            k
            for k in (
                "AWS_REGION",
                "KAKOI_CLUSTER",
                "KAKOI_TASK_DEFINITION",
                "KAKOI_SUBNETS",
                "KAKOI_SECURITY_GROUP",
                "KAKOI_DJANGO_SECRET_ARN",
                "KAKOI_LOG_GROUP",
            )
            if not env.get(k)
        ]
        if missing:
            raise ProvisionError(f"missing environment: {', '.join(missing)}")
        return cls(
            region=env["AWS_REGION"],
            cluster=env["KAKOI_CLUSTER"],
            task_definition=env["KAKOI_TASK_DEFINITION"],
            subnets=[s for s in env["KAKOI_SUBNETS"].split(",") if s],
            security_group=env["KAKOI_SECURITY_GROUP"],
            django_secret_arn=env["KAKOI_DJANGO_SECRET_ARN"],
            log_group=env["KAKOI_LOG_GROUP"],
            timeout_seconds=int(env.get("KAKOI_PROVISION_TIMEOUT_SECONDS", "1500")),
            poll_seconds=float(env.get("KAKOI_PROVISION_POLL_SECONDS", "6")),
            generated_secret_arns=tuple(a for a in env.get("KAKOI_GENERATED_SECRET_ARNS", "").split(",") if a),
        )


def ensure_django_key(sm: Any, secret_arn: str, token: Callable[[int], str] = secrets.token_urlsafe) -> bool:
    """Write a new random key if the secret has no AWSCURRENT value; True when one was written."""
    stages = sm.describe_secret(SecretId=secret_arn).get("VersionIdsToStages") or {}
    if any("AWSCURRENT" in s for s in stages.values()):
        return False
    sm.put_secret_value(SecretId=secret_arn, SecretString=token(DJANGO_KEY_BYTES))
    return True


def run_task(ecs: Any, s: Settings, sleep: Callable[[float], None] = time.sleep, out: Callable[[str], None] = print) -> None:
    """Start the db-provision task, wait until it stopped, raise unless its container exited 0."""
    started = ecs.run_task(
        cluster=s.cluster,
        taskDefinition=s.task_definition,
        launchType="FARGATE",
        count=1,
        startedBy="pulumi-up",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": s.subnets, "securityGroups": [s.security_group], "assignPublicIp": "DISABLED"}
        },
    )
    if started.get("failures") or not started.get("tasks"):
        raise ProvisionError(f"ECS could not start {s.task_definition}: {started.get('failures')}")
    arn = started["tasks"][0]["taskArn"]
    out(f"db-provision: started {arn}")
    deadline = time.monotonic() + s.timeout_seconds
    task: dict[str, Any] = {}
    while True:
        task = ecs.describe_tasks(cluster=s.cluster, tasks=[arn])["tasks"][0]
        if task.get("lastStatus") == "STOPPED":
            break
        if time.monotonic() > deadline:
            raise ProvisionError(f"{arn} still {task.get('lastStatus')} after {s.timeout_seconds} s (it keeps running; see the log)")
        sleep(s.poll_seconds)
    container = next((c for c in task.get("containers", []) if c.get("name") == CONTAINER), {})
    code = container.get("exitCode")
    stream = f"{s.log_group} {CONTAINER}/{CONTAINER}/{arn.rsplit('/', 1)[-1]}"
    if code != 0:
        reason = container.get("reason") or task.get("stoppedReason") or "no reason given"
        raise ProvisionError(f"db-provision exited {code}: {reason}; log: {stream}")
    out(f"db-provision: exited 0 (roles, role secrets, migrations); log: {stream}")


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None, session: Any = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["run"]:
        print("usage: python -m tools.run_db_provision run", file=sys.stderr)
        return 2
    try:
        s = Settings.from_env(os.environ if env is None else env)
        session = session or boto3.Session(region_name=s.region)
        if ensure_django_key(session.client("secretsmanager", region_name=s.region), s.django_secret_arn):
            print("django key: generated and stored (first deploy)")
        else:
            print("django key: kept")
        sm = session.client("secretsmanager", region_name=s.region)
        for arn in s.generated_secret_arns:
            name = arn.split(":secret:", 1)[-1]
            print(f"secret {name}: " + ("generated and stored (first deploy)" if ensure_django_key(sm, arn) else "kept"))
        run_task(session.client("ecs", region_name=s.region), s)
    except (ProvisionError, ClientError, BotoCoreError) as exc:
        print(f"db-provision: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
