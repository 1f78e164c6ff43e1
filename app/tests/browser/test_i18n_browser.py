"""The main flows in Japanese, in headless Chromium set to Japanese (Accept-Language ja-JP): sign in with the
code from the Japanese email, upload a file with a Japanese name (progress, scan), download it under that
name, play it, rename it to another Japanese name, delete it with the typed 「削除」; then the language switch on the
account page turns the same browser's pages English and back.

With KAKOI_SCREENSHOT_DIR set, every main page is also saved there as a PNG (how docs/i18n.md's
description of the Japanese pages was made).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import scanevents
from accounts.models import User
from browser_servers import app_with_s3
from conftest import PASSWORD, Tenant, make_tenant
from django.conf import settings
from django.core import mail
from media import objects, scans
from media.models import Recording
from playwright.sync_api import Browser, Page, Route, expect
from tenancy.db import tenant_context
from tenancy.models import Company
from test_media_browser import (  # noqa: F401 (the module-scoped fixtures: the browser, and the DB calls beside Playwright)
    STEP_MS,
    WAV,
    _sync_db_calls_beside_playwright,
    browser,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("KAKOI_SCREENSHOT_DIR", "")
FILE_NAME = "営業部　定例会議.wav"
RENAMED = "議事録 第２回"


@dataclass
class Stack:
    app: str
    s3: Any
    tenant: Tenant


@pytest.fixture(scope="module")
def stack(django_db_setup: None, django_db_blocker: Any) -> Iterator[Stack]:
    """App + S3 and a Japanese company (default language ja, Asia/Tokyo) whose manager signs in with an emailed code."""
    with django_db_blocker.unblock():
        tenant = make_tenant(f"ja-{uuid.uuid4().hex[:8]}", language="ja")
        with tenant_context(tenant.company.pk):
            Company.objects.filter(pk=tenant.company.pk).update(name="株式会社かこい")
            tenant.company.name = "株式会社かこい"
            User.objects.filter(pk=tenant.manager.pk).update(name="山田 太郎")
        with app_with_s3(tenant.company.pk) as (app, _endpoint, s3):
            yield Stack(app=app, s3=s3, tenant=tenant)


@pytest.fixture(scope="module")
def page(browser: Browser, stack: Stack) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(accept_downloads=True, locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1100, "height": 800})
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def recordings(stack: Stack, django_db_blocker: Any) -> list[Recording]:
    with django_db_blocker.unblock(), tenant_context(stack.tenant.company.pk):
        return list(Recording.objects.all())


def test_pwd2_sign_in_in_japanese_with_the_code_from_the_japanese_email(page: Page, stack: Stack):
    """PWD-2: the sign-in pages are Japanese for a Japanese browser; the emailed code arrives in Japanese."""
    mail.outbox.clear()
    page.goto(f"{stack.app}/login/")
    assert page.get_attribute("html", "lang") == "ja"
    expect(page.locator("h1")).to_have_text("ログイン")
    expect(page.locator("label[for=id_email]")).to_contain_text("メールアドレス")
    shot(page, "01-login")
    page.fill("input[name=email]", stack.tenant.manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/verify/$"))
    expect(page.locator("h1")).to_have_text("二段階認証")
    shot(page, "02-verify")
    deadline = time.monotonic() + 10
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    (message,) = mail.outbox
    assert message.subject == "kakoi ログイン用の確認コード"
    code = re.search(r"確認コードは (\d{6}) です", str(message.body))
    assert code, message.body
    page.fill("input[name=code]", code.group(1))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{stack.app}/")
    expect(page.locator("h1")).to_have_text("株式会社かこい")
    expect(page.locator("nav")).to_contain_text("録音")
    expect(page.locator("nav")).to_contain_text("ログアウト")
    shot(page, "03-home")


def test_path3_a_japanese_file_name_through_upload_scan_download_rename_and_delete(page: Page, stack: Stack, django_db_blocker: Any):
    """PATH-1 / PATH-3 / AV-1 / CJ-3 in Japanese: progress and states in Japanese, the Japanese name listed and
    downloaded as is, renamed to another Japanese name, deleted with the typed word 「削除」."""
    page.goto(f"{stack.app}/media/")
    expect(page.locator("#no-recordings")).to_have_text("まだ録音はありません。")
    held: list[Route] = []
    page.route("**/confirm/", lambda route: held.append(route))
    page.set_input_files("#upload-file", files=[{"name": FILE_NAME, "mimeType": "audio/wav", "buffer": WAV}])
    page.click("#upload-button")
    expect(page.locator("#upload-percent")).to_have_text("100%")
    expect(page.locator("#upload-status")).to_have_text("ファイルを確認しています…")
    shot(page, "04-recordings-uploading")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    held[0].continue_()
    page.unroute("**/confirm/")
    page.wait_for_url(f"{stack.app}/media/")
    row = page.locator("tr", has_text=FILE_NAME)
    expect(row).to_contain_text("マルウェアスキャン中")
    shot(page, "05-recordings-scanning")
    (recording,) = recordings(stack, django_db_blocker)
    assert recording.display_name == FILE_NAME
    stack.s3.put_object_tagging(
        Bucket=settings.KAKOI_MEDIA_BUCKET,
        Key=recording.object_key,
        VersionId=recording.version_id,
        Tagging={"TagSet": [{"Key": objects.SCAN_TAG, "Value": objects.NO_THREATS_FOUND}]},
    )
    with django_db_blocker.unblock():  # the scan result event, as the consumer applies it
        event = scans.parse_event(scanevents.body(recording.object_key, objects.NO_THREATS_FOUND, recording.version_id))
        assert scans.record_event(event) == "ready"
    link = page.locator("tr", has_text=FILE_NAME).locator("a.download")
    expect(link).to_have_text("ダウンロード", timeout=STEP_MS)
    shot(page, "06-recordings-ready")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == FILE_NAME
    with open(download.path(), "rb") as saved:
        assert saved.read() == WAV

    page.click(f"text={FILE_NAME}")
    expect(page.locator("h1")).to_have_text(FILE_NAME)
    # Playback of the Japanese-named recording: the player loads it (its fallback text is Japanese).
    player = page.locator("audio#playback")
    expect(player).to_be_visible()
    assert "ダウンロードしてください" in (player.inner_text() or player.evaluate("el => el.textContent"))
    duration = page.eval_on_selector(
        "audio#playback",
        """el => new Promise((ok, fail) => {
            if (el.readyState >= 1) { ok(el.duration); return; }
            el.addEventListener("loadedmetadata", () => ok(el.duration));
            el.addEventListener("error", () => fail(new Error("media error " + (el.error && el.error.code))));
            el.load();
        })""",
    )
    assert abs(duration - 2.0) < 0.05
    expect(page.locator("main")).to_contain_text("確認のため「削除」と入力してください")
    shot(page, "07-recording-detail")
    page.fill("input[name=display_name]", RENAMED)
    page.click("button:has-text('名前を変更')")
    expect(page.locator("h1")).to_have_text(RENAMED)
    expect(page.locator(".messages")).to_have_text("録音の名前を変更しました。")
    page.fill("input[name=confirm]", "さくじょ")
    page.click("button:has-text('録音を削除')")
    expect(page.locator(".errorlist")).to_contain_text("この録音を削除するには「削除」と入力してください。")
    page.fill("input[name=confirm]", "削除")
    page.click("button:has-text('録音を削除')")
    page.wait_for_url(f"{stack.app}/media/")
    expect(page.locator(".messages")).to_have_text(f"「{RENAMED}」を削除しました。")
    assert recordings(stack, django_db_blocker) == []


def test_the_language_switch_turns_the_pages_english_and_back(page: Page, stack: Stack, django_db_blocker: Any):
    """The account page's switch (a POST with the CSRF token) beats the browser's Japanese; 'automatic' gives
    the browser back its say. The members and security pages are shown in Japanese on the way."""
    page.goto(f"{stack.app}/members/")
    expect(page.locator("h1")).to_have_text("メンバー")
    shot(page, "08-members")
    page.goto(f"{stack.app}/account/security/")
    expect(page.locator("h1")).to_have_text("ログインのセキュリティ")
    shot(page, "09-security")
    page.goto(f"{stack.app}/")
    shot(page, "10-account-preferences")
    page.select_option("#id_language", "en")
    page.click("#preferences-form button[type=submit]")
    page.wait_for_url(f"{stack.app}/")
    expect(page.locator(".messages")).to_have_text("Your language and time zone were saved.")
    expect(page.locator("nav")).to_contain_text("Recordings")
    with django_db_blocker.unblock():
        assert User.objects.get(pk=stack.tenant.manager.pk).language == "en"
    page.select_option("#id_language", "")
    page.click("#preferences-form button[type=submit]")
    expect(page.locator(".messages")).to_have_text("言語とタイムゾーンを保存しました。")
