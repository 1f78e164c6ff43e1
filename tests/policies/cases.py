"""For every policy: mutations of the rendered stack that the policy must catch.

Each case deep-copies the rendered prod stack (plus the container fixture), changes
what a careless edit would change, and expects at least one violation of the policy.
Mutations change inputs and outputs together, as an update would.
"""

from __future__ import annotations

import json
from typing import Any

from tests.policies.support import Doc, Mutation, add, del_prop, edit_json, find, one, remove, set_prop

LISTENER = "aws:lb/listener:Listener"
LB = "aws:lb/loadBalancer:LoadBalancer"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
DB = "aws:rds/instance:Instance"
BUCKET = "aws:s3/bucket:Bucket"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"


def _set(typ: str, name: str | None, path: Any, value: Any) -> Mutation:
    def m(doc: Doc) -> None:
        for r in find(doc, typ, name) if name else [one(doc, typ)]:
            set_prop(r, path, value)

    return m


def _del(typ: str, name: str | None, path: Any) -> Mutation:
    def m(doc: Doc) -> None:
        for r in find(doc, typ, name) if name else [one(doc, typ)]:
            del_prop(r, path)

    return m


def _remove(typ: str, name: str | None = None) -> Mutation:
    return lambda doc: remove(doc, typ, name)


def _opt(typ: str, name: str, key: str, value: Any) -> Mutation:
    def m(doc: Doc) -> None:
        r = one(doc, typ, name)
        if value is None:
            r.pop(key, None)
        else:
            r[key] = value

    return m


def _sg_id(doc: Doc, name: str) -> str:
    return one(doc, SG, name)["outputs"]["id"]


def _container(fn: Any) -> Mutation:
    """Edit the first container of the reference task definition (the fixture's fx-app)."""

    def edit(defs: list[dict[str, Any]]) -> None:
        fn(defs[0])

    def m(doc: Doc) -> None:
        edit_json(one(doc, TASK, "fx-app"), "containerDefinitions", edit)

    return m


def _statements(bucket: str, fn: Any) -> Mutation:
    def m(doc: Doc) -> None:
        edit_json(one(doc, "aws:s3/bucketPolicy:BucketPolicy", bucket), "policy", lambda p: fn(p["Statement"]))

    return m


def _drop_sid(sid: str) -> Any:
    def fn(statements: list[dict[str, Any]]) -> None:
        before = len(statements)
        statements[:] = [s for s in statements if s.get("Sid") != sid]
        assert len(statements) < before, f"no statement {sid}"

    return fn


def _rules(typ: str, name: str, fn: Any) -> Mutation:
    def m(doc: Doc) -> None:
        r = one(doc, typ, name)
        rules = json.loads(json.dumps(r["inputs"]["rules"]))
        fn(rules)
        set_prop(r, "rules", rules)

    return m


def _monthly_keep(days: int) -> Any:
    def fn(rules: list[dict[str, Any]]) -> None:
        for rule in rules:
            if "1 * ? *" in rule["schedule"] or rule["schedule"].split()[2].isdigit():
                rule["lifecycle"]["deleteAfter"] = days

    return fn


def _add_world_rule(doc: Doc) -> None:
    add(
        doc,
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "ssh-from-anywhere",
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 22,
            "toPort": 22,
            "cidrBlocks": ["0.0.0.0/0"],
            "securityGroupId": _sg_id(doc, "sg-app"),
        },
    )


def _inline_world(doc: Doc) -> None:
    set_prop(one(doc, SG, "sg-db"), "ingress", [{"protocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"]}])


def _db_in_alb_group(doc: Doc) -> None:
    set_prop(one(doc, DB), "vpcSecurityGroupIds", [_sg_id(doc, "sg-alb")])


def _service_in_alb_group(doc: Doc) -> None:
    svc = one(doc, SERVICE, "fx-app")
    set_prop(svc, ("networkConfiguration", "securityGroups"), [_sg_id(doc, "sg-alb")])


