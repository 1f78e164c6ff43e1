"""AUTHZ-2 / ISO-1 at the HTTP level: for every view that takes an ID, another tenant's ID answers
the same 404 as an ID that does not exist, and nothing of the other tenant changes."""

from __future__ import annotations

import re
import uuid

import pytest
from accounts.models import Invitation, User
from conftest import PASSWORD, Tenant
from django.urls import URLPattern, URLResolver, get_resolver
from tenancy.db import tenant_context

pytestmark = pytest.mark.django_db


def without_csrf_token(body: bytes) -> bytes:
    """The page minus the (per-response masked) CSRF token of the sign-out form."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", body)


def uuid_routes(app: str | None = "accounts") -> list[tuple[str, list[str]]]:
    """(route name, [uuid parameter names]) of every URL pattern with a UUID in it, in one app's namespace (None: all)."""
    found: list[tuple[str, list[str]]] = []

    def walk(patterns: list, namespace: str = "") -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern):
                converters = pattern.pattern.converters
                names = [name for name, conv in converters.items() if type(conv).__name__ == "UUIDConverter"]
                if names:
                    found.append((f"{namespace}{pattern.name}", names))

    walk(get_resolver().url_patterns)
    return [route for route in found if app is None or route[0].startswith(f"{app}:")]


def make_recording(tenant: Tenant) -> uuid.UUID:
    from media.models import Recording, Status
    from storage import s3

    with tenant_context(tenant.company.pk):
        recording = Recording.objects.create(
            company=tenant.company,
            owner=tenant.member,
            object_key=s3.new_object_key(tenant.company.pk, tenant.member.pk),
            content_type="audio/mpeg",
            size_bytes=1,
            display_name="b's recording",
            status=Status.READY,
        )
    return recording.pk


# Tenant B's object for each kind of ID parameter. A route with a new kind of ID fails
# test_authz2_every_id_route_is_covered until its kind is added here.
FOREIGN_OBJECTS = {
    "user_id": lambda b: b.member.pk,
    "invitation_id": lambda b: b.invitation.pk,
    "recording_id": make_recording,
}


def test_authz2_every_id_route_is_covered():
    """AUTHZ-2: every kind of ID a route takes has a foreign object below (a new kind fails here until added)."""
    routes = dict(uuid_routes())
    assert {"accounts:member-detail", "accounts:member-role", "accounts:member-delete", "accounts:invitation-revoke"} <= set(routes)
    for name, params in routes.items():
        for parameter in params:
            assert parameter in FOREIGN_OBJECTS, (name, parameter)


@pytest.mark.parametrize("method", ["get", "post"])
def test_authz2_other_tenants_ids_answer_404_like_missing_ids(client, signed_in, tenant_a: Tenant, tenant_b: Tenant, method: str):
    """AUTHZ-2: a manager of A gets 404 for B's IDs on every ID route and method, with the same body as a random ID."""
    from django.urls import reverse

    signed_in(client, tenant_a.manager)
    foreign_ids = {kind: factory(tenant_b) for kind, factory in FOREIGN_OBJECTS.items()}
    data = {"role": "manager", "password": PASSWORD, "confirm_email": tenant_b.member.email, "name": "renamed", "confirm": "DELETE"}
    for name, params in uuid_routes():
        foreign = reverse(name, kwargs={p: foreign_ids[p] for p in params})
        missing = reverse(name, kwargs={p: uuid.uuid4() for p in params})
        foreign_response = getattr(client, method)(foreign, data)
        missing_response = getattr(client, method)(missing, data)
        if foreign_response.status_code == 405:  # the route does not take this method at all
            assert missing_response.status_code == 405
            continue
        assert foreign_response.status_code == 404, (name, method)
        assert missing_response.status_code == 404, (name, method)
        assert without_csrf_token(foreign_response.content) == without_csrf_token(missing_response.content), name
    # Nothing of B changed.
    with tenant_context(tenant_b.company.pk):
        assert User.objects.get(pk=tenant_b.member.pk).role == "member"
        assert Invitation.objects.filter(pk=tenant_b.invitation.pk).exists()


def test_authz2_own_tenants_ids_work(client, signed_in, tenant_a: Tenant):
    """AUTHZ-2 (control): the same routes do answer for A's own objects, so the 404s above are about the tenant."""
    from django.urls import reverse

    signed_in(client, tenant_a.manager)
    assert client.get(reverse("accounts:member-detail", kwargs={"user_id": tenant_a.member.pk})).status_code == 200
    assert client.get(reverse("accounts:member-delete", kwargs={"user_id": tenant_a.member.pk})).status_code == 200
    response = client.post(reverse("accounts:invitation-revoke", kwargs={"invitation_id": tenant_a.invitation.pk}))
    assert response.status_code == 302
    with tenant_context(tenant_a.company.pk):
        assert not Invitation.objects.filter(pk=tenant_a.invitation.pk).exists()


def test_authz2_members_cannot_use_manager_views(client, signed_in, tenant_a: Tenant):
    """AUTHZ-2: a member gets 403 on every manager view, even for IDs of their own company."""
    from django.urls import reverse

    signed_in(client, tenant_a.member)
    assert client.get(reverse("accounts:members")).status_code == 403
    assert client.post(reverse("accounts:invite"), {"email": "x@example.com", "role": "manager"}).status_code == 403
    for name, params in uuid_routes():
        kwargs = {p: {"user_id": tenant_a.manager.pk, "invitation_id": tenant_a.invitation.pk}[p] for p in params}
        assert client.post(reverse(name, kwargs=kwargs), {"role": "member", "password": PASSWORD}).status_code in (403, 405)
    tenant_a.manager.refresh_from_db()
    assert tenant_a.manager.role == "manager"


def test_authz2_member_list_shows_only_the_own_tenant(client, signed_in, tenant_a: Tenant, tenant_b: Tenant):
    """AUTHZ-2: the members page lists the manager's company only."""
    signed_in(client, tenant_a.manager)
    page = client.get("/members/").content.decode()
    assert tenant_a.member.email in page and tenant_a.invitation.email in page
    assert tenant_b.member.email not in page and tenant_b.manager.email not in page and tenant_b.invitation.email not in page
