"""The sign-in flow: password, then the second factor (PWD-2, AUTHZ-1, SES-1, USR-1)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from accounts.models import LoginChallenge, Role, SecondFactor, User, UserSession
from conftest import PASSWORD, Tenant, mailed_path, make_user
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from pyotp.totp import TOTP
from tenancy.db import tenant_context

pytestmark = pytest.mark.django_db

CODE = re.compile(r"sign-in code is (\d{6})")
SESSION_COOKIE = "__Host-sessionid"


def last_code(to: str) -> str:
    for message in reversed(mail.outbox):
        if message.to == [to] and (match := CODE.search(str(message.body))):
            return match.group(1)
    raise AssertionError(f"no code mailed to {to}")


def password_step(client, user: User):
    return client.post("/login/", {"email": user.email, "password": PASSWORD})


def challenges(user: User) -> list[LoginChallenge]:
    with tenant_context(user.company_id):
        return list(LoginChallenge.objects.filter(user=user).order_by("created_at"))


def is_signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_ses1_member_without_second_factor_signs_in_with_a_new_session_key(client, tenant_a: Tenant):
    """SES-1: the session key changes at login; the session is tracked for later termination."""
    client.get("/login/")
    before = client.cookies.get(SESSION_COOKIE)
    response = password_step(client, tenant_a.member)
    assert response.status_code == 302 and response["Location"] == "/"
    after = client.cookies[SESSION_COOKIE].value
    assert before is None or before.value != after
    assert len(after) >= 32
    assert is_signed_in(client)
    with tenant_context(tenant_a.company.pk):
        assert UserSession.objects.filter(user=tenant_a.member, session_key=after).exists()


def test_authz1_manager_must_pass_the_emailed_code(client, tenant_a: Tenant):
    """AUTHZ-1/PWD-2: the right password alone does not sign a manager in; the code mailed to them does."""
    response = password_step(client, tenant_a.manager)
    assert response["Location"] == "/login/verify/"
    assert not is_signed_in(client)
    pending_key = client.cookies[SESSION_COOKIE].value
    code = last_code(tenant_a.manager.email)
    response = client.post("/login/verify/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.cookies[SESSION_COOKIE].value != pending_key  # SES-1: new key after the second factor
    assert is_signed_in(client)


def test_authz1_manager_cannot_turn_the_second_factor_off(client, signed_in, tenant_a: Tenant, mailoutbox):
    """AUTHZ-1: the second factor is mandatory for managers."""
    signed_in(client, tenant_a.manager)
    response = client.post("/account/security/disable/", {"password": PASSWORD})
    assert response.status_code == 400
    tenant_a.manager.refresh_from_db()
    assert tenant_a.manager.effective_second_factor == SecondFactor.EMAIL
    assert mailoutbox == []


def test_pwd2_code_is_stored_hashed_and_expires_within_ten_minutes(client, tenant_a: Tenant):
    """PWD-2: only an HMAC of the code is stored; the challenge lives at most 10 minutes."""
    password_step(client, tenant_a.manager)
    code = last_code(tenant_a.manager.email)
    (challenge,) = challenges(tenant_a.manager)
    assert code not in challenge.code_hash and len(challenge.code_hash) == 64
    assert challenge.last_sent_at is not None
    assert challenge.expires_at - challenge.last_sent_at <= timedelta(minutes=10)
    assert challenge.expires_at <= timezone.now() + timedelta(minutes=10)
    with connection.cursor() as cursor, tenant_context(tenant_a.company.pk):
        cursor.execute("SELECT count(*) FROM accounts_loginchallenge WHERE code_hash LIKE %s", [f"%{code}%"])
        assert cursor.fetchone() == (0,)


def test_pwd2_code_is_single_use(client, tenant_a: Tenant):
    """PWD-2: a code that signed in once cannot sign in again."""
    password_step(client, tenant_a.manager)
    code = last_code(tenant_a.manager.email)
    assert client.post("/login/verify/", {"code": code})["Location"] == "/"
    client.post("/logout/")
    # Replaying the old code in a fresh attempt fails (the new attempt has its own code).
    password_step(client, tenant_a.manager)
    response = client.post("/login/verify/", {"code": code})
    assert response.status_code == 200 and b"incorrect" in response.content
    assert not is_signed_in(client)


def test_pwd2_expired_code_is_refused(client, tenant_a: Tenant):
    """PWD-2: after its expiry a correct code no longer signs in."""
    password_step(client, tenant_a.manager)
    code = last_code(tenant_a.manager.email)
    with tenant_context(tenant_a.company.pk):
        LoginChallenge.objects.filter(user=tenant_a.manager).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post("/login/verify/", {"code": code})
    assert response["Location"] == "/login/"
    assert not is_signed_in(client)


def test_pwd2_code_is_bound_to_its_login_attempt(client, tenant_a: Tenant):
    """PWD-2: a code works only in the attempt it was sent for; a newer attempt kills older codes."""
    other = type(client)()
    password_step(client, tenant_a.manager)
    first_code = last_code(tenant_a.manager.email)
    password_step(other, tenant_a.manager)
    second_code = last_code(tenant_a.manager.email)
    # The first browser's attempt was superseded: even its own code is dead.
    assert client.post("/login/verify/", {"code": first_code})["Location"] == "/login/"
    # The second attempt does not accept the first attempt's code.
    if first_code != second_code:
        response = other.post("/login/verify/", {"code": first_code})
        assert response.status_code == 200
    assert other.post("/login/verify/", {"code": second_code})["Location"] == "/"


def test_pwd2_code_of_another_user_does_not_work(client, tenant_a: Tenant, tenant_b: Tenant):
    """PWD-2: the HMAC binds the code to one challenge: B's code does not complete A's login."""
    other = type(client)()
    password_step(client, tenant_a.manager)
    code_a = last_code(tenant_a.manager.email)
    password_step(other, tenant_b.manager)
    code_b = last_code(tenant_b.manager.email)
    if code_a != code_b:
        assert client.post("/login/verify/", {"code": code_b}).status_code == 200
        assert not is_signed_in(client)


def test_pwd2_five_wrong_codes_end_the_attempt(client, tenant_a: Tenant):
    """PWD-2: at most 5 tries per challenge; then even the right code is refused."""
    password_step(client, tenant_a.manager)
    code = last_code(tenant_a.manager.email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert client.post("/login/verify/", {"code": wrong}).status_code == 200
    assert client.post("/login/verify/", {"code": wrong})["Location"] == "/login/"
    assert client.post("/login/verify/", {"code": code})["Location"] == "/login/"
    assert not is_signed_in(client)


def test_pwd2_resend_is_rate_limited_and_replaces_the_code(client, tenant_a: Tenant):
    """PWD-2: a new code only after the resend interval, at most 3 sends; the old code dies."""
    password_step(client, tenant_a.manager)
    first = last_code(tenant_a.manager.email)
    sent = len(mail.outbox)
    client.post("/login/verify/resend/")
    assert len(mail.outbox) == sent  # too soon
    with tenant_context(tenant_a.company.pk):
        LoginChallenge.objects.filter(user=tenant_a.manager).update(last_sent_at=timezone.now() - timedelta(minutes=2))
    client.post("/login/verify/resend/")
    assert len(mail.outbox) == sent + 1
    second = last_code(tenant_a.manager.email)
    with tenant_context(tenant_a.company.pk):
        LoginChallenge.objects.filter(user=tenant_a.manager).update(last_sent_at=timezone.now() - timedelta(minutes=2))
    client.post("/login/verify/resend/")
    assert len(mail.outbox) == sent + 2
    third = last_code(tenant_a.manager.email)
    with tenant_context(tenant_a.company.pk):
        LoginChallenge.objects.filter(user=tenant_a.manager).update(last_sent_at=timezone.now() - timedelta(minutes=2))
    client.post("/login/verify/resend/")
    assert len(mail.outbox) == sent + 2  # three sends at most
    for old in {first, second} - {third}:
        assert client.post("/login/verify/", {"code": old}).status_code == 200
    assert client.post("/login/verify/", {"code": third})["Location"] == "/"


def test_pwd2_resend_is_post_only(client, tenant_a: Tenant):
    """CSRF-1: resending a code is a state change: GET is refused."""
    password_step(client, tenant_a.manager)
    assert client.get("/login/verify/resend/").status_code == 405


def test_pwd2_member_may_opt_in_to_the_emailed_code(client, signed_in, tenant_a: Tenant, mailoutbox):
    """PWD-2/CSRF-3: a member turns on the emailed code (password required), gets a notice, then needs the code."""
    signed_in(client, tenant_a.member)
    assert client.post("/account/security/email/", {"password": "wrong"}).status_code == 400
    assert client.post("/account/security/email/", {"password": PASSWORD}).status_code == 302
    assert [m.to for m in mailoutbox] == [[tenant_a.member.email]]
    assert "security changed" in mailoutbox[0].subject
    client.post("/logout/")
    assert password_step(client, tenant_a.member)["Location"] == "/login/verify/"
    assert client.post("/login/verify/", {"code": last_code(tenant_a.member.email)})["Location"] == "/"


def test_pwd2_totp_enrolment_and_login_refuse_replay(client, signed_in, tenant_a: Tenant, mailoutbox):
    """PWD-2: TOTP as second factor; a code (time step) that was used once is refused afterwards."""
    member = tenant_a.member
    signed_in(client, member)
    response = client.post("/account/security/totp/", {"action": "start"})
    assert response.status_code == 200
    secret = response.context["secret"]
    totp = TOTP(secret)
    response = client.post("/account/security/totp/", {"action": "confirm", "password": PASSWORD, "code": totp.now()})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.second_factor == SecondFactor.TOTP and member.totp_secret == secret
    assert any("authenticator" in m.body for m in mailoutbox)
    client.post("/logout/")
    # The step used at enrolment cannot be replayed; the next step's code works.
    assert password_step(client, member)["Location"] == "/login/verify/"
    assert client.post("/login/verify/", {"code": totp.now()}).status_code == 200
    next_code = totp.at(timezone.now() + timedelta(seconds=30))
    assert client.post("/login/verify/", {"code": next_code})["Location"] == "/"
    client.post("/logout/")
    password_step(client, member)
    assert client.post("/login/verify/", {"code": next_code}).status_code == 200


def test_ses1_logout_is_post_only_and_ends_the_session(client, tenant_a: Tenant):
    """SES-1/CSRF-1: logout is POST only and deletes the session server-side."""
    password_step(client, tenant_a.member)
    key = client.cookies[SESSION_COOKIE].value
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    with tenant_context(tenant_a.company.pk):
        assert not UserSession.objects.filter(session_key=key).exists()


def test_login_error_is_the_same_for_unknown_address_and_wrong_password(client, tenant_a: Tenant):
    """USR-1: the login form does not reveal whether an address has an account."""
    unknown = client.post("/login/", {"email": "nobody@example.com", "password": PASSWORD})
    wrong = client.post("/login/", {"email": tenant_a.member.email, "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.context["form"].non_field_errors() == wrong.context["form"].non_field_errors()


def test_login_next_parameter_cannot_redirect_off_site(client, tenant_a: Tenant):
    """SES-4: the post-login redirect stays on this site."""
    response = client.post("/login/?next=https://evil.example/", {"email": tenant_a.member.email, "password": PASSWORD})
    assert response["Location"] == "/"


@pytest.mark.parametrize("next_value", ["0", "home", "logout", "javascript:alert(1)", "//evil.example/", "\\evil.example"])
def test_audit1_login_next_that_is_not_a_local_path_is_ignored(client, tenant_a: Tenant, next_value: str):
    """AUDIT-1/SES-4: a `next` that is not a local path (a bare word redirect() would take for a view
    name, a scheme, a protocol-relative URL) goes to the default page instead of a 500 or off site."""
    response = client.post("/login/", {"email": tenant_a.member.email, "password": PASSWORD, "next": next_value})
    assert response.status_code == 302
    assert response["Location"] == "/"


# --- one account per address (USR-1) --------------------------------------------------------


def test_usr1_one_account_per_address_across_tenants(tenant_a: Tenant, tenant_b: Tenant):
    """USR-1: the same address (in any case) cannot get a second account, even in another company."""
    with pytest.raises(ValidationError), transaction.atomic():
        make_user(tenant_b.company, tenant_a.member.email.upper())
    # Even bypassing the model's normalization and validation, the index on lower(email) refuses it.
    with pytest.raises(IntegrityError), transaction.atomic(), tenant_context(tenant_b.company.pk):
        User(email=tenant_a.member.email.upper(), company=tenant_b.company).save()
    with pytest.raises(IntegrityError), transaction.atomic(), tenant_context(tenant_b.company.pk):
        User.objects.filter(pk=tenant_b.member.pk).update(email=tenant_a.member.email.upper())


def test_usr1_invitation_flow_creates_one_account_in_the_inviters_company(client, signed_in, tenant_a: Tenant, tenant_b: Tenant):
    """USR-1: a manager invites an address; the signed link works once and creates the account in that company."""
    signed_in(client, tenant_a.manager)
    # An address with an account anywhere gets the same answer (no enumeration); accepting is refused (below).
    assert client.post("/members/invite/", {"email": tenant_b.member.email.upper(), "role": "member"}).status_code == 302
    response = client.post("/members/invite/", {"email": "New.Person@Example.com", "role": "member"})
    assert response.status_code == 302
    (invite_mail,) = [m for m in mail.outbox if m.to == ["new.person@example.com"]]
    path = mailed_path(invite_mail)
    client.post("/logout/")
    guest = type(client)()
    assert guest.get(path).status_code == 200
    response = guest.post(path, {"name": "New Person", "password1": "a fine long passphrase", "password2": "a fine long passphrase"})
    assert response["Location"] == "/login/"
    user = User.objects.get(email="new.person@example.com")
    assert user.company_id == tenant_a.company.pk and user.role == Role.MEMBER
    # Single use.
    assert guest.get(path).status_code == 404
    assert guest.post(path, {"password1": "another fine passphrase", "password2": "another fine passphrase"}).status_code == 404


def test_usr1_invitation_link_tampered_or_expired_is_404(client, signed_in, tenant_a: Tenant):
    """USR-1: a forged or expired invitation token is refused."""
    signed_in(client, tenant_a.manager)
    client.post("/members/invite/", {"email": "late@example.com", "role": "member"})
    (invite_mail,) = [m for m in mail.outbox if m.to == ["late@example.com"]]
    path = mailed_path(invite_mail)
    client.post("/logout/")
    guest = type(client)()
    token = path.split("/")[-2]
    assert guest.get(path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))).status_code == 404
    with tenant_context(tenant_a.company.pk):
        from accounts.models import Invitation

        Invitation.objects.filter(email="late@example.com").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert guest.get(path).status_code == 404


def test_usr1_new_password_validators_apply_to_invitations(client, signed_in, tenant_a: Tenant):
    """PWD-1: the password validators (length, common, numeric) apply when an account is created."""
    signed_in(client, tenant_a.manager)
    client.post("/members/invite/", {"email": "weak@example.com", "role": "manager"})
    path = mailed_path(mail.outbox[-1])
    client.post("/logout/")
    guest = type(client)()
    response = guest.post(path, {"password1": "12345678", "password2": "12345678"})
    assert response.status_code == 200
    assert not User.objects.filter(email="weak@example.com").exists()
