"""kakoi: reads and validates the stack config, then wires the components together.

Nothing else happens here: every resource is declared inside a component
(components/), and every setting is validated (stackconfig/) before the first one.
"""

import pulumi
import pulumi_aws as aws

import stackconfig
from components import app_service as app_service_module
from components import guardduty as guardduty_module
from components import log_archive
from components import network as network_module
from components.alarms import Alarms, AlarmsArgs, Monitored
from components.alerts import Alerts, AlertsArgs
from components.app_iam import AppIam, AppIamArgs
from components.app_service import AppService, AppServiceArgs
from components.availability import Availability, AvailabilityArgs
from components.backup import BackupPlan, BackupPlanArgs
from components.certificate import Certificate, CertificateArgs
from components.cloudtrail import CloudTrail, CloudTrailArgs
from components.database import Database, DatabaseArgs
from components.edge import Edge, EdgeArgs
from components.endpoints import Endpoints, EndpointsArgs
from components.guardduty import GuardDuty, GuardDutyArgs
from components.kms import Keys, KeysArgs
from components.log_archive import LogArchive, LogArchiveArgs
from components.mail import Mail, MailArgs
from components.media_bucket import MediaBucket, MediaBucketArgs
from components.network import Network, NetworkArgs
from components.registry import ImageSpec, Registry, RegistryArgs
from components.relay import Relay, RelayArgs
from components.scan_events import ScanEvents, ScanEventsArgs
from components.security_groups import SecurityGroups, SecurityGroupsArgs
from components.waf import Waf, WafArgs
from stackconfig.pulumi_source import PulumiConfigValues

try:
    cfg = stackconfig.load(PulumiConfigValues(), project=pulumi.get_project(), stack=pulumi.get_stack())
except stackconfig.ConfigError as exc:
    raise pulumi.RunError(str(exc)) from exc

# One explicit provider per region: every resource is tagged through its default tags.
provider = aws.Provider("aws", region=cfg.core.region, default_tags={"tags": cfg.core.tags})
opts = pulumi.ResourceOptions(provider=provider)
identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider))
elb_account = aws.elb.get_service_account_output(opts=pulumi.InvokeOutputOptions(provider=provider))

logs = LogArchive(
    "logs",
    LogArchiveArgs(
        name_prefix=cfg.core.name_prefix,
        account_id=identity.account_id,
        region=cfg.core.region,
        elb_account_arn=elb_account.arn,
        object_lock_mode=cfg.log_archive.object_lock_mode,
        object_lock_days=cfg.log_archive.object_lock_days,
        cold_storage_after_days=cfg.log_archive.cold_storage_after_days,
    ),
    opts=opts,
)

# ---- data tier keys (BAK-1, BCP-1, ENC-1): one customer-managed key per purpose, DR keys in drRegion
partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(provider=provider))
keys = Keys(
    "keys",
    KeysArgs(
        name_prefix=cfg.core.name_prefix,
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.core.region,
        dr_region=cfg.core.dr_region,
        rotation_days=cfg.data.key_rotation_days,
        dr_copies=cfg.data.dr_copies,
    ),
    opts=opts,
)

