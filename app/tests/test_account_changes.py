"""PWD-1 password change, CSRF-3 notices for email and role changes, CJ-3 typed confirmation."""

from __future__ import annotations

import pytest
from accounts.models import Role, User, UserSession
from conftest import PASSWORD, Tenant, mailed_path
from django.contrib.sessions.models import Session
from django.core import mail
from tenancy.db import tenant_context

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an entirely new passphrase 7"
SESSION_COOKIE = "__Host-sessionid"


def session_key(client) -> str:
    return client.cookies[SESSION_COOKIE].value


def test_pwd1_password_change_needs_the_current_password(client, signed_in, tenant_a: Tenant):
    """PWD-1/CJ-3: a wrong current password changes nothing and sends nothing."""
    signed_in(client, tenant_a.member)
    response = client.post("/account/password/", {"password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 200
    tenant_a.member.refresh_from_db()
    assert tenant_a.member.check_password(PASSWORD)
    assert mail.outbox == []


def test_pwd1_password_change_applies_the_validators(client, signed_in, tenant_a: Tenant):
    """PWD-1: a short or common new password is refused."""
    signed_in(client, tenant_a.member)
    for weak in ("short1", "password1234", "123456789012"):
        response = client.post("/account/password/", {"password": PASSWORD, "new_password1": weak, "new_password2": weak})
        assert response.status_code == 200
    tenant_a.member.refresh_from_db()
    assert tenant_a.member.check_password(PASSWORD)


def test_pwd1_password_change_keeps_this_session_ends_the_others_and_notifies(client, signed_in, tenant_a: Tenant):
    """PWD-1/CSRF-3: new key for this session, every other session deleted, a notice to the registered address."""
    member = tenant_a.member
    other = type(client)()
    signed_in(other, member)
    signed_in(client, member)
    other_key, old_key = session_key(other), session_key(client)
    response = client.post("/account/password/", {"password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD) and not member.check_password(PASSWORD)
    assert member.password.startswith("argon2")
    # This browser stays signed in, with a new session key.
    assert session_key(client) != old_key
    assert client.get("/").status_code == 200
    # The other browser's session is gone server-side.
    assert not Session.objects.filter(session_key=other_key).exists()
    assert other.get("/").status_code == 302
    with tenant_context(member.company_id):
        assert list(UserSession.objects.filter(user=member).values_list("session_key", flat=True)) == [session_key(client)]
    (notice,) = mail.outbox
    assert notice.to == [member.email] and "password was changed" in notice.subject


def test_csrf3_email_change_confirms_the_new_address_and_notifies_both(client, signed_in, tenant_a: Tenant, tenant_b: Tenant):
    """CSRF-3/CJ-3: an email change needs the password, a link sent to the new address, and notifies old and new."""
    member = tenant_a.member
    signed_in(client, member)
    assert client.post("/account/email/", {"password": "wrong", "new_email": "fresh@example.com"}).status_code == 200
    # An address with an account gets the same answer as a free one (no enumeration) and no mail (no relay).
    assert client.post("/account/email/", {"password": PASSWORD, "new_email": tenant_b.member.email}).status_code == 302
    assert [m.to for m in mail.outbox] == [[member.email]]
    mail.outbox.clear()
    assert client.post("/account/email/", {"password": PASSWORD, "new_email": "Fresh@Example.com"}).status_code == 302
    assert {tuple(m.to) for m in mail.outbox} == {("fresh@example.com",), (member.email,)}
    path = mailed_path(next(m for m in mail.outbox if m.to == ["fresh@example.com"]))
    member.refresh_from_db()
    assert member.email == "member-a@example.com"  # nothing changes before confirmation
    assert client.get(path).status_code == 200
    mail.outbox.clear()
    assert client.post(path).status_code == 302
    member.refresh_from_db()
    assert member.email == "fresh@example.com"
    assert {tuple(m.to) for m in mail.outbox} == {("fresh@example.com",), ("member-a@example.com",)}
    # The link is dead once used (it names the old address).
    assert client.post(path).status_code == 404


def test_csrf3_email_change_link_is_bound_to_the_requesting_user(client, signed_in, tenant_a: Tenant):
    """AUTHZ-2: another signed-in user cannot use someone's confirmation link."""
    signed_in(client, tenant_a.member)
    client.post("/account/email/", {"password": PASSWORD, "new_email": "fresh@example.com"})
    path = mailed_path(mail.outbox[0])
    intruder = type(client)()
    signed_in(intruder, tenant_a.manager)
    assert intruder.post(path).status_code == 404
    assert not User.objects.filter(email="fresh@example.com").exists()


def test_csrf3_role_change_needs_the_managers_password_and_notifies(client, signed_in, tenant_a: Tenant):
    """CSRF-3/CJ-3: promoting a member needs the manager's typed password and mails the member."""
    signed_in(client, tenant_a.manager)
    url = f"/members/{tenant_a.member.pk}/role/"
    assert client.post(url, {"role": "manager", "password": "wrong"}).status_code == 400
    tenant_a.member.refresh_from_db()
    assert tenant_a.member.role == Role.MEMBER and mail.outbox == []
    assert client.post(url, {"role": "manager", "password": PASSWORD}).status_code == 302
    tenant_a.member.refresh_from_db()
    assert tenant_a.member.role == Role.MANAGER
    (notice,) = mail.outbox
    assert notice.to == [tenant_a.member.email] and "role" in notice.subject.lower()
    # AUTHZ-1: as a manager now, their second factor is mandatory.
    assert tenant_a.member.effective_second_factor == "email"


def test_csrf3_manager_cannot_change_own_role(client, signed_in, tenant_a: Tenant):
    """AUTHZ-2: a manager cannot demote (or otherwise change) themselves through the role form."""
    signed_in(client, tenant_a.manager)
    assert client.post(f"/members/{tenant_a.manager.pk}/role/", {"role": "member", "password": PASSWORD}).status_code == 400
    tenant_a.manager.refresh_from_db()
    assert tenant_a.manager.role == Role.MANAGER
