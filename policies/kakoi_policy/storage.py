"""S3: public access, encryption, TLS-only access (NET-1, ENC-1, BAK-1) and the log archive (LOG-1)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import ResourceValidationArgs

from .base import (
    ADVISORY,
    HIGH,
    LOW,
    MANDATORY,
    MEDIUM,
    Cfg,
    KakoiResourcePolicy,
    KakoiStackPolicy,
    Node,
    SRes,
    Stack,
    Violation,
    as_list,
    principal_is_everyone,
    service_principals,
    statements,
)
from .constants import (
    BUCKET,
    BUCKET_LIFECYCLE,
    BUCKET_LOGGING,
    BUCKET_OBJECT_LOCK,
    BUCKET_OWNERSHIP,
    BUCKET_PAB,
    BUCKET_POLICY,
    BUCKET_SSE,
    BUCKET_VERSIONING,
    CUSTOMER_MEDIA,
    DATA_CLASS_TAG,
    DATA_CLASSES,
    FLOW_LOG,
    LB,
    TRAIL,
    WEB_ACL_LOGGING,
)

PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
SSE_ALGORITHMS = ("aws:kms", "aws:kms:dsse", "AES256")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


# --- bucket policy documents ------------------------------------------------------------------
def _covers(actions: list[Any], wanted: str) -> bool:
    for a in actions:
        a = str(a)
        if a in ("*", "s3:*", wanted) or (a.endswith("*") and wanted.startswith(a[:-1])):
            return True
    return False


def _false(value: Any) -> bool:
    return any(str(v).lower() == "false" for v in as_list(value))


def denies_insecure_transport(doc: Any) -> bool:
    """A Deny for everyone on s3:* over the bucket and its objects when aws:SecureTransport is false (S3.5)."""
    for st in statements(doc):
        if st.get("Effect") != "Deny" or not principal_is_everyone(st.get("Principal")):
            continue
        if not _covers(st["Action"], "s3:GetObject") or not _covers(st["Action"], "s3:PutObject"):
            continue
        resources = [str(r) for r in st["Resource"]]
        if not any(r.endswith("/*") for r in resources) or not any(not r.endswith("/*") for r in resources):
            continue
        for op, conds in st["Condition"].items():
            if op.startswith("Bool") and isinstance(conds, dict) and _false(conds.get("aws:SecureTransport")):
                return True
    return False


def denied_tls_below(doc: Any) -> float:
    """The TLS version below which the policy denies every request (0 when it does not)."""
    best = 0.0
    for st in statements(doc):
        if st.get("Effect") != "Deny" or not principal_is_everyone(st.get("Principal")) or not _covers(st["Action"], "s3:GetObject"):
            continue
        for op, conds in st["Condition"].items():
            if op.startswith("NumericLessThan") and isinstance(conds, dict) and "s3:TlsVersion" in conds:
                for v in as_list(conds["s3:TlsVersion"]):
                    try:
                        best = max(best, float(v))
                    except (TypeError, ValueError):
                        continue
    return best


def allows_service_delivery(doc: Any) -> list[str]:
    """AWS service principals the policy lets in (log delivery buckets)."""
    out: list[str] = []
    for st in statements(doc):
        if st.get("Effect") == "Allow":
            out.extend(service_principals(st.get("Principal")))
    return sorted(set(out))


def denies_version_deletion(doc: Any) -> bool:
    """An unconditional Deny for everyone of s3:DeleteObjectVersion."""
    for st in statements(doc):
        if (
            st.get("Effect") == "Deny"
            and principal_is_everyone(st.get("Principal"))
            and not st["Condition"]
            and _covers(st["Action"], "s3:DeleteObjectVersion")
        ):
            return True
    return False


# --- resource policies ----------------------------------------------------------------------------
def _check_pab(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    off = [flag for flag in PAB_FLAGS if props.get(flag) is not True]  # each defaults to false
    if off:
        yield f"public access block for bucket {props.get('bucket')} leaves {', '.join(off)} off"


s3_public_access_block = KakoiResourcePolicy(
    name="kakoi-s3-public-access-block",
    description="A bucket's public access block turns on all four settings (each defaults to false).",
    types=(BUCKET_PAB,),
    check=_check_pab,
    level=MANDATORY,
    severity=HIGH,
    sheet=("NET-1",),
    securityhub=("S3.8",),
    remediation="Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true.",
)


def _check_sse(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    rules = props.nodes("rules")
    if not rules:
        yield "no encryption rule"
    for rule in rules:
        algo = rule.get("applyServerSideEncryptionByDefault", "sseAlgorithm")
        if algo not in SSE_ALGORITHMS:
            yield f"default encryption algorithm {algo!r} is not one of {list(SSE_ALGORITHMS)}"


s3_encryption = KakoiResourcePolicy(
    name="kakoi-s3-encryption-at-rest",
    description="A bucket's default encryption is SSE-KMS, DSSE-KMS or SSE-S3.",
    types=BUCKET_SSE,
    check=_check_sse,
    level=MANDATORY,
    severity=HIGH,
    sheet=("BAK-1",),
    securityhub=(),
    remediation="Declare rules=[{applyServerSideEncryptionByDefault: {sseAlgorithm: 'aws:kms', kmsMasterKeyId: <key>}, bucketKeyEnabled: true}].",
)


def _check_tls_only(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    doc = props.json("policy")
    if doc is None:
        yield "the bucket policy is not a JSON document"
    elif not denies_insecure_transport(doc):
        yield "the bucket policy does not deny requests without TLS (Deny s3:* when aws:SecureTransport is false)"


s3_tls_only = KakoiResourcePolicy(
    name="kakoi-s3-tls-only",
    description="Bucket policies deny every request not made over TLS (aws:SecureTransport false), for the bucket and its objects.",
    types=(BUCKET_POLICY,),
    check=_check_tls_only,
    level=MANDATORY,
    severity=HIGH,
    sheet=("ENC-1",),
    securityhub=("S3.5",),
    remediation="Add the statement components.s3_policies.deny_insecure_transport(bucket_arn) to the bucket policy.",
)


# --- what a bucket holds: the kakoi:data-class tag ----------------------------------------------
def data_class(bucket: SRes) -> str | None:
    """The bucket's DATA_CLASS_TAG (its `tags`, else `tagsAll`); None when it has none."""
    for key in ("tags", "tagsAll"):
        value = bucket.get(key, DATA_CLASS_TAG)
        if value:
            return str(value)
    return None


