"""Facts about the whole stack: regions (BAK-1, BCP-1), protection of stateful resources (REC-1), keys."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from .base import ADVISORY, HIGH, MANDATORY, MEDIUM, Cfg, KakoiResourcePolicy, KakoiStackPolicy, Node, Stack, Violation
from .constants import ALLOWED_REGIONS, AWS_PROVIDER, BACKUP_VAULT, BUCKET, DB, KMS_KEY, KMS_REPLICA_KEY

#: services without regions: their resources carry no region of their own
GLOBAL_MODULES = ("aws:iam/", "aws:route53/", "aws:cloudfront/", "aws:organizations/", "aws:shield/")


def _check_regions(stack: Stack, cfg: Cfg) -> Iterator[Violation]:
    allowed = [str(r) for r in cfg["allowedRegions"]]
    for provider in stack.of(AWS_PROVIDER):
        with stack.deciding():
            region = provider.get("region")
            if region and str(region) not in allowed:
                yield provider.urn, f"AWS provider {provider.name} targets {region}; allowed: {allowed}"
    for res in stack.resources:
        if not res.type.startswith("aws:") or res.type.startswith(GLOBAL_MODULES):
            continue
        with stack.deciding():
            region = res.region()
            if not region:
                stack.undecided.append(f"{res.name} region")
            elif region not in allowed:
                yield res.urn, f"{res.type.split(':')[-1]} {res.name} is in {region}; allowed: {allowed}"


allowed_regions = KakoiStackPolicy(
    name="kakoi-gov-allowed-regions",
    description=(
        "Every resource lives in the primary region (ap-northeast-1, Tokyo) or the DR region (ap-northeast-3, Osaka by "
        "default): data and backups stay in Japan."
    ),
    types=(AWS_PROVIDER,),
    check=_check_regions,
    level=MANDATORY,
    severity=HIGH,
    sheet=("BAK-1", "BCP-1"),
    securityhub=(),
    remediation="Pass region=<drRegion> only for DR copies; everything else uses the stack's provider (aws:region ap-northeast-1).",
    config={
        "allowedRegions": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "description": "Regions resources may be created in.",
            "default": list(ALLOWED_REGIONS),
        }
    },
)

STATEFUL = [*BUCKET, DB, KMS_KEY, KMS_REPLICA_KEY, BACKUP_VAULT, "aws:dynamodb/table:Table", "aws:efs/fileSystem:FileSystem"]


def _check_protected(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type in set(cfg["types"]) and not args.opts.protect:
        yield f"{args.resource_type.split(':')[-1]} holds data but is not protected: `pulumi destroy` or a replacement would delete it"


stateful_protected = KakoiResourcePolicy(
    name="kakoi-rec-stateful-protected",
    description="Databases, buckets, keys and backup vaults are declared with protect=True so no update or destroy can delete them.",
    types=STATEFUL,
    check=_check_protected,
    level=MANDATORY,
    severity=HIGH,
    sheet=("REC-1", "BAK-2"),
    securityhub=("KMS.3",),
    remediation="Declare the resource with opts=ResourceOptions(protect=True, retain_on_delete=True).",
    config={
        "types": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Resource types that must be protected.",
            "default": STATEFUL,
        }
    },
)


def _check_rotation(props: Node, cfg: Cfg, args: ResourceValidationArgs) -> Iterator[str]:
    spec = props.get("customerMasterKeySpec") or props.get("keySpec") or "SYMMETRIC_DEFAULT"
    usage = props.get("keyUsage") or "ENCRYPT_DECRYPT"
    if spec == "SYMMETRIC_DEFAULT" and usage == "ENCRYPT_DECRYPT" and props.get("enableKeyRotation") is not True:
        yield "automatic key rotation is off (enableKeyRotation, default false)"


kms_rotation = KakoiResourcePolicy(
    name="kakoi-kms-key-rotation",
    description="Symmetric KMS keys rotate their key material automatically (omitted means no rotation).",
    types=(KMS_KEY,),
    check=_check_rotation,
    level=ADVISORY,
    severity=MEDIUM,
    sheet=("BAK-1",),
    securityhub=("KMS.4",),
    remediation="Set enableKeyRotation=true (rotationPeriodInDays 365).",
)

POLICIES = [allowed_regions, stateful_protected, kms_rotation]
