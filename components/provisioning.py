"""Database roles, role secrets and the Django key, provisioned inside `pulumi up` (REC-1, SQL-3, AVL-1).

ECS does not start a task whose definition references a secret without a value, and the owner
and web role secrets are empty until ``ensure_db_roles`` has run, the Django key until someone
writes it. So one ``pulumi up`` on an empty account can only converge if both are filled
*during* the run, after the database and the task definitions exist and before the service
starts its first task. This component does that with one ``command:local:Command``
(Pulumi's command provider) that runs ``tools/run_db_provision.py`` on the machine running
``pulumi up``, with that machine's AWS credentials:

1. a Django key is generated there and written straight to its secret when the secret has no
   value (never printed, never a resource input or output: in no config and no state);
2. the existing one-off ``db-provision`` task (components/app_service.py; the only holder of
   the master secret and of write access to the role secrets) runs ``ensure_db_roles`` and the
   migrations; the command waits and fails when the task did not exit 0, so ``pulumi up``
   stops before the service with the task's log stream in the error.

The ECS service ``depends_on`` this resource. It runs again (replacement) whenever its
``triggers`` change: a new image or a new db-provision task definition revision, so grants and
migrations of a release are applied before the service rolls (idempotent: stored passwords
are kept). Why not a Lambda function from the app image: it would need a Lambda runtime in a
shell-less image, a second copy of the master-secret permissions and a VPC-attached function
kept forever for a job that runs once per release; the task already exists, is hardened and
least-privilege, and is what an operator runs for rotation (docs/runbooks/deploy.md, D).

The command runs ``venv/bin/python`` (the virtualenv the Pulumi CLI creates from
``Pulumi.yaml``, which installs boto3 from requirements.txt) as argv, without a shell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_command as command

if TYPE_CHECKING:
    import pulumi_aws as aws

    from components.context import StackContext

CONTROLS: dict[str, str] = {
    "REC-1": "the first `pulumi up` converges: roles, role secrets and the Django key are provisioned inside the run, "
    "before the service starts; a failed provisioning stops the run before the service",
    "SQL-3": "roles and grants are applied by the one-off db-provision task (master credentials) in every release, "
    "before the service's tasks (owner / web roles) start",
}

#: the program's virtualenv (Pulumi.yaml runtime.options.virtualenv) and the runner module
INTERPRETER = ["venv/bin/python", "-m", "tools.run_db_provision"]
RUN = "run"
#: longest the provisioning may take (the runner gives up after KAKOI_PROVISION_TIMEOUT_SECONDS)
TIMEOUT_SECONDS = 1500


@dataclass(frozen=True)
class ProvisioningArgs:
    """The one-off db-provision task to run inside the run, and where to run it (REC-1, SQL-3)."""

    #: the stack's region (AWS_REGION of the runner, REC-1); required
    context: StackContext
    #: the app's cluster the task runs in (REC-1); required
    cluster: aws.ecs.Cluster
    #: the db-provision task definition (components/app_service.py; the only holder of the master secret, SQL-3):
    #: a new revision re-runs the provisioning; required
    task_definition: aws.ecs.TaskDefinition
    #: the task's log group: the runner puts the task's log stream in its error when the task failed (MON-1); required
    log_group: aws.cloudwatch.LogGroup
    #: the private subnets the task runs in (NET-1); required
    subnet_ids: Sequence[pulumi.Input[str]]
    #: the app tasks' security group (NET-1); required
    security_group_id: pulumi.Input[str]
    #: the Django key's secret, written with a generated key when it has no value (never a Pulumi input, SES-1); required
    django_secret_arn: pulumi.Input[str]
    #: the image the task runs: a new image re-runs the provisioning (grants and migrations first, SQL-3); required
    image_ref: pulumi.Input[str]
    #: other secrets the services read that start empty, generated the same way when empty (the TURN secret, ENC-1);
    #: @default none
    generated_secret_arns: Sequence[pulumi.Input[str]] = ()


class Provisioning(pulumi.ComponentResource):
    run: command.local.Command

    def __init__(
        self,
        name: str,
        args: ProvisioningArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        ready: Sequence[pulumi.Resource] = (),
    ):
        """`ready`: what the task needs besides its inputs (VPC endpoints, role policies, the database)."""
        super().__init__("kakoi:provisioning:Provisioning", name, None, opts)
        subnets = pulumi.Output.all(*args.subnet_ids).apply(lambda ids: ",".join(ids))
        # an explicit provider (like the registry's docker-build one): visible in the state and the render
        self.provider = command.Provider(f"{name}-command", opts=pulumi.ResourceOptions(parent=self))
        self.run = command.local.Command(
            f"{name}-db-provision",
            interpreter=INTERPRETER,
            create=RUN,
            environment={
                "AWS_REGION": args.context.region,
                "KAKOI_CLUSTER": args.cluster.name,
                "KAKOI_TASK_DEFINITION": args.task_definition.arn,
                "KAKOI_SUBNETS": subnets,
                "KAKOI_SECURITY_GROUP": args.security_group_id,
                "KAKOI_DJANGO_SECRET_ARN": args.django_secret_arn,
                "KAKOI_LOG_GROUP": args.log_group.name,
                "KAKOI_PROVISION_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
                "KAKOI_GENERATED_SECRET_ARNS": pulumi.Output.all(*args.generated_secret_arns).apply(lambda v: ",".join(v)),
            },
            triggers=[args.image_ref, args.task_definition.arn],
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=self.provider,
                depends_on=list(ready),
                custom_timeouts=pulumi.CustomTimeouts(create=f"{TIMEOUT_SECONDS // 60 + 5}m"),
            ),
        )
        self.register_outputs({"stdout": self.run.stdout})