def judged_as(bucket: SRes, classes: Collection[str]) -> bool:
    """Whether a rule for buckets of `classes` applies to `bucket`.

    Fail closed: a bucket that declares no data class, or one outside the vocabulary, is
    judged as if it held customer media (kakoi-s3-data-class reports the tag itself).
    """
    declared = data_class(bucket)
    if declared is None or declared not in DATA_CLASSES:
        return CUSTOMER_MEDIA in classes
    return declared in classes


def _class_label(bucket: SRes) -> str:
    declared = data_class(bucket)
    if declared is not None and declared in DATA_CLASSES:
        return declared
    return f"no valid {DATA_CLASS_TAG}: judged as {CUSTOMER_MEDIA}"


DATA_CLASSES_CONFIG = {
    "type": "array",
    "items": {"type": "string", "enum": list(DATA_CLASSES)},
    "minItems": 1,
    "default": [CUSTOMER_MEDIA],
}


def _check_data_class(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    for b in stack.of(*BUCKET):
        with stack.deciding():
            declared = data_class(b)
            name = b.get("bucket") or b.get("id") or b.name
            if declared is None:
                yield (
                    b.urn,
                    f"bucket {name} has no {DATA_CLASS_TAG} tag (one of {', '.join(DATA_CLASSES)}): the TLS 1.3 and malware-scan rules judge it as {CUSTOMER_MEDIA} until it declares what it holds",
                )
            elif declared not in DATA_CLASSES:
                yield b.urn, f"bucket {name}: {DATA_CLASS_TAG}={declared!r} is not one of {', '.join(DATA_CLASSES)}"


s3_data_class = KakoiStackPolicy(
    name="kakoi-s3-data-class",
    description=(
        f"Every bucket declares what it holds with the {DATA_CLASS_TAG} tag, one of {', '.join(DATA_CLASSES)} "
        "(components/data_class.py). The TLS 1.3 (ENC-1) and malware-scan (AV-1) policies select their buckets by this "
        f"tag, not by name; until a bucket has a valid one they judge it as {CUSTOMER_MEDIA}."
    ),
    types=BUCKET,
    check=_check_data_class,
    level=MANDATORY,
    severity=MEDIUM,
    sheet=("ENC-1", "AV-1"),
    securityhub=(),
    remediation=(
        f"Declare the bucket with tags=components.data_class.data_class_tags(<{' | '.join(DATA_CLASSES)}>) "
        f"({DATA_CLASS_TAG}; an in-place tag update)."
    ),
)


def _check_tls13(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    classes = [str(c) for c in cfg["dataClasses"]]
    minimum = float(cfg["minimumTlsVersion"])
    for name, f in sorted(bucket_facts(stack).items()):
        with stack.deciding():
            if not judged_as(f.bucket, classes):
                continue
            docs = _policy_docs(f)
            if any(allows_service_delivery(d) for d in docs):
                continue  # AWS log delivery writes here; its TLS version is AWS's choice (see description)
            if not any(denied_tls_below(d) >= minimum for d in docs):
                yield (
                    f.bucket.urn,
                    f"bucket {name} ({_class_label(f.bucket)}) has no bucket policy denying requests made with TLS below "
                    f"{cfg['minimumTlsVersion']} (NumericLessThan s3:TlsVersion)",
                )


s3_tls13 = KakoiStackPolicy(
    name="kakoi-s3-tls13-minimum",
    description=(
        f"Buckets that hold video/audio data ({DATA_CLASS_TAG} in dataClasses, default {CUSTOMER_MEDIA}; a bucket "
        "without a valid tag counts as one) have a bucket policy that denies requests negotiated with TLS below 1.3 "
        "(NumericLessThan s3:TlsVersion). A bucket whose policy lets AWS log-delivery services in is exempt: the "
        "delivering service, not kakoi, picks its TLS version, and a deny would drop the logs."
    ),
    types=BUCKET,
    check=_check_tls13,
    level=MANDATORY,
    severity=HIGH,
    sheet=("ENC-1",),
    securityhub=(),
    remediation="Add components.s3_policies.deny_tls_below(bucket_arn, '1.3') to the bucket's policy.",
    config={
        "minimumTlsVersion": {
            "type": "string",
            "enum": ["1.2", "1.3"],
            "description": "Lowest TLS version a data bucket accepts.",
            "default": "1.3",
        },
        "dataClasses": {
            **DATA_CLASSES_CONFIG,
            "description": f"Values of the bucket tag {DATA_CLASS_TAG} whose buckets must refuse TLS below minimumTlsVersion.",
        },
    },
)


# --- stack: what each bucket has ---------------------------------------------------------------------
@dataclass
class BucketFacts:
    bucket: SRes
    settings: dict[str, list[SRes]] = field(default_factory=dict)

    def of(self, *types: str) -> list[SRes]:
        out: list[SRes] = []
        for t in types:
            out.extend(self.settings.get(t, ()))
        return out


SETTING_TYPES = (
    BUCKET_PAB,
    BUCKET_POLICY,
    BUCKET_OWNERSHIP,
    *BUCKET_SSE,
    *BUCKET_VERSIONING,
    *BUCKET_LIFECYCLE,
    *BUCKET_LOGGING,
    *BUCKET_OBJECT_LOCK,
)


def bucket_facts(stack: Stack) -> dict[str, BucketFacts]:
    """Bucket name -> the bucket and its separate setting resources (matched on `bucket`)."""
    facts: dict[str, BucketFacts] = {}
    for b in stack.of(*BUCKET):
        with stack.deciding():
            name = b.get("bucket") or b.get("id")
            if name:
                facts[str(name)] = BucketFacts(b)
    for s in stack.of(*SETTING_TYPES):
        with stack.deciding():
            name = s.get("bucket")
            if name and str(name) in facts:
                facts[str(name)].settings.setdefault(s.type, []).append(s)
    return facts


def bucket_from_arn(value: Any) -> str | None:
    text = str(value or "")
    if text.startswith("arn:") and ":s3:::" in text:
        return text.split(":::", 1)[1].split("/", 1)[0] or None
    return None


def log_targets(stack: Stack) -> dict[str, list[str]]:
    """Bucket name -> what delivers logs into it (load balancers, trails, flow logs, WAF, S3 logging)."""
    out: dict[str, list[str]] = {}

    def add(bucket: Any, source: str) -> None:
        if bucket:
            out.setdefault(str(bucket), []).append(source)

    for lb in stack.of(*LB):
        with stack.deciding():
            for key in ("accessLogs", "connectionLogs"):
                if lb.get(key, "enabled") is True:
                    add(lb.get(key, "bucket"), f"{key} of {lb.name}")
    for trail in stack.of(TRAIL):
        with stack.deciding():
            add(trail.get("s3BucketName"), f"trail {trail.name}")
    for fl in stack.of(FLOW_LOG):
        with stack.deciding():
            if fl.get("logDestinationType") == "s3":
                add(bucket_from_arn(fl.get("logDestination")), f"flow log {fl.name}")
    for waf in stack.of(WEB_ACL_LOGGING):
        with stack.deciding():
            for dest in waf.get("logDestinationConfigs") or []:
                add(bucket_from_arn(dest), f"WAF logging {waf.name}")
    for lg in stack.of(*BUCKET_LOGGING):
        with stack.deciding():
            add(lg.get("targetBucket"), f"S3 server access logs ({lg.name})")
    return out


def _policy_docs(f: BucketFacts) -> list[Any]:
    docs = [p.node.json("policy") for p in f.of(BUCKET_POLICY)]
    inline = f.bucket.node.json("policy")
    if inline:
        docs.append(inline)
    return [d for d in docs if d is not None]


def _check_baseline(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    for name, f in sorted(bucket_facts(stack).items()):
        with stack.deciding():
            pabs = f.of(BUCKET_PAB)
            if not pabs:
                yield f.bucket.urn, f"bucket {name} has no public access block"
            elif not any(all(p.get(flag) is True for flag in PAB_FLAGS) for p in pabs):
                yield f.bucket.urn, f"bucket {name}: its public access block leaves a setting off"
            inline_sse = f.bucket.get("serverSideEncryptionConfiguration", "rule", "applyServerSideEncryptionByDefault", "sseAlgorithm")
            if not f.of(*BUCKET_SSE) and inline_sse not in SSE_ALGORITHMS:
                yield f.bucket.urn, f"bucket {name} has no default encryption configuration"
            if not any(denies_insecure_transport(d) for d in _policy_docs(f)):
                yield f.bucket.urn, f"bucket {name} has no bucket policy that denies requests without TLS"


s3_baseline = KakoiStackPolicy(
    name="kakoi-s3-bucket-baseline",
    description="Every bucket has a public access block with all four settings on, a default encryption configuration and a TLS-only bucket policy.",
    types=BUCKET,
    check=_check_baseline,
    level=MANDATORY,
    severity=HIGH,
    sheet=("NET-1", "ENC-1", "BAK-1"),
    securityhub=("S3.5", "S3.8"),
    remediation=(
        "For each bucket declare aws.s3.BucketPublicAccessBlock (all true), aws.s3.BucketServerSideEncryptionConfiguration "
        "and an aws.s3.BucketPolicy containing s3_policies.deny_insecure_transport."
    ),
)


def _facts_check(predicate: Any, message: str) -> Any:
    def check(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
        targets = log_targets(stack)
        for name, f in sorted(bucket_facts(stack).items()):
            with stack.deciding():
                if not predicate(f, targets.get(name, []), name):
                    yield f.bucket.urn, message.format(name=name)

    return check


def _versioned(f: BucketFacts, _targets: list[str], _name: str) -> bool:
    if any(v.get("versioningConfiguration", "status") == "Enabled" for v in f.of(*BUCKET_VERSIONING)):
        return True
    return f.bucket.get("versioning", "enabled") is True


def _logged(f: BucketFacts, targets: list[str], _name: str) -> bool:
    # the bucket that receives S3 server access logs does not log into itself
    return bool(f.of(*BUCKET_LOGGING)) or any(t.startswith("S3 server access logs") for t in targets) or bool(f.bucket.get("logging"))


def _no_acls(f: BucketFacts, _targets: list[str], _name: str) -> bool:
    return any(o.get("rule", "objectOwnership") == "BucketOwnerEnforced" for o in f.of(BUCKET_OWNERSHIP))


def _has_lifecycle(f: BucketFacts, _targets: list[str], _name: str) -> bool:
    return bool(f.of(*BUCKET_LIFECYCLE)) or bool(f.bucket.get("lifecycleRules"))


def _kms(f: BucketFacts, targets: list[str], _name: str) -> bool:
    if targets:
        return True  # ALB access logs and S3 server access logs can only be delivered to SSE-S3 buckets
    return any(
        rule.get("applyServerSideEncryptionByDefault", "sseAlgorithm") in KMS_ALGORITHMS
        for sse in f.of(*BUCKET_SSE)
        for rule in sse.node.nodes("rules")
    )


s3_versioning = KakoiStackPolicy(
    name="kakoi-s3-versioning",
    description="Every bucket has versioning enabled, so an overwrite or delete can be undone.",
    types=BUCKET,
    check=_facts_check(_versioned, "bucket {name} has no versioning"),
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("REC-1",),
    securityhub=("S3.14",),
    remediation="Declare aws.s3.BucketVersioning(versioning_configuration={'status': 'Enabled'}).",
)
s3_access_logging = KakoiStackPolicy(
    name="kakoi-s3-access-logging",
    description="Every bucket except the S3 access log bucket itself has server access logging.",
    types=BUCKET,
    check=_facts_check(_logged, "bucket {name} has no server access logging"),
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("LOG-1",),
    securityhub=("S3.9",),
    remediation="Declare aws.s3.BucketLogging(target_bucket=<log archive access-logs bucket>).",
)
s3_no_acls = KakoiStackPolicy(
    name="kakoi-s3-no-acls",
    description="Every bucket disables ACLs (object ownership BucketOwnerEnforced).",
    types=BUCKET,
    check=_facts_check(_no_acls, "bucket {name} does not enforce bucket-owner object ownership (ACLs still apply)"),
    level=ADVISORY,
    severity=MEDIUM,
    securityhub=("S3.12",),
    remediation="Declare aws.s3.BucketOwnershipControls(rule={'object_ownership': 'BucketOwnerEnforced'}).",
)
s3_lifecycle = KakoiStackPolicy(
    name="kakoi-s3-lifecycle",
    description="Every bucket has a lifecycle configuration (cold storage, incomplete uploads).",
    types=BUCKET,
    check=_facts_check(_has_lifecycle, "bucket {name} has no lifecycle configuration"),
    level=ADVISORY,
    severity=LOW,
    securityhub=("S3.13",),
    remediation="Declare aws.s3.BucketLifecycleConfiguration with at least an abort-incomplete-multipart-upload rule.",
)
s3_kms = KakoiStackPolicy(
    name="kakoi-s3-kms-encryption",
    description=(
        "Buckets are encrypted with KMS keys; buckets receiving AWS log deliveries are exempt because ALB access logs "
        "and S3 server access logs can only be written to SSE-S3 buckets."
    ),
    types=BUCKET,
    check=_facts_check(_kms, "bucket {name} is not encrypted with a KMS key"),
    level=ADVISORY,
    severity=LOW,
    sheet=("BAK-1",),
    securityhub=("S3.17",),
    remediation="Use sseAlgorithm aws:kms with a customer-managed key (and bucketKeyEnabled).",
)


# --- LOG-1: buckets that receive logs keep them ---------------------------------------------------
def _expiring_rules(f: BucketFacts) -> list[str]:
    out: list[str] = []
    for lc in f.of(*BUCKET_LIFECYCLE):
        for rule in lc.node.nodes("rules"):
            if rule.get("status") != "Enabled":
                continue
            if any(rule.get("expiration", k) for k in ("days", "date")):
                out.append(f"rule {rule.get('id')} expires current objects")
            if rule.has("noncurrentVersionExpiration"):
                out.append(f"rule {rule.get('id')} expires noncurrent versions")
    for rule in f.bucket.node.nodes("lifecycleRules"):
        if rule.get("enabled") is True and (rule.has("expiration") or rule.has("noncurrentVersionExpiration")):
            out.append(f"inline rule {rule.get('id')} expires objects")
    return out


def _locked(f: BucketFacts) -> bool:
    for lock in f.of(*BUCKET_OBJECT_LOCK):
        if lock.get("rule", "defaultRetention"):
            return True
    if f.bucket.get("objectLockConfiguration", "rule", "defaultRetention"):
        return True
    return any(denies_version_deletion(d) for d in _policy_docs(f))


def _check_log_archive(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    facts = bucket_facts(stack)
    for name, sources in sorted(log_targets(stack).items()):
        f = facts.get(name)
        if f is None:
            continue  # a bucket outside this stack: not this stack's to judge
        with stack.deciding():
            what = ", ".join(sorted(set(sources)))
            for problem in _expiring_rules(f):
                yield f.bucket.urn, f"log bucket {name} (receives {what}): lifecycle {problem}"
            if not _versioned(f, sources, name):
                yield f.bucket.urn, f"log bucket {name} (receives {what}) has no versioning"
            if not _locked(f):
                yield (
                    f.bucket.urn,
                    f"log bucket {name} (receives {what}) has neither Object Lock retention nor a policy denying version deletion",
                )
            if not f.bucket.protect:
                yield f.bucket.urn, f"log bucket {name} is not protected from `pulumi destroy` (protect=True)"


log_archive_keeps_logs = KakoiStackPolicy(
    name="kakoi-log-archive-keeps-logs",
    description=(
        "Every bucket that receives logs (load balancer, CloudTrail, flow logs, WAF, S3 access logs) keeps them for good: "
        "no lifecycle expiration, versioning on, Object Lock retention or a deny on version deletion, and protect=True."
    ),
    types=BUCKET,
    check=_check_log_archive,
    level=MANDATORY,
    severity=HIGH,
    sheet=("LOG-1",),
    securityhub=("S3.14", "S3.15"),
    remediation=(
        "Remove expiration from the log bucket's lifecycle (transitions to cold storage only), enable versioning, and add "
        "Object Lock default retention or s3_policies.deny_version_deletion; declare the bucket with protect=True."
    ),
)

POLICIES = [
    s3_public_access_block,
    s3_encryption,
    s3_tls_only,
    s3_tls13,
    s3_data_class,
    s3_baseline,
    s3_versioning,
    s3_access_logging,
    s3_no_acls,
    s3_lifecycle,
    s3_kms,
    log_archive_keeps_logs,
]
