"""Foundation tier: the log archive, keys, network, security groups, VPC endpoints and alert topic.

Everything else stands on these (LOG-1, BAK-1, BCP-1, ENC-1, NET-1, MON-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

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
    # LOG-1: the archive every log source writes to
    logs = LogArchive("logs", LogArchiveArgs(ctx, cfg.log_archive), opts=ctx.opts)
    # BAK-1, BCP-1, ENC-1: one customer-managed key per purpose, DR keys in drRegion
    keys = Keys("keys", KeysArgs(ctx, cfg.data), opts=ctx.opts)
    # NET-1: the VPC and its subnet tiers (flow logs into the archive), the groups (the relay's too),
    # the VPC endpoints
    network = Network("network", NetworkArgs(ctx, cfg.network, log_archive=logs), opts=ctx.opts)
    sgs = SecurityGroups("sg", SecurityGroupsArgs(ctx, cfg.network, network=network, relay=cfg.relay), opts=ctx.opts)
    endpoints = Endpoints("endpoints", EndpointsArgs(ctx, network=network, security_groups=sgs), opts=ctx.opts)
    # MON-2: the encrypted alert topic
    alerts = Alerts("alerts", AlertsArgs(ctx, cfg.detection, keys=keys), opts=ctx.opts)

    pulumi.export("logArchiveBucket", logs.archive_bucket_name)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("publicSubnetIds", network.public_subnet_ids)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
    pulumi.export("isolatedSubnetIds", network.isolated_subnet_ids)
    pulumi.export("alertTopicArn", alerts.topic_arn)
    return Foundation(logs=logs, keys=keys, network=network, sgs=sgs, endpoints=endpoints, alerts=alerts)