def _forward_rule_on_http(doc: Doc) -> None:
    http = one(doc, LISTENER, "edge-http")
    tg = one(doc, "aws:lb/targetGroup:TargetGroup")
    add(
        doc,
        "aws:lb/listenerRule:ListenerRule",
        "plain-http-api",
        {"listenerArn": http["outputs"]["arn"], "priority": 10, "actions": [{"type": "forward", "targetGroupArn": tg["outputs"]["arn"]}]},
    )


def _forward_on_http(doc: Doc) -> None:
    tg = one(doc, "aws:lb/targetGroup:TargetGroup")
    set_prop(one(doc, LISTENER, "edge-http"), "defaultActions", [{"type": "forward", "targetGroupArn": tg["outputs"]["arn"]}])


def _feature_extra_disabled(doc: Doc) -> None:
    feat = one(doc, "aws:guardduty/detectorFeature:DetectorFeature", "guardduty-runtime-monitoring")
    set_prop(feat, "additionalConfigurations", [{"name": "ECS_FARGATE_AGENT_MANAGEMENT", "status": "DISABLED"}])


def _rename_db(doc: Doc) -> None:
    set_prop(one(doc, DB), "identifier", "kakoi-prod-db-renamed")


def _unwatched_lb(doc: Doc) -> None:
    set_prop(one(doc, LB, "edge"), "arnSuffix", "app/kakoi-prod-alb/ffffffffffffffff")


def _alarm_to_unknown_topic(doc: Doc) -> None:
    set_prop(
        one(doc, "aws:cloudwatch/metricAlarm:MetricAlarm", "alarms-db-cpu"),
        "alarmActions",
        ["arn:aws:sns:ap-northeast-1:123456789012:nobody-reads-this"],
    )


def _outside_region(doc: Doc) -> None:
    set_prop(one(doc, BUCKET, "media-dr"), "region", "us-east-1")


def _expiring_archive(doc: Doc) -> None:
    lc = one(doc, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "logs-archive")
    rules = json.loads(json.dumps(lc["inputs"]["rules"]))
    rules[0]["expiration"] = {"days": 400}
    set_prop(lc, "rules", rules)


def _suspend(bucket: str) -> Mutation:
    return _set("aws:s3/bucketVersioning:BucketVersioning", bucket, ("versioningConfiguration", "status"), "Suspended")


