"""The app in Japanese and English: the catalogue is complete, nothing user-visible is left unmarked, and
the language, time zone and date formats follow the user, the browser and the company as documented
(docs/i18n.md); emails go out in the recipient's language; Japanese file names survive upload, listing,
rename and download.

The catalogue checks run Django's own extraction (makemessages: GNU gettext's xgettext, Debian package
`gettext`, in scripts/system-packages.txt) over a copy of the app and compare with app/locale.
"""

from __future__ import annotations

import ast
import html.parser
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import polib
import pytest
from accounts.models import Invitation, User
from conftest import PASSWORD, CommitClient, mailed_path, make_tenant
from django.conf import settings
from django.core import mail
from django.template.base import Lexer, TokenType
from django.test import Client
from django.urls import reverse
from django.utils import translation
from media import objects
from tenancy.db import tenant_context
from tenancy.models import Company
from test_media_upload import find, request_form, tag, uploaded

APP = Path(__file__).resolve().parents[1]
PO = APP / "locale" / "ja" / "LC_MESSAGES" / "django.po"
TEMPLATES = APP / "templates"
#: words a page may show untranslated: the product's name
UNTRANSLATED_WORDS = {"kakoi"}

# --- the catalogue ----------------------------------------------------------------------------


def _key(entry: polib.POEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> polib.POFile:
    """makemessages (as `make messages` runs it) over a copy of the app, merged into a copy of the committed .po."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: apt-get install gettext (scripts/system-packages.txt)")
    copy = tmp_path_factory.mktemp("app") / "app"
    shutil.copytree(APP, copy, ignore=shutil.ignore_patterns("tests", "staticfiles", "__pycache__", "*.mo", "node_modules"))
    command = [sys.executable, "manage.py", "makemessages", "-l", "ja", "--add-location", "file", "--no-obsolete"]
    result = subprocess.run(
        command,
        cwd=copy,
        env={"DJANGO_SETTINGS_MODULE": "kakoi.settings.build", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return polib.pofile(str(copy / "locale" / "ja" / "LC_MESSAGES" / "django.po"))


def test_every_marked_string_has_a_japanese_translation(extracted: polib.POFile):
    """Every string marked in templates and Python is in the catalogue, translated, not fuzzy; the catalogue
    holds nothing that is no longer marked (run `make messages` and translate the new entries)."""
    committed = polib.pofile(str(PO))
    found = {_key(e) for e in extracted}
    have = {_key(e) for e in committed if not e.obsolete}
    assert found - have == set(), f"marked but not in {PO.relative_to(APP)} (run make messages): {sorted(found - have)}"
    assert have - found == set(), f"in the catalogue but no longer marked (run make messages): {sorted(have - found)}"
    untranslated = [e.msgid for e in committed if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert untranslated == [], f"no Japanese translation (or fuzzy): {untranslated}"
    assert len(found) > 200


_PLACEHOLDERS = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}|<(/?\w+)>")


def _placeholders(text: str) -> list[str]:
    return sorted(a or b or c for a, b, c in _PLACEHOLDERS.findall(text))


def test_translations_keep_every_placeholder_and_tag():
    """%(name)s, {name} (filled in by upload.js) and inline tags (<strong>) are the same in each translation,
    and GNU msgfmt --check accepts the catalogue (format strings included)."""
    for entry in polib.pofile(str(PO)):
        translations = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for text in translations:
            assert _placeholders(text) == _placeholders(entry.msgid), (entry.msgid, text)
    if shutil.which("msgfmt"):
        subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(PO)], check=True, capture_output=True)


def test_the_compiled_catalogue_is_what_django_loads():
    """compile_translations' .mo (polib) is the one Django uses: a string from each area reads in Japanese."""
    from core.management.commands.compile_translations import compile_all

    assert [path.name for path, _count in compile_all()] == ["django.mo"]
    with translation.override("ja"):
        assert translation.gettext("Recordings") == "録音"
        assert translation.gettext("Manager") == "管理者"
        assert translation.pgettext("the word typed to confirm a deletion", "delete") == "削除"
        assert translation.gettext("This field is required.") == "このフィールドは必須です。"  # Django's own catalogue
    with translation.override("en"):
        assert translation.gettext("Recordings") == "Recordings"


# --- nothing user-visible is left unmarked --------------------------------------------------------


class _VisibleText(html.parser.HTMLParser):
    """Collects the text a person would read: element text and the text attributes (not script, style or code)."""

    ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "label"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "code"}:
            self._skip += 1
        for name, value in attrs:
            if value and (name in self.ATTRIBUTES or (name == "value" and dict(attrs).get("type") in {"submit", "button"})):
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "code"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.found.append(data)


