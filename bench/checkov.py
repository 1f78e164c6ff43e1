"""The offline policy check against checkov on the same resources, each as a whole cold process.

    python -m bench.checkov [--runs 5]

`make check FILE=build/prod.stack.json` (and the `python -m tools.check` process it runs)
is timed against `checkov -f build/prod.tfplan.json --framework terraform_plan`, where
the plan file holds the same resources: every AWS resource of the prod render, with the
Terraform type pulumi-aws bridges it from (TF_TYPES) and its inputs in Terraform's
snake_case, as `terraform show -json` writes a plan. checkov is installed for this
benchmark only, pinned, from PyPI into a throw-away virtualenv (build/checkov-venv, with
the uv of .venv). Both are measured from process start to exit (interpreter start,
imports, parsing, every check, the report), median of --runs cold runs, one after the
other. Goal (issue 16): the check at least 10x faster than checkov.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.stackfiles import ROOT

CHECKOV = "checkov==3.3.30"
VENV = ROOT / "build" / "checkov-venv"
GOAL = 10.0

#: Pulumi type token -> the Terraform AWS provider resource it is bridged from
TF_TYPES: dict[str, str] = {
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:acm/certificateValidation:CertificateValidation": "aws_acm_certificate_validation",
    "aws:appautoscaling/policy:Policy": "aws_appautoscaling_policy",
    "aws:appautoscaling/target:Target": "aws_appautoscaling_target",
    "aws:backup/plan:Plan": "aws_backup_plan",
    "aws:backup/selection:Selection": "aws_backup_selection",
    "aws:backup/vault:Vault": "aws_backup_vault",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": "aws_backup_vault_lock_configuration",
    "aws:backup/vaultPolicy:VaultPolicy": "aws_backup_vault_policy",
    "aws:cloudtrail/trail:Trail": "aws_cloudtrail",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": "aws_cloudwatch_composite_alarm",
    "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
    "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
    "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:ec2/defaultRouteTable:DefaultRouteTable": "aws_default_route_table",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
    "aws:ecs/service:Service": "aws_ecs_service",
    "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
    "aws:guardduty/detector:Detector": "aws_guardduty_detector",
    "aws:guardduty/detectorFeature:DetectorFeature": "aws_guardduty_detector_feature",
    "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan": "aws_guardduty_malware_protection_plan",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:lb/listener:Listener": "aws_lb_listener",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:lb/targetGroup:TargetGroup": "aws_lb_target_group",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": "aws_db_instance_automated_backups_replication",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:route53/record:Record": "aws_route53_record",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": "aws_s3_bucket_cors_configuration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "aws_s3_bucket_object_lock_configuration",
    "aws:s3/bucketObjectv2:BucketObjectv2": "aws_s3_object",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "aws_s3_bucket_server_side_encryption_configuration",
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:sesv2/configurationSet:ConfigurationSet": "aws_sesv2_configuration_set",
    "aws:sesv2/emailIdentity:EmailIdentity": "aws_sesv2_email_identity",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:synthetics/canary:Canary": "aws_synthetics_canary",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
    "aws:wafv2/webAcl:WebAcl": "aws_wafv2_web_acl",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "aws_wafv2_web_acl_association",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "aws_wafv2_web_acl_logging_configuration",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _tf_value(value: Any) -> Any:
    """Pulumi inputs as Terraform plan values: snake_case keys, nested objects as one-element block lists."""
    if isinstance(value, dict):
        return {_snake(k): ([_tf_value(v)] if isinstance(v, dict) else _tf_value(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_tf_value(v) for v in value]
    return value


def to_plan(doc: dict[str, Any]) -> tuple[dict[str, Any], int, list[str]]:
    """A `terraform show -json` plan of the export's AWS resources. Returns (plan, resources, unmapped types)."""
    resources, changes, unmapped = [], [], set()
    seen: dict[str, int] = {}
    for r in doc["deployment"]["resources"]:
        if not r.get("custom") or not str(r["type"]).startswith("aws:"):
            continue
        tf = TF_TYPES.get(r["type"])
        if tf is None:
            unmapped.add(r["type"])
            continue
        name = re.sub(r"[^A-Za-z0-9_]", "_", r["urn"].split("::")[-1])
        seen[f"{tf}.{name}"] = seen.get(f"{tf}.{name}", 0) + 1
        if seen[f"{tf}.{name}"] > 1:
            name = f"{name}_{seen[f'{tf}.{name}']}"
        values = _tf_value({k: v for k, v in (r.get("inputs") or {}).items() if not k.startswith("__")})
        address = f"{tf}.{name}"
        resources.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf,
                "name": name,
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "values": values,
            }
        )
        changes.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf,
                "name": name,
                "change": {"actions": ["create"], "before": None, "after": values},
            }
        )
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": []}},
    }
    return plan, len(resources), sorted(unmapped)


