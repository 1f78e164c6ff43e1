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
  secrets), then the migrations as the owner (docs/database-roles.md). It runs inside
  every ``pulumi up`` that brings a new image or task definition revision,
  before the service (components/provisioning.py, which also writes the Django key on the
  first deploy); an operator runs it with ``aws ecs run-task`` only to rotate the role
  passwords and after a restore (docs/runbooks/deploy.md). Keeping it out of the service keeps the master password and
  the role secrets' write access out of every long-running task (components/app_iam.py:
  ECS has no per-container task roles, so the web container would share them), and it is
  the only way the first deploy can work at all: ECS does not start a task whose
  definition references a secret without a value, and the role secrets are empty until
  ``ensure_db_roles`` has run.
* The cluster, log group, task definitions, service and autoscaling are declared with the
  helpers every ECS workload shares (components/ecs_task.py).
* **Service** in the private subnets without public IPs (ECS.2), behind the load
  balancer's target group (which checks liveness, ``/healthz/live``: components/edge.py); rolling deployments at 100 %
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
  image's Python, since the image has no curl. The target group checks the same path:
  ECS replaces tasks that either check reports unhealthy, and a database outage must not
  make ECS kill and restart every task at once (each recovers by itself when the database
  is back; docs/database-failover.md). Readiness (``/healthz/ready``, the database
  reachable) is the public canary's path and the operators' check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components import ecs_task
from components.contract import contract
from components.provisioning import Provisioning, ProvisioningArgs

if TYPE_CHECKING:
    from components.app_iam import AppIam
    from components.context import StackContext
    from components.database import Database
    from components.edge import Edge
    from components.endpoints import Endpoints
    from components.kms import Keys
    from components.mail import Mail
    from components.media_bucket import MediaBucket
    from components.network import Network
    from components.registry import Registry
    from components.relay import Relay
    from components.security_groups import SecurityGroups
    from stackconfig.app import AppConfig

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
#: the liveness endpoint of the app (the target group checks it too: components/edge.py HEALTH_CHECK_PATH)
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


def web_role_containers(
    *,
    name: str,
    command: Sequence[str],
    image: str,
    environment: Mapping[str, str],
    web_secret_arn: str,
    django_secret_arn: str,
    log_group: str,
    region: str,
) -> str:
    """The container definitions (JSON) of a one-container task of the app image that connects as
    kakoi_web: the web role's credentials and the Django key injected from Secrets Manager (SQL-3).
    The scan consumer and the scheduled retry tasks run this way."""
    container = hardened_container(
        name=name,
        image=image,
        essential=True,
        command=command,
        environment=environment,
        secrets={
            contract.Env.DATABASE_USER: secret_key(web_secret_arn, contract.SECRET_USERNAME_KEY),
            contract.Env.DATABASE_PASSWORD: secret_key(web_secret_arn, contract.SECRET_PASSWORD_KEY),
            contract.Env.DJANGO_SECRET_KEY: django_secret_arn,
        },
        log_group=log_group,
        region=region,
        tmp_volume=f"{name}-tmp",
    )
    return json.dumps([container], sort_keys=True, separators=(",", ":"))


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
    """What the app's ECS service is built from: its config section and handles of what it runs on."""

    #: prefix and region of the stack: names `<prefix>`, `<prefix>-app`, `<prefix>-db-provision`, the logs'
    #: region (MON-1); required
    context: StackContext
    #: the app's section (kakoi:app*): Fargate size and CPU architecture, task bounds and scaling targets
    #: (AVL-1), log retention and Container Insights (MON-1), ECS Exec, whether the service is declared; required
    config: AppConfig
    #: the app's public name (kakoi:domainName): DJANGO_ALLOWED_HOSTS and the CSRF origin (CSRF-2); required
    domain_name: str
    #: the port gunicorn binds and the target group sends to (kakoi:appPort; the `app` group admits only it, NET-1); required
    app_port: int
    #: the image both task definitions run, by digest (REC-1); required
    registry: Registry
    #: the four task roles and the Django key secret (SQL-3, CMD-1); required
    iam: AppIam
    #: the logs key (encrypts the log group, MON-1); required
    keys: Keys
    #: host, port and the master, owner and web role secrets (SQL-3; TLS 1.3 to it, ENC-1); required
    database: Database
    #: the media bucket (KAKOI_MEDIA_BUCKET, PATH-1); required
    media: MediaBucket
    #: the SES configuration set and from-address (KAKOI_SES_CONFIGURATION_SET, KAKOI_EMAIL_FROM: TLS-only
    #: delivery, ENC-1; account mail, PWD-2, CSRF-3); required
    mail: Mail
    #: the private subnets the tasks run in, one per AZ (AVL-1, NET-1); required
    network: Network
    #: the `app` group of the tasks (NET-1); required
    security_groups: SecurityGroups
    #: the load balancer's target group and HTTPS listener the service registers with (ENC-2); required
    edge: Edge
    #: the VPC endpoints the db-provision task reaches AWS through (NET-1); required
    endpoints: Endpoints
    #: the TURN relay: its `turns:` URL (KAKOI_TURN_URLS) and shared secret (KAKOI_TURN_SECRET, generated in the run)
    #: for live calls (ENC-1); @default None (no relay: neither is set)
    relay: Relay | None = None
    #: seconds the load balancer's failing health checks are ignored after a task starts (AVL-1); @default 120
    health_check_grace_seconds: int = 120


