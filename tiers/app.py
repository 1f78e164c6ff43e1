"""App tier: image registry, mail, the TURN relay, IAM, the ECS service and the scan events.

The database roles, role secrets and Django key are provisioned inside the run, before the
service (components/provisioning.py): one `pulumi up` converges on an empty account.
(AVL-1, REC-1, MON-1, SQL-3, CMD-1, ENC-1, NET-1, AV-1)
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

import stackconfig
from components import app_service as app_service_module
from components import network as network_module
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
    registry = Registry(
        "registry",
        RegistryArgs(
            name_prefix=ctx.name_prefix,
            account_id=ctx.account_id,
            partition=ctx.partition,
            region=ctx.region,
            key_rotation_days=cfg.data.key_rotation_days,
            platform=cfg.app.platform,
            keep_images=cfg.app.ecr_keep_images,
            pinned_digest=cfg.app.image_digest,
            extra_images=[ImageSpec(name="relay", context="relay", pinned_digest=cfg.relay.image_digest)],
        ),
        opts=ctx.opts,
    )
    mail = Mail(
        "mail",
        MailArgs(
            name_prefix=ctx.name_prefix,
            domain=cfg.app.mail_domain,
            from_address=cfg.app.mail_from,
            hosted_zone_id=cfg.edge.hosted_zone_id,
        ),
        opts=ctx.opts,
    )
    # ---- the TURN relay (ENC-1, NET-1, AVL-1): live media only as TLS 1.3 on 443 (docs/relay.md)
    relay = Relay(
        "relay",
        RelayArgs(
            name_prefix=ctx.name_prefix,
            project=cfg.core.project,
            stack=cfg.core.stack,
            account_id=ctx.account_id,
            partition=ctx.partition,
            region=ctx.region,
            vpc_id=base.network.vpc_id,
            public_subnet_ids=base.network.public_subnet_ids,
            private_subnet_ids=base.network.private_subnet_ids,
            private_subnet_cidrs=network_module.subnet_cidrs(cfg.network.vpc_cidr, cfg.network.az_count)["private"],
            nlb_security_group_id=base.sgs.nlb_sg_id,
            relay_security_group_id=base.sgs.relay_sg_id,
            dualstack=base.network.ipv6,
            domain_name=cfg.relay.domain_name,
            hosted_zone_id=cfg.edge.hosted_zone_id,
            certificate_arn=cfg.relay.certificate_arn,
            tls_policy=cfg.edge.tls_policy,
            public_port=stackconfig.relay.PUBLIC_PORT,
            listen_port=stackconfig.relay.LISTEN_PORT,
            min_port=cfg.relay.min_port,
            max_port=cfg.relay.max_port,
            deletion_protection=cfg.relay.deletion_protection,
            log_bucket=base.logs.archive_bucket.bucket,
            image_ref=registry.image_refs["relay"],
            repository_arn=registry.repository_arns["relay"],
            cpu_architecture=cfg.app.cpu_architecture,
            cpu=cfg.relay.cpu,
            memory=cfg.relay.memory,
            container_insights=cfg.app.container_insights,
            secrets_key_arn=base.keys.database_key_arn,
            logs_key_arn=base.keys.logs_key_arn,
            log_retention_days=cfg.detection.log_retention_days,
            min_tasks=cfg.relay.min_tasks,
            max_tasks=cfg.relay.max_tasks,
            cpu_target_percent=cfg.relay.cpu_target_percent,
            connections_per_task=cfg.relay.connections_per_task,
            user_quota=cfg.relay.user_quota,
            total_quota=cfg.relay.total_quota,
            drain_seconds=cfg.relay.drain_seconds,
            # the TURN secret is written by the app's provisioning step; the service waits for it (start_service)
            service_enabled=cfg.app.service_enabled,
        ),
        opts=ctx.opts,
        log_delivery_ready=[base.logs.archive_policy],
    )

    app_log_group = app_service_module.log_group_name(ctx.name_prefix)
    app_iam = AppIam(
        "app-iam",
        AppIamArgs(
            name_prefix=ctx.name_prefix,
            secret_prefix=f"{cfg.core.project}/{cfg.core.stack}/app",
            account_id=ctx.account_id,
            partition=ctx.partition,
            region=ctx.region,
            repository_arn=registry.repository_arn,
            log_group_name=app_log_group,
            database_key_arn=base.keys.database_key_arn,
            master_secret_arn=data.database.master_secret_arn,
            owner_secret_arn=data.database.owner_secret_arn,
            web_secret_arn=data.database.web_secret_arn,
            media_bucket_arn=data.media.bucket_arn,
            media_key_arn=base.keys.media_key_arn,
            mail_identity_arn=mail.identity_arn,
            mail_configuration_set_arn=mail.configuration_set_arn,
            mail_from=cfg.app.mail_from,
            ecs_exec=cfg.app.ecs_exec,
            turn_secret_arn=relay.secret_arn,
        ),
        opts=ctx.opts,
    )
    # the plain environment of every app container (web, migrate, scan consumer)
    app_env = app_service_module.app_environment(
        domain_name=cfg.edge.domain_name,
        region=ctx.region,
        database_host=data.database.endpoint_address,
        database_port=data.database.port,
        media_bucket=data.media.bucket_name,
        mail_from=cfg.app.mail_from,
        ses_configuration_set=mail.configuration_set_name,
        turn_urls=cfg.relay.turn_urls,
    )
    app_service = AppService(
        "app",
        AppServiceArgs(
            name_prefix=ctx.name_prefix,
            region=ctx.region,
            container_insights=cfg.app.container_insights,
            image_ref=registry.image_ref,
            cpu_architecture=cfg.app.cpu_architecture,
            cpu=cfg.app.cpu,
            memory=cfg.app.memory,
            app_port=cfg.network.app_port,
            execution_role_arn=app_iam.execution_role_arn,
            task_role_arn=app_iam.task_role_arn,
            db_provision_execution_role_arn=app_iam.db_provision_execution_role_arn,
            db_provision_task_role_arn=app_iam.db_provision_task_role_arn,
            logs_key_arn=base.keys.logs_key_arn,
            log_retention_days=cfg.app.log_retention_days,
            master_secret_arn=data.database.master_secret_arn,
            owner_secret_arn=data.database.owner_secret_arn,
            web_secret_arn=data.database.web_secret_arn,
            django_secret_arn=app_iam.django_secret_arn,
            environment=app_env,
            subnet_ids=base.network.private_subnet_ids,
            security_group_id=base.sgs.app_sg_id,
            target_group_arn=front.edge.target_group_arn,
            load_balancer_arn_suffix=front.edge.load_balancer_arn_suffix,
            target_group_arn_suffix=front.edge.target_group_arn_suffix,
            min_tasks=cfg.app.min_tasks,
            max_tasks=cfg.app.max_tasks,
            cpu_target_percent=cfg.app.cpu_target_percent,
            requests_per_target=cfg.app.requests_per_target,
            ecs_exec=cfg.app.ecs_exec,
            service_enabled=cfg.app.service_enabled,
            turn_secret_arn=relay.secret_arn,
            # the TURN relay's shared secret starts empty too: generated in the same step
            generated_secret_arns=[relay.secret_arn],
        ),
        opts=ctx.opts,
        service_ready=[front.edge.https_listener, *app_iam.service_policies],
        provision_ready=[*base.endpoints.interface.values(), base.endpoints.s3, *app_iam.provision_policies],
    )
    # the relay's tasks start only after the provisioning step has written the TURN secret
    relay.start_service(service_ready=[app_service.provisioning.run])
    pulumi.export("relayUrl", cfg.relay.turn_urls)
    pulumi.export("relayLoadBalancerDnsName", relay.dns_name)
    pulumi.export("relayClusterName", relay.cluster_name)
    pulumi.export("relayServiceName", relay.service_name)
    pulumi.export("relaySecretArn", relay.secret_arn)
    pulumi.export("appImage", registry.image_ref)
    pulumi.export("clusterName", app_service.cluster_name)
    pulumi.export("serviceName", app_service.service_name)
    pulumi.export("appTaskDefinition", app_service.task_definition_family)
    pulumi.export("dbProvisionTaskDefinition", app_service.db_provision_task_definition_family)
    pulumi.export("appSecurityGroupId", base.sgs.app_sg_id)
    pulumi.export("appLogGroup", app_service.log_group_name)
    pulumi.export("djangoSecretArn", app_iam.django_secret_arn)
    pulumi.export("mailDkimRecords", [{"name": n, "value": v} for n, v in mail.dkim_records])
    # ---- malware scan results as events (AV-1): GuardDuty -> EventBridge -> SQS -> the app's scan consumer
    scan_events = ScanEvents(
        "scan-events",
        ScanEventsArgs(
            name_prefix=ctx.name_prefix,
            account_id=ctx.account_id,
            partition=ctx.partition,
            region=ctx.region,
            media_bucket_name=data.media.bucket_name,
            media_bucket_arn=data.media.bucket_arn,
            alerts_topic_arn=base.alerts.topic_arn,
            key_rotation_days=cfg.data.key_rotation_days,
            cluster_arn=app_service.cluster.arn,
            cluster_name=app_service.cluster_name,
            image_ref=registry.image_ref,
            cpu_architecture=cfg.app.cpu_architecture,
            execution_role_arn=app_iam.execution_role_arn,
            log_group_name=app_service.log_group_name,
            environment=app_env,
            web_secret_arn=data.database.web_secret_arn,
            django_secret_arn=app_iam.django_secret_arn,
            subnet_ids=base.network.private_subnet_ids,
            security_group_id=base.sgs.app_sg_id,
            mail_identity_arn=mail.identity_arn,
            mail_configuration_set_arn=mail.configuration_set_arn,
            mail_from=cfg.app.mail_from,
            service_enabled=cfg.app.service_enabled,
        ),
        opts=ctx.opts,
        # the consumer's tasks read the web role's secret and the Django key: filled by the provisioning in the run
        service_ready=[*app_iam.service_policies, app_service.provisioning.run],
    )
    pulumi.export("scanQueueUrl", scan_events.queue_url)
    # ---- the durable retry queues drained on a schedule (AVL-1): send_queued_email, purge_objects (components/schedules.py)
    schedules = None
    if cfg.app.service_enabled:
        schedules = Schedules(
            "schedules",
            SchedulesArgs(
                context=ctx,
                cluster_arn=app_service.cluster.arn,
                image_ref=registry.image_ref,
                cpu_architecture=cfg.app.cpu_architecture,
                execution_role_arn=app_iam.execution_role_arn,
                task_role_arn=app_iam.task_role_arn,
                log_group_name=app_service.log_group_name,
                environment=app_env,
                web_secret_arn=data.database.web_secret_arn,
                django_secret_arn=app_iam.django_secret_arn,
                subnet_ids=base.network.private_subnet_ids,
                security_group_id=base.sgs.app_sg_id,
                alerts_topic_arn=base.alerts.topic_arn,
            ),
            opts=ctx.opts,
            ready=[*app_iam.service_policies, app_service.provisioning.run],
        )
    return App(registry=registry, mail=mail, relay=relay, iam=app_iam, service=app_service, scan_events=scan_events, schedules=schedules)
