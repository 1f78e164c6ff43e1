"""The app on ECS Fargate: AVL-1, REC-1, MON-1, SQL-3, CMD-1; Security Hub ECS.2/4/5/8/9/12."""

from __future__ import annotations

import re

import pytest

from components import app_service
from components.contract import contract
from tests.conftest import view
from tests.infra import deployview as dv
from tools.render import RenderError, render
from tools.stackview import StackView

CLUSTER = "aws:ecs/cluster:Cluster"
#: names that would give a credential away if they were plain environment variables (ECS.8)
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL|(^|_)KEY($|_)", re.IGNORECASE)
FAMILIES = ("app", "db-provision")


def _all_containers(v: StackView) -> list[dict]:
    return [c for family in FAMILIES for c in dv.containers(v, family).values()]


def _stack(v: StackView) -> str:
    """The stack name, from the URNs (`urn:pulumi:<stack>::kakoi::...`)."""
    return v.resources[0].urn.split("::")[0].rsplit(":", 1)[1]


# ---- cluster -------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "mode"), [("prod", "enhanced"), ("staging", "enabled")])
def test_mon1_ecs12_container_insights_on_the_cluster(stack: str, mode: str) -> None:
    """MON-1 / Security Hub ECS.12: Container Insights (enhanced observability in prod)."""
    cluster = view(stack).one(CLUSTER, "app-cluster")
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": mode}]


def test_mon1_container_insights_cannot_be_disabled() -> None:
    """MON-1 / ECS.12: `disabled` is a value ECS accepts, and config refuses it."""
    with pytest.raises(RenderError) as info:
        render("staging", overrides={"kakoi:containerInsights": "disabled"})
    assert "kakoi:containerInsights" in str(info.value)
    assert info.value.declared == 0


