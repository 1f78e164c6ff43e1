"""USR-2 / CJ-3: account deletion leaves nothing behind (rows, sessions, S3 objects in moto) and sends a notice."""

from __future__ import annotations

import pytest
from accounts.models import Invitation, LoginChallenge, User, UserSession
from conftest import PASSWORD, Tenant
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from storage import s3
from storage.models import PurgeRequest
from storage.purge import schedule_purge
from tenancy.db import tenant_context
from tenancy.models import Company

pytestmark = pytest.mark.django_db
SESSION_COOKIE = "__Host-sessionid"


def put_objects(client, company_id, user_id, count: int = 3) -> list[str]:
    """Objects under the user's prefix, each with two versions and one with a delete marker."""
    keys = []
    for _ in range(count):
        key = s3.new_object_key(company_id, user_id)
        client.put_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=key, Body=b"v1")
        client.put_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=key, Body=b"v2")
        keys.append(key)
    client.delete_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=keys[0])  # leaves a delete marker
    return keys


def versions_under(client, prefix: str) -> int:
    page = client.list_object_versions(Bucket=settings.KAKOI_MEDIA_BUCKET, Prefix=prefix)
    return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))


def test_usr2_self_deletion_needs_the_password(client, signed_in, tenant_a: Tenant, aws):
    """CJ-3: a click is not enough: without the right password nothing is deleted."""
    signed_in(client, tenant_a.member)
    assert client.post("/account/delete/", {}).status_code == 200
    assert client.post("/account/delete/", {"password": "wrong"}).status_code == 200
    assert User.objects.filter(pk=tenant_a.member.pk).exists()
    assert mail.outbox == []


def test_usr2_self_deletion_leaves_nothing_behind(client, signed_in, tenant_a: Tenant, aws):
    """USR-2: rows, every session (other browsers too), all S3 object versions, and a notice to the address."""
    member = tenant_a.member
    other_browser = type(client)()
    signed_in(other_browser, member)
    signed_in(client, member)
    keys = {session.value for session in (client.cookies[SESSION_COOKIE], other_browser.cookies[SESSION_COOKIE])}
    with tenant_context(member.company_id):
        LoginChallenge.objects.create(company=tenant_a.company, user=member, method="email", expires_at=timezone.now())
    prefix = s3.user_prefix(member.company_id, member.pk)
    put_objects(aws, member.company_id, member.pk)
    manager_prefix = s3.user_prefix(member.company_id, tenant_a.manager.pk)
    put_objects(aws, member.company_id, tenant_a.manager.pk, count=1)
    assert versions_under(aws, prefix) == 7

    response = client.post("/account/delete/", {"password": PASSWORD})
    assert response.status_code == 200 and b"deleted" in response.content

    assert not User.objects.filter(pk=member.pk).exists()
    with tenant_context(member.company_id):
        assert not UserSession.objects.filter(user_id=member.pk).exists()
        assert not LoginChallenge.objects.filter(user_id=member.pk).exists()
        assert Company.objects.filter(pk=member.company_id).exists()  # the company still has its manager
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert other_browser.get("/").status_code == 302
    assert versions_under(aws, prefix) == 0
    assert versions_under(aws, manager_prefix) == 3  # someone else's objects stay
    assert not PurgeRequest.objects.exists()
    (notice,) = mail.outbox
    assert notice.to == [member.email] and "deleted" in notice.subject


def test_usr2_manager_deletes_a_member_with_typed_confirmation(client, signed_in, tenant_a: Tenant, aws):
    """USR-2/CJ-3: the manager must type the member's address; then the member is gone with sessions and objects."""
    member = tenant_a.member
    member_browser = type(client)()
    signed_in(member_browser, member)
    put_objects(aws, member.company_id, member.pk, count=2)
    signed_in(client, tenant_a.manager)
    url = f"/members/{member.pk}/delete/"
    assert client.post(url, {"confirm_email": "someone-else@example.com"}).status_code == 200
    assert client.post(url, {}).status_code == 200
    assert User.objects.filter(pk=member.pk).exists()
    assert client.post(url, {"confirm_email": member.email.upper()}).status_code == 302
    assert not User.objects.filter(pk=member.pk).exists()
    assert member_browser.get("/").status_code == 302
    assert versions_under(aws, s3.user_prefix(member.company_id, member.pk)) == 0
    (notice,) = mail.outbox
    assert notice.to == [member.email] and tenant_a.manager.email in notice.body


