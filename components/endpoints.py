"""VPC endpoints (NET-1): the app reaches AWS without any path to the internet.

* **S3 gateway endpoint** on the private (app) route tables: the media bucket, and the
  image layers ECR serves from S3. The isolated (database) tier gets none: nothing
  there talks to S3 (RDS backups are taken by the service, not through the VPC).
  It keeps the default (full access) endpoint policy on purpose: Fargate pulls image
  layers from an AWS-owned bucket (``prod-<region>-starport-layer-bucket``), so a
  data-perimeter policy on ``aws:ResourceAccount`` would break image pulls, and an
  allow-list of bucket names would have to track AWS's internals. Access to the
  app's own buckets is decided by the task role and the bucket policies.
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
* **Interface endpoints** with private DNS in every private subnet, behind the
  ``endpoints`` security group (443 from the app only), for what the app and ECS
  Fargate need: ``ecr.api`` + ``ecr.dkr`` (image pulls), ``logs`` (awslogs driver),
  ``secretsmanager`` (secrets injected into the task), ``kms`` (decrypting with the
  app's keys) and ``email`` (the SES API, v1 and v2, for the app's mail). SES has had
  API interface endpoints (``com.amazonaws.<region>.email``) since December 2025
  (https://aws.amazon.com/about-aws/whats-new/2025/12/amazon-ses-vpc-api-endpoints/);
  before that only ``email-smtp`` existed, which the SDKs cannot use.
  The ECS agent endpoints (``ecs``, ``ecs-agent``, ``ecs-telemetry``) are for EC2
  container instances, not Fargate; ``ssmmessages`` is only for ECS Exec, which stays off.
  GuardDuty Runtime Monitoring with automated agent management creates its own
  ``guardduty-data`` endpoint and security group (ingress from the VPC CIDR); the
  app group then needs an egress rule to it, which this stack does not add yet.
  https://docs.aws.amazon.com/guardduty/latest/ug/how-runtime-monitoring-works-ecs-fargate.html
  Service names are built from the region argument:
  https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html
* **Endpoint policies** on the interface endpoints that support them: only
  principals of this account may use the endpoint (``aws:PrincipalAccount``), so
  stolen credentials of another account cannot move data out through it. The SES
  endpoint keeps the default policy: its documentation does not list endpoint policy
  support, and setting one where it is unsupported fails the create call.
  https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from components.network import Network
from components.security_groups import SecurityGroups

CONTROLS: dict[str, str] = {
    "NET-1": (
        "the app reaches AWS (S3, ECR, CloudWatch Logs, Secrets Manager, KMS, SES) through VPC "
        "endpoints, so its subnets need no route to the internet; interface endpoints accept HTTPS "
        "from the app security group only and, where supported, only principals of this account"
    ),
}


@dataclass(frozen=True)
class InterfaceService:
    #: the part after `com.amazonaws.<region>.`
    name: str
    #: why the app or ECS needs it
    purpose: str
    #: the service supports VPC endpoint policies
    policy: bool = True


#: interface endpoints the app and ECS Fargate need (see the module docstring)
INTERFACE_SERVICES: tuple[InterfaceService, ...] = (
    InterfaceService("ecr.api", "ECR API: image manifests and auth tokens"),
    InterfaceService("ecr.dkr", "ECR Docker registry: image pulls"),
    InterfaceService("logs", "CloudWatch Logs: the awslogs driver"),
    InterfaceService("secretsmanager", "Secrets Manager: secrets injected into tasks"),
    InterfaceService("kms", "KMS: app encryption keys"),
    InterfaceService("email", "SES API: app mail", policy=False),
    InterfaceService("sqs", "SQS: the malware scan results the scan consumer reads (components/scan_events.py)"),
)


def service_name(region: str, service: str) -> str:
    """`com.amazonaws.<region>.<service>`, the name AWS services' endpoints go by."""
    return f"com.amazonaws.{region}.{service}"


def own_account_policy(account_id: str) -> str:
    """Endpoint policy: any action, but only by principals of `account_id`."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OwnAccountPrincipalsOnly",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
                }
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class EndpointsArgs:
    """Inputs of `Endpoints`."""

    #: who and where the stack is: the name prefix of `Name` tags, the region of the service names, the
    #: account the endpoint policies admit (`aws:PrincipalAccount`). Required. (NET-1)
    context: StackContext
    #: the VPC: interface endpoints get a network interface in each private (app) subnet, the S3 gateway
    #: endpoint a route in each private route table; the isolated (database) tier gets none. Required. (NET-1)
    network: Network
    #: the groups: the interface endpoints sit behind the `endpoints` group (443 from the app and the
    #: relay only). Required. (NET-1)
    security_groups: SecurityGroups
    #: the interface endpoints to create. @default `INTERFACE_SERVICES` (what the app and ECS Fargate
    #: need, see the module docstring). (NET-1)
    services: tuple[InterfaceService, ...] = INTERFACE_SERVICES


class Endpoints(pulumi.ComponentResource):
    s3: aws.ec2.VpcEndpoint
    interface: dict[str, aws.ec2.VpcEndpoint]

    def __init__(self, name: str, args: EndpointsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:endpoints:Endpoints", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, network = args.context, args.network
        prefix, region = ctx.name_prefix, ctx.region

        # default policy on purpose: see the module docstring
        self.s3 = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=network.vpc_id,
            service_name=service_name(region, "s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=list(network.private_route_table_ids),
            tags={"Name": f"{prefix}-s3"},
            opts=child,
        )

        policy = pulumi.Output.from_input(ctx.account_id).apply(own_account_policy)
        self.interface = {}
        for svc in args.services:
            key = svc.name.replace(".", "-")
            self.interface[svc.name] = aws.ec2.VpcEndpoint(
                f"{name}-{key}",
                vpc_id=network.vpc_id,
                service_name=service_name(region, svc.name),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(network.private_subnet_ids),
                security_group_ids=[args.security_groups.endpoints_sg_id],
                policy=policy if svc.policy else None,
                tags={"Name": f"{prefix}-{key}", "purpose": svc.purpose},
                opts=child,
            )

        self.s3_endpoint_id = self.s3.id
        self.s3_prefix_list_id = self.s3.prefix_list_id
        self.interface_endpoint_ids = {k: v.id for k, v in self.interface.items()}
        self.register_outputs(
            {
                "s3EndpointId": self.s3_endpoint_id,
                "s3PrefixListId": self.s3_prefix_list_id,
                "interfaceEndpointIds": self.interface_endpoint_ids,
            }
        )
