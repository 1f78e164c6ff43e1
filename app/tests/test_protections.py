"""Web protections, checked on real responses: cookies (SES-1..3, XSS-4), CSRF with Origin/Referer behind
the load balancer (CSRF-1, CSRF-2), login required by default (SES-4, CJ-2), POST-only changes (CSRF-1),
security headers (CJ-1, XSS-1, XSS-3, HDR-1), session timeouts (CJ-2), escaping (XSS-1)."""

from __future__ import annotations

import time
import uuid

import pytest
from accounts.models import UserSession
from accounts.sessions import AUTH_AT_KEY, SEEN_AT_KEY
from conftest import PASSWORD, Tenant
from django.contrib.sessions.models import Session
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from psycopg import sql
from tenancy.db import tenant_context

pytestmark = pytest.mark.django_db

SECURE = {"secure": True, "HTTP_HOST": "kakoi.example"}
BEHIND_ALB = {"HTTP_HOST": "kakoi.example", "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
PUBLIC_ROUTES = {"accounts:login", "accounts:login-verify", "accounts:login-resend", "accounts:invitation-accept"}


def all_routes() -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns: list, namespace: str = "") -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern):
                found.append((f"{namespace}{pattern.name}", pattern))

    walk(get_resolver().url_patterns)
    return found


def sample_url(name: str, pattern: URLPattern, tenant: Tenant) -> str:
    """A URL for the route with the tenant's own IDs (a random UUID for kinds of ID this test does not know)."""
    values = {"user_id": tenant.member.pk, "invitation_id": tenant.invitation.pk}
    kwargs = {
        key: values.get(key, uuid.uuid4() if type(conv).__name__ == "UUIDConverter" else "x")
        for key, conv in pattern.pattern.converters.items()
    }
    return reverse(name, kwargs=kwargs)


# --- cookies ------------------------------------------------------------------------------------


def test_ses3_xss4_session_and_csrf_cookies_are_host_prefixed_secure_httponly_lax(client, tenant_a: Tenant):
    """SES-1/SES-3/XSS-4: __Host-sessionid and __Host-csrftoken: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain."""
    response = client.get("/login/", **SECURE)
    csrf = response.cookies["__Host-csrftoken"]
    response = client.post("/login/", {"email": tenant_a.member.email, "password": PASSWORD}, **SECURE)
    session = response.cookies["__Host-sessionid"]
    for cookie in (session, csrf):
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/"
        assert cookie["domain"] == ""
    assert len(session.value) >= 32 and session.value.isalnum()
    assert "sessionid" not in response["Location"] and session.value not in response["Location"]


def test_ses2_session_id_never_appears_in_urls_or_pages(client, tenant_a: Tenant):
    """SES-2: after login the session key is in the cookie only, never in a redirect or a page."""
    response = client.post("/login/", {"email": tenant_a.member.email, "password": PASSWORD}, **SECURE)
    key = response.cookies["__Host-sessionid"].value
    assert key not in response["Location"]
    page = client.get("/", **SECURE)
    assert key.encode() not in page.content


# --- CSRF behind the load balancer --------------------------------------------------------------


def test_csrf1_post_without_token_is_refused(csrf_client, signed_in, tenant_a: Tenant):
    """CSRF-1: a state change without the CSRF token is 403 and changes nothing."""
    signed_in(csrf_client, tenant_a.manager)
    response = csrf_client.post("/members/invite/", {"email": "x@example.com", "role": "member"}, **BEHIND_ALB)
    assert response.status_code == 403


def _token(client) -> str:
    client.get("/login/", **BEHIND_ALB)
    return client.cookies["__Host-csrftoken"].value


