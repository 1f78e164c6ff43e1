"""IAM roles of the app's ECS tasks: least privilege, no wildcard actions (SQL-3, CMD-1, ENC-1).

ECS gives every container of a task the task's one task role (there are no per-container
roles), so the web container would hold whatever the migration needs if both shared a
role. The work is therefore split by what it needs, into two task definitions
(components/app_service.py) with four roles:

* ``execution`` (the service's task, used by ECS itself): pull this repository's image and
  GuardDuty's runtime agent (``aws-guardduty-agent-fargate``, AV-1)
  (``ecr:GetAuthorizationToken`` is the one ``"*"``: it has no resource type), write to the
  app log group, read the secrets the task injects (owner and web role, Django key, the TURN
  relay's shared secret) and
  decrypt them with the database key through Secrets Manager.
* ``task`` (the service's ``migrate`` and ``web`` containers): the media bucket's objects and
  object versions (get/put/delete/abort uploads, read object tags for the malware scan result),
  list the bucket and its versions (USR-2 purge), the media key through S3 only, SES sending only from the configured identity and
  address (``ses:FromAddress``); with ECS Exec on (``kakoi:ecsExec``, off by default) the
  four ``ssmmessages`` channel actions, which have no resource type. No secret at all.
* ``db-provision-execution`` (the one-off ``db-provision`` task, used by ECS): pull the
  image (and GuardDuty's agent), write logs, read the RDS-managed master secret and the Django key, decrypt them.
* ``db-provision`` (the one-off task: ``ensure_db_roles``, then the migrations): read and
  write the owner and web role secrets (an existing password is kept unless ``--rotate``),
  the database key through Secrets Manager for those two secrets only.

So the long-running service never sees the master password and cannot write any secret;
the task that can do both runs only in the provisioning step of a ``pulumi up`` (a new image
or task definition revision: components/provisioning.py) or when an operator starts it to
rotate the role passwords (docs/runbooks/deploy.md). Every role trusts ``ecs-tasks.amazonaws.com`` for this account's
ECS resources only (``aws:SourceAccount``, ``aws:SourceArn``: confused-deputy protection,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html).

KMS conditions: Secrets Manager calls KMS with the encryption context ``SecretARN``, so
decrypting through Secrets Manager is limited to the named secrets
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html);
writing a secret value needs ``kms:GenerateDataKey`` and ``kms:Decrypt``.

The app's one credential that is not a database role also lives here: the Django signing
key secret (``<project>/<stack>/app/django-secret-key``, encrypted with the database key
like the role secrets), declared empty so that no value passes through config or state.
The first ``pulumi up`` generates and stores its value inside the run (components/provisioning.py); ECS injects it as
``DJANGO_SECRET_KEY`` into every container.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components import app_service, iam_policies

if TYPE_CHECKING:
    from components.context import StackContext
    from components.database import Database
    from components.kms import Keys
    from components.mail import Mail
    from components.media_bucket import MediaBucket
    from components.registry import Registry
    from components.relay import Relay
    from stackconfig.app import AppConfig

CONTROLS: dict[str, str] = {
    "SQL-3": "the master secret and read/write access to the role secrets belong only to the one-off "
    "db-provision task; the service's execution role reads only the secrets it injects, its task role none",
    "CMD-1": "task roles hold only named actions on named resources (no wildcard actions, '*' only where an action has no resource type)",
    "ENC-1": "the app decrypts media only through S3 and secrets only through Secrets Manager (kms:ViaService)",
}

Statement = dict[str, Any]

ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
LOG_WRITE = ["logs:CreateLogStream", "logs:PutLogEvents"]
#: the media bucket is versioned and the app works on object versions (app/media/objects.py,
#: app/storage/s3.py): it reads and presigns GETs of the confirmed version (s3:GetObjectVersion),
#: reads that version's GuardDuty scan tag (s3:GetObjectVersionTagging), and a physical deletion
#: (USR-2) lists and deletes every version and delete marker (s3:ListBucketVersions,
#: s3:DeleteObjectVersion). S3 authorizes a request that names a VersionId against the *Version
#: action, so without these the scan gate, downloads and the purge fail with AccessDenied.
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
MEDIA_OBJECT_ACTIONS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
]
MEDIA_BUCKET_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions"]
#: GuardDuty Runtime Monitoring (AV-1, components/guardduty.py ECS_FARGATE_AGENT_MANAGEMENT) adds its
#: agent as a sidecar to every Fargate task, pulled with the task's execution role from a
#: GuardDuty-owned repository of this name in the task's region (the owning account differs per
#: region, hence "*" for the account). Without the pull permission the sidecar does not start and
#: the task runs unmonitored.
#: https://docs.aws.amazon.com/guardduty/latest/ug/ecs-runtime-agent-ecr-image-uri.html
#: https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html
GUARDDUTY_AGENT_REPOSITORY = "aws-guardduty-agent-fargate"
SES_SEND = ["ses:SendEmail", "ses:SendRawEmail"]
#: ECS Exec: the SSM agent's channels (no resource type, so "*")
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
ECS_EXEC = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
]


def document(*statements: Statement) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"), sort_keys=True)


def trust_policy(partition: str, region: str, account: str) -> str:
    return document(
        iam_policies.service_trust(
            "ecs-tasks.amazonaws.com", source_account=account, source_arn_like=f"arn:{partition}:ecs:{region}:{account}:*"
        )
    )


def guardduty_agent_repository_arn(partition: str, region: str) -> str:
    return f"arn:{partition}:ecr:{region}:*:repository/{GUARDDUTY_AGENT_REPOSITORY}"


def execution_statements(
    repo_arn: str, log_group_arn: str, secret_arns: Sequence[str], key_arn: str, region: str, partition: str
) -> list[Statement]:
    """What ECS needs to start a task: pull the image (and GuardDuty's agent), ship logs, inject `secret_arns`."""
    return [
        {"Sid": "EcrAuthToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullAppImage", "Effect": "Allow", "Action": ECR_PULL, "Resource": repo_arn},
        {"Sid": "PullGuardDutyAgent", "Effect": "Allow", "Action": ECR_PULL, "Resource": guardduty_agent_repository_arn(partition, region)},
        {"Sid": "WriteAppLogs", "Effect": "Allow", "Action": LOG_WRITE, "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"]},
        {"Sid": "ReadInjectedSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": list(secret_arns)},
        {
            "Sid": "DecryptInjectedSecrets",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
                    "kms:EncryptionContext:SecretARN": list(secret_arns),
                }
            },
        },
    ]


