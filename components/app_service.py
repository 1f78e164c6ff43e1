"""The app on ECS Fargate: cluster, task definitions, service, autoscaling (AVL-1, REC-1, MON-1).

* **Cluster** with CloudWatch Container Insights (``kakoi:containerInsights``: ``enhanced``
  or ``enabled``; the API also accepts ``disabled``, which config refuses: Security Hub
  ECS.12). https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterSetting.html
* **Service task definition** (``<prefix>-app``), Fargate, ``awsvpc``, runtime platform
  LINUX / ARM64 (Graviton; X86_64 when ``kakoi:appPlatform`` is ``linux/amd64``), the
  image by digest. Two containers, both hardened the same way: read-only root filesystem
  (ECS.5) with an ephemeral task volume on ``/tmp`` (one per container), the image's
  non-root user, ``privileged: false`` (ECS.4), every Linux capability dropped, an init
  process, logs through ``awslogs`` to a KMS-encrypted log group (ECS.9), credentials
  only through ``secrets`` (ECS.8: JSON keys of Secrets Manager secrets, never a plain
  environment variable):

  - ``migrate`` (essential: false) runs the image's ``migrate`` connected as the owner role
    (``kakoi_owner``, which owns the schema): plain Django migrations, then it exits;
  - ``web`` (``web``: gunicorn on ``$PORT``) starts only when ``migrate`` exited 0
    (``dependsOn: migrate SUCCESS``) and gets only the web role's credentials
    (``kakoi_web``, DML only: SQL-3). A failed migration therefore never serves traffic:
    the task stops, the deployment fails and the circuit breaker rolls it back.

  Both also get the Django signing key (``DJANGO_SECRET_KEY``) from its secret. Every new
  task runs ``migrate``, so a deployment starts several at once: PostgreSQL's transactional
  DDL rolls a losing concurrent migration back and that task is replaced, but the app
  should serialise them (a PostgreSQL advisory lock around ``migrate``) so none fails.
* **db-provision task definition** (``<prefix>-db-provision``), not part of the service:
  one container running the image's ``migrate`` with the RDS-managed master secret, which
  makes it ``provision_db``: ``ensure_db_roles`` (create or update ``kakoi_owner`` and
  ``kakoi_web``, keep or, with ``--rotate``, replace their passwords, write the role
  secrets), then the migrations as the owner (docs/database-roles.md). An operator runs
  it inside every ``pulumi up`` that brings a new image or task definition revision,
  before the service (components/provisioning.py, which also writes the Django key on the
  first deploy); an operator runs it with ``aws ecs run-task`` only to rotate the role
  passwords and after a restore (docs/runbooks/deploy.md). Keeping it out of the service keeps the master password and
  the role secrets' write access out of every long-running task (components/app_iam.py:
  ECS has no per-container task roles, so the web container would share them), and it is
  the only way the first deploy can work at all: ECS does not start a task whose
  definition references a secret without a value, and the role secrets are empty until
  ``ensure_db_roles`` has run.
* **Service** in the private subnets without public IPs (ECS.2), behind the load
  balancer's target group (which checks ``/healthz/ready``); rolling deployments at 100 %
  minimum healthy / 200 % maximum, so capacity never drops during a release; the
  deployment circuit breaker with rollback (REC-1); ECS Exec only with ``kakoi:ecsExec``.
  Fargate spreads a service's tasks over the availability zones of the subnets it is
  given (one private subnet per AZ), and ``availability_zone_rebalancing = ENABLED``
  moves tasks back when the spread becomes uneven (AVL-1).
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-rebalancing.html
  Old task definition revisions stay registered (``skip_destroy``): a manual rollback
  can point the service back at one.
* **Autoscaling** between ``kakoi:appMinTasks`` (at least 2 in production) and
  ``kakoi:appMaxTasks``, target tracking on average CPU and on requests per target
  (``ALBRequestCountPerTarget``, resource label ``<lb arn suffix>/<tg arn suffix>``).
  Autoscaling owns the desired count after creation (``ignore_changes``).
* **Container health check** on ``web``: ``/healthz/live`` (the process answers) with the
  image's Python, since the image has no curl. Readiness (``/healthz/ready``, the
  database reachable) stays with the target group: a database outage should take tasks
  out of the load balancer, not make ECS kill and restart every task at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.contract import contract
from components.provisioning import Provisioning, ProvisioningArgs

CONTROLS: dict[str, str] = {
    "AVL-1": "at least two Fargate tasks (production) spread over every AZ's private subnet, AZ rebalancing on, "
    "autoscaling on CPU and requests per target",
    "REC-1": "deployment circuit breaker with automatic rollback; 100 % minimum healthy during releases; "
    "previous task definition revisions kept for manual rollback",
    "MON-1": "Container Insights on the cluster; container logs in a KMS-encrypted CloudWatch log group",
    "SQL-3": "the migration container gets only the owner role's credentials and the web container only the web role's; "
    "the master credentials live only in the one-off db-provision task",
    "CMD-1": "containers run as the image's non-root user with a read-only root filesystem, no privileges and every "
    "Linux capability dropped",
}

#: container names (the load balancer and the alarms refer to them)
WEB = contract.WEB.name
MIGRATE = contract.MIGRATE.name
DB_PROVISION = contract.DB_PROVISION.name
#: arguments of the image's entrypoint (`python -m kakoi.entrypoint`, app/kakoi/entrypoint.py):
#: `web` serves with gunicorn; `migrate` connected as kakoi_owner (the service's migrate container)
#: runs plain migrations; `migrate` with DATABASE_MASTER_USER set (the db-provision task) runs
#: ensure_db_roles and then the migrations as kakoi_owner (`migrate --rotate` rotates the passwords)
WEB_COMMAND = list(contract.WEB.command)
MIGRATE_COMMAND = list(contract.MIGRATE.command)
DB_PROVISION_COMMAND = list(contract.DB_PROVISION.command)
#: uid:gid of the image's non-root user (app/Dockerfile `USER`)
APP_USER = contract.APP_USER
#: the only writable path of the containers: a per-container ephemeral task volume (not the host's /tmp)
TMP_PATH = contract.WRITABLE_PATH
#: the liveness endpoint of the app (the target group checks readiness, /healthz/ready)
HEALTH_PATH_LIVE = contract.HEALTH_LIVE_PATH
#: the image's Python (the health check's HTTP client: the image has no curl)
PYTHON = "python"


#: the database every role connects to (docs/database-roles.md)
DATABASE_NAME = contract.DB_NAME
#: the RDS CA bundle inside the image (sslmode=verify-full, ENC-1)
RDS_CA_BUNDLE = contract.RDS_CA_BUNDLE


def app_environment(
    *,
    domain_name: str,
    region: str,
    database_host: pulumi.Input[str],
    database_port: pulumi.Input[int],
    media_bucket: pulumi.Input[str],
    mail_from: str,
    ses_configuration_set: pulumi.Input[str],
    turn_urls: str = "",
) -> dict[str, pulumi.Input[str]]:
    """The plain environment of every container (app/kakoi/settings/production.py reads it).
    Nothing secret: credentials come through `secrets`."""
    return {
        contract.Env.DJANGO_SETTINGS_MODULE: contract.PRODUCTION_SETTINGS,
        contract.Env.DJANGO_ALLOWED_HOSTS: domain_name,
        contract.Env.DJANGO_CSRF_TRUSTED_ORIGINS: f"https://{domain_name}",
        contract.Env.DATABASE_HOST: database_host,
        contract.Env.DATABASE_PORT: pulumi.Output.from_input(database_port).apply(str),
        contract.Env.DATABASE_NAME: DATABASE_NAME,
        contract.Env.DATABASE_SSLMODE: contract.DB_SSLMODE,
        contract.Env.DATABASE_SSLROOTCERT: RDS_CA_BUNDLE,
        contract.Env.AWS_REGION: region,
        contract.Env.KAKOI_MEDIA_BUCKET: media_bucket,
        contract.Env.KAKOI_EMAIL_FROM: mail_from,
        contract.Env.KAKOI_SES_CONFIGURATION_SET: ses_configuration_set,
        # the TURN relay's `turns:` URL (components/relay.py, CONTRACTS.md); its secret comes through `secrets`
        **({contract.Env.KAKOI_TURN_URLS: turn_urls} if turn_urls else {}),
    }


def log_group_name(name_prefix: str) -> str:
    return f"/ecs/{name_prefix}/app"


def _env(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": str(v)} for k, v in sorted(values.items())]


def _secrets(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "valueFrom": v} for k, v in sorted(values.items())]


def secret_key(secret_arn: str, key: str) -> str:
    """`valueFrom` for one JSON key of a secret's current version: `<arn>:<key>::`.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
    """
    return f"{secret_arn}:{key}::"


def hardened_container(
    *,
    name: str,
    image: str,
    essential: bool,
    command: Sequence[str],
    environment: Mapping[str, str],
    secrets: Mapping[str, str],
    log_group: str,
    region: str,
    tmp_volume: str,
    writable_path: str = TMP_PATH,
) -> dict[str, Any]:
    """A container definition with kakoi's hardening (see the module docstring); `tmp_volume` is mounted
    on `writable_path`, the only place the container can write."""
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "essential": essential,
        "user": APP_USER,
        "readonlyRootFilesystem": True,
        "privileged": False,
        "linuxParameters": {"capabilities": {"add": [], "drop": ["ALL"]}, "initProcessEnabled": True},
        "environment": _env(environment),
        "secrets": _secrets(secrets),
        "mountPoints": [{"sourceVolume": tmp_volume, "containerPath": writable_path, "readOnly": False}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": name,
                # a full buffer drops log lines instead of blocking the app (AVL-1 over LOG completeness);
                # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
                "mode": "non-blocking",
                "max-buffer-size": "25m",
            },
        },
    }
    if command:
        container["command"] = list(command)
    # what ECS fills in when a definition omits it, written out so that the definition AWS returns
    # equals the declaration (otherwise a perpetual replacement; docs/deploy-reality.md):
    # cpu 0, and empty portMappings / volumesFrom / systemControls
    # https://github.com/hashicorp/terraform-aws-consul-ecs/issues/318
    container.update({"cpu": 0, "portMappings": [], "volumesFrom": [], "systemControls": []})
    return container


@dataclass(frozen=True)
class SecretArns:
    """The Secrets Manager secrets the containers get values from (resolved ARNs)."""

    master: str
    owner: str
    web: str
    django: str
    #: the TURN REST-API shared secret (components/relay.py), for the web container only ("" = no relay)
    turn: str = ""


def _role_credentials(secret_arn: str, prefix: str = "DATABASE") -> dict[str, str]:
    return {
        f"{prefix}_USER": secret_key(secret_arn, contract.SECRET_USERNAME_KEY),
        f"{prefix}_PASSWORD": secret_key(secret_arn, contract.SECRET_PASSWORD_KEY),
    }


def service_containers(
    *, image: str, app_port: int, environment: Mapping[str, str], secrets: SecretArns, log_group: str, region: str
) -> str:
    """The service task's container definitions as JSON (migrate, then web)."""
    migrate = hardened_container(
        name=MIGRATE,
        image=image,
        essential=False,
        command=MIGRATE_COMMAND,
        environment=environment,
        secrets={**_role_credentials(secrets.owner), contract.Env.DJANGO_SECRET_KEY: secrets.django},
        log_group=log_group,
        region=region,
        tmp_volume=f"{MIGRATE}-tmp",
    )
    web = hardened_container(
        name=WEB,
        image=image,
        essential=True,
        command=WEB_COMMAND,
        # gunicorn binds to $PORT (app/kakoi/gunicorn_conf.py): the port the target group sends to
        environment={**environment, contract.Env.PORT: str(app_port)},
        secrets={
            **_role_credentials(secrets.web),
            contract.Env.DJANGO_SECRET_KEY: secrets.django,
            # live calls: the web container signs short-lived TURN credentials with it
            **({contract.Env.KAKOI_TURN_SECRET: secrets.turn} if secrets.turn else {}),
        },
        log_group=log_group,
        region=region,
        tmp_volume=f"{WEB}-tmp",
    )
    # awsvpc: ECS sets hostPort to containerPort; declared so the returned definition equals ours
    # (https://github.com/hashicorp/terraform-provider-aws/issues/3401)
    web["portMappings"] = [{"name": "http", "containerPort": app_port, "hostPort": app_port, "protocol": "tcp"}]
    web["dependsOn"] = [{"containerName": MIGRATE, "condition": "SUCCESS"}]
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{app_port}{HEALTH_PATH_LIVE}', timeout=4)"
    web["healthCheck"] = {
        "command": ["CMD", PYTHON, "-c", probe],
        "interval": 30,
        "timeout": 5,
        "retries": 3,
        "startPeriod": 60,
    }
    return json.dumps([migrate, web], sort_keys=True, separators=(",", ":"))


