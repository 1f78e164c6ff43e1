"""One `pulumi up` converges (REC-1, SQL-3): roles, role secrets and the Django key are provisioned inside the run,
before the ECS service, and the Django key never passes through config or state.

The render proves the ordering and the inputs; tools/run_db_provision.py is run against moto (Secrets Manager)
and botocore's Stubber (ECS RunTask/DescribeTasks: moto's Fargate tasks never stop with an exit code)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from components import provisioning
from tests.infra.deployview import rendered
from tools import run_db_provision as runner
from tools.stackview import StackView

COMMAND = "command:local:Command"
SERVICE = "aws:ecs/service:Service"
REGION = "ap-northeast-1"


def test_rec1_service_starts_only_after_provisioning_ran(each_stack: StackView) -> None:
    """REC-1: every ECS service (web, scan consumer) depends on the provisioning command, which depends on the db-provision task definition,
    the Django key secret, the VPC endpoints and the db-provision roles' policies (and, through the task definition,
    on the database instance)."""
    (cmd,) = each_stack.of_type(COMMAND)
    django = each_stack.one("aws:secretsmanager/secret:Secret", "app-iam-django-secret-key").outputs["arn"]
    tds = {t.outputs["arn"]: t for t in each_stack.of_type("aws:ecs/taskDefinition:TaskDefinition")}
    readers = [s for s in each_stack.of_type(SERVICE) if django in tds[s.inputs["taskDefinition"]].inputs["containerDefinitions"]]
    assert len(readers) >= 2, "the web service and the scan consumer"
    for svc in readers:  # every service whose tasks read the role secrets or the Django key
        assert cmd.urn in svc.dependencies, svc.name
    by_urn = {r.urn: r for r in each_stack}
    needs = {by_urn[d].type + "::" + by_urn[d].name for d in cmd.dependencies}
    assert "aws:ecs/taskDefinition:TaskDefinition::app-db-provision" in needs
    assert "aws:secretsmanager/secret:Secret::app-iam-django-secret-key" in needs
    assert {"aws:iam/rolePolicy:RolePolicy::app-iam-db-provision", "aws:iam/rolePolicy:RolePolicy::app-iam-db-provision-execution"} <= needs
    assert {n for n in needs if n.startswith("aws:ec2/vpcEndpoint:VpcEndpoint::")} == {
        f"aws:ec2/vpcEndpoint:VpcEndpoint::{r.name}" for r in each_stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    td = each_stack.one("aws:ecs/taskDefinition:TaskDefinition", "app-db-provision")
    assert any(by_urn[d].type == "aws:rds/instance:Instance" for d in td.dependencies)


def test_rec1_every_service_that_reads_a_generated_secret_waits_for_the_provisioning(each_stack: StackView) -> None:
    """REC-1/ENC-1: the provisioning command writes the empty secrets (the Django key, the TURN relay's shared
    secret); every ECS service whose containers read one of them (web, scan consumer, the relay) depends on it,
    so no first task starts against an empty secret and one `pulumi up` converges."""
    (cmd,) = each_stack.of_type(COMMAND)
    generated = [
        each_stack.one("aws:secretsmanager/secret:Secret", "app-iam-django-secret-key").outputs["arn"],
        each_stack.one("aws:secretsmanager/secret:Secret", "relay-turn-secret").outputs["arn"],
    ]
    tds = {t.outputs["arn"]: t for t in each_stack.of_type("aws:ecs/taskDefinition:TaskDefinition")}
    readers = [
        s
        for s in each_stack.of_type(SERVICE)
        if any(arn in tds[s.inputs["taskDefinition"]].inputs["containerDefinitions"] for arn in generated)
    ]
    assert {s.name for s in readers} >= {"relay-service"}, "the relay reads the TURN secret"
    for svc in readers:
        assert cmd.urn in svc.dependencies, svc.name


def test_rec1_provisioning_inputs_carry_no_secret_and_rerun_on_a_new_image(each_stack: StackView) -> None:
    """REC-1/SQL-3: argv without a shell; the environment holds ARNs and names only (the Django key is generated
    by the runner and goes straight to Secrets Manager); a new image or task definition revision re-runs it."""
    (cmd,) = each_stack.of_type(COMMAND)
    assert cmd.inputs["interpreter"] == ["venv/bin/python", "-m", "tools.run_db_provision"] and cmd.inputs["create"] == "run"
    env = cmd.inputs["environment"]
    td = each_stack.one("aws:ecs/taskDefinition:TaskDefinition", "app-db-provision")
    assert env["KAKOI_TASK_DEFINITION"] == td.outputs["arn"]
    assert env["KAKOI_DJANGO_SECRET_ARN"] == each_stack.one("aws:secretsmanager/secret:Secret", "app-iam-django-secret-key").outputs["arn"]
    assert set(env) == {
        "AWS_REGION", "KAKOI_CLUSTER", "KAKOI_TASK_DEFINITION", "KAKOI_SUBNETS", "KAKOI_SECURITY_GROUP",
        "KAKOI_DJANGO_SECRET_ARN", "KAKOI_LOG_GROUP", "KAKOI_PROVISION_TIMEOUT_SECONDS", "KAKOI_GENERATED_SECRET_ARNS",
    }  # fmt: skip
    relay_secret = each_stack.one("aws:secretsmanager/secret:Secret", "relay-turn-secret").outputs["arn"]
    assert env["KAKOI_GENERATED_SECRET_ARNS"] == relay_secret
    assert cmd.inputs["triggers"] == [each_stack.stack_outputs["appImage"], td.outputs["arn"]]
    for secret_version in each_stack.of_type("aws:secretsmanager/secretVersion:SecretVersion"):
        assert "django" not in secret_version.name, "the Django key must not be a resource (its value would be in state)"


def test_rec1_first_deploy_needs_no_config_flip() -> None:
    """REC-1: the default config declares the service (appServiceEnabled true) and the provisioning in the same run."""
    for stack in ("prod", "staging"):
        view = rendered(stack)
        assert view.of_type(SERVICE) and view.of_type(COMMAND)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def test_rec1_django_key_generated_once_and_kept(aws_env: Any) -> None:
    """REC-1: an empty secret gets a random key (86 URL-safe characters); an existing value is never replaced."""
    sm = boto3.client("secretsmanager", region_name=REGION)
    arn = sm.create_secret(Name="kakoi/prod/app/django-secret-key")["ARN"]
    assert runner.ensure_django_key(sm, arn) is True
    first = sm.get_secret_value(SecretId=arn)["SecretString"]
    assert len(first) >= 80 and first.replace("-", "").replace("_", "").isalnum()
    assert runner.ensure_django_key(sm, arn) is False
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == first


SETTINGS = runner.Settings(
    region=REGION,
    cluster="kakoi-prod",
    task_definition="arn:aws:ecs:ap-northeast-1:123456789012:task-definition/kakoi-prod-db-provision:3",
    subnets=["subnet-a", "subnet-b"],
    security_group="sg-app",
    django_secret_arn="arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:x",
    log_group="/ecs/kakoi-prod/app",
    timeout_seconds=60,
    poll_seconds=0,
)
TASK = "arn:aws:ecs:ap-northeast-1:123456789012:task/kakoi-prod/0123abcd"


def ecs_stub(exit_code: int | None, reason: str = "") -> tuple[Any, Stubber]:
    ecs = boto3.client("ecs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(ecs)
    stub.add_response(
        "run_task",
        {"tasks": [{"taskArn": TASK, "lastStatus": "PROVISIONING"}], "failures": []},
        {
            "cluster": "kakoi-prod",
            "taskDefinition": SETTINGS.task_definition,
            "launchType": "FARGATE",
            "count": 1,
            "startedBy": "pulumi-up",
            "networkConfiguration": {
                "awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-app"], "assignPublicIp": "DISABLED"}
            },
        },
    )
    stub.add_response("describe_tasks", {"tasks": [{"taskArn": TASK, "lastStatus": "RUNNING"}]}, {"cluster": "kakoi-prod", "tasks": [TASK]})
    container: dict[str, Any] = {"name": "db-provision"}
    if exit_code is not None:
        container["exitCode"] = exit_code
    if reason:
        container["reason"] = reason
    stub.add_response(
        "describe_tasks",
        {
            "tasks": [
                {"taskArn": TASK, "lastStatus": "STOPPED", "stoppedReason": "Essential container in task exited", "containers": [container]}
            ]
        },
        {"cluster": "kakoi-prod", "tasks": [TASK]},
    )
    stub.activate()
    return ecs, stub


def test_rec1_runner_waits_for_the_task_and_fails_unless_it_exited_0() -> None:
    """REC-1: the run waits until the task stopped; exit 0 passes with the log stream; anything else fails
    (so `pulumi up` stops before the service), naming the reason and the log stream."""
    ecs, stub = ecs_stub(0)
    lines: list[str] = []
    runner.run_task(ecs, SETTINGS, sleep=lambda _s: None, out=lines.append)
    stub.assert_no_pending_responses()
    assert (
        lines[-1] == "db-provision: exited 0 (roles, role secrets, migrations); log: /ecs/kakoi-prod/app db-provision/db-provision/0123abcd"
    )
    for code, reason in ((1, ""), (None, "CannotPullContainerError: no such image")):
        ecs, _ = ecs_stub(code, reason)
        with pytest.raises(runner.ProvisionError, match=f"exited {code}") as err:
            runner.run_task(ecs, SETTINGS, sleep=lambda _s: None, out=lines.append)
        assert "db-provision/db-provision/0123abcd" in str(err.value)
        if reason:
            assert reason in str(err.value)


def test_rec1_runner_main_reports_missing_settings_and_prints_no_secret(aws_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The runner refuses an incomplete environment (exit 1, naming the keys); on success it prints no key."""
    assert runner.main(["run"], env={"AWS_REGION": REGION}) == 1
    assert "missing environment: KAKOI_CLUSTER" in capsys.readouterr().err
    assert runner.main(["bogus"], env={}) == 2
    sm = boto3.client("secretsmanager", region_name=REGION)
    arn = sm.create_secret(Name="k")["ARN"]
    ecs, _ = ecs_stub(0)

    class Session:
        def client(self, service: str, region_name: str) -> Any:
            return sm if service == "secretsmanager" else ecs

    env = {
        "AWS_REGION": REGION, "KAKOI_CLUSTER": "kakoi-prod", "KAKOI_TASK_DEFINITION": SETTINGS.task_definition,
        "KAKOI_SUBNETS": "subnet-a,subnet-b", "KAKOI_SECURITY_GROUP": "sg-app", "KAKOI_DJANGO_SECRET_ARN": arn,
        "KAKOI_LOG_GROUP": "/ecs/kakoi-prod/app", "KAKOI_PROVISION_POLL_SECONDS": "0",
    }  # fmt: skip
    assert runner.main(["run"], env=env, session=Session()) == 0
    out = capsys.readouterr().out
    assert "django key: generated and stored (first deploy)" in out
    assert sm.get_secret_value(SecretId=arn)["SecretString"] not in out


def test_provisioning_timeout_is_longer_than_the_runner_gives_up() -> None:
    assert provisioning.TIMEOUT_SECONDS < (provisioning.TIMEOUT_SECONDS // 60 + 5) * 60
    assert json.dumps(provisioning.INTERPRETER)
