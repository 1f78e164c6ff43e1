"""The life of a recording: issue an upload form, confirm the upload, follow the malware scan, delete.

All of it runs inside the request's transaction with the tenant set (RLS), and
every lookup is by the request's user and tenant (views.py). Objects are
removed from S3 through the durable purge queue (storage.purge), after COMMIT.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.models import User
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from storage import s3 as storage_s3
from storage.purge import schedule_purge

from media import formats, objects
from media.models import DISPLAY_NAME_MAX, Recording, Status

CONTROLS: dict[str, str] = {
    "PATH-3": "the object key is made by storage.s3.new_object_key (server-side UUIDs and secrets.token_hex); the client's "
    "file name only becomes the display name, cleaned of control characters",
    "AV-1": "a confirmed recording stays SCANNING until the scan result of its confirmed version arrives (media.scans); "
    "with MEDIA_REQUIRE_MALWARE_SCAN off (local runs only; production refuses it) it is READY at confirmation",
    "PATH-1": "confirmation checks the stored object by HEAD (size, Content-Type) and a 64-byte ranged GET (magic number); "
    "a mismatch is purged from S3 and its row deleted",
    "USR-2": "deleting a recording deletes its row and purges every version of its object after COMMIT",
}

logger = logging.getLogger(__name__)


def untitled() -> str:
    """The display name of an upload whose file name is empty after cleaning (in the uploader's language)."""
    return _("Untitled recording")


class UploadError(Exception):
    """The request or the uploaded object is not acceptable; the message is shown to the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


#: runs of white space other than the ideographic space U+3000, which Japanese names use on purpose
_SPACES = re.compile(r"[^\S\u3000]+")


def collapse_spaces(text: str) -> str:
    """Single ASCII spaces for runs of white space, trimmed; an ideographic space (全角スペース) is kept as typed."""
    return _SPACES.sub(" ", text).strip(" ")


def clean_display_name(raw: str) -> str:
    """A display name: NFC, no control/format characters, single spaces, at most DISPLAY_NAME_MAX characters."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(" " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"} else ch for ch in text)
    return collapse_spaces(text)[:DISPLAY_NAME_MAX].strip()


def name_from_file_name(file_name: str) -> str:
    """The default display name of an upload: the browser's file name without any directory part."""
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    return clean_display_name(base) or untitled()


def validate_new_name(raw: str) -> str:
    """A rename: the typed name must already be clean (nothing is silently changed)."""
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"} for ch in raw):
        raise UploadError(_("The name cannot contain control characters."))
    name = collapse_spaces(unicodedata.normalize("NFC", raw))
    if not name:
        raise UploadError(_("The name cannot be empty."))
    if len(name) > DISPLAY_NAME_MAX:
        raise UploadError(_("The name can have at most %(max)d characters.") % {"max": DISPLAY_NAME_MAX})
    return name


# --- issuing an upload form --------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedUpload:
    recording: Recording
    form: objects.PresignedPost


def _stale_before() -> datetime:
    # A form expires after MEDIA_UPLOAD_FORM_SECONDS; an upload that started just before can still be
    # arriving, so a pending row is abandoned only an hour after that.
    return timezone.now() - timedelta(seconds=int(settings.MEDIA_UPLOAD_FORM_SECONDS) + 3600)


def expire_abandoned(user: User) -> int:
    """Delete the user's pending uploads that can no longer complete, and purge whatever reached S3."""
    stale = list(Recording.objects.filter(owner=user, status=Status.PENDING, created_at__lt=_stale_before()))
    for recording in stale:
        purge_object(recording)
        recording.delete()
    return len(stale)