def _is_words(text: str) -> bool:
    """Letters that are not a placeholder, the product's name or a lone symbol."""
    words = re.findall(r"[^\W\d_]+", text.replace("\x00", " "))
    return any(word not in UNTRANSLATED_WORDS for word in words)


def unmarked_template_text(source: str) -> list[str]:
    """The user-visible text of a template that is outside {% translate %} / {% blocktranslate %}.

    Django's own lexer splits the template; variables and tags become a placeholder, the text inside
    blocktranslate and comment blocks is skipped; what remains is parsed as HTML."""
    pieces: list[str] = []
    inside = None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if name in {"blocktranslate", "blocktrans", "comment"}:
                inside = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans", "comment": "endcomment"}[name]
            elif name == inside:
                inside = None
            pieces.append("\x00")
        elif token.token_type == TokenType.TEXT and inside is None:
            pieces.append(token.contents)
        elif token.token_type == TokenType.VAR:
            pieces.append("\x00")
    parser = _VisibleText()
    parser.feed("".join(pieces))
    parser.close()
    return [text.replace("\x00", " ").strip() for text in parser.found if _is_words(text)]


def test_no_template_has_unmarked_user_visible_text():
    """Every template's visible text (element text, title/alt/placeholder/aria-label, button values) is marked."""
    offenders = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        found = unmarked_template_text(path.read_text())
        if found:
            offenders[str(path.relative_to(APP))] = found
    assert offenders == {}


def test_the_template_check_finds_unmarked_text():
    """The check above is not hollow: it sees plain text, text attributes and text between tags, and
    accepts marked text, variables and the product's name."""
    assert unmarked_template_text("<h1>Recordings</h1>") == ["Recordings"]
    assert unmarked_template_text('<input placeholder="Your name">') == ["Your name"]
    assert unmarked_template_text('{% load i18n %}<p>{% translate "Hi" %} there</p>') == ["there"]
    assert unmarked_template_text('<input type="submit" value="Send">') == ["Send"]
    assert unmarked_template_text('{% load i18n %}<h1>{% translate "Hi" %}</h1><p>{{ name }} · kakoi — 1 %</p>') == []
    assert unmarked_template_text("{% blocktranslate %}Hello {{ who }}{% endblocktranslate %}<code>ABC</code>") == []


#: calls whose string arguments are shown to a person (message, error, label, email text)
MESSAGE_CALLS = {"success", "error", "info", "warning", "debug"}  # messages.<level>(request, text)
USER_VISIBLE_CALLS = {
    "add_error",
    "ValidationError",
    "UploadError",
    "_error",
    "_restart",
    "send_after_commit",
    "send_mail",
}
USER_VISIBLE_KEYWORDS = {"label", "help_text", "verbose_name", "message"}


