"""Throttling of the login and second-factor steps per account and per client IP, where the client IP
is parsed from the right of X-Forwarded-For (AUTHZ-1, PWD-2, AUTHZ-2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from accounts.models import ThrottleCounter
from conftest import PASSWORD, Tenant
from core.clientip import client_ip
from django.test import RequestFactory
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_limits(settings):
    settings.KAKOI_THROTTLE = {
        **settings.KAKOI_THROTTLE,
        "login-ip": (6, 900),
        "login-account": (3, 900),
        "otp-ip": (6, 900),
        "otp-account": (3, 900),
    }


def login(client, email: str, password: str, ip: str, spoofed: str = ""):
    forwarded = f"{spoofed}, {ip}" if spoofed else ip
    return client.post("/login/", {"email": email, "password": password}, HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.1")


# --- the client IP --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "forwarded", "remote", "expected"),
    [
        (1, "203.0.113.9", "10.0.0.1", "203.0.113.9"),  # the ALB appended the client
        (1, "1.2.3.4, 203.0.113.9", "10.0.0.1", "203.0.113.9"),  # the left part is the client's own claim
        (2, "1.2.3.4, 203.0.113.9, 198.51.100.7", "10.0.0.1", "203.0.113.9"),  # CDN + ALB
        (2, "203.0.113.9", "10.0.0.1", "10.0.0.1"),  # fewer hops than proxies: not through our proxies
        (1, "", "10.0.0.1", "10.0.0.1"),
        (1, "1.2.3.4, not-an-ip", "10.0.0.1", "10.0.0.1"),
        (1, "2001:db8::1", "10.0.0.1", "2001:db8::1"),
        (0, "1.2.3.4", "10.0.0.1", "10.0.0.1"),  # no proxy configured: the header is ignored
    ],
)
def test_authz1_client_ip_is_taken_from_the_right_of_x_forwarded_for(settings, trusted, forwarded, remote, expected):
    """AUTHZ-1: the client IP is the N-th X-Forwarded-For entry from the right (N trusted proxies), never the left-most."""
    settings.KAKOI_TRUSTED_PROXY_COUNT = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


# --- login ----------------------------------------------------------------------------------


def test_authz1_login_is_throttled_per_account_and_client(client, tenant_a: Tenant, small_limits):
    """AUTHZ-1: after 3 failures on one account from one client, even the right password is refused there (429,
    Retry-After); the owner signing in from elsewhere is not locked out (issue 12: no lock-out by a stranger)."""
    for _ in range(3):
        assert login(client, tenant_a.member.email, "wrong", "203.0.113.7").status_code == 200
    response = login(client, tenant_a.member.email, PASSWORD, "203.0.113.7")
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 901
    assert client.get("/").status_code == 302
    # The owner, from their own address, gets in; so does another account from the first address.
    assert login(client, tenant_a.member.email, PASSWORD, "198.51.100.1").status_code == 302
    client.logout()
    assert login(client, tenant_a.manager.email, PASSWORD, "203.0.113.7").status_code == 302


def test_authz1_login_is_throttled_per_client_ip_and_spoofing_the_header_does_not_help(client, tenant_a: Tenant, small_limits):
    """AUTHZ-1: 6 attempts per client IP; changing the left part of X-Forwarded-For does not give a new budget."""
    for n in range(6):
        assert login(client, f"nobody{n}@example.com", "wrong", "203.0.113.50", spoofed=f"1.1.1.{n}").status_code == 200
    assert login(client, tenant_a.member.email, PASSWORD, "203.0.113.50", spoofed="9.9.9.9").status_code == 429
    # A different real client IP still gets in.
    assert login(client, tenant_a.member.email, PASSWORD, "203.0.113.51").status_code == 302


def test_authz1_throttle_window_expires(client, tenant_a: Tenant, small_limits):
    """AUTHZ-1: the counters are per window; after it, attempts are allowed again."""
    for _ in range(3):
        login(client, tenant_a.member.email, "wrong", "203.0.113.60")
    assert login(client, tenant_a.member.email, PASSWORD, "203.0.113.60").status_code == 429
    ThrottleCounter.objects.update(window_start=timezone.now() - timedelta(seconds=901))
    assert login(client, tenant_a.member.email, PASSWORD, "203.0.113.60").status_code == 302


def test_authz1_throttle_keys_hold_no_address_or_ip_in_clear(client, tenant_a: Tenant, small_limits):
    """AUTHZ-1: the throttle table stores digests, not the addresses or IPs."""
    login(client, tenant_a.member.email, "wrong", "203.0.113.70")
    keys = list(ThrottleCounter.objects.values_list("key", flat=True))
    assert keys and all(len(k) == 64 and "@" not in k and "203.0.113" not in k for k in keys)


# --- second factor --------------------------------------------------------------------------


def test_pwd2_code_step_is_throttled_per_account_across_attempts(client, tenant_a: Tenant, small_limits):
    """PWD-2: wrong codes count against the account across login attempts, not just per challenge."""
    manager = tenant_a.manager
    for round_ in range(2):
        assert login(client, manager.email, PASSWORD, f"203.0.113.{80 + round_}")["Location"] == "/login/verify/"
        for _ in range(2 - round_):
            response = client.post("/login/verify/", {"code": "000000"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{80 + round_}")
            assert response.status_code == 200
    # 3 failures so far on this account: the next code submission is refused outright.
    login(client, manager.email, PASSWORD, "203.0.113.90")
    assert client.post("/login/verify/", {"code": "000000"}, HTTP_X_FORWARDED_FOR="203.0.113.90").status_code == 429


def test_pwd2_code_step_is_throttled_per_client_ip(client, settings, tenant_a: Tenant, tenant_b: Tenant):
    """PWD-2: one client IP cannot spread code guesses over many accounts."""
    settings.KAKOI_THROTTLE = {
        **settings.KAKOI_THROTTLE,
        "login-ip": (50, 900),
        "login-account": (50, 900),
        "otp-ip": (4, 900),
        "otp-account": (3, 900),
    }
    ip = "203.0.113.99"
    for manager in (tenant_a.manager, tenant_b.manager):
        login(client, manager.email, PASSWORD, ip)
        for _ in range(2):  # 2 failures per account: under the account limit
            assert client.post("/login/verify/", {"code": "000000"}, HTTP_X_FORWARDED_FOR=ip).status_code == 200
    # The IP has used its 4 guesses: a fifth, for any account, is refused; another IP may still try.
    guest = type(client)()
    login(guest, tenant_a.manager.email, PASSWORD, "198.51.100.99")
    assert guest.post("/login/verify/", {"code": "000000"}, HTTP_X_FORWARDED_FOR=ip).status_code == 429
    assert guest.post("/login/verify/", {"code": "000000"}, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 200
