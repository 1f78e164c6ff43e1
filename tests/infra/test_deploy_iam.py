"""IAM of the app's tasks: least privilege (CMD-1), role separation (SQL-3), key use through services (ENC-1)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra import deployview as dv
from tools.stackview import StackView

ROLES = ("execution", "task", "db-provision-execution", "db-provision")
#: the only actions allowed on "*": they have no resource type
STAR_ACTIONS = {"ecr:GetAuthorizationToken"}


def _arn(view: StackView, typ: str, name: str) -> str:
    return view.one(typ, name).outputs["arn"]


def _secret(view: StackView, name: str) -> str:
    return _arn(view, "aws:secretsmanager/secret:Secret", name)


def _master(view: StackView) -> str:
    return view.one("aws:rds/instance:Instance", "db").outputs["masterUserSecrets"][0]["secretArn"]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in dv.as_list(s["Action"])}


def _resources_for(statements: list[dict[str, Any]], action: str) -> set[str]:
    return {r for s in statements if action in dv.as_list(s["Action"]) for r in dv.as_list(s["Resource"])}


@pytest.mark.parametrize("role", ROLES)
def test_cmd1_no_wildcard_actions_and_star_only_where_there_is_no_resource_type(each_stack: StackView, role: str) -> None:
    """CMD-1: named actions only; Resource "*" only for ecr:GetAuthorizationToken; only Allow statements."""
    for s in dv.role_statements(each_stack, role):
        assert s["Effect"] == "Allow"
        for action in dv.as_list(s["Action"]):
            assert "*" not in action, f"{role}: wildcard action {action}"
        if "*" in dv.as_list(s["Resource"]):
            assert set(dv.as_list(s["Action"])) <= STAR_ACTIONS, f"{role}: {s}"
        for resource in dv.as_list(s["Resource"]):
            assert resource == "*" or resource.startswith("arn:aws:"), resource


@pytest.mark.parametrize("role", ROLES)
def test_cmd1_roles_trust_only_ecs_tasks_of_this_account(each_stack: StackView, role: str) -> None:
    """CMD-1: ecs-tasks.amazonaws.com may assume the role, only for this account's ECS (confused deputy)."""
    [s] = dv.role(each_stack, role).json_input("assumeRolePolicy")["Statement"]
    assert s["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert s["Action"] == "sts:AssumeRole"
    assert s["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert s["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:ecs:ap-northeast-1:123456789012:*"}


def test_cmd1_each_task_definition_uses_its_own_pair_of_roles(each_stack: StackView) -> None:
    """CMD-1 / SQL-3: the service and the one-off task do not share roles; execution and task roles differ."""
    app = dv.task_def(each_stack, "app").inputs
    provision = dv.task_def(each_stack, "db-provision").inputs
    assert app["executionRoleArn"] == dv.role(each_stack, "execution").outputs["arn"]
    assert app["taskRoleArn"] == dv.role(each_stack, "task").outputs["arn"]
    assert provision["executionRoleArn"] == dv.role(each_stack, "db-provision-execution").outputs["arn"]
    assert provision["taskRoleArn"] == dv.role(each_stack, "db-provision").outputs["arn"]
    assert len({app["executionRoleArn"], app["taskRoleArn"], provision["executionRoleArn"], provision["taskRoleArn"]}) == 4


@pytest.mark.parametrize(("family", "role"), [("app", "execution"), ("db-provision", "db-provision-execution")])
def test_sql3_execution_roles_read_exactly_the_secrets_their_task_injects(each_stack: StackView, family: str, role: str) -> None:
    """SQL-3: GetSecretValue (and Decrypt through Secrets Manager) on the secrets the task definition references, no more."""
    injected = {dv.secret_arn(v) for c in dv.containers(each_stack, family).values() for v in dv.secrets(c).values()}
    statements = dv.role_statements(each_stack, role)
    assert _resources_for(statements, "secretsmanager:GetSecretValue") == injected
    decrypt = dv.statement(statements, "DecryptInjectedSecrets")
    assert decrypt["Resource"] == _arn(each_stack, "aws:kms/key:Key", "keys-database")
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.ap-northeast-1.amazonaws.com"
    assert set(decrypt["Condition"]["StringEquals"]["kms:EncryptionContext:SecretARN"]) == injected


@pytest.mark.parametrize("role", ["execution", "db-provision-execution"])
def test_cmd1_execution_roles_pull_only_this_repository_and_log_only_to_the_app_group(each_stack: StackView, role: str) -> None:
    """CMD-1: image pulls from the app repository, log writes to the app log group, nothing else."""
    statements = dv.role_statements(each_stack, role)
    repo = _arn(each_stack, "aws:ecr/repository:Repository", "registry-app")
    group = each_stack.one("aws:cloudwatch/logGroup:LogGroup", "app-logs").outputs["arn"]
    pull = dv.statement(statements, "PullAppImage")
    assert pull["Resource"] == repo
    assert sorted(pull["Action"]) == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    # besides the app image, only GuardDuty's runtime agent (AV-1), from its own repository in this region
    assert _resources_for(statements, "ecr:BatchGetImage") == {repo, "arn:aws:ecr:ap-northeast-1:*:repository/aws-guardduty-agent-fargate"}
    logs = dv.statement(statements, "WriteAppLogs")
    assert sorted(logs["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == [group, f"{group}:log-stream:*"]
    assert _actions(statements) == {
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
    }


@pytest.mark.parametrize("role", ("execution", "db-provision-execution"))
def test_av1_execution_roles_pull_the_guardduty_runtime_agent(each_stack: StackView, role: str) -> None:
    """AV-1: GuardDuty Runtime Monitoring (ECS_FARGATE_AGENT_MANAGEMENT) injects its agent sidecar into
    every Fargate task and pulls it with the task's execution role from the GuardDuty-owned
    `aws-guardduty-agent-fargate` repository of the region; without the grant the task runs unmonitored."""
    features = {
        f.inputs["name"]: [c["name"] for c in f.inputs.get("additionalConfigurations") or []]
        for f in each_stack.of_type("aws:guardduty/detectorFeature:DetectorFeature")
    }
    assert "ECS_FARGATE_AGENT_MANAGEMENT" in features["RUNTIME_MONITORING"]
    pull = dv.statement(dv.role_statements(each_stack, role), "PullGuardDutyAgent")
    assert pull["Effect"] == "Allow"
    assert sorted(pull["Action"]) == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert pull["Resource"] == "arn:aws:ecr:ap-northeast-1:*:repository/aws-guardduty-agent-fargate"


def test_sql3_service_execution_role_never_reads_the_master_secret(each_stack: StackView) -> None:
    """SQL-3: the long-running service cannot obtain the master password, not even through ECS."""
    statements = dv.role_statements(each_stack, "execution")
    assert _master(each_stack) not in _resources_for(statements, "secretsmanager:GetSecretValue")


def test_cmd1_task_role_media_objects_and_media_key_through_s3_only(each_stack: StackView) -> None:
    """CMD-1 / ENC-1: object read/write/delete under the media bucket, list the bucket, the media key only via S3."""
    statements = dv.role_statements(each_stack, "task")
    bucket = each_stack.one("aws:s3/bucket:Bucket", "media").outputs["arn"]
    objects = dv.statement(statements, "MediaObjects")
    assert objects["Resource"] == f"{bucket}/*"
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} <= set(objects["Action"])
    assert dv.statement(statements, "MediaBucketList") == {
        "Sid": "MediaBucketList",
        "Effect": "Allow",
        "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
        "Resource": bucket,
    }
    key = dv.statement(statements, "MediaKeyThroughS3")
    assert key["Resource"] == _arn(each_stack, "aws:kms/key:Key", "keys-media")
    assert sorted(key["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": "s3.ap-northeast-1.amazonaws.com"}}


def test_usr2_task_role_works_on_the_versions_the_app_pins_and_purges(each_stack: StackView) -> None:
    """USR-2 / AV-1: the media bucket is versioned and the app names VersionIds: it reads and presigns the
    confirmed version and its GuardDuty scan tag, and a physical deletion lists and deletes every version
    and delete marker. S3 authorizes those requests against the *Version actions (AccessDenied without)."""
    [versioning] = [
        v
        for v in each_stack.of_type("aws:s3/bucketVersioning:BucketVersioning")
        if v.inputs["bucket"] == each_stack.one("aws:s3/bucket:Bucket", "media").outputs["bucket"]
    ]
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    statements = dv.role_statements(each_stack, "task")
    bucket = each_stack.one("aws:s3/bucket:Bucket", "media").outputs["arn"]
    for action in ("s3:GetObjectVersion", "s3:GetObjectVersionTagging", "s3:DeleteObjectVersion"):
        assert _resources_for(statements, action) == {f"{bucket}/*"}, action
    assert _resources_for(statements, "s3:ListBucketVersions") == {bucket}


def test_cmd1_task_role_sends_mail_only_from_the_configured_identity_and_address(each_stack: StackView) -> None:
    """CMD-1: ses:SendEmail/SendRawEmail on the domain identity and its configuration set, From the configured address."""
    statements = dv.role_statements(each_stack, "task")
    send = dv.statement(statements, "SendMailFromAppAddress")
    identity = each_stack.one("aws:sesv2/emailIdentity:EmailIdentity", "mail-domain")
    config_set = each_stack.one("aws:sesv2/configurationSet:ConfigurationSet", "mail-config")
    assert sorted(send["Action"]) == ["ses:SendEmail", "ses:SendRawEmail"]
    assert send["Resource"] == [identity.outputs["arn"], config_set.outputs["arn"]]
    assert identity.outputs["arn"].endswith(f":identity/{identity.inputs['emailIdentity']}")
    mail_from = dv.env(dv.containers(each_stack, "app")["web"])["KAKOI_EMAIL_FROM"]
    assert send["Condition"] == {"StringEquals": {"ses:FromAddress": mail_from}}


def test_sql3_service_task_role_has_no_secrets_manager_access(each_stack: StackView) -> None:
    """SQL-3: web and migrate share the task role (ECS has no per-container roles), so it touches no secret at all."""
    actions = _actions(dv.role_statements(each_stack, "task"))
    assert not {a for a in actions if a.startswith("secretsmanager:")}
    assert actions == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:AbortMultipartUpload",
        "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "ses:SendEmail",
        "ses:SendRawEmail",
    }


def test_sql3_provision_task_role_reads_and_writes_only_the_two_role_secrets(each_stack: StackView) -> None:
    """SQL-3: ensure_db_roles may read/write the owner and web secrets and encrypt them through Secrets Manager; nothing else."""
    statements = dv.role_statements(each_stack, "db-provision")
    roles = {_secret(each_stack, "db-owner-secret"), _secret(each_stack, "db-web-secret")}
    assert _actions(statements) == {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "kms:GenerateDataKey", "kms:Decrypt"}
    assert _resources_for(statements, "secretsmanager:PutSecretValue") == roles
    assert _resources_for(statements, "secretsmanager:GetSecretValue") == roles
    key = dv.statement(statements, "EncryptRoleSecrets")
    assert key["Resource"] == _arn(each_stack, "aws:kms/key:Key", "keys-database")
    assert key["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.ap-northeast-1.amazonaws.com"
    assert set(key["Condition"]["StringEquals"]["kms:EncryptionContext:SecretARN"]) == roles


def test_sql3_django_key_secret_is_declared_empty_and_kms_encrypted(each_stack: StackView) -> None:
    """SQL-3 / ENC-1: the Django signing key secret has no value in Pulumi (no SecretVersion) and uses the database key."""
    secret = each_stack.one("aws:secretsmanager/secret:Secret", "app-iam-django-secret-key")
    stack = secret.inputs["name"].split("/")[1]
    assert secret.inputs["name"] == f"kakoi/{stack}/app/django-secret-key"
    assert secret.inputs["kmsKeyId"] == _arn(each_stack, "aws:kms/key:Key", "keys-database")
    versions = each_stack.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert not [v for v in versions if v.inputs.get("secretId") == secret.outputs["arn"]]
