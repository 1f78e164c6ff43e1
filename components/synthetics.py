"""The availability canary itself (AVL-1): its script package, the Synthetics canary and its log group.

A CloudWatch Synthetics canary runs ``components/canary/healthz_canary.py`` every minute
(``rate(1 minute)``) from outside the VPC, so it takes the path users take (DNS, WAF, load
balancer, TLS 1.3, app, database readiness) to the health URL. Runtime: a Python Synthetics
runtime from config (``kakoi:canaryRuntimeVersion``, supported versions:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_python_selenium.html).
The script is zipped here in code, deterministically (fixed timestamps and permissions, stored
uncompressed, ``python/`` folder as Synthetics requires:
https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryCodeInput.html), and
uploaded to the artifacts bucket under a content-addressed key (pulumi-aws's ``zip_file`` is a path
to a local file, so it cannot take bytes). The canary's Lambda log group is created here
(KMS-encrypted, retention from config), named after the Lambda (``engine_arn``).

Declared by `components.availability.Availability` as its own children (same names, same parent:
no URN moves).
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.canary_artifacts import ARTIFACTS_PREFIX, CODE_PREFIX, Artifacts
from stackconfig.detection import DetectionConfig

SCRIPT = Path(__file__).parent / "canary" / "healthz_canary.py"
#: path of the script inside the zip: Python canaries keep it under python/
ZIP_ENTRY = "python/healthz_canary.py"
HANDLER = "healthz_canary.handler"
SCHEDULE = "rate(1 minute)"
#: a zip timestamp cannot be earlier than 1980-01-01
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def canary_zip(script: str | None = None) -> bytes:
    """The canary package: the same bytes for the same script, on any machine, at any time."""
    text = SCRIPT.read_text(encoding="utf-8") if script is None else script
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        info = zipfile.ZipInfo(ZIP_ENTRY, date_time=ZIP_EPOCH)
        info.create_system = 3  # unix, so the permissions below are what Lambda sees
        info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
        info.compress_type = zipfile.ZIP_STORED
        zf.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def log_group_name(engine_arn: str) -> str:
    """`arn:aws:lambda:<region>:<account>:function:cwsyn-<canary>-<uuid>[:<version>]` -> its log group."""
    parts = engine_arn.split(":")
    if len(parts) < 7 or parts[5] != "function":
        raise ValueError(f"not a Lambda function ARN: {engine_arn!r}")
    return f"/aws/lambda/{parts[6]}"


@dataclass(frozen=True)
class Probe:
    """The declared canary, its code object and its log group."""

    code: aws.s3.BucketObjectv2
    canary: aws.synthetics.Canary
    log_group: aws.cloudwatch.LogGroup


def declare(
    name: str,
    *,
    parent: pulumi.Resource,
    config: DetectionConfig,
    canary_name: str,
    health_url: str,
    artifacts: Artifacts,
    role_arn: pulumi.Input[str],
    probing: bool,
    ready: Sequence[pulumi.Resource],
    log_group_kms_key_arn: pulumi.Input[str],
) -> Probe:
    """The package (`<name>-code`), the canary (`<name>-healthz`, started only when `probing`, after `ready`)
    and its log group (`<name>-canary`), children of `parent`."""
    bucket, key = artifacts.bucket, artifacts.key
    # ---- the script package, content-addressed (a new script is a new key, so the canary updates)
    package = canary_zip()
    digest = hashlib.sha256(package).hexdigest()
    code = aws.s3.BucketObjectv2(
        f"{name}-code",
        bucket=bucket.id,
        key=f"{CODE_PREFIX}healthz-{digest[:16]}.zip",
        content_base64=base64.b64encode(package).decode("ascii"),
        content_type="application/zip",
        server_side_encryption="aws:kms",
        kms_key_id=key.arn,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[artifacts.policy]),
    )
    canary = aws.synthetics.Canary(
        f"{name}-healthz",
        name=canary_name,
        runtime_version=config.canary_runtime_version,
        handler=HANDLER,
        s3_bucket=bucket.id,
        s3_key=code.key,
        s3_version=code.version_id,
        execution_role_arn=role_arn,
        artifact_s3_location=bucket.id.apply(lambda b: f"s3://{b}/{ARTIFACTS_PREFIX}"),
        artifact_config={"s3_encryption": {"encryption_mode": "SSE_KMS", "kms_key_arn": key.arn}},
        schedule={"expression": SCHEDULE},
        run_config={
            # the script gives up after its own 10 s timeout; a run must end before the next starts
            "timeout_in_seconds": 30,
            "environment_variables": {"HEALTH_URL": health_url},
            "active_tracing": False,
        },
        success_retention_period=config.canary_artifact_retention_days,
        failure_retention_period=config.canary_artifact_retention_days,
        start_canary=probing,
        # remove the canary's Lambda function and layers with it
        delete_lambda=True,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(ready)),
    )
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-canary",
        name=canary.engine_arn.apply(log_group_name),
        retention_in_days=config.log_retention_days,
        kms_key_id=log_group_kms_key_arn,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return Probe(code=code, canary=canary, log_group=log_group)
