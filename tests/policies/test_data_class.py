"""ENC-1, AV-1: policies select buckets by the `kakoi:data-class` tag (components/data_class.py), not by name.

Compliant and non-compliant fixtures for each rule that reads the tag, cdk-nag style, on
small hand-made exports: a customer-media bucket must refuse TLS below 1.3 and be
malware-scanned whatever it is called; a logs or artifacts bucket is not held to those
rules even when its name says "media"; a bucket without a valid tag is flagged by
kakoi-s3-data-class and judged as customer media by the others (fail closed); a tag
unknown during preview is "cannot decide", never a pass.
"""

from __future__ import annotations

from typing import Any

import pytest

from components import s3_policies
from components.data_class import ARTIFACTS, CUSTOMER_MEDIA, DATA_CLASS_TAG, DATA_CLASSES, LOGS, data_class_tags
from policies.kakoi_policy.base import UNKNOWN_STRING_VALUE
from tests.policies.minidoc import BUCKET, doc, resource
from tests.policies.support import POLICIES
from tools.analyzer import evaluate
from tools.report import Report

TLS13 = "kakoi-s3-tls13-minimum"
DATA_CLASS = "kakoi-s3-data-class"
MALWARE = "kakoi-av-media-malware-scan"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PLAN = "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan"


def _bucket(name: str, tags: dict[str, Any] | None, *, tls13: bool, scanned: bool = False) -> list[dict[str, Any]]:
    arn = f"arn:aws:s3:::{name}"
    statements = [s3_policies.deny_insecure_transport(arn)] + ([s3_policies.deny_tls_below(arn, "1.3")] if tls13 else [])
    out = [
        resource(BUCKET, name, {"bucket": name, **({"tags": tags} if tags is not None else {})}, {"arn": arn, "id": name}),
        resource(POLICY, name, {"bucket": name, "policy": s3_policies.document(*statements)}),
    ]
    if scanned:
        out.append(resource(PLAN, name, {"protectedResource": {"s3Bucket": {"bucketName": name}}}))
    return out


def _run(*resources: dict[str, Any], config: dict[str, Any] | None = None) -> Report:
    from tools.check_config import parse_config

    pack = [POLICIES[TLS13], POLICIES[DATA_CLASS], POLICIES[MALWARE]]
    cfg = parse_config(config, pack, "<test>") if config else None
    return evaluate(doc(*resources), cfg, policies=pack)


def _violations(report: Report, name: str) -> list[str]:
    return [f.urn.split("::")[-1] for f in report.for_policy(name) if f.kind == "violation"]


def test_enc1_av1_compliant_buckets_of_every_class_pass() -> None:
    """ENC-1, AV-1: a scanned customer-media bucket with the TLS 1.3 deny, and logs/artifacts buckets without it, all pass."""
    report = _run(
        *_bucket("uploads", data_class_tags(CUSTOMER_MEDIA), tls13=True, scanned=True),
        *_bucket("media-looking-logs", data_class_tags(LOGS), tls13=False),
        *_bucket("media-artifacts", data_class_tags(ARTIFACTS), tls13=False),
    )
    assert report.findings == [], [(f.policy, f.message) for f in report.findings]
    assert report.subjects[TLS13] == 3 and report.subjects[DATA_CLASS] == 3


def test_enc1_customer_media_bucket_without_tls13_deny_fails_whatever_its_name() -> None:
    """ENC-1: the rule follows the tag: a bucket named 'recordings' (no 'media' in it) is still judged."""
    report = _run(*_bucket("recordings", data_class_tags(CUSTOMER_MEDIA), tls13=False, scanned=True))
    assert _violations(report, TLS13) == ["recordings"]
    assert "TLS below 1.3" in report.for_policy(TLS13)[0].message and report.exit_code == 1


def test_av1_customer_media_bucket_without_scan_fails() -> None:
    """AV-1: a customer-media bucket without a Malware Protection plan is a violation; an artifacts one is not."""
    report = _run(
        *_bucket("recordings", data_class_tags(CUSTOMER_MEDIA), tls13=True), *_bucket("canary", data_class_tags(ARTIFACTS), tls13=True)
    )
    assert _violations(report, MALWARE) == ["recordings"]


@pytest.mark.parametrize("tags", [None, {}, {DATA_CLASS_TAG: "secret"}], ids=["no tags", "other tags", "outside the vocabulary"])
def test_enc1_av1_bucket_without_a_valid_data_class_is_flagged_and_judged_as_customer_media(tags: dict[str, Any] | None) -> None:
    """ENC-1, AV-1: kakoi-s3-data-class flags it; the TLS 1.3 and malware rules fail closed."""
    report = _run(*_bucket("mystery", tags, tls13=False))
    assert _violations(report, DATA_CLASS) == ["mystery"]
    assert DATA_CLASS_TAG in report.for_policy(DATA_CLASS)[0].message
    assert _violations(report, TLS13) == ["mystery"] and _violations(report, MALWARE) == ["mystery"]
    assert f"judged as {CUSTOMER_MEDIA}" in report.for_policy(TLS13)[0].message


def test_enc1_data_class_unknown_during_preview_cannot_be_decided() -> None:
    """ENC-1: a tag value unknown during preview is an advisory "cannot decide", not a pass and not a violation."""
    report = _run(*_bucket("later", {DATA_CLASS_TAG: UNKNOWN_STRING_VALUE}, tls13=False, scanned=True))
    kinds = {(f.policy, f.kind) for f in report.findings}
    assert kinds == {(DATA_CLASS, "undecided"), (TLS13, "undecided"), (MALWARE, "undecided")}
    assert report.exit_code == 0


def test_enc1_data_classes_config_widens_the_rule() -> None:
    """ENC-1: dataClasses selects which classes must refuse TLS below 1.3 (config validated against the vocabulary)."""
    resources = _bucket("canary", data_class_tags(ARTIFACTS), tls13=False)
    assert _violations(_run(*resources, config={TLS13: {"dataClasses": [CUSTOMER_MEDIA, ARTIFACTS]}}), TLS13) == ["canary"]
    from tools.check_errors import CheckError

    with pytest.raises(CheckError, match="is not one of"):
        _run(*resources, config={TLS13: {"dataClasses": ["media"]}})


def test_enc1_program_refuses_a_data_class_outside_the_vocabulary() -> None:
    """ENC-1: components.data_class.data_class_tags accepts only the documented values."""
    assert [data_class_tags(c) for c in DATA_CLASSES] == [{DATA_CLASS_TAG: c} for c in DATA_CLASSES]
    with pytest.raises(ValueError, match="not one of"):
        data_class_tags("media")
