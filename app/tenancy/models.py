"""The tenant (a company) and the base class of every tenant-owned table.

Every tenant-owned table carries `company_id`; a migration enables and forces
PostgreSQL row-level security on it with the policy
`company_id = kakoi_current_tenant()` for reads (USING) and writes (WITH CHECK).
`kakoi_current_tenant()` reads the transaction-local setting `app.tenant_id`,
which tenancy.middleware sets per request; with no tenant set it is NULL and the
policy matches no row (fail-closed).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

CONTROLS: dict[str, str] = {
    "ISO-1": "Company is the tenant; every tenant-owned model derives from TenantModel (company FK, UUID pk) and gets a forced RLS policy in its migration",
    "AUTHZ-2": "tenant-owned rows are only visible to the tenant set for the current transaction; unique constraints include company",
}


class Company(models.Model):
    """A customer company: the unit of isolation. Its own row is visible only inside its tenant context."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    #: the language of members without a saved preference (after their browser's) and of their emails,
    #: and the default language of an invitation
    default_language = models.CharField(
        _("default language"), max_length=8, choices=settings.LANGUAGES, default=settings.KAKOI_DEFAULT_LANGUAGE
    )
    #: the time zone of members without their own (an IANA name, checked by the forms against zoneinfo)
    default_time_zone = models.CharField(_("default time zone"), max_length=64, default=settings.KAKOI_DEFAULT_TIME_ZONE)

    class Meta:
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name


class TenantModel(models.Model):
    """Abstract base of tenant-owned tables: UUID primary key and the owning company.

    A subclass's migration must add the RLS statements (see accounts/migrations/0002_rls.py);
    tests/test_isolation_sql.py fails for any table with a company_id column and no forced policy.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", editable=False)
    company_id: uuid.UUID  # the FK's column attribute, declared for type checkers

    class Meta:
        abstract = True