def task_statements(
    *,
    bucket_arn: str,
    media_key_arn: str,
    identity_arn: str,
    configuration_set_arn: str,
    from_address: str,
    region: str,
    ecs_exec: bool,
) -> list[Statement]:
    """What the app does at run time: media objects, the media key through S3, mail from one address."""
    statements: list[Statement] = [
        {"Sid": "MediaObjects", "Effect": "Allow", "Action": MEDIA_OBJECT_ACTIONS, "Resource": f"{bucket_arn}/*"},
        {"Sid": "MediaBucketList", "Effect": "Allow", "Action": MEDIA_BUCKET_ACTIONS, "Resource": bucket_arn},
        {
            "Sid": "MediaKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": media_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        },
        {
            # SES v2 SendEmail authorizes the identity and the configuration set the message uses
            # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservice-v2.html
            "Sid": "SendMailFromAppAddress",
            "Effect": "Allow",
            "Action": SES_SEND,
            "Resource": [identity_arn, configuration_set_arn],
            "Condition": {"StringEquals": {"ses:FromAddress": from_address}},
        },
    ]
    if ecs_exec:
        statements.append({"Sid": "EcsExecChannels", "Effect": "Allow", "Action": ECS_EXEC, "Resource": "*"})
    return statements


def db_provision_statements(role_secret_arns: Sequence[str], key_arn: str, region: str) -> list[Statement]:
    """What `ensure_db_roles` needs besides the database: read and write the two role secrets."""
    return [
        # read: ensure_db_roles keeps a password that is already stored (no rotation unless asked)
        {
            "Sid": "ReadWriteRoleSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
            "Resource": list(role_secret_arns),
        },
        {
            "Sid": "EncryptRoleSecrets",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
                    "kms:EncryptionContext:SecretARN": list(role_secret_arns),
                }
            },
        },
    ]


@dataclass(frozen=True)
class AppIamArgs:
    """What the app's task roles may touch: the handles of the resources they are scoped to."""

    #: prefix, account, partition and region: role names `<prefix>-app-<role>`, the trust policies' source
    #: ARNs (confused-deputy protection, CMD-1), the Django key secret `<project>/<stack>/app/django-secret-key`
    #: (SES-1: the signing key of sessions); required
    context: StackContext
    #: the app's section: the from-address the task role may send from (`ses:FromAddress`, CSRF-3), and
    #: ECS Exec (the four `ssmmessages` channel actions only with kakoi:ecsExec, CMD-1); required
    config: AppConfig
    #: the app image's repository (the execution roles pull only it and GuardDuty's agent, AV-1); required
    registry: Registry
    #: the database key (encrypts the master, role and Django key secrets: decrypted through Secrets Manager
    #: only) and the media key (through S3 only, ENC-1); required
    keys: Keys
    #: the master secret (the db-provision task only) and the owner and web role secrets (SQL-3); required
    database: Database
    #: the bucket the task role works on, objects and versions (PATH-1, USR-2, AV-1); required
    media: MediaBucket
    #: the SES identity and configuration set the task role may send through (ENC-1); required
    mail: Mail
    #: the TURN relay, whose shared secret the service's execution role injects into `web` (ENC-1);
    #: @default None (no relay)
    relay: Relay | None = None


