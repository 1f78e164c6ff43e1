"""The recordings flow in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
sign in with the emailed code, upload a generated WAV straight to S3 (a moto server) with
upload progress, see it scanned and listed, download it, delete it; and the browser-side
protections: the session cookie is invisible to JavaScript, the app refuses to be framed by
another site, and a state-changing POST from another site is refused.

Servers: browser_servers.py. Everything is bounded: Playwright's timeouts are 20 s per step.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import scanevents
from browser_servers import app_with_s3, other_site
from conftest import PASSWORD, Tenant, make_tenant
from django.conf import settings
from django.core import mail
from media import objects, scans
from media.models import Recording, Status
from playwright.sync_api import Browser, Page, Playwright, Route, expect, sync_playwright
from tenancy.db import tenant_context
from test_media_formats import wav_bytes

pytestmark = pytest.mark.browser

# Debian's chromium package; KAKOI_CHROMIUM names another Chromium-based browser (e.g. GitHub's
# ubuntu runners: /usr/bin/google-chrome). Never `playwright install`.
CHROMIUM = os.environ.get("KAKOI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_MS = 20_000
WAV = wav_bytes(frames=16_000)  # two seconds at 8 kHz: enough bytes for several progress events


@pytest.fixture(scope="module", autouse=True)
def _sync_db_calls_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an asyncio loop running in this thread, which makes Django refuse
    database calls here (SynchronousOnlyOperation). The test's own DB calls are plain synchronous calls
    between browser steps, so the documented escape hatch is safe for this module (tests only)."""
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if saved is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@dataclass
class Stack:
    app: str
    s3_endpoint: str
    s3: Any
    tenant: Tenant
    pages: dict[str, str]
    other: str


@pytest.fixture(scope="module")
def stack(django_db_setup: None, django_db_blocker: Any) -> Iterator[Stack]:
    """App + S3 + another site, and a company whose manager signs in with an emailed code (committed rows)."""
    pages: dict[str, str] = {}
    with django_db_blocker.unblock():
        tenant = make_tenant(f"browser-{uuid.uuid4().hex[:8]}")
        with app_with_s3(tenant.company.pk) as (app, endpoint, s3), other_site(pages) as other:
            yield Stack(app=app, s3_endpoint=endpoint, s3=s3, tenant=tenant, pages=pages, other=other)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no browser at {CHROMIUM}: apt-get install chromium (Debian), or set KAKOI_CHROMIUM")
    with sync_playwright() as playwright:
        pw: Playwright = playwright
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=STEP_MS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def recordings(stack: Stack, django_db_blocker: Any) -> list[Recording]:
    with django_db_blocker.unblock(), tenant_context(stack.tenant.company.pk):
        return list(Recording.objects.all())