# ---- network (NET-1): VPC and subnet tiers, security groups, VPC endpoints
network = Network(
    "network",
    NetworkArgs(
        name_prefix=cfg.core.name_prefix,
        cidr=cfg.network.vpc_cidr,
        az_count=cfg.network.az_count,
        nat_gateways=cfg.network.nat_gateways,
        flow_log_bucket_arn=logs.archive_bucket.arn,
        flow_log_prefix=log_archive.PREFIX_FLOW_LOGS,
        ipv6=cfg.network.ipv6,
    ),
    opts=opts,
    flow_log_ready=[logs.archive_policy],
)
# the AWS-managed prefix list of S3, which the S3 gateway endpoint routes (the app's S3 egress rule)
s3_prefix_list = aws.ec2.get_prefix_list_output(
    name=f"com.amazonaws.{cfg.core.region}.s3", opts=pulumi.InvokeOutputOptions(provider=provider)
)
sgs = SecurityGroups(
    "sg",
    SecurityGroupsArgs(
        name_prefix=cfg.core.name_prefix,
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
    opts=opts,
)
endpoints = Endpoints(
    "endpoints",
    EndpointsArgs(
        name_prefix=cfg.core.name_prefix,
        region=cfg.core.region,
        account_id=identity.account_id,
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        route_table_ids=network.private_route_table_ids,
        security_group_id=sgs.endpoints_sg_id,
    ),
    opts=opts,
)

# ---- edge (ENC-1, ENC-2, XSS-2, CJ-1, HDR-1): certificate, load balancer, listeners, WAF
certificate = Certificate(
    "cert",
    CertificateArgs(
        domain_name=cfg.edge.domain_name,
        hosted_zone_id=cfg.edge.hosted_zone_id,
        certificate_arn=cfg.edge.certificate_arn,
    ),
    opts=opts,
)
edge = Edge(
    "edge",
    EdgeArgs(
        name_prefix=cfg.core.name_prefix,
        vpc_id=network.vpc_id,
        public_subnet_ids=network.public_subnet_ids,
        security_group_id=sgs.alb_sg_id,
        certificate_arn=certificate.certificate_arn,
        tls_policy=cfg.edge.tls_policy,
        app_port=cfg.network.app_port,
        deletion_protection=cfg.edge.deletion_protection,
        hsts_max_age=cfg.edge.hsts_max_age,
        log_bucket=logs.archive_bucket.bucket,
        domain_name=cfg.edge.domain_name,
        hosted_zone_id=cfg.edge.hosted_zone_id,
        dualstack=network.ipv6,
    ),
    opts=opts,
    log_delivery_ready=[logs.archive_policy],
)
waf = Waf(
    "waf",
    WafArgs(
        name_prefix=cfg.core.name_prefix,
        load_balancer_arn=edge.load_balancer_arn,
        log_bucket_arn=logs.archive_bucket.arn,
        rate_limit=cfg.edge.waf_rate_limit,
    ),
    opts=opts,
    log_delivery_ready=[logs.archive_policy],
)

# ---- data tier (BAK-1, BAK-2, BCP-1, ENC-1, REC-1, MNT-1, PATH-1, SQL-3): backups, database, media
backup = BackupPlan(
    "backup",
    BackupPlanArgs(
        name_prefix=cfg.core.name_prefix,
        partition=partition.partition,
        dr_region=cfg.core.dr_region,
        key_arn=keys.backup_key_arn,
        dr_key_arn=keys.dr_backup_key_arn,
        daily_retention_days=cfg.data.daily_retention_days,
        monthly_retention_days=cfg.data.monthly_retention_days,
        vault_lock=cfg.data.vault_lock,
        vault_lock_mode=cfg.data.vault_lock_mode,
    ),
    opts=opts,
)
database = Database(
    "db",
    DatabaseArgs(
        name_prefix=cfg.core.name_prefix,
        secret_prefix=f"{cfg.core.project}/{cfg.core.stack}/db",
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.core.region,
        dr_region=cfg.core.dr_region,
        subnet_ids=network.isolated_subnet_ids,
        security_group_ids=[sgs.db_sg_id],
        kms_key_arn=keys.database_key_arn,
        logs_key_arn=keys.logs_key_arn,
        dr_kms_key_arn=keys.dr_database_key_arn,
        engine_version=cfg.data.engine_version,
        parameter_group_family=cfg.data.parameter_group_family,
        instance_class=cfg.data.instance_class,
        allocated_storage=cfg.data.allocated_storage,
        max_allocated_storage=cfg.data.max_allocated_storage,
        multi_az=cfg.data.multi_az,
        backup_retention_days=cfg.data.backup_retention_days,
        backup_window=cfg.data.backup_window,
        maintenance_window=cfg.data.maintenance_window,
        deletion_protection=cfg.data.deletion_protection,
        final_snapshot=cfg.data.final_snapshot,
        log_retention_days=cfg.data.log_retention_days,
        monitoring_interval=cfg.data.monitoring_interval,
        insights_mode=cfg.data.insights_mode,
        performance_insights_retention_days=cfg.data.performance_insights_retention_days,
        backup_tags=backup.selection_tags,
        restore_source_backups_arn=cfg.data.restore_source_backups_arn,
        restore_time=cfg.data.restore_time,
        restore_kms_key_arn=cfg.data.restore_kms_key_arn,
    ),
    opts=opts,
)
media = MediaBucket(
    "media",
    MediaBucketArgs(
        name_prefix=cfg.core.name_prefix,
        account_id=identity.account_id,
        region=cfg.core.region,
        dr_region=cfg.core.dr_region,
        key_arn=keys.media_key_arn,
        dr_key_arn=keys.dr_media_key_arn,
        access_logs_bucket=logs.access_logs_bucket.id,
        app_origin=f"https://{cfg.edge.domain_name}",
        noncurrent_days=cfg.data.media_noncurrent_days,
        replication=cfg.data.media_replication,
        partition=partition.partition,
        tls_exempt_role_names=[guardduty_module.scan_role_name(cfg.core.name_prefix)],
    ),
    opts=opts,
)
pulumi.export("databaseEndpoint", database.endpoint_address)
pulumi.export("databaseMasterSecretArn", database.master_secret_arn)
pulumi.export("databaseOwnerSecretArn", database.owner_secret_arn)
pulumi.export("databaseWebSecretArn", database.web_secret_arn)
pulumi.export("mediaBucket", media.bucket_name)
pulumi.export("backupVault", backup.vault.name)

# ---- the app (AVL-1, REC-1, MON-1, SQL-3, CMD-1, ENC-1): image registry, mail, IAM, ECS service.
# The database roles, role secrets and Django key are provisioned inside the run, before the
# service (components/provisioning.py): one `pulumi up` converges on an empty account.
registry = Registry(
    "registry",
    RegistryArgs(
        name_prefix=cfg.core.name_prefix,
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.core.region,
        key_rotation_days=cfg.data.key_rotation_days,
        platform=cfg.app.platform,
        keep_images=cfg.app.ecr_keep_images,
        pinned_digest=cfg.app.image_digest,
        extra_images=[ImageSpec(name="relay", context="relay", pinned_digest=cfg.relay.image_digest)],
    ),
    opts=opts,
)
mail = Mail(
    "mail",
    MailArgs(
        name_prefix=cfg.core.name_prefix,
        domain=cfg.app.mail_domain,
        from_address=cfg.app.mail_from,
        hosted_zone_id=cfg.edge.hosted_zone_id,
    ),
    opts=opts,
)
# ---- the TURN relay (ENC-1, NET-1, AVL-1): live media only as TLS 1.3 on 443 (docs/relay.md)
relay = Relay(
    "relay",
    RelayArgs(
        name_prefix=cfg.core.name_prefix,
        project=cfg.core.project,
        stack=cfg.core.stack,
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.core.region,
        vpc_id=network.vpc_id,
        public_subnet_ids=network.public_subnet_ids,
        private_subnet_ids=network.private_subnet_ids,
        private_subnet_cidrs=network_module.subnet_cidrs(cfg.network.vpc_cidr, cfg.network.az_count)["private"],
        nlb_security_group_id=sgs.nlb_sg_id,
        relay_security_group_id=sgs.relay_sg_id,
        dualstack=network.ipv6,
        domain_name=cfg.relay.domain_name,
        hosted_zone_id=cfg.edge.hosted_zone_id,
        certificate_arn=cfg.relay.certificate_arn,
        tls_policy=cfg.edge.tls_policy,
        public_port=stackconfig.relay.PUBLIC_PORT,
        listen_port=stackconfig.relay.LISTEN_PORT,
        min_port=cfg.relay.min_port,
        max_port=cfg.relay.max_port,
        deletion_protection=cfg.relay.deletion_protection,
        log_bucket=logs.archive_bucket.bucket,
        image_ref=registry.image_refs["relay"],
        repository_arn=registry.repository_arns["relay"],
        cpu_architecture=cfg.app.cpu_architecture,
        cpu=cfg.relay.cpu,
        memory=cfg.relay.memory,
        container_insights=cfg.app.container_insights,
        secrets_key_arn=keys.database_key_arn,
        logs_key_arn=keys.logs_key_arn,
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
    opts=opts,
    log_delivery_ready=[logs.archive_policy],
)

app_log_group = app_service_module.log_group_name(cfg.core.name_prefix)
app_iam = AppIam(
    "app-iam",
    AppIamArgs(
        name_prefix=cfg.core.name_prefix,
        secret_prefix=f"{cfg.core.project}/{cfg.core.stack}/app",
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.core.region,
        repository_arn=registry.repository_arn,
        log_group_name=app_log_group,
        database_key_arn=keys.database_key_arn,
        master_secret_arn=database.master_secret_arn,
        owner_secret_arn=database.owner_secret_arn,
        web_secret_arn=database.web_secret_arn,
        media_bucket_arn=media.bucket_arn,
        media_key_arn=keys.media_key_arn,
        mail_identity_arn=mail.identity_arn,
        mail_configuration_set_arn=mail.configuration_set_arn,
        mail_from=cfg.app.mail_from,
        ecs_exec=cfg.app.ecs_exec,
        turn_secret_arn=relay.secret_arn,
    ),
    opts=opts,
)
# the plain environment of every app container (web, migrate, scan consumer)
app_env = app_service_module.app_environment(
    domain_name=cfg.edge.domain_name,
    region=cfg.core.region,
    database_host=database.endpoint_address,
    database_port=database.port,
    media_bucket=media.bucket_name,
    mail_from=cfg.app.mail_from,
    ses_configuration_set=mail.configuration_set_name,
    turn_urls=cfg.relay.turn_urls,
)
app_service = AppService(
    "app",
    AppServiceArgs(
        name_prefix=cfg.core.name_prefix,
        region=cfg.core.region,
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
        logs_key_arn=keys.logs_key_arn,
        log_retention_days=cfg.app.log_retention_days,
        master_secret_arn=database.master_secret_arn,
        owner_secret_arn=database.owner_secret_arn,
        web_secret_arn=database.web_secret_arn,
        django_secret_arn=app_iam.django_secret_arn,
        environment=app_env,
        subnet_ids=network.private_subnet_ids,
        security_group_id=sgs.app_sg_id,
        target_group_arn=edge.target_group_arn,
        load_balancer_arn_suffix=edge.load_balancer_arn_suffix,
        target_group_arn_suffix=edge.target_group_arn_suffix,
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
    opts=opts,
    service_ready=[edge.https_listener, *app_iam.service_policies],
    provision_ready=[*endpoints.interface.values(), endpoints.s3, *app_iam.provision_policies],
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
pulumi.export("appSecurityGroupId", sgs.app_sg_id)
pulumi.export("appLogGroup", app_service.log_group_name)
pulumi.export("djangoSecretArn", app_iam.django_secret_arn)
pulumi.export("mailDkimRecords", [{"name": n, "value": v} for n, v in mail.dkim_records])

# ---- detection and alerting (AV-1, LOG-1, MON-1, MON-2, AVL-1): alert topic, GuardDuty, CloudTrail,
# alarms, the availability canary and the dashboard. `monitored` lists what exists to watch.
alerts = Alerts(
    "alerts",
    AlertsArgs(
        name_prefix=cfg.core.name_prefix,
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.core.region,
        emails=cfg.detection.alert_emails,
        kms_key_arn=keys.sns_key_arn,
    ),
    opts=opts,
)
# ---- malware scan results as events (AV-1): GuardDuty -> EventBridge -> SQS -> the app's scan consumer
scan_events = ScanEvents(
    "scan-events",
    ScanEventsArgs(
        name_prefix=cfg.core.name_prefix,
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.core.region,
        media_bucket_name=media.bucket_name,
        media_bucket_arn=media.bucket_arn,
        alerts_topic_arn=alerts.topic_arn,
        key_rotation_days=cfg.data.key_rotation_days,
        cluster_arn=app_service.cluster.arn,
        cluster_name=app_service.cluster_name,
        image_ref=registry.image_ref,
        cpu_architecture=cfg.app.cpu_architecture,
        execution_role_arn=app_iam.execution_role_arn,
        log_group_name=app_service.log_group_name,
        environment=app_env,
        web_secret_arn=database.web_secret_arn,
        django_secret_arn=app_iam.django_secret_arn,
        subnet_ids=network.private_subnet_ids,
        security_group_id=sgs.app_sg_id,
        mail_identity_arn=mail.identity_arn,
        mail_configuration_set_arn=mail.configuration_set_arn,
        mail_from=cfg.app.mail_from,
        service_enabled=cfg.app.service_enabled,
    ),
    opts=opts,
    # the consumer's tasks read the web role's secret and the Django key: filled by the provisioning in the run
    service_ready=[*app_iam.service_policies, app_service.provisioning.run],
)
pulumi.export("scanQueueUrl", scan_events.queue_url)
guardduty = GuardDuty(
    "guardduty",
    GuardDutyArgs(
        name_prefix=cfg.core.name_prefix,
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.core.region,
        alerts_topic_arn=alerts.topic_arn,
        existing_detector_id=cfg.detection.guardduty_detector_id,
        media_bucket_name=media.bucket_name,
        media_kms_key_arn=keys.media_key_arn,
    ),
    opts=opts,
)
trail = CloudTrail(
    "trail",
    CloudTrailArgs(
        name_prefix=cfg.core.name_prefix,
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.core.region,
        archive_bucket_name=logs.archive_bucket_name,
        s3_key_prefix=log_archive.PREFIX_CLOUDTRAIL,
        log_group_kms_key_arn=keys.logs_key_arn,
        log_retention_days=cfg.detection.audit_log_retention_days,
        archive_ready=[logs.archive_policy],
    ),
    opts=opts,
)
# only what is declared is watched: without the ECS service (appServiceEnabled false) there is no
# service to alarm on, no target to be healthy and nothing for the canary to probe
serving = app_service.service is not None
monitored = Monitored(
    load_balancer_arn_suffix=edge.load_balancer_arn_suffix,
    target_group_arn_suffix=edge.target_group_arn_suffix,
    web_acl_name=waf.name,
    # the instance's output, not the plain name: the alarms (db-free-storage treats silence as trouble) are
    # created only once the instance exists and reports
    db_instance_identifier=database.instance.identifier,
    cluster_name=app_service.cluster_name if serving else None,
    service_name=app_service.service_name if serving else None,
    targets_registered=serving,
    targets_ready=(app_service.service,) if app_service.service is not None else (),
    relay_load_balancer_arn_suffix=relay.load_balancer_arn_suffix,
    relay_target_group_arn_suffix=relay.target_group_arn_suffix,
    relay_cluster_name=relay.cluster_name if relay.service else None,
    relay_service_name=relay.service_name if relay.service else None,
    relay_flow_capacity=cfg.relay.flow_capacity,
)
alarms = Alarms(
    "alarms",
    AlarmsArgs(
        name_prefix=cfg.core.name_prefix,
        region=cfg.core.region,
        alerts_topic_arn=alerts.topic_arn,
        thresholds=cfg.detection.thresholds,
        monitored=monitored,
    ),
    opts=opts,
)
availability = Availability(
    "availability",
    AvailabilityArgs(
        name_prefix=cfg.core.name_prefix,
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.core.region,
        domain_name=cfg.edge.domain_name,
        alerts_topic_arn=alerts.topic_arn,
        enabled=cfg.detection.canary_enabled,
        serving=serving,
        serving_ready=[app_service.service] if app_service.service is not None else [],
        runtime_version=cfg.detection.canary_runtime_version,
        artifact_retention_days=cfg.detection.canary_artifact_retention_days,
        slo_percent=cfg.detection.availability_slo_percent,
        window_minutes=cfg.detection.availability_window_minutes,
        log_group_kms_key_arn=keys.logs_key_arn,
        log_retention_days=cfg.detection.log_retention_days,
        access_logs_bucket=logs.access_logs_bucket_name,
        monitored=monitored,
        findings_rule_names=[guardduty.findings_rule_name, guardduty.malware_rule_name],
        alarm_arns=[*alarms.alarm_arns, *scan_events.alarm_arns],
        down_alarm_names=alarms.down_alarm_names,
    ),
    opts=opts,
)
pulumi.export("alertTopicArn", alerts.topic_arn)
pulumi.export("guardDutyDetectorId", guardduty.detector_id)
pulumi.export("cloudTrailArn", trail.trail_arn)
pulumi.export("canaryName", availability.canary.name)
pulumi.export("dashboardName", availability.dashboard.dashboard_name)

pulumi.export("logArchiveBucket", logs.archive_bucket_name)
pulumi.export("loadBalancerDnsName", edge.dns_name)
pulumi.export("appUrl", f"https://{cfg.edge.domain_name}")
pulumi.export("vpcId", network.vpc_id)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("isolatedSubnetIds", network.isolated_subnet_ids)
