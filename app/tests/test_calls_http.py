"""The rooms pages (calls.views): tenant isolation of room IDs, manager-only room management, the call
page's CSP and strings. The socket itself: test_calls_socket.py; the call in a browser: browser/."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from calls.models import Room
from conftest import Tenant
from django.urls import reverse
from tenancy.db import tenant_context

pytestmark = pytest.mark.django_db


def room_of(tenant: Tenant, name: str = "Planning") -> Room:
    with tenant_context(tenant.company.pk):
        return Room.objects.create(company=tenant.company, name=name)


def lobby_of(tenant: Tenant) -> Room:
    with tenant_context(tenant.company.pk):
        return Room.objects.get(company=tenant.company, is_lobby=True)


def strip_csrf(body: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", body)


def test_iso1_every_company_gets_a_lobby(tenant_a: Tenant, tenant_b: Tenant):
    assert lobby_of(tenant_a).company_id == tenant_a.company.pk
    assert lobby_of(tenant_b).pk != lobby_of(tenant_a).pk


@pytest.mark.parametrize("route", ["calls:room", "calls:delete-room"])
def test_authz2_another_companys_room_answers_404_like_a_missing_one(client, signed_in, tenant_a: Tenant, tenant_b: Tenant, route: str):
    """AUTHZ-2 / ISO-1: the room page and room deletion answer the same 404 for B's room as for a random ID; B's room stays."""
    signed_in(client, tenant_a.manager)
    theirs = room_of(tenant_b)
    method = client.get if route == "calls:room" else client.post
    foreign = method(reverse(route, args=[theirs.pk]))
    missing = method(reverse(route, args=[uuid.uuid4()]))
    assert foreign.status_code == missing.status_code == 404
    assert strip_csrf(foreign.content) == strip_csrf(missing.content)
    with tenant_context(tenant_b.company.pk):
        assert Room.objects.filter(pk=theirs.pk).exists()


def test_authz2_the_rooms_page_lists_only_the_own_companys_rooms(client, signed_in, tenant_a: Tenant, tenant_b: Tenant):
    room_of(tenant_a, "Our standup")
    room_of(tenant_b, "Their secret board")
    signed_in(client, tenant_a.member)
    page = client.get(reverse("calls:rooms")).content.decode()
    assert "Our standup" in page and "Lobby" in page and "Their secret board" not in page


def test_authz1_only_managers_create_and_delete_rooms(client, signed_in, tenant_a: Tenant):
    """AUTHZ-1: a member gets 403 for creating or deleting; a manager creates (unique name per company) and deletes, never the lobby."""
    signed_in(client, tenant_a.member)
    assert client.post(reverse("calls:create-room"), {"name": "Member room"}).status_code == 403
    ours = room_of(tenant_a)
    assert client.post(reverse("calls:delete-room", args=[ours.pk])).status_code == 403
    client.logout()
    signed_in(client, tenant_a.manager)
    response = client.post(reverse("calls:create-room"), {"name": "  Weekly review "})
    assert response.status_code == 302
    with tenant_context(tenant_a.company.pk):
        created = Room.objects.get(company=tenant_a.company, name="Weekly review")
    assert response["Location"] == reverse("calls:room", args=[created.pk])
    assert client.post(reverse("calls:create-room"), {"name": "Weekly review"}).status_code == 400
    assert client.post(reverse("calls:create-room"), {"name": "bad\u0000name"}).status_code == 400
    assert client.post(reverse("calls:create-room"), {"name": "x" * 81}).status_code == 400
    assert client.post(reverse("calls:delete-room", args=[lobby_of(tenant_a).pk])).status_code == 404
    assert client.post(reverse("calls:delete-room", args=[created.pk])).status_code == 302
    with tenant_context(tenant_a.company.pk):
        assert not Room.objects.filter(pk=created.pk).exists()
        assert Room.objects.filter(pk=lobby_of(tenant_a).pk).exists()


def test_csrf1_room_changes_are_post_only_and_need_the_token(csrf_client, signed_in, tenant_a: Tenant):
    signed_in(csrf_client, tenant_a.manager)
    assert csrf_client.get(reverse("calls:create-room")).status_code == 405
    assert csrf_client.post(reverse("calls:create-room"), {"name": "No token"}).status_code == 403


def test_xss1_the_call_page_keeps_the_strict_csp_and_passes_strings_as_json(client, signed_in, tenant_a: Tenant):
    """XSS-1 / ENC-1: the call page has the site's CSP (no inline script, no extra origin: the socket is same-origin),
    a static script, and its strings in a json_script block (escaped), with the room name auto-escaped."""
    signed_in(client, tenant_a.member)
    room = room_of(tenant_a, "<script>alert(1)</script>")
    response = client.get(reverse("calls:room", args=[room.pk]))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp and "connect-src" not in csp
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert '<script src="/static/calls/call.js" defer></script>' in body
    match = re.search(r'<script id="call-strings" type="application/json">(.*?)</script>', body, re.S)
    assert match is not None
    strings = json.loads(match.group(1))
    assert strings["closed_4401"] and "6" in strings["error_room_full"]


def test_xss1_the_call_script_holds_no_user_visible_strings():
    """Strings JavaScript shows come from the template (CONTRACTS.md: translatable), never from the .js file."""
    from pathlib import Path

    script = (Path(__file__).resolve().parents[1] / "static" / "calls" / "call.js").read_text()
    code = re.sub(r"^\s*//[^\n]*", "", script, flags=re.M)
    literals = re.findall(r'"((?:[^"\\\n]|\\.)*)"', code) + re.findall(r"'((?:[^'\\\n]|\\.)*)'", code)
    sentences = [text for text in literals if re.search(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}", text) and text != "use strict"]
    assert literals and sentences == [], sentences
