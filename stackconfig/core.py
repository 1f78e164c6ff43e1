"""Project-wide settings: regions, environment and the tags every resource carries."""

from __future__ import annotations

from dataclasses import dataclass

from .policy import JAPAN_REGIONS, mandatory
from .reader import REGION_PATTERN, Reader

ENVIRONMENTS = ("production", "staging", "development")
DATA_CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")


@dataclass(frozen=True)
class CoreConfig:
    project: str
    stack: str
    region: str
    dr_region: str
    environment: str
    owner: str
    data_classification: str
    #: regions resources may live in (the policy pack checks the same list)
    allowed_regions: tuple[str, ...]

    def policy_mandatory(self, policy: str) -> bool:
        """Whether the pack's `policy` is mandatory on this stack (policies/kakoi_policy/levels.py lists the exceptions)."""
        return mandatory(self.stack, policy)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def tags(self) -> dict[str, str]:
        """The tags every taggable resource carries (applied as provider default tags)."""
        return {
            "project": self.project,
            "stack": self.stack,
            "environment": self.environment,
            "owner": self.owner,
            "data-classification": self.data_classification,
        }

    @property
    def name_prefix(self) -> str:
        """Short physical-name prefix, e.g. `kakoi-prod`."""
        return f"{self.project}-{self.stack}"


def load(r: Reader, *, project: str, stack: str) -> CoreConfig:
    region = r.string("aws:region", pattern=REGION_PATTERN, describe="an AWS region name")
    dr_region = r.string("drRegion", pattern=REGION_PATTERN, describe="an AWS region name")
    # kakoi-gov-allowed-regions (BAK-1, BCP-1): data and backups stay in Japan
    for key, value in (("aws:region", region), ("drRegion", dr_region)):
        if r.ok(key) and value not in JAPAN_REGIONS:
            r.fail(
                key,
                f"{value!r} is not one of {', '.join(JAPAN_REGIONS)}: data and backups stay in Japan (BAK-1, BCP-1; "
                "kakoi-gov-allowed-regions)",
            )
    if r.ok("aws:region", "drRegion") and region == dr_region:
        r.fail("drRegion", f"must differ from aws:region ({region}); backups are copied to another region (BCP-1)")
    return CoreConfig(
        project=project,
        stack=stack,
        region=region,
        dr_region=dr_region,
        environment=r.string("environment", choices=ENVIRONMENTS),
        owner=r.string("owner", pattern=r"[A-Za-z0-9 ._:/=+@-]{1,128}", describe="a valid tag value (1-128 characters)"),
        data_classification=r.string("dataClassification", choices=DATA_CLASSIFICATIONS),
        allowed_regions=(region, dr_region),
    )