def _literal_text(node: ast.AST) -> bool:
    """A string literal (or f-string) with words in it: text that was not passed through gettext."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _is_words(node.value) and " " in node.value.strip()
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and isinstance(v.value, str) and _is_words(v.value) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _literal_text(node.left) or _literal_text(node.right)
    return False


def unmarked_python_strings(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        flash = (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "messages" and name in MESSAGE_CALLS
        )
        candidates = [*node.args] if flash or name in USER_VISIBLE_CALLS else []
        candidates += [kw.value for kw in node.keywords if kw.arg in USER_VISIBLE_KEYWORDS]
        found += [ast.unparse(arg) for arg in candidates if _literal_text(arg)]
    return found


def test_python_user_visible_strings_are_marked():
    """Flash messages, form errors and labels, upload errors and email texts in the app's Python go through
    gettext: none is a bare literal (app code outside tests and migrations)."""
    offenders = {}
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(APP).parts
        if parts[0] in {"tests", "staticfiles"} or "migrations" in parts:
            continue
        found = unmarked_python_strings(path.read_text())
        if found:
            offenders[str(path.relative_to(APP))] = found
    assert offenders == {}
    assert unmarked_python_strings('messages.success(request, "Saved it.")') == ["'Saved it.'"]
    assert unmarked_python_strings('form.add_error(None, f"Nope {x} here")') == ["f'Nope {x} here'"]
    assert unmarked_python_strings('messages.success(request, _("Saved it."))') == []


def test_choices_labels_are_translated():
    """The labels of every TextChoices the pages show (roles, second factors, recording states) are lazy
    translations, so they read in the page's language."""
    from accounts.models import Role, SecondFactor
    from media.models import Status

    with translation.override("ja"):
        assert [str(label) for label in Role.labels] == ["管理者", "メンバー"]
        assert str(SecondFactor.EMAIL.label) == "メールで届く確認コード"
        assert str(Status.SCANNING.label) == "マルウェアスキャン中"


_JS_SENTENCE = re.compile(r"""(["'`])((?:(?!\1)[^\\\n]|\\.)*?[A-Za-z]{2,}\s+[A-Za-z]{2,}(?:(?!\1)[^\\\n]|\\.)*?)\1""")


def js_sentences(source: str) -> list[str]:
    """String literals in JavaScript that read like words for a person (two words or more)."""
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", source, flags=re.S).replace('"use strict"', "")
    return [match.group(2) for match in _JS_SENTENCE.finditer(code)]


def test_javascript_holds_no_user_visible_text():
    """Contract "App strings": what a script shows comes from its page (json_script / data- attributes,
    translated); no static .js file carries English sentences."""
    scripts = sorted((APP / "static").rglob("*.js"))
    assert scripts
    offenders = {str(p.relative_to(APP)): js_sentences(p.read_text()) for p in scripts}
    assert {k: v for k, v in offenders.items() if v} == {}
    assert js_sentences('say(status, "Choose a file first.", true);') == ["Choose a file first."]
    assert js_sentences('fetch(url, { credentials: "same-origin" }); // a comment with words') == []


# --- language, time zone and formats of a page ------------------------------------------------------


def _page(client: Client, path: str, language: str | None) -> Any:
    extra: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": language} if language is not None else {}
    return client.get(path, **extra)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "expected", "heading"),
    [
        ("ja-JP,ja;q=0.9,en;q=0.8", "ja", "ログイン"),
        ("en-US,en;q=0.9", "en", "Sign in"),
        ("fr-FR,de;q=0.5", "ja", "ログイン"),
        ("", "ja", "ログイン"),
    ],
)
def test_an_anonymous_page_follows_accept_language_else_japanese(accept: str, expected: str, heading: str):
    """Signed out: the browser's first supported language, else LANGUAGE_CODE (ja); Content-Language says which,
    Vary: Accept-Language keeps caches honest, <html lang> matches."""
    response = CommitClient(HTTP_ACCEPT_LANGUAGE=accept).get(reverse("accounts:login"))
    assert response["Content-Language"] == expected and "Accept-Language" in response["Vary"]
    page = response.content.decode()
    assert f'<html lang="{expected}">' in page and f"<h1>{heading}</h1>" in page


