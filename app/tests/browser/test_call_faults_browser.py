"""Faults survived during a live call (AVL-1, REC-1, MNT-1), in headless Chromium: two members are in a
call through the repository's TURN relay when

* the relay is killed (SIGKILL, as a relay task replaced abruptly) and started again on the same port:
  the call pages restart ICE by themselves (the offering side, retrying until it works) and audio flows
  again;
* the web server serving the signalling sockets is restarted (uvicorn shut down, as ECS stops a task in a
  deploy, and started again on the same port): the pages reconnect the socket, join the room again and
  renegotiate by themselves.

Measured from the receiving browsers (getStats, inbound audio packets sampled every 50 ms): the longest
gap in received audio and the time from the service being back to audio flowing again. Nobody clicks
anything after the first join. Bounds: AUDIO_GAP_BOUND_SECONDS.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_call_browser
from accounts.models import ThrottleCounter
from browser_servers import HOST
from calls.models import Room
from conftest import make_tenant, make_user
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import override_settings
from playwright.sync_api import Browser, Page, expect
from relay_servers import relay_server
from tenancy.db import tenant_context
from tenancy.models import Company
from test_call_browser import CallStack, signed_in_page, stats, wait_connected

pytestmark = pytest.mark.browser

# test_call_browser's fixtures, used by name: Chromium with the relay's CA trusted (for this module's
# call_stack below), and the switch that lets the test's own DB calls run beside Playwright.
browser = test_call_browser.browser
_sync_db_calls_beside_playwright = test_call_browser._sync_db_calls_beside_playwright

AUDIO_GAP_BOUND_SECONDS = 15.0

# Per page: every 50 ms, did any live peer connection receive audio packets since the last sample?
SAMPLER = """
() => {
  window.__flowing = [];
  const last = new Map();
  setInterval(async () => {
    let grew = false;
    for (const pc of window.__pcs) {
      if (pc.connectionState === "closed") continue;
      try {
        const stats = await pc.getStats();
        stats.forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "audio") {
            const key = pc;
            if ((s.packetsReceived || 0) > (last.get(key) || 0)) grew = true;
            last.set(key, s.packetsReceived || 0);
          }
        });
      } catch { /* closed meanwhile */ }
    }
    if (grew) window.__flowing.push(Date.now());
  }, 50);
}
"""


class RestartableAsgi:
    """kakoi.asgi under uvicorn (the worker's options) in a thread, on a fixed free port, that can be stopped
    (uvicorn's graceful shutdown: sockets closed with 1012, consumers' disconnect run) and started again."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            self.port = int(probe.getsockname()[1])
        self.server: Any = None
        self.thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        import uvicorn
        from kakoi.asgi import application
        from kakoi.asgi_worker import SERVER_OPTIONS

        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self.port))
        sock.listen(64)
        options = {key: value for key, value in SERVER_OPTIONS.items() if key != "loop"}
        server = uvicorn.Server(uvicorn.Config(application, log_level="warning", access_log=False, **options))
        self.server = server
        self.thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not server.started:
            raise RuntimeError("the ASGI server did not start")

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=20)
            self.server = None


class FaultCallStack(CallStack):
    web: RestartableAsgi


@pytest.fixture(scope="module")
def call_stack(django_db_setup: None, django_db_blocker: Any) -> Iterator[CallStack]:
    """As test_call_browser's call_stack, with a relay and a web server the tests can kill and restart."""
    with django_db_blocker.unblock():
        label = uuid.uuid4().hex[:8]
        ours, theirs = make_tenant(f"fault-{label}"), make_tenant(f"fother-{label}")
        alice = make_user(ours.company, f"alice-f{label}@example.com", name="Alice")
        bob = make_user(ours.company, f"bob-f{label}@example.com", name="Bob")
        stranger = make_user(theirs.company, f"eve-f{label}@example.com", name="Eve")
        with tenant_context(ours.company.pk):
            lobby = Room.objects.get(company=ours.company, is_lobby=True)
        home = Path(tempfile.mkdtemp(prefix="kakoi-chromium-"))
        web = RestartableAsgi()
        try:
            with relay_server() as relay:
                nssdb = home / ".pki" / "nssdb"
                nssdb.mkdir(parents=True)
                subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
                subprocess.run(
                    ["certutil", "-d", f"sql:{nssdb}", "-A", "-n", "kakoi-test-ca", "-t", "C,,", "-i", str(relay.ca)], check=True
                )
                with override_settings(
                    ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "127.0.0.1"],
                    KAKOI_TRUSTED_PROXY_COUNT=0,
                    KAKOI_TURN_URLS=[relay.url],
                    KAKOI_TURN_SECRET=relay.secret,
                ):
                    web.start()
                    try:
                        stack = FaultCallStack(web.origin, relay, alice, bob, stranger, lobby, home, home / "unused.pcapng")
                        stack.web = web
                        yield stack
                    finally:
                        web.stop()
        finally:
            for tenant in (ours, theirs):
                with tenant_context(tenant.company.pk):
                    Company.objects.filter(pk=tenant.company.pk).delete()
            Session.objects.all().delete()
            ThrottleCounter.objects.all().delete()
            shutil.rmtree(home, ignore_errors=True)


