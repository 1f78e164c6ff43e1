"""Issue 12's findings, one request at a time: re-authentication throttle, lock-out by strangers, IPv6 /64,
enumeration, single-use email-change links, promotion and the second factor, a demoted manager's
invitations, 4xx instead of 500, and GET requests that never write. (Races: test_races.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from accounts import throttle
from accounts.models import Invitation, Role, User
from conftest import PASSWORD, Tenant, mailed_path
from django.conf import settings
from django.core import mail
from django.urls import reverse
from media import objects
from media.models import Recording, ScanCheck, Status
from tenancy.db import tenant_context

pytestmark = pytest.mark.django_db

IP = "203.0.113.40"


@pytest.fixture
def small_limits(settings: Any) -> None:
    settings.KAKOI_THROTTLE = {**settings.KAKOI_THROTTLE, "reauth-user": (3, 900), "reauth-ip": (5, 900)}
    settings.KAKOI_REAUTH_NOTICE_AFTER = 2


def post(client: Any, path: str, data: dict[str, str], ip: str = IP) -> Any:
    return client.post(path, data, HTTP_X_FORWARDED_FOR=ip)


# --- 1: every re-authentication is throttled ------------------------------------------------------

#: every endpoint that checks the current password (CurrentPasswordForm and subclasses), with the other fields
REAUTH_ENDPOINTS: list[tuple[str, dict[str, str]]] = [
    ("accounts:password-change", {"new_password1": "a new fine passphrase", "new_password2": "a new fine passphrase"}),
    ("accounts:email-change", {"new_email": "elsewhere@example.com"}),
    ("accounts:security-email", {}),
    ("accounts:security-disable", {}),
    ("accounts:delete-account", {}),
    ("accounts:member-role", {"role": "manager"}),
]


def _path(name: str, tenant: Tenant) -> str:
    return reverse(name, args=[tenant.member.pk]) if name == "accounts:member-role" else reverse(name)


@pytest.mark.parametrize(("name", "extra"), REAUTH_ENDPOINTS, ids=[n for n, _ in REAUTH_ENDPOINTS])
def test_authz1_every_reauthentication_is_throttled_per_user(client, signed_in, tenant_a: Tenant, small_limits, name, extra):
    """AUTHZ-1 / CJ-3 (issue 12, finding 1): 3 wrong current passwords, then even the right one answers 429 with
    Retry-After, and nothing changes; the user is mailed after the 2nd failure."""
    manager = tenant_a.manager
    signed_in(client, manager)
    path = _path(name, tenant_a)
    mail.outbox.clear()
    for n in range(3):
        response = post(client, path, {**extra, "password": f"guess {n}"})
        assert response.status_code in (200, 400), response.status_code
    notices = [m for m in mail.outbox if "Wrong passwords" in m.subject]
    assert len(notices) == 1 and notices[0].to == [manager.email] and IP in notices[0].body
    before = list(User.objects.order_by("pk").values_list())
    response = post(client, path, {**extra, "password": PASSWORD})
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 901
    assert list(User.objects.order_by("pk").values_list()) == before


def test_authz1_reauthentication_budget_is_shared_by_all_forms_and_successes_do_not_count(client, signed_in, tenant_a, small_limits):
    """AUTHZ-1: failures on different forms add up (one budget per user); a right password gives its reservation back."""
    signed_in(client, tenant_a.member)
    for _ in range(5):  # right passwords: never counted
        assert post(client, reverse("accounts:security-email"), {"password": PASSWORD}).status_code == 302
    assert post(client, reverse("accounts:security-email"), {"password": "x"}).status_code == 400
    assert post(client, reverse("accounts:email-change"), {"password": "x", "new_email": "a@example.com"}).status_code == 200
    assert post(client, reverse("accounts:delete-account"), {"password": "x"}).status_code == 200
    assert post(client, reverse("accounts:security-email"), {"password": PASSWORD}).status_code == 429


def test_authz1_reauthentication_is_throttled_per_client(client, signed_in, tenant_a: Tenant, small_limits):
    """AUTHZ-1: one client cannot spread guesses over many sessions/users (5 per client /64)."""
    for user in (tenant_a.member, tenant_a.manager):
        signed_in(client, user)
        for _ in range(2 if user == tenant_a.member else 3):
            post(client, reverse("accounts:security-email"), {"password": "x"}, ip="2001:db8:1:2::10")
    # the 6th failure from the same /64 (another address in it) is refused
    response = post(client, reverse("accounts:security-email"), {"password": "x"}, ip="2001:db8:1:2:ffff::1")
    assert response.status_code == 429


# --- 4 and 7: a stranger cannot lock anyone out; IPv6 clients are counted per /64 ------------------


def login(client: Any, email: str, password: str, ip: str) -> Any:
    return client.post("/login/", {"email": email, "password": password}, HTTP_X_FORWARDED_FOR=ip)


@pytest.fixture
def login_limits(settings: Any) -> None:
    settings.KAKOI_THROTTLE = {**settings.KAKOI_THROTTLE, "login-ip": (4, 900), "login-account": (3, 900)}


def test_authz1_successful_sign_ins_never_count(client, tenant_a: Tenant, login_limits):
    """AUTHZ-1 (finding 4): a shared office NAT signing in all day is never throttled: only failures count."""
    for _ in range(10):
        assert login(client, tenant_a.member.email, PASSWORD, "198.51.100.20").status_code == 302
        client.logout()
    assert throttle.count("login-ip", "198.51.100.20") == 0


def test_authz1_a_stranger_cannot_lock_out_a_manager(client, tenant_a: Tenant, login_limits):
    """AUTHZ-1 (finding 4): failures from a stranger's address lock only that address, never the account."""
    stranger = type(client)()
    for _ in range(6):
        login(stranger, tenant_a.manager.email, "wrong", "192.0.2.66")
    assert login(stranger, tenant_a.manager.email, PASSWORD, "192.0.2.66").status_code == 429
    response = login(client, tenant_a.manager.email, PASSWORD, "198.51.100.30")
    assert response.status_code == 302 and response["Location"] == "/login/verify/"