class AppIam(pulumi.ComponentResource):
    execution_role: aws.iam.Role
    task_role: aws.iam.Role
    db_provision_execution_role: aws.iam.Role
    db_provision_task_role: aws.iam.Role
    django_secret: aws.secretsmanager.Secret

    def __init__(self, name: str, args: AppIamArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:app_iam:AppIam", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, cfg = args.context, args.config
        region, prefix = ctx.region, ctx.name_prefix
        acct = pulumi.Output.from_input(ctx.account_id)
        part = pulumi.Output.from_input(ctx.partition)
        database, keys, mail = args.database, args.keys, args.mail
        repository_arn = args.registry.repository_arn
        trust = pulumi.Output.all(part, acct).apply(lambda v: trust_policy(v[0], region, v[1]))
        # the app's log group, declared by components.app_service under this name
        app_log_group = app_service.log_group_name(prefix)
        log_group_arn = pulumi.Output.all(part, acct).apply(lambda v: f"arn:{v[0]}:logs:{region}:{v[1]}:log-group:{app_log_group}")

        self.django_secret = aws.secretsmanager.Secret(
            f"{name}-django-secret-key",
            name=f"{ctx.project}/{ctx.stack}/app/django-secret-key",
            description="Django SECRET_KEY of the app (signing); value generated once inside pulumi up, never a Pulumi input",
            kms_key_id=keys.database_key_arn,
            recovery_window_in_days=30,
            opts=child,
        )
        django_arn = self.django_secret.arn
        #: the inline policy of each role: tasks must not start before theirs are attached
        self.policies: dict[str, aws.iam.RolePolicy] = {}

        def role(suffix: str, description: str, policy: pulumi.Output[str]) -> aws.iam.Role:
            r = aws.iam.Role(
                f"{name}-{suffix}",
                name=f"{prefix}-app-{suffix}",
                description=description,
                assume_role_policy=trust,
                max_session_duration=3600,
                opts=child,
            )
            self.policies[suffix] = aws.iam.RolePolicy(
                f"{name}-{suffix}", role=r.id, name=f"{prefix}-app-{suffix}", policy=policy, opts=child
            )
            return r

        self.execution_role = role(
            "execution",
            "ECS: start the app service's tasks (image, logs, owner and web secrets)",
            pulumi.Output.all(
                repository_arn,
                log_group_arn,
                database.owner_secret_arn,
                database.web_secret_arn,
                django_arn,
                keys.database_key_arn,
                part,
                args.relay.secret_arn if args.relay is not None else "",
            ).apply(
                lambda v: document(*execution_statements(v[0], v[1], [v[2], v[3], v[4], *([v[7]] if v[7] else [])], v[5], region, v[6]))
            ),
        )
        self.task_role = role(
            "task",
            "The app service's containers (migrate, web): media, media key through S3, SES from one address",
            pulumi.Output.all(args.media.bucket_arn, keys.media_key_arn, mail.identity_arn, mail.configuration_set_arn).apply(
                lambda v: document(
                    *task_statements(
                        bucket_arn=v[0],
                        media_key_arn=v[1],
                        identity_arn=v[2],
                        configuration_set_arn=v[3],
                        from_address=cfg.mail_from,
                        region=region,
                        ecs_exec=cfg.ecs_exec,
                    )
                )
            ),
        )
        self.db_provision_execution_role = role(
            "db-provision-execution",
            "ECS: start the one-off db-provision task (image, logs, the master secret, the Django key)",
            pulumi.Output.all(repository_arn, log_group_arn, database.master_secret_arn, django_arn, keys.database_key_arn, part).apply(
                lambda v: document(*execution_statements(v[0], v[1], [v[2], v[3]], v[4], region, v[5]))
            ),
        )
        self.db_provision_task_role = role(
            "db-provision",
            "The one-off db-provision task (ensure_db_roles, migrate): read and write the owner and web role secrets",
            pulumi.Output.all(database.owner_secret_arn, database.web_secret_arn, keys.database_key_arn).apply(
                lambda v: document(*db_provision_statements([v[0], v[1]], v[2], region))
            ),
        )

        #: what the service's tasks need before they start
        self.service_policies = [self.policies["execution"], self.policies["task"]]
        #: what the one-off db-provision task needs before it runs (components/provisioning.py)
        self.provision_policies = [self.policies["db-provision-execution"], self.policies["db-provision"]]
        self.django_secret_arn = django_arn
        self.execution_role_arn = self.execution_role.arn
        self.task_role_arn = self.task_role.arn
        self.db_provision_execution_role_arn = self.db_provision_execution_role.arn
        self.db_provision_task_role_arn = self.db_provision_task_role.arn
        self.register_outputs(
            {
                "executionRoleArn": self.execution_role_arn,
                "taskRoleArn": self.task_role_arn,
                "dbProvisionExecutionRoleArn": self.db_provision_execution_role_arn,
                "dbProvisionTaskRoleArn": self.db_provision_task_role_arn,
                "djangoSecretArn": django_arn,
            }
        )