class AppService(pulumi.ComponentResource):
    cluster: aws.ecs.Cluster
    log_group: aws.cloudwatch.LogGroup
    task_definition: aws.ecs.TaskDefinition
    db_provision_task_definition: aws.ecs.TaskDefinition
    service: aws.ecs.Service | None
    #: the plain environment of every app container (web, migrate, db-provision and other app workloads)
    environment: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None = None):
        """The service starts after the listener that attaches its target group to the load balancer, the
        roles' policies and the provisioning step; the db-provision task after the VPC endpoints and its
        roles' policies, besides what its inputs already order (the database, the secrets)."""
        super().__init__("kakoi:app_service:AppService", name, None, opts)
        cfg, region = args.config, args.context.region
        prefix = args.context.name_prefix
        database, iam, relay = args.database, args.iam, args.relay
        turn_secret_arn = relay.secret_arn if relay is not None else None

        self.cluster = ecs_task.cluster(name, self, cluster_name=prefix, container_insights=cfg.container_insights)
        self.log_group = ecs_task.log_group(
            name, self, log_group_name=log_group_name(prefix), retention_days=cfg.log_retention_days, kms_key_arn=args.keys.logs_key_arn
        )

        self.environment = app_environment(
            domain_name=args.domain_name,
            region=region,
            database_host=database.endpoint_address,
            database_port=database.port,
            media_bucket=args.media.bucket_name,
            mail_from=cfg.mail_from,
            ses_configuration_set=args.mail.configuration_set_name,
            turn_urls=relay.turn_urls if relay is not None else "",
        )
        environment = ecs_task.resolve_environment(self.environment)
        image_ref = args.registry.image_ref
        secret_arns = pulumi.Output.all(
            database.master_secret_arn, database.owner_secret_arn, database.web_secret_arn, iam.django_secret_arn, turn_secret_arn or ""
        ).apply(lambda v: SecretArns(master=v[0], owner=v[1], web=v[2], django=v[3], turn=v[4]))
        service_defs = pulumi.Output.all(image_ref, environment, secret_arns, self.log_group.name).apply(
            lambda v: service_containers(image=v[0], app_port=args.app_port, environment=v[1], secrets=v[2], log_group=v[3], region=region)
        )
        self.task_definition = ecs_task.task_definition(
            f"{name}-task",
            self,
            family=f"{prefix}-app",
            cpu=cfg.cpu,
            memory=cfg.memory,
            cpu_architecture=cfg.cpu_architecture,
            execution_role_arn=iam.execution_role_arn,
            task_role_arn=iam.task_role_arn,
            volumes=[f"{MIGRATE}-tmp", f"{WEB}-tmp"],
            container_definitions=service_defs,
        )

        db_provision_defs = pulumi.Output.all(image_ref, environment, secret_arns, self.log_group.name).apply(
            lambda v: db_provision_containers(image=v[0], environment=v[1], secrets=v[2], log_group=v[3], region=region)
        )
        # the smallest Fargate size: roles and migrations are a few SQL statements
        self.db_provision_task_definition = ecs_task.task_definition(
            f"{name}-db-provision",
            self,
            family=f"{prefix}-db-provision",
            cpu=256,
            memory=512,
            cpu_architecture=cfg.cpu_architecture,
            execution_role_arn=iam.db_provision_execution_role_arn,
            task_role_arn=iam.db_provision_task_role_arn,
            volumes=[f"{DB_PROVISION}-tmp"],
            container_definitions=db_provision_defs,
        )

        #: where the app's tasks run (other app workloads run there too: components/scan_events.py)
        self.image_ref = image_ref
        self.subnet_ids = args.network.private_subnet_ids
        self.security_group_id = args.security_groups.app_sg_id

        # ---- roles, role secrets and the Django key, inside the run, before the service (components/provisioning.py)
        endpoints = args.endpoints
        self.provisioning = Provisioning(
            f"{name}-provisioning",
            ProvisioningArgs(
                context=args.context,
                cluster=self.cluster,
                task_definition=self.db_provision_task_definition,
                log_group=self.log_group,
                subnet_ids=self.subnet_ids,
                security_group_id=self.security_group_id,
                django_secret_arn=iam.django_secret_arn,
                image_ref=image_ref,
                # the TURN relay's shared secret starts empty too: generated in the same step
                generated_secret_arns=[turn_secret_arn] if turn_secret_arn is not None else [],
            ),
            opts=pulumi.ResourceOptions(parent=self),
            ready=[*endpoints.interface.values(), endpoints.s3, *iam.provision_policies],
        )

        self.service = None
        self.scaling_target: aws.appautoscaling.Target | None = None
        self.scaling_policies: list[aws.appautoscaling.Policy] = []
        service_name = f"{prefix}-app"
        if cfg.service_enabled:
            edge = args.edge
            self.service = ecs_task.service(
                f"{name}-service",
                self,
                service_name=service_name,
                cluster_arn=self.cluster.arn,
                task_definition_arn=self.task_definition.arn,
                desired_count=cfg.min_tasks,
                subnet_ids=self.subnet_ids,
                security_group_ids=[self.security_group_id],
                load_balancer={"target_group_arn": edge.target_group_arn, "container_name": WEB, "container_port": args.app_port},
                health_check_grace_seconds=args.health_check_grace_seconds,
                execute_command=cfg.ecs_exec,
                spread_over_zones=True,
                autoscaled=True,
                # the first tasks find their secrets filled and the schema migrated: provisioning ran first
                depends_on=[edge.https_listener, *iam.service_policies, self.provisioning.run],
            )
            # ALBRequestCountPerTarget: `app/<lb>/<id>/targetgroup/<tg>/<id>`
            resource_label = pulumi.Output.all(edge.load_balancer_arn_suffix, edge.target_group_arn_suffix).apply(
                lambda v: f"{v[0]}/{v[1]}"
            )
            self.scaling_target, self.scaling_policies = ecs_task.target_tracking(
                name,
                self,
                policy_prefix=f"{prefix}-app",
                cluster=self.cluster,
                service=self.service,
                min_tasks=cfg.min_tasks,
                max_tasks=cfg.max_tasks,
                cpu_target_percent=cfg.cpu_target_percent,
                scale_in_cooldown=300,
                more=[ecs_task.Tracking("requests", float(cfg.requests_per_target), "ALBRequestCountPerTarget", resource_label)],
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