# ---- task definitions ----------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "cpu", "memory"), [("prod", "1024", "2048"), ("staging", "512", "1024")])
def test_avl1_service_task_is_fargate_graviton_sized_from_config(stack: str, cpu: str, memory: str) -> None:
    """AVL-1: a Fargate awsvpc task on ARM64 / LINUX with the configured size."""
    td = dv.task_def(view(stack), "app")
    assert td.inputs["requiresCompatibilities"] == ["FARGATE"]
    assert td.inputs["networkMode"] == "awsvpc"
    assert td.inputs["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert (td.inputs["cpu"], td.inputs["memory"]) == (cpu, memory)
    assert td.inputs["skipDestroy"] is True, "old revisions must stay registered for a manual rollback (REC-1)"


@pytest.mark.parametrize(("cpu", "memory"), [(256, 4096), (1024, 1024), (4096, 31744), (8192, 18432), (300, 1024)])
def test_avl1_invalid_fargate_sizes_are_refused(cpu: int, memory: int) -> None:
    """AVL-1: a CPU/memory pair Fargate would refuse at deploy time fails the config check instead."""
    with pytest.raises(RenderError) as info:
        render("staging", overrides={"kakoi:appCpu": cpu, "kakoi:appMemory": memory})
    assert "kakoi:appCpu" in str(info.value) or "kakoi:appMemory" in str(info.value)
    assert info.value.declared == 0


def test_cmd1_ecs4_ecs5_every_container_is_hardened(each_stack: StackView) -> None:
    """CMD-1 / ECS.4 / ECS.5: read-only root, not privileged, every capability dropped, none added, non-root user."""
    for c in _all_containers(each_stack):
        assert c["readonlyRootFilesystem"] is True, c["name"]
        assert c["privileged"] is False, c["name"]
        caps = c["linuxParameters"]["capabilities"]
        assert caps["drop"] == ["ALL"] and not caps.get("add"), c["name"]
        assert c["user"] == app_service.APP_USER
        uid = c["user"].split(":")[0]
        assert uid.isdigit() and int(uid) != 0, "containers must not run as root"


def test_cmd1_container_user_is_the_dockerfile_user() -> None:
    """CMD-1: the task runs as the very user the image declares (app/Dockerfile USER)."""
    assert dv.dockerfile_user() == app_service.APP_USER


def test_cmd1_only_tmp_is_writable_and_it_is_an_ephemeral_task_volume(each_stack: StackView) -> None:
    """CMD-1 / ECS.5: each container's one writable path is /tmp on its own task volume without a host path."""
    for family in FAMILIES:
        td = dv.task_def(each_stack, family)
        volumes = {v["name"]: v for v in td.inputs["volumes"]}
        for c in dv.containers(each_stack, family).values():
            [mount] = c["mountPoints"]
            assert mount == {"sourceVolume": f"{c['name']}-tmp", "containerPath": "/tmp", "readOnly": False}
            assert set(volumes[mount["sourceVolume"]]) == {"name"}, "ephemeral: no host path, no EFS, no Docker volume"


def test_mon1_ecs9_every_container_logs_to_the_encrypted_app_log_group(each_stack: StackView) -> None:
    """MON-1 / ECS.9: awslogs into the app's log group, KMS-encrypted with the logs key, retention from config."""
    group = each_stack.one("aws:cloudwatch/logGroup:LogGroup", "app-logs")
    logs_key = each_stack.one("aws:kms/key:Key", "keys-logs")
    assert group.inputs["kmsKeyId"] == logs_key.outputs["arn"]
    assert group.inputs["retentionInDays"] == {"prod": 731, "staging": 90}[_stack(each_stack)]
    for c in _all_containers(each_stack):
        log = c["logConfiguration"]
        assert log["logDriver"] == "awslogs"
        assert log["options"]["awslogs-group"] == group.inputs["name"]
        assert log["options"]["awslogs-region"] == "ap-northeast-1"
        assert log["options"]["awslogs-stream-prefix"] == c["name"]


def test_sql3_ecs8_credentials_only_through_secrets_never_plain_environment(each_stack: StackView) -> None:
    """SQL-3 / ECS.8: no environment variable carries a credential; secrets are JSON keys of Secrets Manager ARNs."""
    for c in _all_containers(each_stack):
        for name, value in dv.env(c).items():
            assert not SECRET_NAME.search(name) or name.endswith("_SECRET_ARN"), f"{c['name']}: {name} in plain environment"
            assert not value.startswith("arn:aws:secretsmanager:") or name.endswith("_SECRET_ARN")
        for name, value_from in dv.secrets(c).items():
            assert value_from.startswith("arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:"), name
            if name not in ("DJANGO_SECRET_KEY", "KAKOI_TURN_SECRET"):  # plain-string secrets
                assert re.search(r":(username|password)::$", value_from), f"{name} must name a JSON key: {value_from}"


def _secret_of(v: StackView, name: str) -> str:
    return v.one("aws:secretsmanager/secret:Secret", name).outputs["arn"]


def test_sql3_web_gets_only_the_web_role_and_migrate_only_the_owner_role(each_stack: StackView) -> None:
    """SQL-3: the DML-only web role for gunicorn, the schema owner for migrations, the master for neither."""
    web_arn, owner_arn = _secret_of(each_stack, "db-web-secret"), _secret_of(each_stack, "db-owner-secret")
    django = _secret_of(each_stack, "app-iam-django-secret-key")
    turn = _secret_of(each_stack, "relay-turn-secret")
    c = dv.containers(each_stack, "app")
    assert set(c) == {"migrate", "web"}
    assert dv.secrets(c["web"]) == {
        "DATABASE_USER": f"{web_arn}:username::",
        "DATABASE_PASSWORD": f"{web_arn}:password::",
        "DJANGO_SECRET_KEY": django,
        # live calls (ENC-1): the web container signs TURN credentials; migrate never needs it
        "KAKOI_TURN_SECRET": turn,
    }
    assert dv.secrets(c["migrate"]) == {
        "DATABASE_USER": f"{owner_arn}:username::",
        "DATABASE_PASSWORD": f"{owner_arn}:password::",
        "DJANGO_SECRET_KEY": django,
    }
    for container in c.values():
        assert not any(k.startswith("DATABASE_MASTER") for k in dv.secrets(container))
        assert "DB_OWNER_SECRET_ARN" not in dv.env(container) and "DB_WEB_SECRET_ARN" not in dv.env(container)


def test_sql3_only_the_one_off_provision_task_holds_the_master_credentials(each_stack: StackView) -> None:
    """SQL-3: ensure_db_roles (master credentials, writes the role secrets) runs in its own task, outside the service."""
    master = each_stack.one("aws:rds/instance:Instance", "db").outputs["masterUserSecrets"][0]["secretArn"]
    [c] = dv.containers(each_stack, "db-provision").values()
    assert dv.secrets(c) == {
        "DATABASE_MASTER_USER": f"{master}:username::",
        "DATABASE_MASTER_PASSWORD": f"{master}:password::",
        "DJANGO_SECRET_KEY": _secret_of(each_stack, "app-iam-django-secret-key"),
    }
    environment = dv.env(c)
    assert environment["DB_OWNER_SECRET_ARN"] == _secret_of(each_stack, "db-owner-secret")
    assert environment["DB_WEB_SECRET_ARN"] == _secret_of(each_stack, "db-web-secret")
    assert c["command"] == app_service.DB_PROVISION_COMMAND
    services = each_stack.of_type(dv.SERVICE)
    assert all(s.inputs["taskDefinition"] != dv.task_def(each_stack, "db-provision").outputs["arn"] for s in services)


def test_rec1_web_starts_only_after_migrate_succeeded(each_stack: StackView) -> None:
    """REC-1: migrate runs first and may exit; web waits for its exit code 0, so failed migrations never serve."""
    c = dv.containers(each_stack, "app")
    assert c["migrate"]["essential"] is False
    assert c["migrate"]["command"] == app_service.MIGRATE_COMMAND
    assert c["migrate"]["portMappings"] == [], "migrate listens on nothing (empty, as ECS returns it)"
    assert c["web"]["essential"] is True
    assert c["web"]["dependsOn"] == [{"containerName": "migrate", "condition": "SUCCESS"}]


def test_sql3_database_tls_and_environment_match_the_app_settings(each_stack: StackView) -> None:
    """SQL-3 / ENC-1: verify-full TLS against the RDS CA bundle; host, port and name of the kakoi database."""
    db = each_stack.one("aws:rds/instance:Instance", "db")
    for c in _all_containers(each_stack):
        environment = dv.env(c)
        assert environment["DATABASE_SSLMODE"] == contract.DB_SSLMODE
        assert environment["DATABASE_SSLROOTCERT"] == contract.RDS_CA_BUNDLE
        assert environment["DATABASE_HOST"] == db.outputs["address"]
        assert environment["DATABASE_PORT"] == str(contract.DB_PORT)
        assert environment["DATABASE_NAME"] == contract.DB_NAME
        assert environment["DJANGO_SETTINGS_MODULE"] == contract.PRODUCTION_SETTINGS


def test_avl1_web_liveness_check_uses_python_not_curl(each_stack: StackView) -> None:
    """AVL-1: the container health check probes /healthz/live on the app port with the image's Python."""
    web = dv.containers(each_stack, "app")["web"]
    check = web["healthCheck"]
    assert check["command"][:3] == ["CMD", app_service.PYTHON, "-c"]
    assert f"http://127.0.0.1:8000{contract.HEALTH_LIVE_PATH}" in check["command"][3]
    assert not any("curl" in part for part in check["command"])
    assert check["startPeriod"] >= 30
    assert web["portMappings"] == [{"name": "http", "containerPort": 8000, "hostPort": 8000, "protocol": "tcp"}]


def test_avl1_health_checks_are_coherent_liveness_for_ecs_readiness_for_the_probe(each_stack: StackView) -> None:
    """AVL-1: both checks that make ECS replace a task (the target group's and the container's) probe the same
    liveness path, which never touches the database; the public canary alone probes readiness (/healthz/ready),
    and the web container starts only after `migrate` proved the database connection."""
    web = dv.containers(each_stack, "app")["web"]
    tg = each_stack.one("aws:lb/targetGroup:TargetGroup", "edge")
    assert tg.inputs["healthCheck"]["path"] == app_service.HEALTH_PATH_LIVE == "/healthz/live"
    assert f"http://127.0.0.1:8000{app_service.HEALTH_PATH_LIVE}'" in web["healthCheck"]["command"][3]
    assert web["dependsOn"] == [{"containerName": "migrate", "condition": "SUCCESS"}]
    canary = each_stack.one("aws:synthetics/canary:Canary")
    assert canary.inputs["runConfig"]["environmentVariables"]["HEALTH_URL"].endswith("/healthz/ready")


# ---- service -------------------------------------------------------------------------------


def _service(v: StackView):
    return v.one(dv.SERVICE, "app-service")


def test_avl1_ecs2_service_runs_in_every_private_subnet_without_public_ips(each_stack: StackView) -> None:
    """AVL-1 / Security Hub ECS.2: one private subnet per AZ (Fargate spreads tasks over them), no public IP, app SG."""
    net = _service(each_stack).inputs["networkConfiguration"]
    assert net["assignPublicIp"] is False
    private = [r for r in each_stack.of_type("aws:ec2/subnet:Subnet") if "-private-" in r.name]
    assert sorted(net["subnets"]) == sorted(s.outputs["id"] for s in private)
    assert len({s.inputs["availabilityZone"] for s in private}) == len(private) >= 2
    assert net["securityGroups"] == [each_stack.one("aws:ec2/securityGroup:SecurityGroup", "sg-app").outputs["id"]]
    assert _service(each_stack).inputs["availabilityZoneRebalancing"] == "ENABLED"


def test_rec1_deployments_roll_back_automatically_and_keep_full_capacity(each_stack: StackView) -> None:
    """REC-1: circuit breaker with rollback; 100 % minimum healthy, 200 % maximum; pulumi up waits for the outcome."""
    svc = _service(each_stack).inputs
    assert svc["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert svc["deploymentMinimumHealthyPercent"] == 100
    assert svc["deploymentMaximumPercent"] == 200
    assert svc["deploymentController"] == {"type": "ECS"}
    assert svc["waitForSteadyState"] is True
    assert svc["launchType"] == "FARGATE"
    assert svc["taskDefinition"] == dv.task_def(each_stack, "app").outputs["arn"]


def test_avl1_service_is_behind_the_target_group_after_the_listener_and_policies(each_stack: StackView) -> None:
    """AVL-1: web:8000 registers with the target group (liveness checks), once the listener and role policies exist."""
    svc = _service(each_stack)
    tg = each_stack.one("aws:lb/targetGroup:TargetGroup", "edge")
    assert svc.inputs["loadBalancers"] == [{"targetGroupArn": tg.outputs["arn"], "containerName": "web", "containerPort": 8000}]
    assert tg.inputs["healthCheck"]["path"] == contract.HEALTH_LIVE_PATH
    https = next(r for r in each_stack.of_type("aws:lb/listener:Listener") if r.inputs["port"] == 443)
    assert https.urn in svc.dependencies
    for role in ("execution", "task"):
        assert each_stack.one(dv.ROLE_POLICY, f"app-iam-{role}").urn in svc.dependencies


def test_cmd1_ecs_exec_is_off_by_default(each_stack: StackView) -> None:
    """CMD-1: no interactive shell into running tasks unless kakoi:ecsExec says so."""
    assert _service(each_stack).inputs["enableExecuteCommand"] is False


def test_cmd1_ecs_exec_switch_turns_it_on_with_only_the_channel_permissions(monkeypatch: pytest.MonkeyPatch) -> None:
    """CMD-1: with kakoi:ecsExec the service allows exec and the task role gets exactly the four ssmmessages actions.

    kakoi-ecs-exec-disabled is mandatory on every stack, so stackconfig refuses the switch there; this render
    stands for a stack whose policies/kakoi_policy/levels.py entry keeps that policy advisory for debugging."""
    import stackconfig.core

    mandatory = stackconfig.core.mandatory
    monkeypatch.setattr(
        stackconfig.core, "mandatory", lambda stack, policy: policy != "kakoi-ecs-exec-disabled" and mandatory(stack, policy)
    )
    view = StackView(render("staging", overrides={"kakoi:ecsExec": True}))
    assert _service(view).inputs["enableExecuteCommand"] is True
    exec_stmt = dv.statement(dv.role_statements(view, "task"), "EcsExecChannels")
    assert sorted(exec_stmt["Action"]) == sorted(
        [
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ]
    )


@pytest.mark.parametrize(("stack", "low", "high"), [("prod", 3, 12), ("staging", 1, 3)])
def test_avl1_autoscaling_bounds_from_config(stack: str, low: int, high: int) -> None:
    """AVL-1: autoscaling between appMinTasks and appMaxTasks; the service starts at the minimum."""
    v = view(stack)
    target = v.one("aws:appautoscaling/target:Target", "app-scaling")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (low, high)
    assert target.inputs["resourceId"] == f"service/kakoi-{stack}/kakoi-{stack}-app"
    assert target.inputs["scalableDimension"] == "ecs:service:DesiredCount"
    assert _service(v).inputs["desiredCount"] == low


def test_avl1_target_tracking_on_cpu_and_on_requests_per_target(each_stack: StackView) -> None:
    """AVL-1: one policy holds average CPU, one holds ALB requests per target (label `<lb suffix>/<tg suffix>`)."""
    lb = each_stack.one("aws:lb/loadBalancer:LoadBalancer", "edge")
    tg = each_stack.one("aws:lb/targetGroup:TargetGroup", "edge")
    policies = {p.name: p.inputs for p in each_stack.of_type("aws:appautoscaling/policy:Policy") if p.name.startswith("app-")}
    cpu = policies["app-scale-cpu"]["targetTrackingScalingPolicyConfiguration"]
    req = policies["app-scale-requests"]["targetTrackingScalingPolicyConfiguration"]
    assert cpu["predefinedMetricSpecification"] == {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}
    assert cpu["targetValue"] == 60
    assert req["predefinedMetricSpecification"] == {
        "predefinedMetricType": "ALBRequestCountPerTarget",
        "resourceLabel": f"{lb.outputs['arnSuffix']}/{tg.outputs['arnSuffix']}",
    }
    assert req["targetValue"] == 1000
    for p in policies.values():
        assert p["policyType"] == "TargetTrackingScaling"
        assert p["resourceId"] == each_stack.one("aws:appautoscaling/target:Target", "app-scaling").inputs["resourceId"]


def test_avl1_production_refuses_a_single_task() -> None:
    """AVL-1: production keeps at least two tasks, whatever the stack file says."""
    with pytest.raises(RenderError) as info:
        render("prod", overrides={"kakoi:appMinTasks": 1})
    assert "kakoi:appMinTasks" in str(info.value)
    assert info.value.declared == 0


def test_avl1_max_tasks_below_min_is_refused() -> None:
    """AVL-1: autoscaling bounds must make sense."""
    with pytest.raises(RenderError) as info:
        render("staging", overrides={"kakoi:appMinTasks": 3, "kakoi:appMaxTasks": 2})
    assert "kakoi:appMaxTasks" in str(info.value)


def test_rec1_first_deploy_switch_declares_everything_but_the_service() -> None:
    """REC-1: with appServiceEnabled=false the task definitions exist (to run db-provision) but no service starts."""
    view = dv.rendered("staging", (("kakoi:appServiceEnabled", False),))
    assert not view.of_type(dv.SERVICE)
    assert not view.of_type("aws:appautoscaling/target:Target")
    assert dv.task_def(view, "app") and dv.task_def(view, "db-provision")
    assert view.stack_outputs["serviceName"] == "kakoi-staging-app"


def test_mon1_cluster_and_service_names_are_exported_and_watched(each_stack: StackView) -> None:
    """MON-1: the stack exports the cluster and service, and the alarms get them as dimensions."""
    out = each_stack.stack_outputs
    stack = _stack(each_stack)
    assert out["clusterName"] == f"kakoi-{stack}"
    assert out["serviceName"] == f"kakoi-{stack}-app" == _service(each_stack).inputs["name"]
    dims = [
        a.inputs.get("dimensions") or {}
        for a in each_stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if (a.inputs.get("dimensions") or {}).get("ServiceName") and not a.name.startswith("alarms-relay-")
    ]
    assert dims, "no alarm watches the ECS service"
    # the app's alarms watch the app; the scan consumer's alarm watches the consumer (tests/infra/test_scan_events.py)
    assert {d["ServiceName"] for d in dims} == {f"kakoi-{stack}-app", f"kakoi-{stack}-scan-consumer"}
    assert all(d["ClusterName"] == f"kakoi-{stack}" for d in dims)


def test_rec1_container_commands_are_the_image_entrypoint_commands(each_stack: StackView) -> None:
    """REC-1: the arguments match the image's entrypoint (`web`, `migrate`) and gunicorn binds the target port."""
    dockerfile = (dv.Path(dv.ROOT) / "app" / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["/opt/venv/bin/python", "-m", "kakoi.entrypoint"]' in dockerfile
    entrypoint = (dv.Path(dv.ROOT) / "app" / "kakoi" / "entrypoint.py").read_text(encoding="utf-8")
    assert 'command == "web"' in entrypoint and 'command == "migrate"' in entrypoint
    c = dv.containers(each_stack, "app")
    assert c["web"]["command"] == list(contract.WEB.command)
    assert c["migrate"]["command"] == list(contract.MIGRATE.command)
    assert dv.env(c["web"])["PORT"] == "8000"
    assert "PORT" not in dv.env(c["migrate"])


def test_avl1_health_check_python_is_on_the_image_path() -> None:
    """AVL-1: `python` in the exec-form health check resolves to the image's virtualenv (the image has no shell)."""
    dockerfile = (dv.Path(dv.ROOT) / "app" / "Dockerfile").read_text(encoding="utf-8")
    path = re.search(r"ENV PATH=(\S+)", dockerfile)
    assert path and path.group(1).split(":")[0] == "/opt/venv/bin"
    assert app_service.PYTHON == "python"


def test_sql3_rds_ca_bundle_path_is_the_one_the_image_installs() -> None:
    """ENC-1 / SQL-3: DATABASE_SSLROOTCERT points at the bundle the Dockerfile adds (verify-full needs it)."""
    dockerfile = (dv.Path(dv.ROOT) / "app" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(rf"^ADD .*global-bundle\.pem {re.escape(app_service.RDS_CA_BUNDLE)}$", dockerfile, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [(256, 512), (256, 2048), (512, 4096), (1024, 8192), (2048, 16384), (4096, 30720), (8192, 61440), (16384, 122880)],
)
def test_avl1_documented_fargate_sizes_are_accepted(cpu: int, memory: int) -> None:
    """AVL-1: the edges of the Fargate size table pass the config check (and land in the task definition)."""
    import stackconfig
    from tools.stackfiles import stack_values

    sv = stack_values("staging", overrides={"kakoi:appCpu": cpu, "kakoi:appMemory": memory})
    cfg = stackconfig.load(sv.values, project=sv.project, stack=sv.stack)
    assert (cfg.app.cpu, cfg.app.memory) == (cpu, memory)


def test_avl1_fargate_memory_table_matches_the_documented_steps() -> None:
    """AVL-1: 1 GiB steps up to 4 vCPU, 4 GiB steps for 8 vCPU, 8 GiB steps for 16 vCPU."""
    from stackconfig.app import fargate_memory_choices

    assert fargate_memory_choices(256) == (512, 1024, 2048)
    assert len(fargate_memory_choices(4096)) == 23
    assert {b - a for a, b in zip(fargate_memory_choices(8192), fargate_memory_choices(8192)[1:], strict=False)} == {4096}
    assert {b - a for a, b in zip(fargate_memory_choices(16384), fargate_memory_choices(16384)[1:], strict=False)} == {8192}
    assert fargate_memory_choices(300) == ()


def test_avl1_autoscaling_owns_the_desired_count_after_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    """AVL-1: `pulumi up` never resets the task count autoscaling has set (ignoreChanges: desiredCount)."""
    from tools import render as render_module

    seen: dict[str, list[str]] = {}
    original = render_module.RecordingMonitor.RegisterResource

    def spy(self: render_module.RecordingMonitor, request: object) -> object:
        if getattr(request, "type", "") == dv.SERVICE and getattr(request, "name", "") == "app-service":
            seen["ignoreChanges"] = list(getattr(request, "ignoreChanges", []))
        return original(self, request)

    monkeypatch.setattr(render_module.RecordingMonitor, "RegisterResource", spy)
    render("staging")
    assert seen["ignoreChanges"] == ["desiredCount"]