def test_usr2_manager_cannot_delete_another_manager_or_themselves_here(client, signed_in, tenant_a: Tenant, aws):
    """USR-2: the member-deletion view deletes members only."""
    signed_in(client, tenant_a.manager)
    url = f"/members/{tenant_a.manager.pk}/delete/"
    assert client.post(url, {"confirm_email": tenant_a.manager.email}).status_code == 200
    assert User.objects.filter(pk=tenant_a.manager.pk).exists()


def test_usr2_last_manager_cannot_leave_members_without_a_manager(client, signed_in, tenant_a: Tenant, aws):
    """USR-2: the only manager of a company with members must hand over first."""
    signed_in(client, tenant_a.manager)
    response = client.post("/account/delete/", {"password": PASSWORD})
    assert response.status_code == 200 and b"only manager" in response.content
    assert User.objects.filter(pk=tenant_a.manager.pk).exists()


def test_usr2_last_user_takes_the_company_and_its_objects_along(client, signed_in, tenant_a: Tenant, tenant_b: Tenant, aws):
    """USR-2: when the last user goes, the company's rows and its whole S3 prefix go too; other tenants stay."""
    company_id = tenant_a.company.pk
    with tenant_context(company_id):
        User.objects.filter(pk=tenant_a.member.pk).delete()
    put_objects(aws, company_id, tenant_a.manager.pk, count=2)
    put_objects(aws, tenant_b.company.pk, tenant_b.member.pk, count=1)
    signed_in(client, tenant_a.manager)
    assert client.post("/account/delete/", {"password": PASSWORD}).status_code == 200
    with tenant_context(company_id):
        assert not Company.objects.filter(pk=company_id).exists()
        assert not Invitation.objects.exists()
    assert not User.objects.filter(company_id=company_id).exists()
    assert versions_under(aws, s3.tenant_prefix(company_id)) == 0
    assert versions_under(aws, s3.tenant_prefix(tenant_b.company.pk)) == 3
    with tenant_context(tenant_b.company.pk):
        assert Company.objects.filter(pk=tenant_b.company.pk).exists()


def test_usr2_objects_are_not_touched_when_the_deletion_rolls_back(tenant_a: Tenant, aws, django_capture_on_commit_callbacks):
    """USR-2: the purge runs only after COMMIT: a rolled-back deletion keeps every object."""
    prefix = s3.user_prefix(tenant_a.company.pk, tenant_a.member.pk)
    put_objects(aws, tenant_a.company.pk, tenant_a.member.pk, count=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                schedule_purge(prefix)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert callbacks == []
    assert versions_under(aws, prefix) == 3


def test_usr2_failed_purge_stays_queued_and_the_command_retries(tenant_a: Tenant, aws, settings, django_capture_on_commit_callbacks):
    """USR-2: if S3 fails after commit, the purge stays queued; `manage.py purge_objects` finishes it."""
    prefix = s3.user_prefix(tenant_a.company.pk, tenant_a.member.pk)
    put_objects(aws, tenant_a.company.pk, tenant_a.member.pk, count=1)
    bucket = settings.KAKOI_MEDIA_BUCKET
    settings.KAKOI_MEDIA_BUCKET = "no-such-bucket"
    with django_capture_on_commit_callbacks(execute=True):
        schedule_purge(prefix)
    (queued,) = PurgeRequest.objects.all()
    assert queued.attempts == 1 and "NoSuchBucket" in queued.last_error
    settings.KAKOI_MEDIA_BUCKET = bucket
    call_command("purge_objects", verbosity=0)
    assert not PurgeRequest.objects.exists()
    assert versions_under(aws, prefix) == 0
