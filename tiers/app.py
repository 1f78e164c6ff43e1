"""App tier: image registry, mail, the TURN relay, IAM, the ECS service and the scan events.

The database roles, role secrets, Django key and TURN secret are provisioned inside the run,
before the services (components/provisioning.py): one `pulumi up` converges on an empty account.
Each component takes the stack context, its config section and the handles of what it runs on;
a new app workload (a scheduled task, ...) is one more call after the service, like `ScanEvents`.
(AVL-1, REC-1, MON-1, SQL-3, CMD-1, ENC-1, NET-1, AV-1)
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import network as network_module
from components import relay as relay_module
from components.app_iam import AppIam, AppIamArgs
from components.app_service import AppService, AppServiceArgs
from components.context import StackContext
from components.mail import Mail, MailArgs
from components.registry import ImageSpec, Registry, RegistryArgs
from components.relay import Relay, RelayArgs
from components.scan_events import ScanEvents, ScanEventsArgs
from components.schedules import Schedules, SchedulesArgs
from stackconfig import StackConfig
from tiers.data import Data
from tiers.edge import EdgeTier
from tiers.foundation import Foundation


@dataclass(frozen=True)
class App:
    """Typed handles of the app tier."""

    registry: Registry
    mail: Mail
    relay: Relay
    iam: AppIam
    service: AppService
    scan_events: ScanEvents
    #: the scheduled retries of the outbox and the purge queue (None before the first deploy: no app service)
    schedules: Schedules | None = None


def build(ctx: StackContext, cfg: StackConfig, base: Foundation, front: EdgeTier, data: Data) -> App:
    relay_image = ImageSpec(name=relay_module.IMAGE, context="relay", pinned_digest=cfg.relay.image_digest)
    registry = Registry(
        "registry", RegistryArgs(ctx, cfg.app, key_rotation_days=cfg.data.key_rotation_days, extra_images=[relay_image]), opts=ctx.opts
    )
    mail = Mail("mail", MailArgs(ctx, cfg.app, hosted_zone_id=cfg.edge.hosted_zone_id), opts=ctx.opts)
    # ---- the TURN relay (ENC-1, NET-1, AVL-1): live media only as TLS 1.3 on 443 (docs/relay.md)
    relay = Relay(
        "relay",
        RelayArgs(
            ctx,
            cfg.relay,
            network=base.network,
            security_groups=base.sgs,
            keys=base.keys,
            logs=base.logs,
            registry=registry,
            private_subnet_cidrs=network_module.subnet_cidrs(cfg.network.vpc_cidr, cfg.network.az_count)["private"],
            hosted_zone_id=cfg.edge.hosted_zone_id,
            tls_policy=cfg.edge.tls_policy,
            cpu_architecture=cfg.app.cpu_architecture,
            container_insights=cfg.app.container_insights,
            log_retention_days=cfg.detection.log_retention_days,
            # the TURN secret is written by the app's provisioning step; the service waits for it (start_service)
            service_enabled=cfg.app.service_enabled,
        ),
        opts=ctx.opts,
    )
    iam = AppIam(
        "app-iam",
        AppIamArgs(ctx, cfg.app, registry=registry, keys=base.keys, database=data.database, media=data.media, mail=mail, relay=relay),
        opts=ctx.opts,
    )
    service = AppService(
        "app",
        AppServiceArgs(
            ctx,
            cfg.app,
            domain_name=cfg.edge.domain_name,
            app_port=cfg.network.app_port,
            registry=registry,
            iam=iam,
            keys=base.keys,
            database=data.database,
            media=data.media,
            mail=mail,
            network=base.network,
            security_groups=base.sgs,
            edge=front.edge,
            endpoints=base.endpoints,
            relay=relay,
        ),
        opts=ctx.opts,
    )
    # the relay's tasks start only after the provisioning step has written the TURN secret
    relay.start_service(service_ready=[service.provisioning.run])
    # ---- malware scan results as events (AV-1): GuardDuty -> EventBridge -> SQS -> the app's scan consumer
    scan_events = ScanEvents(
        "scan-events",
        ScanEventsArgs(
            ctx,
            cfg.app,
            key_rotation_days=cfg.data.key_rotation_days,
            media=data.media,
            alerts=base.alerts,
            service=service,
            iam=iam,
            database=data.database,
            mail=mail,
        ),
        opts=ctx.opts,
    )
    # ---- the durable retry queues drained on a schedule (AVL-1): send_queued_email, purge_objects (components/schedules.py)
    schedules = None
    if cfg.app.service_enabled:
        schedules = Schedules(
            "schedules",
            SchedulesArgs.of(ctx, cfg.app, service=service, iam=iam, database=data.database, alerts=base.alerts),
            opts=ctx.opts,
            ready=[*iam.service_policies, service.provisioning.run],
        )

    pulumi.export("relayUrl", relay.turn_urls)
    pulumi.export("relayLoadBalancerDnsName", relay.dns_name)
    pulumi.export("relayClusterName", relay.cluster_name)
    pulumi.export("relayServiceName", relay.service_name)
    pulumi.export("relaySecretArn", relay.secret_arn)
    pulumi.export("appImage", registry.image_ref)
    pulumi.export("clusterName", service.cluster_name)
    pulumi.export("serviceName", service.service_name)
    pulumi.export("appTaskDefinition", service.task_definition_family)
    pulumi.export("dbProvisionTaskDefinition", service.db_provision_task_definition_family)
    pulumi.export("appSecurityGroupId", base.sgs.app_sg_id)
    pulumi.export("appLogGroup", service.log_group_name)
    pulumi.export("djangoSecretArn", iam.django_secret_arn)
    pulumi.export("mailDkimRecords", [{"name": n, "value": v} for n, v in mail.dkim_records])
    pulumi.export("scanQueueUrl", scan_events.queue_url)
    return App(registry=registry, mail=mail, relay=relay, iam=iam, service=service, scan_events=scan_events, schedules=schedules)
