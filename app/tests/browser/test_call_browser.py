"""Live calls in headless Chromium (ENC-1): two members of one company call each other through the
repository's TURN relay (coturn, TLS 1.3 only) while the relay port is captured.

Servers, all on 127.0.0.1 with free ports: the app as production serves it (kakoi.asgi under
uvicorn: HTTP and the /ws/ signalling), the relay (relay/entrypoint.sh + relay/turnserver.conf)
with a certificate from a throw-away CA that Chromium trusts through an NSS database in a
temporary HOME (no --ignore-certificate-errors: the TURN client verifies chain and name), and
dumpcap on the loopback interface. Fake camera and microphone (Chromium's beep and test pattern).

Proven from the browsers themselves (getStats on both sides): the selected candidate pair is relay
to relay with relayProtocol "tls"; audio and video bytes grow both ways; the received audio level
is above zero and video frames are decoded. From the capture: every byte on the relay port is a TLS
record and every ServerHello negotiates TLS 1.3. And: a member of another company can neither open
nor join the room and receives nothing of it; a handshake with a foreign Origin is refused; signing
out closes the socket with 4401.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from accounts.models import ThrottleCounter, User
from browser_servers import asgi_server
from call_page import CALL_ARGS, CHROMIUM_BINARY, INSTRUMENT, STATS
from calls.models import Room
from conftest import PASSWORD, make_tenant, make_user
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import override_settings
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from relay_servers import Relay, relay_server
from tenancy.db import tenant_context
from tenancy.models import Company
from test_media_browser import STEP_MS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _sync_db_calls_beside_playwright() -> Iterator[None]:
    """As in test_media_browser: the test's own DB calls run between browser steps in this thread."""
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if saved is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@dataclass
class CallStack:
    app: str
    relay: Relay
    alice: User
    bob: User
    stranger: User
    lobby: Room
    home: Path
    capture: Path


@pytest.fixture(scope="module")
def call_stack(django_db_setup: None, django_db_blocker: Any) -> Iterator[CallStack]:
    with django_db_blocker.unblock():
        label = uuid.uuid4().hex[:8]
        ours, theirs = make_tenant(f"call-{label}"), make_tenant(f"other-{label}")
        alice = make_user(ours.company, f"alice-{label}@example.com", name="Alice")
        bob = make_user(ours.company, f"bob-{label}@example.com", name="Bob")
        stranger = make_user(theirs.company, f"eve-{label}@example.com", name="Eve")
        with tenant_context(ours.company.pk):
            lobby = Room.objects.get(company=ours.company, is_lobby=True)
        home = Path(tempfile.mkdtemp(prefix="kakoi-chromium-"))
        try:
            with relay_server() as relay:
                # Chromium's TURN client verifies the relay's certificate: trust the throw-away CA (and nothing more).
                nssdb = home / ".pki" / "nssdb"
                nssdb.mkdir(parents=True)
                subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
                subprocess.run(
                    ["certutil", "-d", f"sql:{nssdb}", "-A", "-n", "kakoi-test-ca", "-t", "C,,", "-i", str(relay.ca)], check=True
                )
                with (
                    override_settings(
                        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "127.0.0.1"],
                        KAKOI_TRUSTED_PROXY_COUNT=0,
                        KAKOI_TURN_URLS=[relay.url],
                        KAKOI_TURN_SECRET=relay.secret,
                    ),
                    asgi_server() as app,
                ):
                    yield CallStack(app, relay, alice, bob, stranger, lobby, home, home / "relay.pcapng")
        finally:
            for tenant in (ours, theirs):
                with tenant_context(tenant.company.pk):
                    Company.objects.filter(pk=tenant.company.pk).delete()
            Session.objects.all().delete()
            ThrottleCounter.objects.all().delete()
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(call_stack: CallStack) -> Iterator[Browser]:
    if not os.access(CHROMIUM_BINARY, os.X_OK):
        pytest.fail(f"no browser at {CHROMIUM_BINARY}: apt-get install chromium (Debian), or set KAKOI_CHROMIUM")
    with sync_playwright() as playwright:
        pw: Playwright = playwright
        env: dict[str, str | float | bool] = {**os.environ, "HOME": str(call_stack.home)}
        chromium = pw.chromium.launch(executable_path=CHROMIUM_BINARY, args=CALL_ARGS, env=env, timeout=STEP_MS)
        try:
            yield chromium
        finally:
            chromium.close()


def signed_in_page(browser: Browser, stack: CallStack, user: User) -> tuple[BrowserContext, Page]:
    context = browser.new_context()
    context.set_default_timeout(STEP_MS)
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    page.goto(f"{stack.app}/login/")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{stack.app}/")
    return context, page