def test_authz1_guesses_spread_over_many_addresses_tell_the_owner_without_locking_them_out(client, tenant_a: Tenant, settings):
    """AUTHZ-1 (findings 3 and 4): failures from many addresses each stay under their (account, client) limit; at 4
    failures in all the owner is mailed once, and can still sign in."""
    settings.KAKOI_THROTTLE = {**settings.KAKOI_THROTTLE, "login-account-all": (4, 3600)}
    stranger = type(client)()
    for n in range(6):
        assert login(stranger, tenant_a.member.email, "wrong", f"192.0.2.{n + 1}").status_code == 200
    notices = [m for m in mail.outbox if "Failed sign-ins" in m.subject]
    assert len(notices) == 1 and notices[0].to == [tenant_a.member.email]
    assert login(client, tenant_a.member.email, PASSWORD, "198.51.100.40").status_code == 302


def test_authz1_ipv6_clients_are_counted_per_64(client, tenant_a: Tenant, login_limits):
    """AUTHZ-1 (finding 7): rotating through a /64 gives no new budget; another /64 has its own."""
    for n in range(4):
        assert login(client, f"nobody{n}@example.com", "wrong", f"2001:db8:aa:bb::{n + 1:x}").status_code == 200
    assert login(client, tenant_a.member.email, PASSWORD, "2001:db8:aa:bb:1234::9").status_code == 429
    assert login(client, tenant_a.member.email, PASSWORD, "2001:db8:aa:bc::1").status_code == 302


@pytest.mark.parametrize(
    ("ip", "bucket"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("not-an-ip", "not-an-ip"),
    ],
)
def test_authz1_client_bucket(ip, bucket):
    """AUTHZ-1: an IPv4 address counts alone, an IPv6 address as its /64 (IPv4-mapped as the IPv4 address)."""
    assert throttle.client_bucket(ip) == bucket


# --- 5: no enumeration ------------------------------------------------------------------------------


