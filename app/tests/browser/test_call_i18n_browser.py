"""A live call in Japanese (issue 17): two members whose saved language is Japanese open the lobby, join,
talk through the TLS 1.3 relay and leave; every text the call page's script shows (from its json_script
block) is Japanese. The servers and the relay are test_call_browser's fixtures."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from accounts.models import User
from playwright.sync_api import Browser, expect
from test_call_browser import (  # noqa: F401 (module-scoped fixtures: the relay, the app, the browser)
    CallStack,
    _sync_db_calls_beside_playwright,
    browser,
    call_stack,
    signed_in_page,
    wait_connected,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("KAKOI_SCREENSHOT_DIR", "")


def shot(page: Any, name: str) -> None:
    """With KAKOI_SCREENSHOT_DIR set, the page is saved there (the Japanese call page, for docs/i18n.md)."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_a_call_in_japanese(browser: Browser, call_stack: CallStack, django_db_blocker: Any):  # noqa: F811
    """The lobby page, its buttons and the script's status lines are Japanese; the call connects as in English."""
    stack = call_stack
    members = [stack.alice.pk, stack.bob.pk]
    with django_db_blocker.unblock():
        User.objects.filter(pk__in=members).update(language="ja")
    opened = [signed_in_page(browser, stack, user) for user in (stack.alice, stack.bob)]
    try:
        pages = [page for _context, page in opened]
        pages[0].goto(f"{stack.app}/calls/")
        shot(pages[0], "11-rooms")
        for page in pages:
            page.goto(f"{stack.app}/calls/{stack.lobby.pk}/")
            assert page.get_attribute("html", "lang") == "ja"
            expect(page.locator("h1")).to_have_text("ロビー")
            expect(page.locator("#call-join")).to_have_text("通話に参加")
            expect(page.locator("#call-join")).to_be_enabled()
            expect(page.locator("#call-status")).to_have_text("参加できます。")
        started = time.monotonic()
        pages[0].click("#call-join")
        expect(pages[0].locator("#call-status")).to_contain_text("参加しているのはあなただけです")
        expect(pages[0].locator("#call-mute")).to_have_text("ミュート")
        pages[1].click("#call-join")
        for page in pages:
            wait_connected(page, started + 30)
        expect(pages[0].locator("#call-status")).to_have_text("通話中です。")
        expect(pages[0].locator(".tile figcaption", has_text="Bob")).to_be_visible()
        shot(pages[0], "12-call")
        pages[0].click("#call-mute")
        expect(pages[0].locator("#call-mute")).to_have_text("ミュート解除")
        pages[0].click("#call-leave")
        expect(pages[0].locator("#call-status")).to_have_text("通話から退出しました。")
    finally:
        for context, _page in opened:
            context.close()
        with django_db_blocker.unblock():
            User.objects.filter(pk__in=members).update(language="")