def issue_upload(user: User, *, file_name: str, content_type: str, size: int) -> IssuedUpload:
    if not formats.is_allowed(content_type):
        raise UploadError(_("This file type is not accepted. Upload audio or video (WAV, MP3, AAC, Ogg, FLAC, WebM, MP4/M4A, MOV, MKV)."))
    if size < 1:
        raise UploadError(_("The file is empty."))
    if size > settings.MEDIA_MAX_UPLOAD_BYTES:
        raise UploadError(
            _("The file is too large: at most %(max)s.") % {"max": filesizeformat(settings.MEDIA_MAX_UPLOAD_BYTES)}, status=413
        )
    # The limit spans rows: count under a lock on the uploader's row, so parallel requests of one
    # user queue here and each sees the rows the previous ones created (issue 12).
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    expire_abandoned(user)
    pending = Recording.objects.filter(owner=user, status=Status.PENDING).count()
    if pending >= settings.MEDIA_MAX_PENDING_UPLOADS:
        raise UploadError(_("Too many uploads are in progress. Finish or wait for them first."), status=429)
    key = storage_s3.new_object_key(user.company_id, user.pk)
    recording = Recording.objects.create(
        company_id=user.company_id,
        owner=user,
        object_key=key,
        content_type=content_type,
        size_bytes=size,
        display_name=name_from_file_name(file_name),
        status=Status.PENDING,
    )
    return IssuedUpload(recording=recording, form=objects.presign_upload(key, content_type, size))


# --- confirming an upload ----------------------------------------------------------------------


def _reject(recording: Recording, message: str) -> UploadError:
    """The uploaded object is not what was announced: purge it, forget the row, tell the user."""
    purge_object(recording)
    logger.info("upload %s rejected: %s", recording.pk, message)
    recording.delete()
    return UploadError(message, status=422)


def confirm_upload(recording: Recording) -> Recording:
    """Check the uploaded object; on success the recording becomes visible (SCANNING or READY)."""
    if recording.status != Status.PENDING:
        return recording
    try:
        found = objects.head(recording.object_key)
    except (BotoCoreError, ClientError) as exc:
        logger.warning("HEAD of upload %s failed: %s", recording.pk, exc)
        raise UploadError(_("The upload could not be checked right now. Try again in a moment."), status=503) from exc
    if found is None:
        raise UploadError(_("The file has not arrived yet."), status=409)
    if found.size != recording.size_bytes:
        raise _reject(
            recording,
            _("The stored file has %(found)d bytes, not the %(announced)d announced. It was deleted.")
            % {"found": found.size, "announced": recording.size_bytes},
        )
    if found.content_type != recording.content_type:
        raise _reject(recording, _("The stored file's type does not match the announced type. It was deleted."))
    try:
        head = objects.first_bytes(recording.object_key, found.version_id)
    except (BotoCoreError, ClientError) as exc:
        logger.warning("ranged GET of upload %s failed: %s", recording.pk, exc)
        raise UploadError(_("The upload could not be checked right now. Try again in a moment."), status=503) from exc
    if not formats.matches(recording.content_type, head):
        label = formats.ALLOWED[recording.content_type].label
        raise _reject(recording, _("The file's content is not %(type)s. It was deleted.") % {"type": label})
    now = timezone.now()
    recording.version_id = found.version_id
    recording.confirmed_at = now
    if settings.MEDIA_REQUIRE_MALWARE_SCAN:
        recording.status = Status.SCANNING
    else:
        recording.status = Status.READY
        recording.ready_at = now
    recording.save(update_fields=["version_id", "confirmed_at", "status", "ready_at"])
    if recording.status == Status.SCANNING:
        from media import scans

        waiting = scans.start_waiting(recording)
        if waiting is None:  # the scan result arrived first, and it was a threat
            raise UploadError(_("The malware scan found a threat in this file. It was deleted."), status=422)
        return waiting
    return recording


# --- deletion ----------------------------------------------------------------------------------


def purge_object(recording: Recording) -> None:
    schedule_purge(recording.object_key)


def delete_recording(recording: Recording) -> None:
    """Delete the row now and every version of its object after COMMIT (durably queued)."""
    purge_object(recording)
    recording.delete()


def download_url(recording: Recording) -> str:
    return objects.presign_download(
        recording.object_key, recording.version_id, display_name=recording.display_name, content_type=recording.content_type
    )


def playback_url(recording: Recording) -> str:
    """Inline playback in the detail page: the same short-lived presigned GET of the confirmed version, inline."""
    return objects.presign_download(
        recording.object_key,
        recording.version_id,
        display_name=recording.display_name,
        content_type=recording.content_type,
        inline=True,
        expires_in=int(settings.MEDIA_PLAYBACK_URL_SECONDS),
    )