def test_usr1_email_change_answers_the_same_for_taken_and_free_addresses(client, signed_in, tenant_a: Tenant, tenant_b: Tenant):
    """USR-1 (finding 5): the answer does not say whether an address has an account; the taken one gets no mail."""
    signed_in(client, tenant_a.member)
    taken = client.post(reverse("accounts:email-change"), {"password": PASSWORD, "new_email": tenant_b.manager.email})
    free = client.post(reverse("accounts:email-change"), {"password": PASSWORD, "new_email": "free@example.com"})
    assert (taken.status_code, taken["Location"]) == (free.status_code, free["Location"]) == (302, "/")
    page_after_taken = client.get("/")  # (the flash message of `free` is shown here; both are the same text)
    assert page_after_taken.status_code == 200
    assert tenant_b.manager.email not in {to for m in mail.outbox for to in m.to}


def test_usr1_email_change_requests_are_limited(client, signed_in, tenant_a: Tenant, settings):
    """USR-1 (finding 5): each request mails an address, so a user can make only a few per hour."""
    settings.KAKOI_THROTTLE = {**settings.KAKOI_THROTTLE, "email-change-user": (2, 3600)}
    signed_in(client, tenant_a.member)
    for n in range(2):
        assert client.post(reverse("accounts:email-change"), {"password": PASSWORD, "new_email": f"n{n}@example.com"}).status_code == 302
    assert client.post(reverse("accounts:email-change"), {"password": PASSWORD, "new_email": "n9@example.com"}).status_code == 429


def test_usr1_invite_answers_the_same_for_addresses_with_accounts(client, signed_in, tenant_a: Tenant, tenant_b: Tenant):
    """USR-1 (finding 5): inviting an address that has an account looks like any invitation; accepting it is refused
    with a 400 (finding 2: it was a 500) and creates nothing."""
    signed_in(client, tenant_a.manager)
    response = client.post(reverse("accounts:invite"), {"email": tenant_b.member.email, "role": "member"})
    assert response.status_code == 302
    (invitation_mail,) = [m for m in mail.outbox if m.to == [tenant_b.member.email]]
    path = mailed_path(invitation_mail)
    client.post("/logout/")
    guest = type(client)()
    users_before = User.objects.count()
    answer = guest.post(path, {"name": "X", "password1": "a fine long passphrase", "password2": "a fine long passphrase"})
    assert answer.status_code == 200 and "already has a kakoi account" in answer.content.decode()
    assert User.objects.count() == users_before


def test_usr1_invitation_accept_race_with_existing_account_is_a_4xx(client, tenant_a: Tenant, monkeypatch):
    """USR-1 (finding 2): create_user's ValidationError (the address was taken meanwhile) is an answer, not a 500."""
    from accounts import tokens
    from accounts.forms import AcceptInvitationForm

    nonce = tokens.new_nonce()
    with tenant_context(tenant_a.company.pk):
        Invitation.objects.filter(pk=tenant_a.invitation.pk).update(nonce_hash=tokens.nonce_hash(nonce), email=tenant_a.member.email)
    token = tokens.make_invitation_token(tenant_a.company.pk, tenant_a.invitation.pk, nonce)
    # the form's own check passes (as if the other sign-up committed just after it)
    monkeypatch.setattr(AcceptInvitationForm, "clean", lambda self: self.cleaned_data)
    response = client.post(
        reverse("accounts:invitation-accept", args=[token]), {"password1": "a fine long passphrase", "password2": "a fine long passphrase"}
    )
    assert response.status_code == 200 and "already has a kakoi account" in response.content.decode()


# --- 6: email-change links work once ----------------------------------------------------------------


def test_csrf3_email_change_link_cannot_be_replayed_after_changing_back(client, signed_in, tenant_a: Tenant):
    """CSRF-3 (finding 6): a used link stays dead even when the address is changed back to the one it names."""
    member = tenant_a.member
    signed_in(client, member)
    client.post(reverse("accounts:email-change"), {"password": PASSWORD, "new_email": "second@example.com"})
    link = mailed_path(next(m for m in mail.outbox if m.to == ["second@example.com"]))
    assert client.post(link).status_code == 302
    member.refresh_from_db()
    assert member.email == "second@example.com"
    User.objects.filter(pk=member.pk).update(email="member-a@example.com")  # changed back (by another link)
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404
    member.refresh_from_db()
    assert member.email == "member-a@example.com"


