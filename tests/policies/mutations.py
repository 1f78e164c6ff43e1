"""The registry of weakenings: one mutation of the prod render per policy that `make check` must fail.

Every policy of the pack has exactly one entry here (tests/policies/test_mutations.py
fails when a policy has none, or an entry names no policy). Each mutation edits a deep
copy of the offline render of prod, with nothing added to it (no fixture), the way a
careless change to the program would: switch a hardening off, remove a resource, widen
a rule. The test writes the mutated export to a file and runs the offline check on it
exactly as `make check FILE=<file>` does (tools.check with policies/config.prod.json,
the whole pack): the exit code must be 1, and the policy must be among the mandatory
failures. So no hardening the default program has can be switched off in a pull request
with only an advisory line.

A branch that adds a policy adds its mutation here (CONTRACTS.md, "Policies and their
proofs"). The finer-grained cases per policy stay in tests/policies/cases.py.
"""

from __future__ import annotations

import json
from typing import Any

from tests.policies.cases import (
    DB,
    INGRESS,
    LB,
    LISTENER,
    SERVICE,
    TASK,
    _del,
    _drop_copy_actions,
    _drop_sid,
    _expiring_archive,
    _forward_on_http,
    _no_waf_rules,
    _opt,
    _outside_region,
    _relay_tcp_passthrough,
    _remove,
    _rename_db,
    _rules,
    _set,
    _statements,
    _tls12_param,
    _unselect,
)
from tests.policies.support import Doc, Mutation, edit_json, one, remove, set_prop

APP_TASK = "app-task"
APP_SERVICE = "app-service"
APP_REPO = "registry-app"


def _web(fn: Any) -> Mutation:
    """Edit the web container of the app's task definition."""

    def edit(defs: list[dict[str, Any]]) -> None:
        fn(next(c for c in defs if c.get("name") == "web"))

    return lambda doc: edit_json(one(doc, TASK, APP_TASK), "containerDefinitions", edit)


def _no_detector(doc: Doc) -> None:
    remove(doc, "aws:guardduty/detector:Detector")
    remove(doc, "aws:guardduty/detectorFeature:DetectorFeature")


def _one_subnet(doc: Doc) -> None:
    lb = one(doc, LB, "edge")
    set_prop(lb, "subnets", lb["inputs"]["subnets"][:1])