def stats(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(STATS)


def wait_connected(page: Page, deadline: float) -> None:
    while time.monotonic() < deadline:
        current = stats(page)
        if current and all(s["state"] == "connected" for s in current):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not connected: {stats(page)}")


def run_async(coroutine: Any) -> Any:
    """Run a coroutine on its own loop in another thread (Playwright's sync API owns this thread's loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


def tshark_fields(capture: Path, port: int, display_filter: str, *fields: str) -> list[list[str]]:
    args = ["tshark", "-r", str(capture), "-d", f"tcp.port=={port},tls", "-Y", display_filter, "-T", "fields"]
    for name in fields:
        args += ["-e", name]
    output = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in output.splitlines() if line.strip()]


def test_enc1_two_members_call_through_the_tls13_relay_and_the_relay_port_carries_only_tls13(browser: Browser, call_stack: CallStack):
    """ENC-1: a relay-only call between two members; getStats on both sides shows relay/TLS, bytes growing both
    ways and audio above zero; the capture of the relay port holds only TLS records, every ServerHello TLS 1.3."""
    stack = call_stack
    if shutil.which("dumpcap") is None or shutil.which("tshark") is None:
        pytest.fail("dumpcap/tshark missing: apt-get install tshark (scripts/system-packages.txt)")
    capture = subprocess.Popen(
        ["dumpcap", "-q", "-i", "lo", "-f", f"tcp port {stack.relay.port}", "-w", str(stack.capture)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(1.0)  # dumpcap is capturing before the first byte
        assert capture.poll() is None, capture.stderr.read().decode() if capture.stderr else "dumpcap exited"
        opened = [signed_in_page(browser, stack, user) for user in (stack.alice, stack.bob)]
        pages = [page for _context, page in opened]
        for page in pages:
            page.goto(f"{stack.app}/calls/{stack.lobby.pk}/")
            expect(page.locator("#call-join")).to_be_enabled()
        started = time.monotonic()
        pages[0].click("#call-join")
        expect(pages[0].locator("#call-status")).to_contain_text("only one here")
        pages[1].click("#call-join")
        for page in pages:
            wait_connected(page, started + 30)
        connect_seconds = time.monotonic() - started
        flowing = ("inAudio", "inVideo", "outAudio", "outVideo", "framesDecoded")
        deadline = time.monotonic() + 15
        first = [stats(page) for page in pages]
        while not all(side[0][key] > 0 for side in first for key in flowing) and time.monotonic() < deadline:
            pages[0].wait_for_timeout(200)
            first = [stats(page) for page in pages]
        pages[0].wait_for_timeout(2500)
        second = [stats(page) for page in pages]
        for before, after in zip(first, second, strict=True):
            (b,), (a,) = before, after
            assert a["policy"] == "relay" and a["urls"] == [stack.relay.url], a
            assert (a["localType"], a["relayProtocol"], a["remoteType"]) == ("relay", "tls", "relay"), a
            assert {t.split("/")[0] for t in a["candidateTypes"]} == {"relay"}, a["candidateTypes"]
            for key in flowing:
                assert a[key] > b[key] > 0, (key, b, a)
            assert a["audioLevel"] > 0, a
        # Both tiles show the colleague; the speaking indicator lights for the beeping fake microphone.
        expect(pages[0].locator(".tile figcaption", has_text="Bob")).to_be_visible()
        expect(pages[1].locator(".tile.speaking").first).to_be_visible()
        # Mute and camera off reach the other side.
        pages[0].click("#call-mute")
        pages[0].click("#call-camera")
        expect(pages[1].locator(".tile figcaption", has_text="Alice")).to_contain_text("muted")
        expect(pages[1].locator(".tile.camera-off")).to_have_count(1)
        pages[0].click("#call-leave")
        expect(pages[1].locator("#call-status")).to_contain_text("only one here")
        print(f"\ncall connected in {connect_seconds:.2f} s (join click to both sides connected)")
        for context, _page in opened:
            context.close()
    finally:
        time.sleep(0.5)
        capture.terminate()
        capture.wait(timeout=10)
    port = stack.relay.port
    segments = tshark_fields(stack.capture, port, "tcp.len > 0", "frame.number")
    not_tls = tshark_fields(
        stack.capture,
        port,
        "tcp.len > 0 and not tls and not tcp.reassembled_in and not tcp.analysis.retransmission and not tcp.analysis.spurious_retransmission",
        "frame.number",
        "_ws.col.Info",
    )
    hellos = tshark_fields(stack.capture, port, "tls.handshake.type == 2", "tls.handshake.extensions.supported_version")
    undecoded = tshark_fields(
        stack.capture, port, "data or _ws.malformed or (tls.record.version < 0x0303 and not tls.handshake.type == 1)", "frame.number"
    )
    assert len(segments) > 100, "the capture saw the call"
    assert undecoded == [], (
        f"undecodable records, or records framed below TLS 1.2 other than the ClientHello's legacy version: {undecoded[:10]}"
    )
    assert not_tls == [], f"non-TLS segments on the relay port: {not_tls[:10]}"
    assert len(hellos) >= 2, "one TLS connection per browser at least"
    assert all(fields == ["0x0304"] for fields in hellos), hellos


def test_authz2_a_member_of_another_company_cannot_open_join_or_hear_the_room(browser: Browser, call_stack: CallStack):
    """ISO-1 / AUTHZ-2: the other company's member gets 404 for the room page, 'no_room' for a join by ID over
    the socket, and no message of the room while two colleagues are in it."""
    stack = call_stack
    colleague = signed_in_page(browser, stack, stack.alice)[1]
    colleague.goto(f"{stack.app}/calls/{stack.lobby.pk}/")
    colleague.click("#call-join")
    expect(colleague.locator("#call-status")).to_contain_text("only one here")
    _context, page = signed_in_page(browser, stack, stack.stranger)
    response = page.goto(f"{stack.app}/calls/{stack.lobby.pk}/")
    assert response is not None and response.status == 404
    with tenant_context(stack.stranger.company_id):
        own_lobby = Room.objects.get(company_id=stack.stranger.company_id, is_lobby=True)
    page.goto(f"{stack.app}/calls/{own_lobby.pk}/")
    expect(page.locator("#call-join")).to_be_enabled()
    received = page.evaluate(
        """async (room) => {
          const messages = [];
          const ws = new WebSocket(location.origin.replace("http", "ws") + "/ws/calls/");
          ws.onmessage = (e) => messages.push(JSON.parse(e.data));
          await new Promise((resolve) => { ws.onopen = resolve; });
          ws.send(JSON.stringify({type: "join", room}));
          ws.send(JSON.stringify({type: "signal", to: room, data: {kind: "offer", sdp: "v=0"}}));
          await new Promise((resolve) => setTimeout(resolve, 3000));
          ws.close();
          return messages;
        }""",
        str(stack.lobby.pk),
    )
    kinds = [m["type"] for m in received]
    assert kinds[0] == "turn" and {"type": "error", "code": "no_room"} in received, received
    assert set(kinds) <= {"turn", "error", "heartbeat"}, received
    # The colleague's page heard nothing of it either.
    assert set(colleague.evaluate("window.__messages")) <= {"turn", "joined", "heartbeat", "peer-left", "left"}


def test_csrf2_a_websocket_handshake_from_a_foreign_origin_is_refused(browser: Browser, call_stack: CallStack):
    """CSRF-2 (cross-site WebSocket hijacking): with a valid session cookie, the handshake is refused (HTTP 403)
    unless Origin is the app's own origin."""
    stack = call_stack
    context, _page = signed_in_page(browser, stack, stack.bob)
    cookie = next(c for c in context.cookies() if c.get("name") == settings.SESSION_COOKIE_NAME)
    url = stack.app.replace("http://", "ws://") + "/ws/calls/"
    headers = {"Cookie": f"{cookie.get('name')}={cookie.get('value')}"}

    async def attempt(origin: str) -> str:
        try:
            async with websockets.connect(url, origin=origin, additional_headers=headers) as ws:  # type: ignore[arg-type]
                return str(json.loads(await asyncio.wait_for(ws.recv(), 10))["type"])
        except websockets.InvalidStatus as refused:
            return f"refused {refused.response.status_code}"

    assert run_async(attempt(stack.app)) == "turn"
    for foreign in ("http://127.0.0.1:1", "http://evil.example", "null", stack.app.replace("http://", "https://")):
        assert run_async(attempt(foreign)) == "refused 403", foreign

    async def without_cookie() -> str:
        try:
            async with websockets.connect(url, origin=stack.app):  # type: ignore[arg-type]
                return "opened"
        except websockets.InvalidStatus as refused:
            return f"refused {refused.response.status_code}"

    assert run_async(without_cookie()) == "refused 403"


def test_ses1_signing_out_closes_the_socket(browser: Browser, call_stack: CallStack):
    """SES-1: signing out in another tab closes the call page's socket at once with 4401 (session ended)."""
    stack = call_stack
    context, page = signed_in_page(browser, stack, stack.bob)
    page.goto(f"{stack.app}/calls/{stack.lobby.pk}/")
    expect(page.locator("#call-join")).to_be_enabled()
    other = context.new_page()
    other.goto(f"{stack.app}/")
    other.click("header form button[type=submit]")
    other.wait_for_url(re.compile(r".*/login/$"))
    expect(page.locator("#call-status")).to_have_text("Your session ended. Please sign in again.", timeout=5000)
    assert page.evaluate("window.__closes") == [4401]
