"""Foundation tier: the log archive, keys, network, security groups, VPC endpoints and alert topic.

Everything else stands on these (LOG-1, BAK-1, BCP-1, ENC-1, NET-1, MON-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import stackconfig
from components import log_archive
from components.alerts import Alerts, AlertsArgs
from components.context import StackContext
from components.endpoints import Endpoints, EndpointsArgs
from components.kms import Keys, KeysArgs
from components.log_archive import LogArchive, LogArchiveArgs
from components.network import Network, NetworkArgs
from components.security_groups import SecurityGroups, SecurityGroupsArgs
from stackconfig import StackConfig


@dataclass(frozen=True)
class Foundation:
    """Typed handles of the foundation tier."""

    logs: LogArchive
    keys: Keys
    network: Network
    sgs: SecurityGroups
    endpoints: Endpoints
    alerts: Alerts


def build(ctx: StackContext, cfg: StackConfig) -> Foundation:
    logs = LogArchive(
        "logs",
        LogArchiveArgs(
            name_prefix=ctx.name_prefix,
            account_id=ctx.account_id,
            region=ctx.region,
            elb_account_arn=aws.elb.get_service_account_output(opts=ctx.invoke_opts()).arn,
            object_lock_mode=cfg.log_archive.object_lock_mode,
            object_lock_days=cfg.log_archive.object_lock_days,
            cold_storage_after_days=cfg.log_archive.cold_storage_after_days,
        ),
        opts=ctx.opts,
    )

    # ---- data tier keys (BAK-1, BCP-1, ENC-1): one customer-managed key per purpose, DR keys in drRegion
    keys = Keys(
        "keys",
        KeysArgs(
            name_prefix=ctx.name_prefix,
            account_id=ctx.account_id,
            partition=ctx.partition,
            region=ctx.region,
            dr_region=ctx.dr_region,
            rotation_days=cfg.data.key_rotation_days,
            dr_copies=cfg.data.dr_copies,
        ),
        opts=ctx.opts,
    )

    # ---- network (NET-1): VPC and subnet tiers, security groups, VPC endpoints
    network = Network(
        "network",
        NetworkArgs(
            name_prefix=ctx.name_prefix,
            cidr=cfg.network.vpc_cidr,
            az_count=cfg.network.az_count,
            nat_gateways=cfg.network.nat_gateways,
            flow_log_bucket_arn=logs.archive_bucket.arn,
            flow_log_prefix=log_archive.PREFIX_FLOW_LOGS,
            ipv6=cfg.network.ipv6,
        ),
        opts=ctx.opts,
        flow_log_ready=[logs.archive_policy],
    )
    # the AWS-managed prefix list of S3, which the S3 gateway endpoint routes (the app's S3 egress rule)
    s3_prefix_list = aws.ec2.get_prefix_list_output(name=f"com.amazonaws.{ctx.region}.s3", opts=ctx.invoke_opts())
    sgs = SecurityGroups(
        "sg",
        SecurityGroupsArgs(
            name_prefix=ctx.name_prefix,
            vpc_id=network.vpc_id,
            ingress_ipv4=cfg.network.ingress_ipv4,
            ingress_ipv6=cfg.network.ingress_ipv6,
            app_port=cfg.network.app_port,
            s3_prefix_list_id=s3_prefix_list.id,
            db_admin_cidrs=cfg.network.db_admin_cidrs,
            # HTTPS to the internet only when there is a NAT gateway to carry it
            allow_internet_egress=cfg.network.nat_gateways > 0,
            # GuardDuty runtime monitoring on Fargate (AV-1) reports through an endpoint in the VPC
            guardduty_agent_vpc_cidr=cfg.network.vpc_cidr,
            # the TURN relay's groups (components/relay.py): nlb, relay
            relay_listen_port=stackconfig.relay.LISTEN_PORT,
            relay_port_range=(cfg.relay.min_port, cfg.relay.max_port),
        ),
        opts=ctx.opts,
    )
    endpoints = Endpoints(
        "endpoints",
        EndpointsArgs(
            name_prefix=ctx.name_prefix,
            region=ctx.region,
            account_id=ctx.account_id,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            route_table_ids=network.private_route_table_ids,
            security_group_id=sgs.endpoints_sg_id,
        ),
        opts=ctx.opts,
    )

    alerts = Alerts(
        "alerts",
        AlertsArgs(
            name_prefix=ctx.name_prefix,
            account_id=ctx.account_id,
            partition=ctx.partition,
            region=ctx.region,
            emails=cfg.detection.alert_emails,
            kms_key_arn=keys.sns_key_arn,
        ),
        opts=ctx.opts,
    )
    pulumi.export("logArchiveBucket", logs.archive_bucket_name)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("publicSubnetIds", network.public_subnet_ids)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
    pulumi.export("isolatedSubnetIds", network.isolated_subnet_ids)
    pulumi.export("alertTopicArn", alerts.topic_arn)
    return Foundation(logs=logs, keys=keys, network=network, sgs=sgs, endpoints=endpoints, alerts=alerts)