def _replication_elsewhere(doc: Doc) -> None:
    rep = one(doc, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    set_prop(rep, "region", "ap-southeast-1")
    set_prop(rep, "kmsKeyId", rep["inputs"]["kmsKeyId"].replace("ap-northeast-3", "ap-southeast-1"))


def _tls12_param(doc: Doc) -> None:
    pg = one(doc, "aws:rds/parameterGroup:ParameterGroup")
    params = [dict(p, value="TLSv1.2") if p["name"] == "ssl_min_protocol_version" else p for p in pg["inputs"]["parameters"]]
    set_prop(pg, "parameters", params)


def _unselect(doc: Doc) -> None:
    sel = one(doc, "aws:backup/selection:Selection")
    set_prop(sel, "selectionTags", [{"key": "backup-plan", "type": "STRINGEQUALS", "value": "something-else"}])


def _drop_copy_actions(rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        rule.pop("copyActions", None)


def _no_waf_rules(doc: Doc) -> None:
    acl = one(doc, "aws:wafv2/webAcl:WebAcl")
    set_prop(acl, "rules", [])


def _tls13_to_12(statements: list[dict[str, Any]]) -> None:
    for s in statements:
        if s.get("Sid") == "DenyTlsBelow13":
            s["Condition"]["NumericLessThan"]["s3:TlsVersion"] = "1.2"


def _provider_region(doc: Doc) -> None:
    set_prop(one(doc, "pulumi:providers:aws", "aws"), "region", "us-west-2")


def _udp_listener_on_the_relay(doc: Doc) -> None:
    nlb = one(doc, LB, "relay")
    tg = one(doc, "aws:lb/targetGroup:TargetGroup", "relay")
    add(
        doc,
        LISTENER,
        "relay-udp",
        {
            "loadBalancerArn": nlb["outputs"]["arn"],
            "port": 3478,
            "protocol": "UDP",
            "defaultActions": [{"type": "forward", "targetGroupArn": tg["outputs"]["arn"]}],
        },
        {"arn": "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener/net/relay-udp/0/0"},
    )


def _relay_tcp_passthrough(doc: Doc) -> None:
    """A TCP listener on 443 that hands TLS (and its version) to the tasks: outside every ELB policy."""
    listener = one(doc, LISTENER, "relay-tls")
    set_prop(listener, "protocol", "TCP")
    del_prop(listener, "sslPolicy")
    del_prop(listener, "certificateArn")


CASES: dict[str, list[tuple[str, Mutation]]] = {
    # --- network
    "kakoi-net-sg-no-public-ingress": [
        ("postgres open to 0.0.0.0/0", _set(INGRESS, "sg-db-from-admin-10.99.0.0-24", "cidrIpv4", "0.0.0.0/0")),
        ("every protocol from ::/0", _set(INGRESS, "sg-alb-443-v6-..-0", "ipProtocol", "-1")),
        ("ssh via SecurityGroupRule", _add_world_rule),
        ("inline rule 0-65535", _inline_world),
    ],
    "kakoi-net-nlb-security-group": [
        ("relay NLB without securityGroups", _del(LB, "relay", "securityGroups")),
        ("relay NLB with an empty list", _set(LB, "relay", "securityGroups", [])),
    ],
    "kakoi-enc-lb-internet-traffic-tls-only": [
        ("UDP listener on the relay NLB", _udp_listener_on_the_relay),
        ("TCP pass-through on 443", _relay_tcp_passthrough),
        ("clear-text TCP target group behind the TLS listener", _set("aws:lb/targetGroup:TargetGroup", "relay", "protocol", "TCP")),
        ("UDP target group", _set("aws:lb/targetGroup:TargetGroup", "relay", "protocol", "UDP")),
    ],
    "kakoi-net-public-sg-only-on-load-balancer": [
        ("database in the internet-facing group", _db_in_alb_group),
        ("service in the internet-facing group", _service_in_alb_group),
        ("world-open group on no load balancer", _set(LB, "edge", "securityGroups", [])),
    ],
    "kakoi-net-default-sg-closed": [
        (
            "default group allows ingress",
            _set(
                "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
                None,
                "ingress",
                [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}],
            ),
        ),
        ("default group not managed", _remove("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")),
    ],
    "kakoi-net-vpc-flow-logs": [("no flow log", _remove("aws:ec2/flowLog:FlowLog"))],
    "kakoi-net-subnet-no-auto-public-ip": [
        ("public IPs on launch", _set("aws:ec2/subnet:Subnet", "network-public-0", "mapPublicIpOnLaunch", True))
    ],
    # --- edge
    "kakoi-enc-alb-tls13-only": [
        ("TLS13-1-2 prefix trap", _set(LISTENER, "edge-https", "sslPolicy", "ELBSecurityPolicy-TLS13-1-2-2021-06")),
        ("omitted sslPolicy = ELBSecurityPolicy-2016-08", _del(LISTENER, "edge-https", "sslPolicy")),
        ("plain TCP listener", _set(LISTENER, "edge-http", "protocol", "TCP")),
        ("relay TLS listener on a TLS 1.2 policy", _set(LISTENER, "relay-tls", "sslPolicy", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09")),
        ("relay TLS listener without sslPolicy", _del(LISTENER, "relay-tls", "sslPolicy")),
    ],
    "kakoi-enc-http-listener-redirects-to-https": [
        ("port 80 forwards", _forward_on_http),
        ("302 instead of 301", _set(LISTENER, "edge-http", ("defaultActions", 0, "redirect", "statusCode"), "HTTP_302")),
        ("redirect keeps HTTP", _del(LISTENER, "edge-http", ("defaultActions", 0, "redirect", "protocol"))),
        ("redirect keeps port 80", _del(LISTENER, "edge-http", ("defaultActions", 0, "redirect", "port"))),
    ],
    "kakoi-enc-alb-https-only": [
        ("no HTTPS listener", _remove(LISTENER, "edge-https")),
        ("forwarding rule on the HTTP listener", _forward_rule_on_http),
    ],
    "kakoi-enc-alb-hsts": [
        ("no HSTS", _del(LISTENER, "edge-https", "routingHttpResponseStrictTransportSecurityHeaderValue")),
        ("short max-age", _set(LISTENER, "edge-https", "routingHttpResponseStrictTransportSecurityHeaderValue", "max-age=300")),
    ],
    "kakoi-cj-alb-x-frame-options": [
        ("no X-Frame-Options", _del(LISTENER, "edge-https", "routingHttpResponseXFrameOptionsHeaderValue")),
        ("ALLOW-FROM", _set(LISTENER, "edge-https", "routingHttpResponseXFrameOptionsHeaderValue", "ALLOW-FROM https://evil.example")),
    ],
    "kakoi-log-alb-access-logs": [
        ("disabled", _set(LB, "edge", ("accessLogs", "enabled"), False)),
        ("omitted", _del(LB, "edge", "accessLogs")),
        ("relay NLB without access logs", _set(LB, "relay", ("accessLogs", "enabled"), False)),
    ],
    "kakoi-elb-drop-invalid-headers": [("off", _set(LB, "edge", "dropInvalidHeaderFields", False))],
    "kakoi-elb-deletion-protection": [("off", _del(LB, "edge", "enableDeletionProtection"))],
    "kakoi-elb-desync-mitigation": [("monitor", _set(LB, "edge", "desyncMitigationMode", "monitor"))],
    "kakoi-elb-multi-az": [("one subnet", lambda d: set_prop(one(d, LB), "subnets", one(d, LB)["inputs"]["subnets"][:1]))],
    "kakoi-elb-waf-associated": [("no association", _remove("aws:wafv2/webAclAssociation:WebAclAssociation"))],
    "kakoi-log-waf-logging": [("no logging", _remove("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"))],
    "kakoi-waf-rules-and-metrics": [
        ("no rules", _no_waf_rules),
        ("no metrics", _set("aws:wafv2/webAcl:WebAcl", None, ("visibilityConfig", "cloudwatchMetricsEnabled"), False)),
    ],
    "kakoi-acm-strong-key": [("RSA 1024", _set("aws:acm/certificate:Certificate", None, "keyAlgorithm", "RSA_1024"))],
    # --- storage
    "kakoi-s3-public-access-block": [
        ("policy not blocked", _set("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "media", "blockPublicPolicy", False))
    ],
    "kakoi-s3-encryption-at-rest": [
        ("no rule", _set("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "media", "rules", [])),
    ],
    "kakoi-s3-tls-only": [("no SecureTransport deny", _statements("media", _drop_sid("DenyInsecureTransport")))],
    "kakoi-s3-tls13-minimum": [
        ("no TLS version deny", _statements("media", _drop_sid("DenyTlsBelow13"))),
        ("TLS 1.2 allowed", _statements("media-dr", _tls13_to_12)),
    ],
    "kakoi-s3-bucket-baseline": [
        ("no public access block", _remove("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "media")),
        (
            "no encryption",
            _remove("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "availability-artifacts"),
        ),
        ("no bucket policy", _remove("aws:s3/bucketPolicy:BucketPolicy", "availability-artifacts")),
    ],
    "kakoi-s3-versioning": [("no versioning", _remove("aws:s3/bucketVersioning:BucketVersioning", "media"))],
    "kakoi-s3-access-logging": [("no access logs", _remove("aws:s3/bucketLogging:BucketLogging", "media"))],
    "kakoi-s3-no-acls": [
        ("ACLs on", _set("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "media", ("rule", "objectOwnership"), "ObjectWriter"))
    ],
    "kakoi-s3-lifecycle": [("no lifecycle", _remove("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "media"))],
    "kakoi-s3-kms-encryption": [
        (
            "SSE-S3 on media",
            _set(
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "media",
                "rules",
                [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
            ),
        )
    ],
    "kakoi-log-archive-keeps-logs": [
        ("archive expires", _expiring_archive),
        ("no Object Lock on the archive", _remove("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "logs-archive")),
        ("archive not protected", _opt(BUCKET, "logs-archive", "protect", None)),
        ("access log bucket versioning suspended", _suspend("logs-access-logs")),
    ],
    # --- database
    "kakoi-net-rds-not-public": [("public", _set(DB, None, "publiclyAccessible", True))],
    "kakoi-bak-rds-encrypted": [
        ("unencrypted", _set(DB, None, "storageEncrypted", False)),
        ("omitted", _del(DB, None, "storageEncrypted")),
    ],
    "kakoi-bak-rds-backup-retention": [
        ("3 days", _set(DB, None, "backupRetentionPeriod", 3)),
        ("omitted = 1 day", _del(DB, None, "backupRetentionPeriod")),
    ],
    "kakoi-mnt-rds-maintenance-window": [
        ("Sunday", _set(DB, None, "maintenanceWindow", "sun:12:00-sun:12:30")),
        ("omitted = random", _del(DB, None, "maintenanceWindow")),
    ],
    "kakoi-rds-auto-minor-upgrade": [("off", _set(DB, None, "autoMinorVersionUpgrade", False))],
    "kakoi-rds-multi-az": [("single AZ", _set(DB, None, "multiAz", False))],
    "kakoi-rds-deletion-protection": [("off", _del(DB, None, "deletionProtection"))],
    "kakoi-rds-copy-tags-to-snapshot": [("off", _set(DB, None, "copyTagsToSnapshot", False))],
    "kakoi-rds-iam-auth": [("off", _del(DB, None, "iamDatabaseAuthenticationEnabled"))],
    "kakoi-rds-enhanced-monitoring": [("off", _set(DB, None, "monitoringInterval", 0))],
    "kakoi-rds-log-exports": [("none", _set(DB, None, "enabledCloudwatchLogsExports", []))],
    "kakoi-enc-rds-tls13-only": [
        ("TLS 1.2 allowed", _tls12_param),
        ("default parameter group", _del(DB, None, "parameterGroupName")),
    ],
    "kakoi-bcp-rds-cross-region-backups": [
        ("no replication", _remove("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")),
        ("replicated outside the DR region", _replication_elsewhere),
        (
            "encrypted backups replicated without a key",
            _del("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication", None, "kmsKeyId"),
        ),
    ],
    "kakoi-bak-rds-backup-plan": [
        ("not selected", _unselect),
        ("no selection", _remove("aws:backup/selection:Selection")),
        ("monthly kept 30 days", _rules("aws:backup/plan:Plan", "backup-plan", _monthly_keep(30))),
    ],
    "kakoi-bcp-backup-copies-to-dr": [("no copy actions", _rules("aws:backup/plan:Plan", "backup-plan", _drop_copy_actions))],
    "kakoi-bak-vault-cmk": [("AWS managed key", _del("aws:backup/vault:Vault", "backup-vault", "kmsKeyArn"))],
    # --- detection
    "kakoi-av-guardduty-enabled": [
        (
            "no detector",
            lambda d: (remove(d, "aws:guardduty/detector:Detector"), remove(d, "aws:guardduty/detectorFeature:DetectorFeature")),
        ),
        ("disabled detector", _set("aws:guardduty/detector:Detector", None, "enable", False)),
    ],
    "kakoi-av-guardduty-features": [
        ("no S3 protection", _remove("aws:guardduty/detectorFeature:DetectorFeature", "guardduty-s3-data-events")),
        (
            "RDS protection disabled",
            _set("aws:guardduty/detectorFeature:DetectorFeature", "guardduty-rds-login-events", "status", "DISABLED"),
        ),
        ("Fargate agent not managed", _feature_extra_disabled),
    ],
    "kakoi-av-media-malware-scan": [("no malware plan", _remove("aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan"))],
    "kakoi-log-cloudtrail": [
        ("single region", _set("aws:cloudtrail/trail:Trail", None, "isMultiRegionTrail", False)),
        ("no log file validation", _del("aws:cloudtrail/trail:Trail", None, "enableLogFileValidation")),
        ("no trail", _remove("aws:cloudtrail/trail:Trail")),
    ],
    "kakoi-log-cloudtrail-kms": [("no key", _del("aws:cloudtrail/trail:Trail", None, "kmsKeyId"))],
    "kakoi-mon-cloudtrail-cloudwatch": [("no log group", _del("aws:cloudtrail/trail:Trail", None, "cloudWatchLogsGroupArn"))],
    # --- monitoring
    "kakoi-mon-alarm-actions": [
        ("no actions", _set("aws:cloudwatch/metricAlarm:MetricAlarm", "alarms-db-cpu", "alarmActions", [])),
        ("actions disabled", _set("aws:cloudwatch/compositeAlarm:CompositeAlarm", None, "actionsEnabled", False)),
    ],
    "kakoi-mon-sns-encrypted": [("unencrypted", _del("aws:sns/topic:Topic", None, "kmsMasterKeyId"))],
    "kakoi-mon-alarms-notify-people": [
        ("nobody subscribed", _remove("aws:sns/topicSubscription:TopicSubscription")),
        ("unencrypted topic", _del("aws:sns/topic:Topic", None, "kmsMasterKeyId")),
        ("topic outside the stack", _alarm_to_unknown_topic),
    ],
    "kakoi-mon-alarms-cover-services": [
        ("database without alarms", _rename_db),
        ("load balancer without alarms", _unwatched_lb),
        ("relay NLB without alarms", _set(LB, "relay", "arnSuffix", "net/kakoi-prod-relay/ffffffffffffffff")),
        ("service without alarms", _remove("aws:cloudwatch/metricAlarm:MetricAlarm", "fx-app-cpu")),
    ],
    "kakoi-log-group-retention": [("30 days", _set("aws:cloudwatch/logGroup:LogGroup", "app-logs", "retentionInDays", 30))],
    "kakoi-log-group-kms": [("no key", _del("aws:cloudwatch/logGroup:LogGroup", "app-logs", "kmsKeyId"))],
    # --- containers
    "kakoi-net-ecs-no-public-ip": [
        ("public IP", _set(SERVICE, "fx-app", ("networkConfiguration", "assignPublicIp"), True)),
        ("relay service with a public IP", _set(SERVICE, "relay-service", ("networkConfiguration", "assignPublicIp"), True)),
    ],
    "kakoi-ecs-not-privileged": [
        ("privileged", _container(lambda c: c.update(privileged=True))),
        ("host pid", _set(TASK, "fx-app", "pidMode", "host")),
    ],
    "kakoi-ecs-readonly-root-filesystem": [("writable root", _container(lambda c: c.pop("readonlyRootFilesystem")))],
    "kakoi-ecs-no-secrets-in-environment": [
        ("AWS key in env", _container(lambda c: c["environment"].append({"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI"}))),
        ("password in env", _container(lambda c: c["environment"].append({"name": "DATABASE_PASSWORD", "value": "hunter2"}))),
    ],
    "kakoi-mon-ecs-logging": [("no log driver", _container(lambda c: c.pop("logConfiguration")))],
    "kakoi-mon-ecs-container-insights": [
        ("off", _set("aws:ecs/cluster:Cluster", "fx", "settings", [{"name": "containerInsights", "value": "disabled"}]))
    ],
    "kakoi-rec-ecs-rollback": [
        ("no rollback", _set(SERVICE, "fx-app", ("deploymentCircuitBreaker", "rollback"), False)),
        ("no circuit breaker", _del(SERVICE, "fx-app", "deploymentCircuitBreaker")),
    ],
    "kakoi-ecs-exec-disabled": [("ECS Exec on", _set(SERVICE, "fx-app", "enableExecuteCommand", True))],
    "kakoi-ecr-scan-on-push": [("no scan", _del("aws:ecr/repository:Repository", "fx-app", "imageScanningConfiguration"))],
    "kakoi-ecr-immutable-tags": [("mutable", _del("aws:ecr/repository:Repository", "fx-app", "imageTagMutability"))],
    "kakoi-ecr-lifecycle-policy": [("no lifecycle policy", _remove("aws:ecr/lifecyclePolicy:LifecyclePolicy", "fx-app"))],
    # --- governance
    "kakoi-gov-allowed-regions": [("bucket in Virginia", _outside_region), ("provider in Oregon", _provider_region)],
    "kakoi-rec-stateful-protected": [
        ("database unprotected", _opt(DB, "db", "protect", None)),
        ("media bucket unprotected", _opt(BUCKET, "media", "protect", False)),
    ],
    "kakoi-kms-key-rotation": [("no rotation", _set("aws:kms/key:Key", "keys-logs", "enableKeyRotation", False))],
}