MUTATIONS: dict[str, tuple[str, Mutation]] = {
    # --- network
    "kakoi-net-sg-no-public-ingress": (
        "PostgreSQL open to 0.0.0.0/0",
        _set(INGRESS, "sg-db-from-admin-10.99.0.0-24", "cidrIpv4", "0.0.0.0/0"),
    ),
    "kakoi-net-public-sg-only-on-load-balancer": (
        "the database in the internet-facing security group",
        lambda d: set_prop(one(d, DB), "vpcSecurityGroupIds", [one(d, "aws:ec2/securityGroup:SecurityGroup", "sg-alb")["outputs"]["id"]]),
    ),
    "kakoi-net-default-sg-closed": (
        "the default security group no longer managed",
        _remove("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"),
    ),
    "kakoi-net-vpc-flow-logs": ("VPC flow log removed", _remove("aws:ec2/flowLog:FlowLog")),
    "kakoi-net-nlb-security-group": ("relay load balancer without security groups", _del(LB, "relay", "securityGroups")),
    "kakoi-enc-lb-internet-traffic-tls-only": ("relay load balancer passes TCP through on 443 (no TLS)", _relay_tcp_passthrough),
    "kakoi-net-subnet-no-auto-public-ip": (
        "public subnet hands out public IPs",
        _set("aws:ec2/subnet:Subnet", "network-public-0", "mapPublicIpOnLaunch", True),
    ),
    # --- edge
    "kakoi-enc-alb-tls13-only": (
        "HTTPS listener on a TLS 1.2 policy",
        _set(LISTENER, "edge-https", "sslPolicy", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
    ),
    "kakoi-enc-http-listener-redirects-to-https": ("port 80 forwards to the app", _forward_on_http),
    "kakoi-enc-alb-https-only": ("HTTPS listener removed", _remove(LISTENER, "edge-https")),
    "kakoi-enc-alb-hsts": ("HSTS header removed", _del(LISTENER, "edge-https", "routingHttpResponseStrictTransportSecurityHeaderValue")),
    "kakoi-cj-alb-x-frame-options": (
        "X-Frame-Options removed",
        _del(LISTENER, "edge-https", "routingHttpResponseXFrameOptionsHeaderValue"),
    ),
    "kakoi-log-alb-access-logs": ("access logs off", _set(LB, "edge", ("accessLogs", "enabled"), False)),
    "kakoi-elb-drop-invalid-headers": ("dropInvalidHeaderFields off", _set(LB, "edge", "dropInvalidHeaderFields", False)),
    "kakoi-elb-deletion-protection": ("deletion protection off", _set(LB, "edge", "enableDeletionProtection", False)),
    "kakoi-elb-desync-mitigation": ("desync mitigation in monitor mode", _set(LB, "edge", "desyncMitigationMode", "monitor")),
    "kakoi-elb-multi-az": ("load balancer in one subnet", _one_subnet),
    "kakoi-elb-waf-associated": ("WAF association removed", _remove("aws:wafv2/webAclAssociation:WebAclAssociation")),
    "kakoi-log-waf-logging": ("WAF logging removed", _remove("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")),
    "kakoi-waf-rules-and-metrics": ("web ACL without rules", _no_waf_rules),
    "kakoi-acm-strong-key": ("certificate with an RSA 1024 key", _set("aws:acm/certificate:Certificate", None, "keyAlgorithm", "RSA_1024")),
    # --- storage
    "kakoi-s3-public-access-block": (
        "media bucket accepts public policies",
        _set("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "media", "blockPublicPolicy", False),
    ),
    "kakoi-s3-encryption-at-rest": (
        "media bucket encryption rule removed",
        _set("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "media", "rules", []),
    ),
    "kakoi-s3-tls-only": ("media bucket policy allows plain HTTP", _statements("media", _drop_sid("DenyInsecureTransport"))),
    "kakoi-s3-tls13-minimum": ("media bucket policy allows TLS 1.2", _statements("media", _drop_sid("DenyTlsBelow13"))),
    "kakoi-s3-bucket-baseline": ("canary bucket policy removed", _remove("aws:s3/bucketPolicy:BucketPolicy", "availability-artifacts")),
    "kakoi-s3-versioning": ("media bucket versioning removed", _remove("aws:s3/bucketVersioning:BucketVersioning", "media")),
    "kakoi-s3-access-logging": ("media bucket access logging removed", _remove("aws:s3/bucketLogging:BucketLogging", "media")),
    "kakoi-s3-no-acls": (
        "media bucket accepts ACLs",
        _set("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "media", ("rule", "objectOwnership"), "ObjectWriter"),
    ),
    "kakoi-s3-lifecycle": (
        "media bucket lifecycle removed",
        _remove("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "media"),
    ),
    "kakoi-s3-kms-encryption": (
        "media bucket on SSE-S3 instead of its KMS key",
        _set(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "media",
            "rules",
            [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
        ),
    ),
    "kakoi-log-archive-keeps-logs": ("archived logs expire after 400 days", _expiring_archive),
    # --- database
    "kakoi-net-rds-not-public": ("database publicly accessible", _set(DB, None, "publiclyAccessible", True)),
    "kakoi-bak-rds-encrypted": ("database storage unencrypted", _set(DB, None, "storageEncrypted", False)),
    "kakoi-bak-rds-backup-retention": ("3 days of backups", _set(DB, None, "backupRetentionPeriod", 3)),
    "kakoi-mnt-rds-maintenance-window": ("maintenance on Sunday", _set(DB, None, "maintenanceWindow", "sun:12:00-sun:12:30")),
    "kakoi-rds-auto-minor-upgrade": ("minor upgrades off", _set(DB, None, "autoMinorVersionUpgrade", False)),
    "kakoi-rds-multi-az": ("single-AZ database", _set(DB, None, "multiAz", False)),
    "kakoi-rds-deletion-protection": ("database deletion protection off", _set(DB, None, "deletionProtection", False)),
    "kakoi-rds-copy-tags-to-snapshot": ("snapshots without tags", _set(DB, None, "copyTagsToSnapshot", False)),
    "kakoi-rds-iam-auth": ("IAM database authentication off", _set(DB, None, "iamDatabaseAuthenticationEnabled", False)),
    "kakoi-rds-enhanced-monitoring": ("enhanced monitoring off", _set(DB, None, "monitoringInterval", 0)),
    "kakoi-rds-log-exports": ("no log exports", _set(DB, None, "enabledCloudwatchLogsExports", [])),
    "kakoi-enc-rds-tls13-only": ("database accepts TLS 1.2", _tls12_param),
    "kakoi-bcp-rds-cross-region-backups": (
        "backup replication to the DR region removed",
        _remove("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"),
    ),
    "kakoi-bak-rds-backup-plan": ("database no longer selected by the backup plan", _unselect),
    "kakoi-bcp-backup-copies-to-dr": (
        "backup plan copies nothing to the DR vault",
        _rules("aws:backup/plan:Plan", "backup-plan", _drop_copy_actions),
    ),
    "kakoi-bak-vault-cmk": ("backup vault on the AWS managed key", _del("aws:backup/vault:Vault", "backup-vault", "kmsKeyArn")),
    # --- detection
    "kakoi-av-guardduty-enabled": ("GuardDuty detector removed", _no_detector),
    "kakoi-av-guardduty-features": (
        "RDS login protection disabled",
        _set("aws:guardduty/detectorFeature:DetectorFeature", "guardduty-rds-login-events", "status", "DISABLED"),
    ),
    "kakoi-av-media-malware-scan": (
        "malware protection plan removed",
        _remove("aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan"),
    ),
    "kakoi-log-cloudtrail": ("single-region trail", _set("aws:cloudtrail/trail:Trail", None, "isMultiRegionTrail", False)),
    "kakoi-log-cloudtrail-kms": ("trail without its KMS key", _del("aws:cloudtrail/trail:Trail", None, "kmsKeyId")),
    "kakoi-mon-cloudtrail-cloudwatch": (
        "trail not delivered to CloudWatch Logs",
        _del("aws:cloudtrail/trail:Trail", None, "cloudWatchLogsGroupArn"),
    ),
    # --- monitoring
    "kakoi-mon-alarm-actions": (
        "database CPU alarm notifies nobody",
        _set("aws:cloudwatch/metricAlarm:MetricAlarm", "alarms-db-cpu", "alarmActions", []),
    ),
    "kakoi-mon-sns-encrypted": ("alert topic unencrypted", _del("aws:sns/topic:Topic", None, "kmsMasterKeyId")),
    "kakoi-mon-alarms-notify-people": ("nobody subscribed to the alert topic", _remove("aws:sns/topicSubscription:TopicSubscription")),
    "kakoi-mon-alarms-cover-services": ("database without alarms (identifier changed)", _rename_db),
    "kakoi-log-group-retention": ("app logs kept 30 days", _set("aws:cloudwatch/logGroup:LogGroup", "app-logs", "retentionInDays", 30)),
    "kakoi-log-group-kms": ("app logs unencrypted", _del("aws:cloudwatch/logGroup:LogGroup", "app-logs", "kmsKeyId")),
    # --- containers
    "kakoi-net-ecs-no-public-ip": (
        "app tasks get public IPs",
        _set(SERVICE, APP_SERVICE, ("networkConfiguration", "assignPublicIp"), True),
    ),
    "kakoi-ecs-not-privileged": ("web container privileged", _web(lambda c: c.update(privileged=True))),
    "kakoi-ecs-readonly-root-filesystem": (
        "web container with a writable root filesystem",
        _web(lambda c: c.pop("readonlyRootFilesystem")),
    ),
    "kakoi-ecs-no-secrets-in-environment": (
        "database password in a plain environment variable",
        _web(lambda c: c.setdefault("environment", []).append({"name": "DATABASE_PASSWORD", "value": "hunter2"})),
    ),
    "kakoi-mon-ecs-logging": ("web container without a log driver", _web(lambda c: c.pop("logConfiguration"))),
    "kakoi-mon-ecs-container-insights": (
        "Container Insights off",
        _set("aws:ecs/cluster:Cluster", "app-cluster", "settings", [{"name": "containerInsights", "value": "disabled"}]),
    ),
    "kakoi-rec-ecs-rollback": (
        "deployments no longer roll back",
        _set(SERVICE, APP_SERVICE, ("deploymentCircuitBreaker", "rollback"), False),
    ),
    "kakoi-ecs-exec-disabled": ("ECS Exec on (kakoi:ecsExec true)", _set(SERVICE, APP_SERVICE, "enableExecuteCommand", True)),
    "kakoi-ecr-scan-on-push": ("images not scanned on push", _del("aws:ecr/repository:Repository", APP_REPO, "imageScanningConfiguration")),
    "kakoi-ecr-immutable-tags": ("mutable image tags", _set("aws:ecr/repository:Repository", APP_REPO, "imageTagMutability", "MUTABLE")),
    "kakoi-ecr-lifecycle-policy": ("image lifecycle policy removed", _remove("aws:ecr/lifecyclePolicy:LifecyclePolicy", APP_REPO)),
    # --- governance
    "kakoi-gov-allowed-regions": ("DR media bucket in us-east-1", _outside_region),
    "kakoi-rec-stateful-protected": ("database no longer protected", _opt(DB, "db", "protect", None)),
    "kakoi-kms-key-rotation": ("logs key rotation off", _set("aws:kms/key:Key", "keys-logs", "enableKeyRotation", False)),
}


def mutated(doc: Doc, name: str) -> Doc:
    """A deep copy of `doc` with the registered weakening for policy `name` applied."""
    copy = json.loads(json.dumps(doc))
    MUTATIONS[name][1](copy)
    return copy


__all__ = ["MUTATIONS", "mutated"]