def test_csrf2_origin_from_another_site_is_refused_behind_the_load_balancer(csrf_client, tenant_a: Tenant):
    """CSRF-2: with a valid token, a POST whose Origin is another site is still 403 (HTTPS seen through X-Forwarded-Proto)."""
    token = _token(csrf_client)
    data = {"email": tenant_a.member.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    evil = csrf_client.post("/login/", data, HTTP_ORIGIN="https://evil.example", **BEHIND_ALB)
    assert evil.status_code == 403
    http_origin = csrf_client.post("/login/", data, HTTP_ORIGIN="http://kakoi.example", **BEHIND_ALB)
    assert http_origin.status_code == 403  # the scheme counts: the site is https-only
    good = csrf_client.post("/login/", data, HTTP_ORIGIN="https://kakoi.example", **BEHIND_ALB)
    assert good.status_code == 302


def test_csrf2_referer_is_checked_when_there_is_no_origin(csrf_client, tenant_a: Tenant):
    """CSRF-2: over HTTPS without Origin, a missing or foreign Referer is refused; our own is accepted."""
    token = _token(csrf_client)
    data = {"email": tenant_a.member.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    assert csrf_client.post("/login/", data, **BEHIND_ALB).status_code == 403
    assert csrf_client.post("/login/", data, HTTP_REFERER="https://evil.example/login/", **BEHIND_ALB).status_code == 403
    assert csrf_client.post("/login/", data, HTTP_REFERER="https://kakoi.example/login/", **BEHIND_ALB).status_code == 302


def test_csrf2_forwarded_proto_makes_the_request_secure(client):
    """CSRF-2/SES-3: Django sees HTTPS behind the ALB (SECURE_PROXY_SSL_HEADER), so HSTS is sent and Referer checks apply."""
    response = client.get("/login/", **BEHIND_ALB)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "Strict-Transport-Security" not in client.get("/login/", HTTP_HOST="kakoi.example").headers


def test_enc2_plain_http_is_redirected_when_the_redirect_is_on(client, settings):
    """ENC-2/SES-3: with production's SECURE_SSL_REDIRECT, plain HTTP gets a 301 to HTTPS; ALB-forwarded HTTPS does not."""
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/login/", HTTP_HOST="kakoi.example")
    assert response.status_code == 301 and response["Location"] == "https://kakoi.example/login/"
    assert client.get("/login/", **BEHIND_ALB).status_code == 200


# --- login required by default ------------------------------------------------------------------


def test_ses4_only_the_listed_views_are_public(client, tenant_a: Tenant):
    """SES-4/CJ-2: every route needs a session except an explicit short list; anonymous requests are sent to login."""
    public = set()
    for name, pattern in all_routes():
        callback = pattern.callback
        if not getattr(callback, "login_required", True):
            public.add(name)
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(sample_url(name, pattern, tenant_a))
            assert response.status_code == 302 and response["Location"].startswith("/login/?next="), (name, method)
    assert public == PUBLIC_ROUTES


def test_cj2_anonymous_post_changes_nothing(client, tenant_a: Tenant):
    """CJ-2: without a session nothing runs: a POST to a manager action neither acts nor mails."""
    from django.core import mail

    response = client.post(f"/members/{tenant_a.member.pk}/role/", {"role": "manager", "password": PASSWORD})
    assert response.status_code == 302
    tenant_a.member.refresh_from_db()
    assert tenant_a.member.role == "member" and mail.outbox == []


# --- methods ------------------------------------------------------------------------------------


def table_fingerprint(tenant: Tenant) -> dict[str, int]:
    """Row counts of every table as tenant `tenant` sees them (sessions and throttles left out: reads refresh them)."""
    counts = {}
    with tenant_context(tenant.company.pk), connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'kakoi' ORDER BY tablename")
        for (table,) in cursor.fetchall():
            if table in {"django_session", "accounts_throttlecounter"}:
                continue
            query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {} t")
            cursor.execute(query.format(sql.Identifier(table)))
            counts[table] = cursor.fetchone()
    return counts


def test_csrf1_no_route_accepts_put_patch_or_delete_and_get_changes_nothing(client, signed_in, tenant_a: Tenant):
    """CSRF-1: state changes are POST only: every route refuses PUT/PATCH/DELETE, and GET on every route leaves the data as it was."""
    signed_in(client, tenant_a.manager)
    before = table_fingerprint(tenant_a)
    for name, pattern in all_routes():
        url = sample_url(name, pattern, tenant_a)
        for method in ("put", "patch", "delete"):
            assert getattr(client, method)(url).status_code in (302, 405), (name, method)
        assert client.get(url).status_code in (200, 302, 400, 404, 405), name
    assert table_fingerprint(tenant_a) == before
    assert client.get("/").status_code == 200  # still signed in: no GET logged us out either


# --- headers ------------------------------------------------------------------------------------


def test_cj1_xss1_hdr1_security_headers_on_every_page(client, signed_in, tenant_a: Tenant):
    """CJ-1/XSS-1/XSS-3/HDR-1: CSP, X-Frame-Options DENY, nosniff, Referrer-Policy, COOP, no-store, charset."""
    signed_in(client, tenant_a.manager)
    for path in ("/", "/members/", "/account/security/", "/account/password/"):
        response = client.get(path, **BEHIND_ALB)
        assert response.status_code == 200, path
        csp = {d.split()[0]: d.split()[1:] for d in response.headers["Content-Security-Policy"].split("; ")}
        assert csp["default-src"] == ["'self'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["object-src"] == ["'none'"]
        assert csp["base-uri"] == ["'none'"]
        assert csp["form-action"] == ["'self'"]
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "no-store" in response.headers["Cache-Control"]
    login = type(client)().get("/login/", **BEHIND_ALB)
    assert login.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in login.headers["Content-Security-Policy"]


def test_hdr1_header_injection_through_the_next_parameter_is_impossible(client, tenant_a: Tenant):
    """HDR-1: a CR/LF in a value that ends up in a header cannot add a header (Django refuses or encodes it)."""
    response = client.post("/login/?next=/%0d%0aSet-Cookie:%20evil=1", {"email": tenant_a.member.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "\n" not in response["Location"] and "\r" not in response["Location"]
    assert "evil" not in response.cookies


def test_xss1_user_supplied_text_is_escaped(client, signed_in, tenant_a: Tenant):
    """XSS-1: a name containing markup is shown as text."""
    member = tenant_a.member
    member.name = '<script>alert("x")</script>'
    member.save(update_fields=["name"])
    signed_in(client, member)
    page = client.get("/").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


# --- session timeouts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "age_setting"), [(SEEN_AT_KEY, "KAKOI_SESSION_IDLE_SECONDS"), (AUTH_AT_KEY, "KAKOI_SESSION_ABSOLUTE_SECONDS")]
)
def test_cj2_idle_and_absolute_timeouts_end_the_session(client, signed_in, tenant_a: Tenant, settings, key: str, age_setting: str):
    """CJ-2: a session idle too long, or logged in too long ago, is ended server-side on its next request."""
    signed_in(client, tenant_a.member)
    session = client.session
    session_key = session.session_key
    session[key] = int(time.time()) - getattr(settings, age_setting) - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not Session.objects.filter(session_key=session_key).exists()
    with tenant_context(tenant_a.company.pk):
        assert not UserSession.objects.filter(session_key=session_key).exists()


def test_cj2_active_session_stays_and_idle_expiry_moves_forward(client, signed_in, tenant_a: Tenant, settings):
    """CJ-2: within the limits the session continues, and its server-side expiry is pushed by the idle time."""
    signed_in(client, tenant_a.member)
    assert client.get("/").status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = (session.expire_date - timezone.now()).total_seconds()
    assert settings.KAKOI_SESSION_IDLE_SECONDS - 60 < remaining <= settings.KAKOI_SESSION_IDLE_SECONDS
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