@pytest.mark.django_db
def test_a_signed_in_page_uses_the_saved_language_else_the_browser_else_the_company(client: Client, signed_in):
    """The user's saved language beats the browser's; without one the browser's supported language wins;
    a browser asking for neither language gets the company's default."""
    tenant = make_tenant("lang", language="ja")
    user = tenant.member
    signed_in(client, user)
    home = reverse("accounts:home")
    assert _page(client, home, "en")["Content-Language"] == "en"
    assert _page(client, home, "fr")["Content-Language"] == "ja"  # the company's default
    User.objects.filter(pk=user.pk).update(language="en")
    assert _page(client, home, "ja")["Content-Language"] == "en"  # the saved language
    with tenant_context(tenant.company.pk):
        Company.objects.filter(pk=tenant.company.pk).update(default_language="en")
    User.objects.filter(pk=user.pk).update(language="")
    assert _page(client, home, "fr")["Content-Language"] == "en"


@pytest.mark.django_db
def test_the_language_switch_on_the_account_page_is_a_csrf_protected_post(csrf_client: Client, signed_in):
    """The account page's switch: a POST with the CSRF token saves the language (and time zone) on the user;
    the next pages are in it whatever the browser asks; a GET or a POST without the token changes nothing;
    a value outside the choices is a 400 naming the field."""
    tenant = make_tenant("switch", language="en")
    user = tenant.member
    signed_in(csrf_client, user)
    home = csrf_client.get(reverse("accounts:home"), HTTP_ACCEPT_LANGUAGE="en")
    page = home.content.decode()
    assert 'action="/account/preferences/"' in page and "Language and time zone" in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    url = reverse("accounts:preferences")
    assert csrf_client.post(url, {"language": "ja", "time_zone": ""}).status_code == 403
    assert csrf_client.get(url).status_code == 405
    assert User.objects.get(pk=user.pk).language == ""
    bad = csrf_client.post(url, {"language": "xx", "time_zone": "Mars/Olympus", "csrfmiddlewaretoken": token.group(1)})
    assert bad.status_code == 400 and "xx" in bad.content.decode() and User.objects.get(pk=user.pk).language == ""
    response = csrf_client.post(url, {"language": "ja", "time_zone": "Europe/Berlin", "csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302
    saved = User.objects.get(pk=user.pk)
    assert (saved.language, saved.time_zone) == ("ja", "Europe/Berlin")
    after = csrf_client.get(reverse("accounts:home"), HTTP_ACCEPT_LANGUAGE="en")
    text = after.content.decode()
    assert after["Content-Language"] == "ja" and "言語とタイムゾーンを保存しました。" in text and "Europe/Berlin" in text
    # Back to automatic: the browser decides again.
    csrf_client.post(url, {"language": "", "time_zone": "", "csrfmiddlewaretoken": token.group(1)})
    assert csrf_client.get(reverse("accounts:home"), HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"


@pytest.mark.django_db
def test_japanese_pages_show_japanese_forms_errors_and_choices(client: Client, signed_in):
    """Form labels, Django's own validation messages, our errors and the choice labels read in Japanese."""
    response = CommitClient(HTTP_ACCEPT_LANGUAGE="ja").post(reverse("accounts:login"), {"email": "nobody@example.com", "password": "x"})
    page = response.content.decode()
    assert "メールアドレスまたはパスワードが正しくありません。" in page and "パスワード" in page
    required = CommitClient(HTTP_ACCEPT_LANGUAGE="ja").post(reverse("accounts:login"), {})
    assert "このフィールドは必須です。" in required.content.decode()
    tenant = make_tenant("forms", language="ja")
    signed_in(client, tenant.manager)
    members = client.get(reverse("accounts:members"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "メンバーを招待" in members and "管理者" in members and '<option value="ja" selected>日本語</option>' in members


@pytest.mark.django_db
def test_dates_are_in_the_users_time_zone_and_the_locale_format(client: Client, signed_in, aws):
    """A recording's upload time: the company's time zone (Asia/Tokyo) in Japanese format (2026/12/01 19:30),
    and the user's own zone once they pick one; stored in UTC either way."""
    tenant = make_tenant("tz", language="ja")
    signed_in(client, tenant.member)
    recording = uploaded(client, aws, name="tz.wav")
    created = recording.created_at
    from zoneinfo import ZoneInfo

    tokyo = created.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y/%m/%d %-H:%M")
    page = client.get(reverse("media:list"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert tokyo in page
    User.objects.filter(pk=tenant.member.pk).update(time_zone="America/New_York", language="en")
    york = created.astimezone(ZoneInfo("America/New_York"))
    page = client.get(reverse("media:list")).content.decode()
    assert york.strftime("%m/%d/%Y") in page and tokyo not in page


# --- emails in the recipient's language ----------------------------------------------------------


@pytest.mark.django_db
def test_pwd2_the_sign_in_code_email_is_in_the_recipients_language(client: Client):
    """PWD-2 / CSRF-3: the emailed code goes out in the user's saved language (else the company's), whatever
    language the sign-in page was in."""
    tenant = make_tenant("code", language="ja")
    manager = tenant.manager
    CommitClient(HTTP_ACCEPT_LANGUAGE="en").post(reverse("accounts:login"), {"email": manager.email, "password": PASSWORD})
    (message,) = mail.outbox
    assert message.subject == "kakoi ログイン用の確認コード"
    assert re.search(r"ログイン用の確認コードは \d{6} です。", str(message.body)) and "10分間" in message.body
    mail.outbox.clear()
    User.objects.filter(pk=manager.pk).update(language="en")
    CommitClient(HTTP_ACCEPT_LANGUAGE="ja").post(reverse("accounts:login"), {"email": manager.email, "password": PASSWORD})
    assert mail.outbox[0].subject == "Your kakoi sign-in code"


@pytest.mark.django_db
def test_csrf3_notices_say_what_happened_in_japanese_with_a_japanese_date(client: Client, signed_in):
    """CSRF-3: a notice (password change) to a Japanese user names the operation, the time in their zone and
    the Japanese date format with the zone, the source address, and what to do if it was not them."""
    tenant = make_tenant("notice", language="ja")
    signed_in(client, tenant.member)
    data = {"password": PASSWORD, "new_password1": "新しい合言葉は囲い将棋 2026", "new_password2": "新しい合言葉は囲い将棋 2026"}
    assert client.post(reverse("accounts:password-change"), data, REMOTE_ADDR="198.51.100.7").status_code == 302
    (notice,) = mail.outbox
    assert notice.subject == "kakoi のパスワードが変更されました"
    assert re.search(
        r"\d{4}年\d{1,2}月\d{1,2}日\d{1,2}:\d{2} \(JST\) に .+ から、kakoi アカウントのパスワードが変更されました。", str(notice.body)
    )
    assert "直ちに会社の管理者に連絡してください" in notice.body


@pytest.mark.django_db
def test_usr1_the_inviter_chooses_the_invitees_language(client: Client, signed_in):
    """USR-1: an English-speaking manager invites someone in Japanese: the invitation email and the acceptance
    page are Japanese, and the new account keeps Japanese as its language. Without a choice the company's default
    applies."""
    tenant = make_tenant("invite", language="en")
    User.objects.filter(pk=tenant.manager.pk).update(language="en")
    signed_in(client, tenant.manager)
    response = client.post(reverse("accounts:invite"), {"email": "tanaka@example.jp", "role": "member", "language": "ja"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.subject == f"kakoi の「{tenant.company.name}」への招待"
    assert f"{tenant.manager.email} さんから" in message.body and "時間有効" in message.body
    accept = CommitClient(HTTP_ACCEPT_LANGUAGE="en")
    page = accept.get(mailed_path(message))
    assert page["Content-Language"] == "ja" and "アカウントを作成" in page.content.decode()
    data = {"name": "田中 花子", "password1": "囲いの中は安全です 2026", "password2": "囲いの中は安全です 2026", "language": ""}
    assert accept.post(mailed_path(message), data).status_code == 302
    created = User.objects.get(email="tanaka@example.jp")
    assert created.language == "ja" and created.name == "田中 花子"
    mail.outbox.clear()
    client.post(reverse("accounts:invite"), {"email": "smith@example.com", "role": "member"})
    assert mail.outbox[0].subject.startswith("You are invited")
    with tenant_context(tenant.company.pk):
        assert Invitation.objects.get(email="smith@example.com").language == "en"


@pytest.mark.django_db
def test_usr2_the_deletion_notice_is_in_the_deleted_users_language(client: Client, signed_in):
    """USR-2 / CSRF-3: the member's language is read before the account is gone, so the notice is in it."""
    tenant = make_tenant("deleted", language="en")
    User.objects.filter(pk=tenant.member.pk).update(language="ja")
    signed_in(client, tenant.manager)
    url = reverse("accounts:member-delete", args=[tenant.member.pk])
    assert client.post(url, {"confirm_email": tenant.member.email}).status_code == 302
    (notice,) = mail.outbox
    assert notice.subject == "kakoi アカウントが削除されました" and f"管理者 {tenant.manager.email} によって" in notice.body


# --- Japanese file names and typed confirmations ----------------------------------------------------

JAPANESE_NAME = "営業部　定例会議（12月）.wav"  # noqa: RUF001 (on purpose: an ideographic space, full-width parentheses)


@pytest.mark.django_db
def test_japanese_file_names_survive_upload_listing_rename_and_download(client: Client, signed_in, aws):
    """PATH-3: a Japanese file name (ideographic space kept; a decomposed NFD name from macOS composed to NFC)
    is the display name, listed escaped-but-intact, renamed to another Japanese name, and downloaded under it
    (RFC 5987 filename* in the presigned GET)."""
    tenant = make_tenant("names", language="ja")
    signed_in(client, tenant.member)
    recording = uploaded(client, aws, name=f"C:\\録音\\{JAPANESE_NAME}")
    assert recording.display_name == JAPANESE_NAME
    decomposed = unicodedata.normalize("NFD", "ダビング済み.wav")
    assert decomposed != "ダビング済み.wav"
    issued = request_form(client, name=decomposed).json()
    assert find(issued["id"], tenant.company.pk).display_name == "ダビング済み.wav"  # type: ignore[union-attr]
    page = client.get(reverse("media:list"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert JAPANESE_NAME in page
    renamed = "議事録 第２回　全体会議"
    response = client.post(reverse("media:rename", args=[recording.pk]), {"display_name": renamed})
    assert response.status_code == 302 and find(recording.pk, tenant.company.pk).display_name == renamed  # type: ignore[union-attr]
    tag(aws, recording.object_key, objects.NO_THREATS_FOUND)
    location = urlsplit(client.get(reverse("media:download", args=[recording.pk]))["Location"])
    disposition = parse_qs(location.query)["response-content-disposition"][0]
    assert disposition.startswith("attachment; filename*=UTF-8''") and unquote(disposition.split("''", 1)[1]) == f"{renamed}.wav"
    stored = aws.get_object(Bucket=settings.KAKOI_MEDIA_BUCKET, Key=recording.object_key, ResponseContentDisposition=disposition)
    assert stored["ContentDisposition"] == disposition


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["削除", "delete", "ｄｅｌｅｔｅ", " DELETE "])  # noqa: RUF001 (full-width, as an IME types it)
def test_cj3_a_japanese_page_asks_for_the_typed_word_in_japanese(client: Client, signed_in, aws, typed: str):
    """CJ-3: the Japanese page asks to type 「削除」 (the English word, also typed full-width by an IME, works
    too); anything else is refused in Japanese and deletes nothing."""
    tenant = make_tenant("typed", language="ja")
    signed_in(client, tenant.member)
    recording = uploaded(client, aws, name="消す録音.wav")
    detail = client.get(reverse("media:detail", args=[recording.pk]), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "確認のため「削除」と入力してください" in detail
    refused = client.post(reverse("media:delete", args=[recording.pk]), {"confirm": "さくじょ"}, HTTP_ACCEPT_LANGUAGE="ja")
    assert refused.status_code == 400 and "この録音を削除するには「削除」と入力してください。" in refused.content.decode()
    assert find(recording.pk, tenant.company.pk) is not None
    done = client.post(reverse("media:delete", args=[recording.pk]), {"confirm": typed}, HTTP_ACCEPT_LANGUAGE="ja")
    assert done.status_code == 302 and find(recording.pk, tenant.company.pk) is None


@pytest.mark.django_db
def test_the_upload_api_and_script_messages_are_in_the_pages_language(client: Client, signed_in, aws):
    """The JSON errors upload.js shows and its own messages (json_script) are translated."""
    tenant = make_tenant("api", language="ja")
    signed_in(client, tenant.member)
    refused = client.post(
        reverse("media:upload-form"),
        '{"name": "a.exe", "type": "application/x-msdownload", "size": 10}',
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert refused.status_code == 400 and refused.json()["error"].startswith("このファイル形式は受け付けていません。")
    page = client.get(reverse("media:list"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    block = re.search(r'<script id="upload-messages" type="application/json">(.*?)</script>', page, re.S)
    assert block
    import json

    messages = json.loads(block.group(1))
    assert messages["uploading"] == "アップロード中…" and messages["percent"] == "{percent}%"


@pytest.mark.django_db
def test_a_manager_sets_the_company_defaults_members_fall_back_to(client: Client, signed_in):
    """The company's default language and time zone are a manager's POST (members get 403, a zone that does not
    exist a 400 and no write); members without their own settings follow them, in pages and emails."""
    tenant = make_tenant("defaults", language="ja")
    url = reverse("accounts:company-defaults")
    signed_in(client, tenant.member)
    assert client.post(url, {"default_language": "en", "default_time_zone": "UTC"}).status_code == 403
    signed_in(client, tenant.manager)
    assert client.post(url, {"default_language": "en", "default_time_zone": "Mars/Olympus"}).status_code == 400
    with tenant_context(tenant.company.pk):
        assert Company.objects.values_list("default_language", "default_time_zone").get(pk=tenant.company.pk) == ("ja", "Asia/Tokyo")
    assert client.post(url, {"default_language": "en", "default_time_zone": "Europe/London"}).status_code == 302
    with tenant_context(tenant.company.pk):
        assert Company.objects.values_list("default_language", "default_time_zone").get(pk=tenant.company.pk) == ("en", "Europe/London")
    signed_in(client, tenant.member)
    home = client.get(reverse("accounts:home"), HTTP_ACCEPT_LANGUAGE="fr")
    assert home["Content-Language"] == "en" and "Europe/London" in home.content.decode()
    mail.outbox.clear()
    CommitClient().post(reverse("accounts:login"), {"email": tenant.manager.email, "password": PASSWORD})
    assert mail.outbox[0].subject == "Your kakoi sign-in code"


@pytest.mark.django_db
def test_an_invitation_without_a_chosen_language_speaks_the_companys():
    """An invitation row with no language (made before there was a choice) is shown in the company's default."""
    from datetime import timedelta

    from accounts import tokens
    from django.utils import timezone

    tenant = make_tenant("nolang", language="ja")
    nonce = tokens.new_nonce()
    with tenant_context(tenant.company.pk):
        invitation = Invitation.objects.create(
            company=tenant.company,
            email="sato@example.jp",
            nonce_hash=tokens.nonce_hash(nonce),
            expires_at=timezone.now() + timedelta(hours=1),
        )
    assert invitation.language == ""
    url = reverse("accounts:invitation-accept", args=[tokens.make_invitation_token(tenant.company.pk, invitation.pk, nonce)])
    page = CommitClient(HTTP_ACCEPT_LANGUAGE="en").get(url)
    assert page["Content-Language"] == "ja" and "アカウントを作成" in page.content.decode()