# --- 7: promotion and the second factor; a demoted manager's invitations ------------------------------


def test_authz1_a_promoted_member_must_pass_the_second_factor(client, signed_in, tenant_a: Tenant):
    """AUTHZ-1 (finding 7): a member signed in without a second factor and then promoted loses that session."""
    member = tenant_a.member
    signed_in(client, member, second_factor=False)
    assert client.get("/").status_code == 200
    User.objects.filter(pk=member.pk).update(role=Role.MANAGER)
    response = client.get("/members/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/").status_code == 302  # signed out for good; the next sign-in asks for the code


def test_authz1_demoting_a_manager_drops_their_pending_manager_invitations(client, signed_in, tenant_a: Tenant):
    """AUTHZ-1 (finding 7): a demoted manager's pending manager invitations stop working; member invitations stay."""
    from conftest import make_user

    second = make_user(tenant_a.company, "second-manager@example.com", role=Role.MANAGER)
    signed_in(client, second)
    assert client.post(reverse("accounts:invite"), {"email": "future-manager@example.com", "role": "manager"}).status_code == 302
    assert client.post(reverse("accounts:invite"), {"email": "future-member@example.com", "role": "member"}).status_code == 302
    link = mailed_path(next(m for m in mail.outbox if m.to == ["future-manager@example.com"]))
    client.logout()
    signed_in(client, tenant_a.manager)
    assert client.post(reverse("accounts:member-role", args=[second.pk]), {"password": PASSWORD, "role": "member"}).status_code == 302
    with tenant_context(tenant_a.company.pk):
        pending = set(Invitation.objects.filter(accepted_at__isnull=True).values_list("email", flat=True))
    assert "future-manager@example.com" not in pending and "future-member@example.com" in pending
    client.logout()
    assert type(client)().get(link).status_code == 404


# --- 2: bad JSON nesting is a 4xx ---------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100, 1000, 2000])
def test_audit1_deeply_nested_json_is_a_400(client, signed_in, tenant_a: Tenant, aws, depth):
    """AUDIT-1 (finding 2): a deeply nested body on the upload endpoint is a 400, not a RecursionError (500)."""
    signed_in(client, tenant_a.member)
    body = "[" * depth + "]" * depth
    response = client.post(reverse("media:upload-form"), body, content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()
    nested = '{"a":' * depth + "1" + "}" * depth
    assert client.post(reverse("media:upload-form"), nested, content_type="application/json").status_code in (400, 413)


# --- 8: GETs never write and never call S3 -----------------------------------------------------------


def test_av1_page_views_read_only_the_database(client, signed_in, tenant_a: Tenant, aws, monkeypatch):
    """AV-1 (finding 8): list, detail, status and download read no S3 tag and change no row, even when the object
    carries a scan tag (the result arrives as an event, media.scans)."""
    from test_media_upload import uploaded

    signed_in(client, tenant_a.member)
    recording = uploaded(client, aws)
    assert recording.status == Status.SCANNING
    assert ScanCheck.objects.filter(object_key=recording.object_key).exists()  # waiting: the sweep will look if no event comes
    aws.put_object_tagging(
        Bucket=settings.KAKOI_MEDIA_BUCKET,
        Key=recording.object_key,
        Tagging={"TagSet": [{"Key": objects.SCAN_TAG, "Value": objects.THREATS_FOUND}]},
    )

    def no_s3(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a page view called S3")

    monkeypatch.setattr(objects, "scan_result", no_s3)
    monkeypatch.setattr(objects, "head", no_s3)
    monkeypatch.setattr(objects, "first_bytes", no_s3)
    with tenant_context(tenant_a.company.pk):
        before = list(Recording.objects.order_by("pk").values_list())
    for path in (
        reverse("media:list"),
        reverse("media:detail", args=[recording.pk]),
        reverse("media:status", args=[recording.pk]),
        reverse("media:download", args=[recording.pk]),
    ):
        assert client.get(path).status_code in (200, 409), path
    with tenant_context(tenant_a.company.pk):
        assert list(Recording.objects.order_by("pk").values_list()) == before
    assert json.loads(client.get(reverse("media:status", args=[recording.pk])).content)["status"] == "scanning"