def db_provision_containers(*, image: str, environment: Mapping[str, str], secrets: SecretArns, log_group: str, region: str) -> str:
    """The one-off db-provision task's container definition as JSON."""
    container = hardened_container(
        name=DB_PROVISION,
        image=image,
        essential=True,
        command=DB_PROVISION_COMMAND,
        environment={**environment, contract.Env.DB_OWNER_SECRET_ARN: secrets.owner, contract.Env.DB_WEB_SECRET_ARN: secrets.web},
        secrets={**_role_credentials(secrets.master, "DATABASE_MASTER"), contract.Env.DJANGO_SECRET_KEY: secrets.django},
        log_group=log_group,
        region=region,
        tmp_volume=f"{DB_PROVISION}-tmp",
    )
    return json.dumps([container], sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class AppServiceArgs:
    name_prefix: str
    region: str
    container_insights: str
    image_ref: pulumi.Input[str]
    #: ECS runtime platform `cpuArchitecture`: ARM64 or X86_64
    cpu_architecture: str
    cpu: int
    memory: int
    app_port: int
    execution_role_arn: pulumi.Input[str]
    task_role_arn: pulumi.Input[str]
    db_provision_execution_role_arn: pulumi.Input[str]
    db_provision_task_role_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    master_secret_arn: pulumi.Input[str]
    owner_secret_arn: pulumi.Input[str]
    web_secret_arn: pulumi.Input[str]
    #: the Django SECRET_KEY secret (a plain string), injected into every container
    django_secret_arn: pulumi.Input[str]
    #: plain (non-secret) environment of every container: database host, bucket, mail settings, ...
    environment: Mapping[str, pulumi.Input[str]]
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    target_group_arn: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    min_tasks: int
    max_tasks: int
    cpu_target_percent: int
    requests_per_target: int
    ecs_exec: bool
    service_enabled: bool = True
    health_check_grace_seconds: int = 120
    #: secrets besides the Django key that start empty and are generated inside the run (the TURN secret)
    generated_secret_arns: Sequence[pulumi.Input[str]] = ()
    #: the TURN relay's shared secret (components/relay.py), injected into `web` as KAKOI_TURN_SECRET
    turn_secret_arn: pulumi.Input[str] | None = None


class AppService(pulumi.ComponentResource):
    cluster: aws.ecs.Cluster
    log_group: aws.cloudwatch.LogGroup
    task_definition: aws.ecs.TaskDefinition
    db_provision_task_definition: aws.ecs.TaskDefinition
    service: aws.ecs.Service | None

    def __init__(
        self,
        name: str,
        args: AppServiceArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        service_ready: Sequence[pulumi.Resource] = (),
        provision_ready: Sequence[pulumi.Resource] = (),
    ):
        """`service_ready`: what must exist before the service starts tasks (the listener that
        attaches the target group to the load balancer, the roles' policies). `provision_ready`:
        what the db-provision task needs before it runs inside `pulumi up` (the VPC endpoints, its
        roles' policies) besides what its inputs already order (the database, the secrets)."""
        super().__init__("kakoi:app_service:AppService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.name_prefix

        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=prefix,
            settings=[{"name": "containerInsights", "value": args.container_insights}],
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name(prefix),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )

        env_keys = sorted(args.environment)
        environment = pulumi.Output.all(*[args.environment[k] for k in env_keys]).apply(
            lambda values: dict(zip(env_keys, [str(v) for v in values], strict=True))
        )
        runtime_platform = aws.ecs.TaskDefinitionRuntimePlatformArgs(
            operating_system_family="LINUX", cpu_architecture=args.cpu_architecture
        )

        secret_arns = pulumi.Output.all(
            args.master_secret_arn, args.owner_secret_arn, args.web_secret_arn, args.django_secret_arn, args.turn_secret_arn or ""
        ).apply(lambda v: SecretArns(master=v[0], owner=v[1], web=v[2], django=v[3], turn=v[4]))
        service_defs = pulumi.Output.all(args.image_ref, environment, secret_arns, self.log_group.name).apply(
            lambda v: service_containers(
                image=v[0], app_port=args.app_port, environment=v[1], secrets=v[2], log_group=v[3], region=args.region
            )
        )
        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"{prefix}-app",
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory),
            runtime_platform=runtime_platform,
            execution_role_arn=args.execution_role_arn,
            task_role_arn=args.task_role_arn,
            volumes=[{"name": f"{MIGRATE}-tmp"}, {"name": f"{WEB}-tmp"}],
            container_definitions=service_defs,
            skip_destroy=True,
            opts=child,
        )

        db_provision_defs = pulumi.Output.all(args.image_ref, environment, secret_arns, self.log_group.name).apply(
            lambda v: db_provision_containers(image=v[0], environment=v[1], secrets=v[2], log_group=v[3], region=args.region)
        )
        # the smallest Fargate size: roles and migrations are a few SQL statements
        self.db_provision_task_definition = aws.ecs.TaskDefinition(
            f"{name}-db-provision",
            family=f"{prefix}-db-provision",
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu="256",
            memory="512",
            runtime_platform=runtime_platform,
            execution_role_arn=args.db_provision_execution_role_arn,
            task_role_arn=args.db_provision_task_role_arn,
            volumes=[{"name": f"{DB_PROVISION}-tmp"}],
            container_definitions=db_provision_defs,
            skip_destroy=True,
            opts=child,
        )

        # ---- roles, role secrets and the Django key, inside the run, before the service (components/provisioning.py)
        self.provisioning = Provisioning(
            f"{name}-provisioning",
            ProvisioningArgs(
                region=args.region,
                cluster_name=self.cluster.name,
                task_definition_arn=self.db_provision_task_definition.arn,
                subnet_ids=args.subnet_ids,
                security_group_id=args.security_group_id,
                django_secret_arn=args.django_secret_arn,
                log_group_name=self.log_group.name,
                image_ref=args.image_ref,
                generated_secret_arns=args.generated_secret_arns,
            ),
            opts=pulumi.ResourceOptions(parent=self),
            ready=provision_ready,
        )

        self.service = None
        self.scaling_target: aws.appautoscaling.Target | None = None
        self.scaling_policies: list[aws.appautoscaling.Policy] = []
        service_name = f"{prefix}-app"
        if args.service_enabled:
            self.service = aws.ecs.Service(
                f"{name}-service",
                name=service_name,
                cluster=self.cluster.arn,
                task_definition=self.task_definition.arn,
                launch_type="FARGATE",
                platform_version="LATEST",
                desired_count=args.min_tasks,
                deployment_minimum_healthy_percent=100,
                deployment_maximum_percent=200,
                deployment_circuit_breaker={"enable": True, "rollback": True},
                deployment_controller={"type": "ECS"},
                availability_zone_rebalancing="ENABLED",
                network_configuration={
                    "subnets": list(args.subnet_ids),
                    "security_groups": [args.security_group_id],
                    "assign_public_ip": False,
                },
                load_balancers=[{"target_group_arn": args.target_group_arn, "container_name": WEB, "container_port": args.app_port}],
                health_check_grace_period_seconds=args.health_check_grace_seconds,
                enable_execute_command=args.ecs_exec,
                enable_ecs_managed_tags=True,
                propagate_tags="SERVICE",
                # `pulumi up` waits for the deployment and fails when it failed (and was rolled back)
                wait_for_steady_state=True,
                # the first tasks find their secrets filled and the schema migrated: provisioning ran first
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[*service_ready, self.provisioning.run], ignore_changes=["desiredCount"]
                ),
            )
            resource_id = pulumi.Output.all(self.cluster.name, self.service.name).apply(lambda v: f"service/{v[0]}/{v[1]}")
            self.scaling_target = aws.appautoscaling.Target(
                f"{name}-scaling",
                service_namespace="ecs",
                scalable_dimension="ecs:service:DesiredCount",
                resource_id=resource_id,
                min_capacity=args.min_tasks,
                max_capacity=args.max_tasks,
                opts=child,
            )
            # ALBRequestCountPerTarget: `app/<lb>/<id>/targetgroup/<tg>/<id>`
            resource_label = pulumi.Output.all(args.load_balancer_arn_suffix, args.target_group_arn_suffix).apply(
                lambda v: f"{v[0]}/{v[1]}"
            )
            for short, metric, target, label in (
                ("cpu", "ECSServiceAverageCPUUtilization", float(args.cpu_target_percent), None),
                ("requests", "ALBRequestCountPerTarget", float(args.requests_per_target), resource_label),
            ):
                self.scaling_policies.append(
                    aws.appautoscaling.Policy(
                        f"{name}-scale-{short}",
                        name=f"{prefix}-app-{short}",
                        policy_type="TargetTrackingScaling",
                        service_namespace=self.scaling_target.service_namespace,
                        scalable_dimension=self.scaling_target.scalable_dimension,
                        resource_id=self.scaling_target.resource_id,
                        target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                            target_value=target,
                            predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                                predefined_metric_type=metric, resource_label=label
                            ),
                            # out fast, in slowly
                            scale_out_cooldown=60,
                            scale_in_cooldown=300,
                        ),
                        opts=child,
                    )
                )

        #: for alarms (components.alarms) and the runbooks
        self.cluster_name: pulumi.Output[str] = self.cluster.name
        self.service_name: pulumi.Output[str] = self.service.name if self.service else pulumi.Output.from_input(service_name)
        self.task_definition_family = self.task_definition.family
        self.db_provision_task_definition_family = self.db_provision_task_definition.family
        self.log_group_name = self.log_group.name
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "serviceName": self.service_name,
                "taskDefinitionArn": self.task_definition.arn,
                "dbProvisionTaskDefinitionArn": self.db_provision_task_definition.arn,
            }
        )