def ensure_checkov() -> Path:
    exe = VENV / "bin" / "checkov"
    if exe.is_file():
        return exe
    uv = ROOT / ".venv" / "bin" / "uv"
    print(f"== installing {CHECKOV} into {VENV.relative_to(ROOT)} (benchmark only, from PyPI)", flush=True)
    subprocess.run([str(uv), "venv", "-q", "--python", sys.executable, str(VENV)], check=True)
    subprocess.run([str(uv), "pip", "install", "-q", "--python", str(VENV / "bin" / "python"), CHECKOV], check=True)
    return exe


@dataclass
class Timing:
    wall: list[float]
    cpu: list[float]  # user + system CPU seconds of the process and its children
    proc: subprocess.CompletedProcess[str]

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def _time(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> Timing:
    walls, cpus, proc = [], [], None
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    assert proc is not None
    return Timing(walls, cpus, proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.checkov", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    export = ROOT / "build" / "prod.stack.json"
    if not export.is_file():
        from tools.render import dumps, render

        export.parent.mkdir(parents=True, exist_ok=True)
        export.write_text(dumps(render("prod")), encoding="utf-8")
    plan, count, unmapped = to_plan(json.loads(export.read_text(encoding="utf-8")))
    if unmapped:
        print(f"bench checkov: no Terraform type for {unmapped}: add them to TF_TYPES", file=sys.stderr)
        return 2
    plan_path = ROOT / "build" / "prod.tfplan.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    checkov = ensure_checkov()
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false", LOG_LEVEL="WARNING")
    checkov_cmd = [
        str(checkov),
        "-f",
        str(plan_path),
        "--framework",
        "terraform_plan",
        "-o",
        "json",
        "--compact",
        "--quiet",
        "--skip-download",
    ]
    ours_cmd = [sys.executable, "-m", "tools.check", str(export)]
    make_cmd = ["make", "-s", "check", f"FILE={export}"]
    # one run of each first, untimed: the page cache and checkov's first-run setup are not what a PR waits for
    for cmd in (checkov_cmd, ours_cmd):
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False, env=env)
    c, o, m = _time(checkov_cmd, args.runs, env), _time(ours_cmd, args.runs), _time(make_cmd, args.runs)
    c_proc, o_proc = c.proc, o.proc
    try:
        summary = json.loads(c_proc.stdout)
        summary = summary[0] if isinstance(summary, list) else summary
        s = summary.get("summary", {})
        checks = f"{s.get('passed', 0)} passed, {s.get('failed', 0)} failed checks on {s.get('resource_count', '?')} resources"
    except ValueError:
        checks = f"exit {c_proc.returncode}: {c_proc.stderr.strip()[-300:]}"
    last = o_proc.stdout.strip().splitlines()[-1] if o_proc.stdout.strip() else o_proc.stderr.strip()
    ratio, ratio_make, ratio_cpu = c.median / o.median, c.median / m.median, c.cpu_median / m.cpu_median
    met = ratio_make >= GOAL
    print(f"bench checkov: {count} AWS resources of the prod render, median of {args.runs} cold processes each (wall; CPU = user+sys)")
    for label, t in (
        (f"checkov {CHECKOV.split('==')[1]} -f <plan> --framework terraform_plan", c),
        ("python -m tools.check <export>", o),
        ("make check FILE=<export>", m),
    ):
        print(f"  {label:<58} wall {t.median:6.3f} s  CPU {t.cpu_median:6.3f} s  runs [{', '.join(f'{x:.3f}' for x in t.wall)}]")
    print(f"  checkov: {checks}")
    print(f"  kakoi:   {last}")
    print(
        f"  speed-up (wall): {ratio:.1f}x vs tools.check, {ratio_make:.1f}x vs make check; (CPU) {ratio_cpu:.1f}x vs make check; "
        f"goal >= {GOAL:.0f}x (make check, wall): {'met' if met else 'MISSED'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