def sign_in(page: Page, stack: Stack) -> None:
    mail.outbox.clear()
    page.goto(f"{stack.app}/login/")
    page.fill("input[name=email]", stack.tenant.manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/verify/$"))
    deadline = time.monotonic() + 10
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    (message,) = mail.outbox
    code = re.search(r"\b(\d{6})\b", str(message.body))
    assert code, message.body
    page.fill("input[name=code]", code.group(1))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{stack.app}/")


def test_ses3_xss4_sign_in_with_the_emailed_code_and_a_cookie_javascript_cannot_read(page: Page, stack: Stack):
    """PWD-2 / SES-3 / XSS-4: the manager signs in with password and emailed code; the session cookie is
    __Host- prefixed, Secure and HttpOnly, so document.cookie does not contain it."""
    sign_in(page, stack)
    cookies = {c.get("name"): c for c in page.context.cookies()}
    session = cookies["__Host-sessionid"]
    assert (session.get("httpOnly"), session.get("secure"), session.get("path"), session.get("sameSite")) == (True, True, "/", "Lax")
    assert "sessionid" not in page.evaluate("document.cookie")
    assert "csrftoken" not in page.evaluate("document.cookie")


def test_path1_upload_progress_scan_download_and_delete(page: Page, stack: Stack, django_db_blocker: Any):
    """PATH-1 / PATH-3 / AV-1: a WAV goes from the browser straight to S3 with visible progress, is checked,
    shown as being scanned, becomes downloadable once GuardDuty's tag says NO_THREATS_FOUND, downloads
    intact under its name, and is deleted with its object."""
    page.goto(f"{stack.app}/media/")
    expect(page.locator("#no-recordings")).to_be_visible()
    held: list[Route] = []
    page.route("**/confirm/", lambda route: held.append(route))
    storage_posts: list[Any] = []
    page.on("response", lambda r: storage_posts.append(r) if r.url.startswith(stack.s3_endpoint) and r.request.method == "POST" else None)
    page.set_input_files("#upload-file", files=[{"name": "meeting.wav", "mimeType": "audio/wav", "buffer": WAV}])
    page.click("#upload-button")
    # The file went to S3 (not through the app) and the progress reached 100 % before the app was asked to check it.
    expect(page.locator("#upload-percent")).to_have_text("100 %")
    assert page.eval_on_selector("#upload-progress", "p => p.value") == 1
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert [r.status for r in storage_posts] == [204]
    (pending,) = recordings(stack, django_db_blocker)
    assert pending.status == Status.PENDING and "meeting" not in pending.object_key
    held[0].continue_()
    page.unroute("**/confirm/")
    page.wait_for_url(f"{stack.app}/media/")
    row = page.locator("tr", has_text="meeting.wav")
    expect(row).to_contain_text("Being scanned for malware")
    expect(row.locator("a.download")).to_have_count(0)
    (recording,) = recordings(stack, django_db_blocker)
    assert recording.status == Status.SCANNING
    stored = stack.s3.get_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=recording.object_key)
    assert stored["Body"].read() == WAV and stored["ContentType"] == "audio/wav"

    # GuardDuty tags the object and publishes the result; the consumer applies it (media.scans); the page's
    # poll (which reads only the database) notices and shows the download link.
    stack.s3.put_object_tagging(
        Bucket=settings.KAKOI_MEDIA_BUCKET,
        Key=recording.object_key,
        VersionId=recording.version_id,
        Tagging={"TagSet": [{"Key": objects.SCAN_TAG, "Value": objects.NO_THREATS_FOUND}]},
    )
    with django_db_blocker.unblock():
        event = scans.parse_event(scanevents.body(recording.object_key, objects.NO_THREATS_FOUND, recording.version_id))
        assert scans.record_event(event) == "ready"
    link = page.locator("tr", has_text="meeting.wav").locator("a.download")
    expect(link).to_be_visible(timeout=STEP_MS)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "meeting.wav"
    assert download.url.startswith(stack.s3_endpoint) and "X-Amz-Signature=" in download.url
    with open(download.path(), "rb") as saved:
        assert saved.read() == WAV

    # Inline playback (issue 12): the detail page plays the recording from a short-lived presigned GET of the
    # confirmed version; its CSP allows media from the bucket's origin only.
    with page.expect_response(re.compile(rf".*/media/{recording.pk}/$")) as detail:
        page.click("text=meeting.wav")
    csp = detail.value.headers["content-security-policy"]
    assert f"media-src {stack.s3_endpoint}" in csp, csp
    player = page.locator("audio#playback")
    expect(player).to_be_visible()
    src = player.get_attribute("src") or ""
    assert src.startswith(stack.s3_endpoint) and "X-Amz-Expires=300" in src and f"versionId={recording.version_id}" in src
    duration = page.eval_on_selector(
        "audio#playback",
        """el => new Promise((ok, fail) => {
            if (el.readyState >= 1) { ok(el.duration); return; }
            el.addEventListener("loadedmetadata", () => ok(el.duration));
            el.addEventListener("error", () => fail(new Error("media error " + (el.error && el.error.code))));
            el.load();
        })""",
    )
    assert abs(duration - 2.0) < 0.05  # two seconds at 8 kHz: the browser decoded the WAV it fetched from S3
    # media from any other origin is refused by the CSP
    refused = page.evaluate(
        """url => new Promise(ok => {
            document.addEventListener("securitypolicyviolation", e => ok(e.violatedDirective), { once: true });
            const a = new Audio(url); a.play().catch(() => {});
            setTimeout(() => ok("not refused"), 5000);
        })""",
        f"{stack.other}/sound.wav",
    )
    assert refused == "media-src", refused

    # Rename (escaped) and delete with the typed word.
    page.fill("input[name=display_name]", "<b>Board</b> meeting")
    page.click("button:has-text('Rename')")
    expect(page.locator("h1")).to_have_text("<b>Board</b> meeting")
    page.fill("input[name=confirm]", "delete")
    page.click("button:has-text('Delete the recording')")
    page.wait_for_url(f"{stack.app}/media/")
    expect(page.locator("#no-recordings")).to_be_visible()
    assert recordings(stack, django_db_blocker) == []
    listing = stack.s3.list_object_versions(Bucket=settings.KAKOI_MEDIA_BUCKET, Prefix=recording.object_key)
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []


def _uploaded_recording(page: Page, stack: Stack, django_db_blocker: Any) -> Recording:
    page.goto(f"{stack.app}/media/")
    page.set_input_files("#upload-file", files=[{"name": "target.wav", "mimeType": "audio/wav", "buffer": WAV}])
    page.click("#upload-button")
    expect(page.locator("tr", has_text="target.wav")).to_be_visible()
    (recording,) = recordings(stack, django_db_blocker)
    return recording


def test_cj1_the_app_refuses_to_be_framed_by_another_site(page: Page, stack: Stack):
    """CJ-1: a page on another origin frames the recordings page; the browser refuses to render it
    (X-Frame-Options DENY and CSP frame-ancestors 'none') and says so on the console."""
    stack.pages["/frame.html"] = f'<!doctype html><title>evil</title><h1>evil</h1><iframe id="f" src="{stack.app}/media/"></iframe>'
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    with page.expect_response(f"{stack.app}/media/") as framed:
        page.goto(f"{stack.other}/frame.html")
    response = framed.value
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_timeout(500)
    child = page.frames[1]
    assert not child.url.startswith(stack.app)  # the error page, not the app
    assert "Recordings" not in child.content()
    assert any("frame-ancestors" in text or "X-Frame-Options" in text for text in console), console


def test_csrf1_csrf2_a_post_from_another_site_is_refused(page: Page, stack: Stack, django_db_blocker: Any):
    """CSRF-1 / CSRF-2: another site auto-submits a deletion form to the app; the browser sends the
    (same-site) session cookie, and the app answers 403 and deletes nothing."""
    recording = _uploaded_recording(page, stack, django_db_blocker)
    target = f"{stack.app}/media/{recording.pk}/delete/"
    stack.pages["/csrf.html"] = (
        f'<!doctype html><title>win a prize</title><form id="f" method="post" action="{target}">'
        '<input name="confirm" value="delete"></form><script>document.getElementById("f").submit()</script>'
    )
    with page.expect_response(target) as answer:
        page.goto(f"{stack.other}/csrf.html")
    assert answer.value.status == 403
    assert answer.value.request.header_value("cookie") and "__Host-sessionid=" in (answer.value.request.header_value("cookie") or "")
    assert [r.pk for r in recordings(stack, django_db_blocker)] == [recording.pk]