def in_call(browser: Browser, stack: CallStack) -> list[Page]:
    """Alice and Bob in a call, in a room of their own (no participant of an earlier test still leaving it)."""
    with tenant_context(stack.lobby.company_id):
        room = Room.objects.create(company_id=stack.lobby.company_id, name=f"Fault {uuid.uuid4().hex[:8]}")
    pages = []
    for user in (stack.alice, stack.bob):
        _context, page = signed_in_page(browser, stack, user)
        page.goto(f"{stack.app}/calls/{room.pk}/")
        expect(page.locator("#call-join")).to_be_enabled()
        pages.append(page)
    pages[0].click("#call-join")
    expect(pages[0].locator("#call-status")).to_contain_text("only one here")
    pages[1].click("#call-join")
    for page in pages:
        wait_connected(page, time.monotonic() + 30)
    for page in pages:
        page.evaluate(SAMPLER)
    wait_flowing_since(pages, time.time() * 1000, 10)
    return pages


def wait_live_connected(page: Page, bound: float) -> None:
    """Every peer connection not closed (those replaced after a rejoin are) is connected."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        live = [s for s in stats(page) if s["state"] != "closed"]
        if live and all(s["state"] == "connected" for s in live):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not connected: {stats(page)}")


def wait_flowing_since(pages: list[Page], since_ms: float, bound: float) -> float:
    """Seconds until every page received audio after `since_ms` (epoch ms)."""
    started = time.monotonic()
    while time.monotonic() - started < bound:
        if all(page.evaluate("(t) => window.__flowing.some((x) => x > t + 200)", since_ms) for page in pages):
            return time.monotonic() - started
        pages[0].wait_for_timeout(100)
    raise AssertionError(f"audio did not flow again within {bound} s: {[p.locator('#call-status').inner_text() for p in pages]}")


def longest_gap(page: Page, from_ms: float) -> float:
    """The longest interval (s) without received audio on this page after `from_ms`."""
    stamps = page.evaluate("(t) => window.__flowing.filter((x) => x >= t)", from_ms - 1000)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    return max(gaps, default=0) / 1000


def close_pages(pages: list[Page]) -> None:
    for page in pages:
        page.context.close()


def test_avl1_the_call_survives_the_relay_being_killed_and_restarted(browser: Browser, call_stack: CallStack) -> None:
    """AVL-1 / REC-1: the relay is killed during a call and started again 2 s later; without any click both
    pages get audio again (ICE restart through the new relay process), and the gap in received audio is
    bounded."""
    stack = call_stack
    pages = in_call(browser, stack)
    try:
        killed_ms = time.time() * 1000
        stack.relay.kill()
        time.sleep(2)
        stack.relay.restart()
        back_ms = time.time() * 1000
        recovery = wait_flowing_since(pages, back_ms, AUDIO_GAP_BOUND_SECONDS)
        for page in pages:
            wait_live_connected(page, 10)
            expect(page.locator("#call-status")).to_have_text("In the call.")
        gaps = [longest_gap(page, killed_ms) for page in pages]
        assert max(gaps) < AUDIO_GAP_BOUND_SECONDS, gaps
        print(f"\nAVL-1 relay killed for 2 s: relay back -> audio on both sides in {recovery:.2f} s; longest audio gap {max(gaps):.2f} s")
    finally:
        close_pages(pages)


def test_avl1_the_call_survives_the_web_server_restarting(browser: Browser, call_stack: CallStack) -> None:
    """AVL-1 / MNT-1: the web server (signalling sockets) shuts down during a call, as in a deploy, and is back
    1 s later: the pages reconnect, rejoin and renegotiate by themselves; the audio gap is bounded."""
    stack = call_stack
    assert isinstance(stack, FaultCallStack)
    pages = in_call(browser, stack)
    try:
        stopped_ms = time.time() * 1000
        stack.web.stop()
        time.sleep(1)
        stack.web.start()
        back_ms = time.time() * 1000
        for page in pages:
            expect(page.locator("#call-status")).to_have_text("In the call.", timeout=int(AUDIO_GAP_BOUND_SECONDS * 1000))
        recovery = wait_flowing_since(pages, back_ms, AUDIO_GAP_BOUND_SECONDS)
        for page in pages:
            wait_live_connected(page, 10)
            expect(page.locator(".tile figcaption", has_text="Alice" if page is pages[1] else "Bob")).to_have_count(1)
        gaps = [longest_gap(page, stopped_ms) for page in pages]
        assert max(gaps) < AUDIO_GAP_BOUND_SECONDS, gaps
        assert os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE") == "true"
        print(f"\nMNT-1 web server restarted: server back -> audio on both sides in {recovery:.2f} s; longest audio gap {max(gaps):.2f} s")
    finally:
        close_pages(pages)
