"""The TURN relay tier (ENC-1, NET-1, AVL-1, MON-1): live media reaches the platform only as TLS 1.3 on 443."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import pytest

import stackconfig
from components import app_service
from components import edge as edge_module
from components.contract import contract
from stackconfig.edge import TLS13_ONLY_POLICIES
from stackconfig.reader import ConfigError
from tests.infra import deployview as dv
from tests.infra import netview as nv
from tools.render import RenderError, render
from tools.stackfiles import stack_values
from tools.stackview import Res, StackView

LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
POLICY = "aws:appautoscaling/policy:Policy"
DOMAIN = {"prod": "turn.kakoi.example.com", "staging": "turn.staging.kakoi.example.com"}
ZONE = {"prod": "Z0123456789KAKOIPROD", "staging": "Z0123456789KAKOISTG"}


def _stack(view: StackView) -> str:
    return nv.stack_name(view)


def _nlb(view: StackView) -> Res:
    return view.one(LB, "relay")


def _tg(view: StackView) -> Res:
    return view.one(TG, "relay")


def _relay_container(view: StackView) -> dict[str, Any]:
    [container] = dv.task_def(view, "relay").json_input("containerDefinitions")
    return container


# ---- ENC-1: TLS 1.3 on 443, TLS to the tasks, nothing else ---------------------------------------


def test_enc1_relay_listener_is_tls_on_443_with_the_tls13_only_policy_and_its_own_certificate(each_stack: StackView) -> None:
    listener = each_stack.one(LISTENER, "relay-tls")
    assert listener.inputs["loadBalancerArn"] == _nlb(each_stack).outputs["arn"]
    assert (listener.inputs["protocol"], listener.inputs["port"]) == ("TLS", 443)
    assert listener.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09" in TLS13_ONLY_POLICIES
    cert = each_stack.one("aws:acm/certificate:Certificate", "relay-cert")
    validation = each_stack.one("aws:acm/certificateValidation:CertificateValidation", "relay-cert")
    assert listener.inputs["certificateArn"] == validation.outputs["certificateArn"] == cert.outputs["arn"]
    [action] = listener.inputs["defaultActions"]
    assert action == {"type": "forward", "targetGroupArn": _tg(each_stack).outputs["arn"]}


def test_enc1_relay_certificate_is_dns_validated_for_its_own_name_with_alias_records(each_stack: StackView) -> None:
    stack = _stack(each_stack)
    cert = each_stack.one("aws:acm/certificate:Certificate", "relay-cert")
    assert cert.inputs["domainName"] == DOMAIN[stack]
    assert cert.inputs["validationMethod"] == "DNS"
    assert each_stack.one("aws:route53/record:Record", "relay-cert-validation").inputs["zoneId"] == ZONE[stack]
    nlb = _nlb(each_stack)
    aliases = [r for r in each_stack.of_type("aws:route53/record:Record") if r.name.startswith("relay-alias-")]
    assert sorted(r.inputs["type"] for r in aliases) == ["A", "AAAA"]
    for r in aliases:
        assert (r.inputs["name"], r.inputs["zoneId"]) == (DOMAIN[stack], ZONE[stack])
        [target] = r.inputs["aliases"]
        assert target == {"name": f"dualstack.{nlb.outputs['dnsName']}", "zoneId": nlb.outputs["zoneId"], "evaluateTargetHealth": True}


def test_enc1_relay_target_group_re_encrypts_to_the_tasks_tls_listener(each_stack: StackView) -> None:
    """ENC-1: TLS to the targets (the image's TLS 1.3 listener on 5349), never plain TCP inside the VPC;
    health checked by a TCP connect (NLBs have no TLS health check); client IP preservation off."""
    tg = _tg(each_stack)
    assert (tg.inputs["protocol"], tg.inputs["port"], tg.inputs["targetType"]) == ("TLS", 5349, "ip")
    assert tg.inputs["healthCheck"] == {
        "enabled": True,
        "protocol": "TCP",
        "port": "traffic-port",
        "interval": 10,
        "timeout": 5,
        "healthyThreshold": 2,
        "unhealthyThreshold": 2,
    }
    assert tg.inputs["preserveClientIp"] == "false"
    assert tg.inputs["connectionTermination"] is True
    assert int(tg.inputs["deregistrationDelay"]) == 300


def test_enc1_no_load_balancer_carries_udp_or_plain_tcp(each_stack: StackView) -> None:
    """ENC-1: the platform's only listeners are the ALB's HTTPS (and its port-80 redirect) and the relay's TLS."""
    listeners = sorted((r.name, r.inputs["protocol"], r.inputs["port"]) for r in each_stack.of_type(LISTENER))
    assert listeners == [("edge-http", "HTTP", 80), ("edge-https", "HTTPS", 443), ("relay-tls", "TLS", 443)]
    assert sorted((r.name, r.inputs["protocol"]) for r in each_stack.of_type(TG)) == [("edge", "HTTP"), ("relay", "TLS")]


@pytest.mark.parametrize("policy", TLS13_ONLY_POLICIES)
def test_enc1_the_relay_listener_follows_kakoi_tls_policy(policy: str) -> None:
    view = nv.render_with("staging", {"kakoi:tlsPolicy": policy})
    assert view.one(LISTENER, "relay-tls").inputs["sslPolicy"] == policy


# ---- NET-1: who reaches the relay ---------------------------------------------------------------


def test_net1_relay_nlb_is_internet_facing_dualstack_in_its_own_security_group(each_stack: StackView) -> None:
    nlb = _nlb(each_stack)
    assert nlb.inputs["loadBalancerType"] == "network"
    assert nlb.inputs["internal"] is False
    assert nlb.inputs["ipAddressType"] == "dualstack"
    assert nlb.inputs["securityGroups"] == [nv.rid(nv.sg(each_stack, "nlb"))]
    assert nlb.inputs["enforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "on"
    assert nlb.inputs["enableCrossZoneLoadBalancing"] is True
    assert nlb.outputs["arnSuffix"].startswith("net/kakoi-")
    public = {nv.rid(s) for s in nv.subnets(each_stack, "public")}
    assert set(nlb.inputs["subnets"]) == public and len(public) == 3


def test_net1_relay_nlb_group_admits_exactly_the_ingress_cidrs_on_443(each_stack: StackView) -> None:
    stack = _stack(each_stack)
    configured = nv.config(stack, "ingressCidrs")
    rules = nv.ingress(each_stack, nv.sg(each_stack, "nlb"))
    assert sorted((nv.ports(r), nv.peer(r)[1]) for r in rules) == sorted((("tcp", 443, 443), c) for c in configured)
    [out] = nv.egress(each_stack, nv.sg(each_stack, "nlb"))
    assert (nv.ports(out), nv.peer(out)) == (("tcp", 5349, 5349), ("sg", nv.rid(nv.sg(each_stack, "relay"))))


def test_net1_relay_tasks_take_tls_only_from_the_nlb_and_udp_only_from_each_other(each_stack: StackView) -> None:
    relay = nv.rid(nv.sg(each_stack, "relay"))
    nlb = nv.rid(nv.sg(each_stack, "nlb"))
    group = nv.sg(each_stack, "relay")
    assert sorted((nv.ports(r), nv.peer(r)) for r in nv.ingress(each_stack, group)) == sorted(
        [(("tcp", 5349, 5349), ("sg", nlb)), (("udp", 49152, 49407), ("sg", relay))]
    )
    egress = sorted((nv.ports(r), nv.peer(r)[0], nv.peer(r)[1]) for r in nv.egress(each_stack, group))
    endpoints = nv.rid(nv.sg(each_stack, "endpoints"))
    vpc_cidr = nv.config(_stack(each_stack), "vpcCidr")
    assert ("udp", 49152, 49407) in [e[0] for e in egress]
    for ports, kind, value in egress:
        if ports[0] == "udp":
            assert (kind, value) == ("sg", relay)
        else:
            assert ports == ("tcp", 443, 443)
            assert (kind, value) in {("sg", endpoints), ("cidr4", vpc_cidr)} or kind == "pl"


def test_net1_relay_service_runs_in_the_private_subnets_without_public_ip(each_stack: StackView) -> None:
    service = each_stack.one(dv.SERVICE, "relay-service")
    net = service.inputs["networkConfiguration"]
    assert net["assignPublicIp"] is False
    assert set(net["subnets"]) == {nv.rid(s) for s in nv.subnets(each_stack, "private")}
    assert net["securityGroups"] == [nv.rid(nv.sg(each_stack, "relay"))]
    assert service.inputs["loadBalancers"] == [
        {"targetGroupArn": _tg(each_stack).outputs["arn"], "containerName": "relay", "containerPort": 5349}
    ]


def test_net1_relayed_addresses_may_reach_only_the_relay_subnets(each_stack: StackView) -> None:
    """NET-1: TURN_ALLOWED_PEER_CIDRS is exactly the private (relay) subnets; everything else private stays denied
    by the image's configuration, and the security group narrows UDP to relay tasks."""
    env = dv.env(_relay_container(each_stack))
    private = sorted(s.inputs["cidrBlock"] for s in nv.subnets(each_stack, "private"))
    assert sorted(env["TURN_ALLOWED_PEER_CIDRS"].split(",")) == private
    vpc = ipaddress.ip_network(nv.config(_stack(each_stack), "vpcCidr"))
    assert all(ipaddress.ip_network(c).subnet_of(vpc) for c in private)  # type: ignore[arg-type]


# ---- the relay's tasks --------------------------------------------------------------------------


def test_cmd1_relay_container_is_hardened_like_the_app(each_stack: StackView) -> None:
    """CMD-1 / ECS.4, ECS.5: numeric non-root user 10001, read-only root, /run/kakoi-turn the only writable path."""
    td = dv.task_def(each_stack, "relay")
    assert td.inputs["requiresCompatibilities"] == ["FARGATE"]
    assert td.inputs["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert td.inputs["volumes"] == [{"name": "relay-run"}]
    assert "taskRoleArn" not in td.inputs, "coturn calls no AWS API: no task role"
    c = _relay_container(each_stack)
    assert c["user"] == contract.APP_USER
    assert c["readonlyRootFilesystem"] is True and c["privileged"] is False
    assert c["linuxParameters"]["capabilities"] == {"add": [], "drop": ["ALL"]}
    assert c["mountPoints"] == [{"sourceVolume": "relay-run", "containerPath": "/run/kakoi-turn", "readOnly": False}]
    assert c["portMappings"] == [{"name": "turns", "containerPort": 5349, "protocol": "tcp"}]
    group = each_stack.one("aws:cloudwatch/logGroup:LogGroup", "relay-logs")
    assert group.inputs["kmsKeyId"] == each_stack.one("aws:kms/key:Key", "keys-logs").outputs["arn"]
    assert c["logConfiguration"]["options"]["awslogs-group"] == group.inputs["name"] == f"/ecs/kakoi-{_stack(each_stack)}/relay"


def test_cmd1_relay_task_runs_the_images_user_and_port() -> None:
    """CMD-1: the task's user and port are the image's (relay/Dockerfile `USER`, `EXPOSE`)."""
    dockerfile = (dv.Path(dv.ROOT) / "relay" / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^\s*USER\s+(\S+)\s*$", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] == app_service.APP_USER
    assert re.search(r"^\s*EXPOSE\s+5349/tcp\s*$", dockerfile, flags=re.MULTILINE)
    assert stackconfig.relay.LISTEN_PORT == 5349


def test_net1_relay_configuration_relays_udp_only() -> None:
    """NET-1: the relayed addresses may reach the private subnets (TURN_ALLOWED_PEER_CIDRS), so the committed
    configuration must keep TCP relaying (RFC 6062) off and listen on TLS only (docs/relay.md)."""
    conf = (dv.Path(dv.ROOT) / "relay" / "turnserver.conf").read_text(encoding="utf-8")
    lines = {line.strip() for line in conf.splitlines() if line.strip() and not line.lstrip().startswith("#")}
    assert {"no-tcp-relay", "no-udp", "no-tcp", "no-dtls", "no-tlsv1", "no-tlsv1_1", "no-tlsv1_2"} <= lines


def test_enc1_relay_environment_follows_the_contract(each_stack: StackView) -> None:
    """CONTRACTS.md: the relay image's environment; the secret only as an ECS secret; no TLS files (self-signed)."""
    c = _relay_container(each_stack)
    env = dv.env(c)
    assert {k: v for k, v in env.items() if k != "TURN_ALLOWED_PEER_CIDRS"} == {
        "TURN_REALM": DOMAIN[_stack(each_stack)],
        "TURN_LISTEN_PORT": "5349",
        "TURN_MIN_PORT": "49152",
        "TURN_MAX_PORT": "49407",
        "TURN_USER_QUOTA": "12",
        "TURN_TOTAL_QUOTA": "240",
    }
    secret = each_stack.one("aws:secretsmanager/secret:Secret", "relay-turn-secret")
    assert dv.secrets(c) == {"TURN_SECRET": secret.outputs["arn"]}


def test_enc1_turn_secret_is_generated_outside_pulumi_and_encrypted_with_the_secrets_key(each_stack: StackView) -> None:
    """ENC-1: the TURN secret has no version in the stack (its value is in no config and no state file)."""
    secret = each_stack.one("aws:secretsmanager/secret:Secret", "relay-turn-secret")
    assert secret.inputs["name"] == f"kakoi/{_stack(each_stack)}/relay/turn-secret"
    assert secret.inputs["kmsKeyId"] == each_stack.one("aws:kms/key:Key", "keys-database").outputs["arn"]
    versions = each_stack.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert not [v for v in versions if v.inputs.get("secretId") in (secret.outputs["arn"], secret.outputs["id"])]
    cfg = stack_values(_stack(each_stack)).values
    assert not [k for k in cfg if "secret" in k.lower() and "turn" in k.lower()]


def test_relay_execution_role_reads_only_the_turn_secret(each_stack: StackView) -> None:
    statements = each_stack.one("aws:iam/rolePolicy:RolePolicy", "relay-execution").json_input("policy")["Statement"]
    secret = each_stack.one("aws:secretsmanager/secret:Secret", "relay-turn-secret").outputs["arn"]
    read = dv.statement(statements, "ReadInjectedSecrets")
    assert read["Resource"] == [secret]
    decrypt = dv.statement(statements, "DecryptInjectedSecrets")
    assert decrypt["Condition"]["StringEquals"]["kms:EncryptionContext:SecretARN"] == [secret]
    repo = each_stack.one("aws:ecr/repository:Repository", "registry-relay")
    assert dv.statement(statements, "PullAppImage")["Resource"] == repo.outputs["arn"]


def test_rec1_relay_image_is_built_from_relay_and_pushed_like_the_app(each_stack: StackView) -> None:
    image = each_stack.one("docker-build:index:Image", "registry-relay")
    assert image.inputs["context"] == {"location": "relay"}
    assert image.inputs["dockerfile"] == {"location": "relay/Dockerfile"}
    assert image.inputs["platforms"] == ["linux/arm64"]
    repo = each_stack.one("aws:ecr/repository:Repository", "registry-relay")
    assert repo.inputs["name"] == f"kakoi-{_stack(each_stack)}/relay"
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert (
        repo.inputs["encryptionConfigurations"]
        == each_stack.one("aws:ecr/repository:Repository", "registry-app").inputs["encryptionConfigurations"]
    )
    assert _relay_container(each_stack)["image"] == f"{repo.outputs['repositoryUrl']}@{image.outputs['digest']}"


def test_rec1_relay_image_digest_pins_without_building() -> None:
    pinned = "sha256:" + "cd" * 32
    view = nv.render_with("staging", {"kakoi:relayImageDigest": pinned})
    assert [i.name for i in view.of_type("docker-build:index:Image")] == ["registry-app"]
    assert _relay_container(view)["image"].endswith(f"@{pinned}")


def test_avl1_relay_autoscaling_on_cpu_and_active_connections(each_stack: StackView) -> None:
    stack = _stack(each_stack)
    target = each_stack.one("aws:appautoscaling/target:Target", "relay-scaling")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == {"prod": (2, 6), "staging": (1, 3)}[stack]
    assert target.inputs["resourceId"] == f"service/kakoi-{stack}-relay/kakoi-{stack}-relay"
    cpu = each_stack.one(POLICY, "relay-scale-cpu").inputs["targetTrackingScalingPolicyConfiguration"]
    assert cpu["predefinedMetricSpecification"] == {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}
    assert cpu["targetValue"] == 50
    conn = each_stack.one(POLICY, "relay-scale-connections").inputs["targetTrackingScalingPolicyConfiguration"]
    assert conn["targetValue"] == 150
    metrics = {m["id"]: m for m in conn["customizedMetricSpecification"]["metrics"]}
    assert metrics["per_task"]["expression"] == "FILL(flows, 0) / tasks"
    assert metrics["per_task"]["returnData"] is True
    flows = metrics["flows"]["metricStat"]["metric"]
    assert (flows["namespace"], flows["metricName"]) == ("AWS/NetworkELB", "ActiveFlowCount_TLS")
    assert flows["dimensions"] == [{"name": "LoadBalancer", "value": _nlb(each_stack).outputs["arnSuffix"]}]
    tasks = metrics["tasks"]["metricStat"]["metric"]
    assert (tasks["namespace"], tasks["metricName"]) == ("ECS/ContainerInsights", "RunningTaskCount")
    assert conn["scaleInCooldown"] == 600


def test_avl1_relay_deletion_protection_from_config_and_required_in_production(prod: StackView, staging: StackView) -> None:
    assert _nlb(prod).inputs["enableDeletionProtection"] is True
    assert _nlb(staging).inputs["enableDeletionProtection"] is False
    service = prod.one(dv.SERVICE, "relay-service").inputs
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["availabilityZoneRebalancing"] == "ENABLED"
    assert service["desiredCount"] == 2


def test_relay_service_waits_for_the_first_deploy_like_the_app() -> None:
    """appServiceEnabled=false (first deploy, before the TURN secret has a value): no relay service and no scaling."""
    view = dv.rendered("staging", (("kakoi:appServiceEnabled", False),))
    names = {r.name for r in view.of_type(dv.SERVICE)}
    assert "relay-service" not in names and "app-service" not in names
    assert not [r for r in view.of_type(POLICY) if r.name.startswith("relay-")]
    assert dv.task_def(view, "relay")
    # no alarm on a service that does not exist yet (it would only report missing data); the NLB's stay
    relay_alarms = {a.name for a in view.of_type(ALARM) if a.name.startswith("alarms-relay-")}
    assert relay_alarms and not relay_alarms & {"alarms-relay-cpu", "alarms-relay-memory", "alarms-relay-tasks-below-desired"}


# ---- LOG-1: access logs of the TLS listener --------------------------------------------------------


def test_log1_relay_access_logs_go_to_the_archive_and_its_policy_admits_log_delivery(each_stack: StackView) -> None:
    """LOG-1: NLB access logs are written by delivery.logs.amazonaws.com (not the ELB account, unlike the ALB's)."""
    nlb = _nlb(each_stack)
    archive = each_stack.one("aws:s3/bucket:Bucket", "logs-archive")
    assert nlb.inputs["accessLogs"] == {"bucket": archive.outputs["bucket"], "enabled": True, "prefix": "nlb-relay"}
    policy = each_stack.one("aws:s3/bucketPolicy:BucketPolicy", "logs-archive")
    assert policy.urn in nlb.dependencies
    doc = json.loads(policy.inputs["policy"])
    write = next(s for s in doc["Statement"] if s["Sid"] == "LogDeliveryWrite")
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert f"{archive.outputs['arn']}/nlb-relay/AWSLogs/123456789012/*" in write["Resource"]
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    assert write["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:logs:ap-northeast-1:123456789012:*"
    acl = next(s for s in doc["Statement"] if s["Sid"] == "LogDeliveryAclCheck")
    assert acl["Action"] == "s3:GetBucketAcl"


# ---- the app side -------------------------------------------------------------------------------------


def test_enc1_the_web_container_knows_the_relays_turns_url_and_secret(each_stack: StackView) -> None:
    web = dv.containers(each_stack, "app")["web"]
    assert dv.env(web)["KAKOI_TURN_URLS"] == f"turns:{DOMAIN[_stack(each_stack)]}:443?transport=tcp"
    secret = each_stack.one("aws:secretsmanager/secret:Secret", "relay-turn-secret").outputs["arn"]
    assert dv.secrets(web)["KAKOI_TURN_SECRET"] == secret
    assert "KAKOI_TURN_SECRET" not in dv.secrets(dv.containers(each_stack, "app")["migrate"])
    statements = each_stack.one("aws:iam/rolePolicy:RolePolicy", "app-iam-execution").json_input("policy")["Statement"]
    assert secret in dv.statement(statements, "ReadInjectedSecrets")["Resource"]
    assert each_stack.stack_outputs["relayUrl"] == dv.env(web)["KAKOI_TURN_URLS"]


def test_enc1_alb_idle_timeout_keeps_quiet_websocket_calls(each_stack: StackView) -> None:
    """The ALB idle timeout outlasts two app heartbeats (25 s each) and stays below the app server's keep-alive."""
    alb = each_stack.one(LB, "edge")
    assert alb.inputs["idleTimeout"] == edge_module.IDLE_TIMEOUT_SECONDS
    assert alb.inputs["idleTimeout"] >= 2 * edge_module.WEBSOCKET_HEARTBEAT_SECONDS
    conf = (dv.Path(dv.ROOT) / "app" / "kakoi" / "gunicorn_conf.py").read_text(encoding="utf-8")
    keepalive = next((int(line.split("=")[1]) for line in conf.splitlines() if line.startswith("keepalive")), None)
    if keepalive is not None:
        assert keepalive > alb.inputs["idleTimeout"]
    assert not (each_stack.one(TG, "edge").inputs.get("stickiness") or {}).get("enabled")


# ---- MON-1: alarms and the dashboard ----------------------------------------------------------------

RELAY_ALARMS = {
    # key: (namespace, metric, dimension names, statistic, missing data)
    "relay-unhealthy-hosts": ("AWS/NetworkELB", "UnHealthyHostCount", {"LoadBalancer", "TargetGroup"}, "Maximum", "notBreaching"),
    "relay-no-healthy-targets": ("AWS/NetworkELB", "HealthyHostCount", {"LoadBalancer", "TargetGroup"}, "Minimum", "notBreaching"),
    "relay-client-tls-errors": ("AWS/NetworkELB", "ClientTLSNegotiationErrorCount", {"LoadBalancer"}, "Sum", "notBreaching"),
    "relay-target-tls-errors": ("AWS/NetworkELB", "TargetTLSNegotiationErrorCount", {"LoadBalancer"}, "Sum", "notBreaching"),
    "relay-active-flows": ("AWS/NetworkELB", "ActiveFlowCount_TLS", {"LoadBalancer"}, "Maximum", "notBreaching"),
    "relay-new-flows": ("AWS/NetworkELB", "NewFlowCount_TLS", {"LoadBalancer"}, "Sum", "notBreaching"),
    "relay-cpu": ("AWS/ECS", "CPUUtilization", {"ClusterName", "ServiceName"}, "Average", "notBreaching"),
    "relay-memory": ("AWS/ECS", "MemoryUtilization", {"ClusterName", "ServiceName"}, "Average", "notBreaching"),
}


def _alarms(view: StackView) -> dict[str, Res]:
    p = f"kakoi-{_stack(view)}-"
    return {a.inputs["name"].removeprefix(p): a for a in view.of_type(ALARM) if a.name.startswith("alarms-relay-")}


def test_mon1_relay_alarms_watch_the_documented_metrics_of_the_relay(each_stack: StackView) -> None:
    alarms = _alarms(each_stack)
    assert set(alarms) == {*RELAY_ALARMS, "relay-tasks-below-desired"}
    stack = _stack(each_stack)
    values = {
        "LoadBalancer": _nlb(each_stack).outputs["arnSuffix"],
        "TargetGroup": _tg(each_stack).outputs["arnSuffix"],
        "ClusterName": f"kakoi-{stack}-relay",
        "ServiceName": f"kakoi-{stack}-relay",
    }
    for key, (namespace, metric, dims, stat, missing) in RELAY_ALARMS.items():
        a = alarms[key].inputs
        assert (a["namespace"], a["metricName"], a["statistic"]) == (namespace, metric, stat), key
        assert a["dimensions"] == {d: values[d] for d in dims}, key
        assert a["treatMissingData"] == missing, key
        assert f"docs/runbooks/alerts.md#{key}" in a["alarmDescription"]
    tasks = alarms["relay-tasks-below-desired"].inputs
    assert tasks["treatMissingData"] == "breaching"
    queries = {q["id"]: q for q in tasks["metricQueries"]}
    assert queries["missing"]["expression"] == "desired - running"
    for qid in ("running", "desired"):
        assert queries[qid]["metric"]["namespace"] == "ECS/ContainerInsights"
        assert queries[qid]["metric"]["dimensions"] == {"ClusterName": values["ClusterName"], "ServiceName": values["ServiceName"]}


def test_mon1_relay_alarm_thresholds_come_from_config(each_stack: StackView) -> None:
    alarms = _alarms(each_stack)
    capacity = {"prod": 6 * 150, "staging": 3 * 150}[_stack(each_stack)]
    assert alarms["relay-active-flows"].inputs["threshold"] == int(capacity * 0.9)
    assert alarms["relay-client-tls-errors"].inputs["threshold"] == 200
    assert alarms["relay-new-flows"].inputs["threshold"] == 1000
    assert alarms["relay-unhealthy-hosts"].inputs["threshold"] == 1
    assert alarms["relay-target-tls-errors"].inputs["threshold"] == 0


def test_mon1_no_relay_alarm_fires_on_a_healthy_idle_new_stack(each_stack: StackView) -> None:
    """MON-1: a new stack nobody calls yet publishes no flow, error or handshake metric at all (the NLB reports them
    only while they are not zero): every such alarm must read silence as fine. Only the running-task alarm reads
    silence as trouble, and it watches Container Insights, which reports every minute while the service exists."""
    for key, alarm in _alarms(each_stack).items():
        metric = alarm.inputs.get("metricName") or ""
        if metric in ("ActiveFlowCount_TLS", "NewFlowCount_TLS", "ClientTLSNegotiationErrorCount", "TargetTLSNegotiationErrorCount"):
            assert alarm.inputs["treatMissingData"] == "notBreaching", key
        if alarm.inputs["treatMissingData"] == "breaching":
            namespaces = {q["metric"]["namespace"] for q in alarm.inputs.get("metricQueries", []) if "metric" in q}
            assert namespaces == {"ECS/ContainerInsights"}, key
            service = each_stack.one(dv.SERVICE, "relay-service")
            assert service.inputs["waitForSteadyState"] is True


def test_mon1_dashboard_shows_the_relay_beside_the_web_tier(each_stack: StackView) -> None:
    body = json.loads(each_stack.one("aws:cloudwatch/dashboard:Dashboard", "availability-dashboard").inputs["dashboardBody"])
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert any(t.startswith("Service:") for t in titles)
    relay = [w for w in body["widgets"] if w["properties"]["title"].startswith("Relay:")]
    metrics = {m[1] for w in relay for m in w["properties"]["metrics"]}
    assert metrics >= {
        "HealthyHostCount",
        "UnHealthyHostCount",
        "ActiveFlowCount_TLS",
        "NewFlowCount_TLS",
        "ClientTLSNegotiationErrorCount",
        "TargetTLSNegotiationErrorCount",
        "CPUUtilization",
        "MemoryUtilization",
        "RunningTaskCount",
    }
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    for alarm in _alarms(each_stack).values():
        assert alarm.outputs["arn"] in alarm_widget["properties"]["alarms"]


# ---- config: wrong values fail before anything is declared -------------------------------------------

BAD_RELAY = [
    ({"kakoi:relayMinPort": 40000}, "kakoi:relayMinPort", "below the minimum 49152"),
    ({"kakoi:relayMinPort": 50000, "kakoi:relayMaxPort": 49999}, "kakoi:relayMaxPort", "below relayMinPort"),
    ({"kakoi:relayMemory": 16384}, "kakoi:relayMemory", "not a Fargate memory size"),
    ({"kakoi:relayCpu": 300}, "kakoi:relayCpu", "not one of"),
    ({"kakoi:relayMinTasks": 4, "kakoi:relayMaxTasks": 3}, "kakoi:relayMaxTasks", "below relayMinTasks"),
    ({"kakoi:relayTotalQuota": 100, "kakoi:relayConnectionsPerTask": 150}, "kakoi:relayTotalQuota", "before autoscaling"),
    ({"kakoi:relayTotalQuota": 300}, "kakoi:relayTotalQuota", "holds 256"),
    ({"kakoi:relayUserQuota": 500, "kakoi:relayTotalQuota": 240}, "kakoi:relayUserQuota", "above relayTotalQuota"),
    ({"kakoi:relayDrainSeconds": 4000}, "kakoi:relayDrainSeconds", "above the maximum 3600"),
    ({"kakoi:relayDomainName": "staging.kakoi.example.com"}, "kakoi:relayDomainName", "app's name"),
    ({"kakoi:relayDomainName": "Turn.Example"}, "kakoi:relayDomainName", "lower-case DNS name"),
    (
        {"kakoi:hostedZoneId": "", "kakoi:certificateArn": "arn:aws:acm:ap-northeast-1:123456789012:certificate/x"},
        "kakoi:relayCertificateArn",
        "hostedZoneId",
    ),
    ({"kakoi:relayCertificateArn": "arn:aws:iam::123456789012:role/x"}, "kakoi:relayCertificateArn", "ACM"),
    ({"kakoi:relayImageDigest": "latest"}, "kakoi:relayImageDigest", "image digest"),
    ({"kakoi:alarmRelayNewFlowsPerMinute": 0}, "kakoi:alarmRelayNewFlowsPerMinute", "below the minimum 1"),
]


def _load(stack: str, override: dict[str, Any]) -> stackconfig.StackConfig:
    sv = stack_values(stack)
    values = dict(sv.values)
    for k, v in override.items():
        values[k] = v if isinstance(v, str) else json.dumps(v)
    return stackconfig.load(values, project=sv.project, stack=sv.stack)


@pytest.mark.parametrize(("override", "key", "reason"), BAD_RELAY, ids=[c[1] + ":" + c[2] for c in BAD_RELAY])
def test_bad_relay_config_names_the_key_and_the_reason(override: dict[str, Any], key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load("staging", override)
    line = next((p for p in info.value.problems if p.startswith(f"{key}:")), None)
    assert line is not None, info.value.problems
    assert reason in line, line


@pytest.mark.parametrize(
    ("override", "key"),
    [({"kakoi:relayMinTasks": 1}, "kakoi:relayMinTasks"), ({"kakoi:relayDeletionProtection": False}, "kakoi:relayDeletionProtection")],
)
def test_avl1_production_refuses_a_weaker_relay(override: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load("prod", override)
    assert any(p.startswith(f"{key}:") and "production" in p for p in info.value.problems)


def test_bad_relay_config_fails_the_render_before_any_resource_is_declared() -> None:
    with pytest.raises(RenderError) as info:
        render("staging", overrides={"kakoi:relayMaxPort": 49000})
    assert info.value.exit_code == 2
    assert info.value.declared == 0
    assert "kakoi:relayMaxPort" in str(info.value)


def test_relay_name_defaults_to_turn_dot_the_app_name_and_can_be_set() -> None:
    assert _load("staging", {}).relay.domain_name == "turn.staging.kakoi.example.com"
    cfg = _load("staging", {"kakoi:relayDomainName": "media.staging.kakoi.example.com"})
    assert cfg.relay.turn_urls == "turns:media.staging.kakoi.example.com:443?transport=tcp"
