"""The recordings pages and the upload API (JSON, same-origin, CSRF-protected).

Every lookup goes through visible_recordings(request): the request's tenant
(and RLS underneath), and the user's own recordings unless they are a manager.
An ID from another company, another member's ID and an ID that does not exist
all answer the same 404.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

from accounts.views.common import current_user, tenant_of
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from media import formats, objects, service
from media.forms import DeleteRecordingForm, RenameForm, UploadRequest
from media.models import Recording, Status

CONTROLS: dict[str, str] = {
    "AUTHZ-2": "recordings are looked up by the request's tenant and (for members) owner; other tenants' and other members' "
    "IDs answer the same 404 as missing ones",
    "CSRF-1": "upload-form requests, confirmations, renames and deletions are POST only, checked by CsrfViewMiddleware "
    "(JSON calls send the token in X-CSRFToken)",
    "XSS-1": "pages are server-rendered with autoescape; the upload script is a static file (no inline script); the "
    "recordings page's CSP adds only the S3 origin to connect-src",
    "XSS-3": "JSON answers are application/json; charset=utf-8",
    "PATH-1": "no view accepts media bytes: uploads go to S3 with a presigned POST, downloads are redirects to a presigned GET",
    "AV-1": "the download and playback answer only READY recordings (scan result NO_THREATS_FOUND, from the event); "
    "page views (GET) read only the database and never write",
    "XSS-2": "the detail page's CSP adds only the bucket origin to media-src, for inline playback from a presigned GET",
}

JSON_TYPE = "application/json; charset=utf-8"
MAX_JSON_BYTES = 4096
PAGE_SIZE = 50


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, content_type=JSON_TYPE)


def _error(message: str, status: int) -> JsonResponse:
    response = _json({"error": message}, status=status)
    if status == 503:  # S3 unavailable for a moment: the page's script and any client may retry (AVL-1)
        response.headers["Retry-After"] = "5"
    return response


def upload_csp() -> dict[str, list[str]]:
    """The site's CSP plus the S3 origin in connect-src (the page's script POSTs the file there)."""
    policy: dict[str, Any] = {key: list(value) for key, value in settings.SECURE_CSP.items()}
    policy["connect-src"] = [CSP.SELF, objects.configured_origin()]
    return policy


def with_upload_csp(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Apply upload_csp() (read from settings at request time) with Django's csp_override."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        return csp_override(upload_csp())(lambda _request: response)(request)

    return wrapped


def visible_recordings(request: HttpRequest) -> QuerySet[Recording]:
    user = current_user(request)
    recordings = Recording.objects.filter(company_id=tenant_of(request))
    return recordings if user.is_manager else recordings.filter(owner=user)


def _get_visible(request: HttpRequest, recording_id: uuid.UUID) -> Recording:
    return get_object_or_404(visible_recordings(request).exclude(status=Status.PENDING), pk=recording_id)


def _recording_json(recording: Recording) -> dict[str, Any]:
    return {
        "id": str(recording.pk),
        "status": recording.status,
        "status_label": str(Status(recording.status).label),
        "downloadable": recording.is_downloadable,
        "url": reverse("media:detail", args=[recording.pk]),
    }


def upload_messages() -> dict[str, str]:
    """What upload.js shows, in the page's language (json_script: the script itself holds no text).
    `{name}` placeholders are filled in by the script."""
    return {
        "choose": _("Choose a file first."),
        "bad_type": _("This file type ({type}) is not accepted. Upload audio or video."),
        "unknown_type": _("unknown"),
        "bad_size": _("The file must not be empty and can have at most %(max)s.")
        % {"max": filesizeformat(settings.MEDIA_MAX_UPLOAD_BYTES)},
        "preparing": _("Preparing the upload…"),
        "start_failed": _("The upload could not be started (HTTP {status})."),
        "uploading": _("Uploading…"),
        "storage_refused": _("The storage refused the file (HTTP {status})."),
        "storage_failed": _("The file could not be sent to the storage."),
        "checking": _("Checking the file…"),
        "check_failed": _("The file could not be checked (HTTP {status})."),
        "uploaded": _("Uploaded: {status}."),
        "percent": _("{percent} %"),
    }


# --- pages -------------------------------------------------------------------------------------


@with_upload_csp
@require_GET
def list_view(request: HttpRequest) -> HttpResponse:
    # Read only the database: scan results arrive as events (media.scans), never fetched by a page view.
    visible = visible_recordings(request).exclude(status=Status.PENDING).select_related("owner")
    page = Paginator(visible.order_by("-created_at", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "allowed_types": " ".join(formats.ALLOWED),
        "accept": ",".join(formats.ALLOWED),
        "max_bytes": settings.MEDIA_MAX_UPLOAD_BYTES,
        "show_owner": current_user(request).is_manager,
        "upload_messages": upload_messages(),
    }
    return render(request, "media/list.html", context)


def playback_csp() -> dict[str, list[str]]:
    """The site's CSP plus the bucket origin in media-src: the detail page's <audio>/<video> plays a presigned GET."""
    policy: dict[str, Any] = {key: list(value) for key, value in settings.SECURE_CSP.items()}
    policy["media-src"] = [objects.configured_origin()]
    return policy


def _detail(request: HttpRequest, recording: Recording, rename: RenameForm, delete: DeleteRecordingForm, status: int = 200) -> HttpResponse:
    media_type = formats.ALLOWED.get(recording.content_type)
    context = {
        "recording": recording,
        "rename_form": rename,
        "delete_form": delete,
        "type": media_type,
        # inline playback (READY only): a short-lived presigned GET of the confirmed version, served inline
        "playback_url": service.playback_url(recording) if recording.is_downloadable else "",
        "playback_element": "video" if recording.content_type.startswith("video/") else "audio",
    }
    response = render(request, "media/detail.html", context, status=status)
    return csp_override(playback_csp())(lambda _request: response)(request)


@require_GET
def detail_view(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    recording = _get_visible(request, recording_id)
    return _detail(request, recording, RenameForm(initial={"display_name": recording.display_name}), DeleteRecordingForm())


@require_POST
def rename_view(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    recording = _get_visible(request, recording_id)
    form = RenameForm(request.POST)
    if not form.is_valid():
        return _detail(request, recording, form, DeleteRecordingForm(), status=400)
    name = form.cleaned_data["display_name"]
    if name != recording.display_name:
        recording.display_name = name
        recording.save(update_fields=["display_name"])
        messages.success(request, _("The recording was renamed."))
    return redirect("media:detail", recording_id=recording.pk)


@require_POST
def delete_view(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    recording = _get_visible(request, recording_id)
    form = DeleteRecordingForm(request.POST)
    if not form.is_valid():
        return _detail(request, recording, RenameForm(initial={"display_name": recording.display_name}), form, status=400)
    name = recording.display_name
    service.delete_recording(recording)
    messages.success(request, _("“%(name)s” was deleted.") % {"name": name})
    return redirect("media:list")


@require_GET
def download_view(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    recording = _get_visible(request, recording_id)
    if not recording.is_downloadable:
        context = {"recording": recording}
        return render(request, "media/not_ready.html", context, status=409)
    return HttpResponseRedirect(service.download_url(recording))


# --- the upload API (JSON) ---------------------------------------------------------------------


def _read_json(request: HttpRequest) -> Any:
    if request.content_type != "application/json":
        raise service.UploadError(_("Send application/json."), status=415)
    if len(request.body) > MAX_JSON_BYTES:
        raise service.UploadError(_("The request is too large."), status=413)
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise service.UploadError(_("The request is not valid JSON.")) from None
    except RecursionError:  # deeply nested arrays/objects: json gives up before the stack does
        raise service.UploadError(_("The request is nested too deeply.")) from None


@require_POST
def upload_form_view(request: HttpRequest) -> HttpResponse:
    """Issue a presigned POST for one file: {"name", "type", "size"} -> {"id", "upload": {"url", "fields"}, ...}."""
    try:
        form = UploadRequest.from_json(_read_json(request))
        if not form.is_valid():
            first = next(iter(form.errors.values()))[0]
            raise service.UploadError(str(first))
        issued = service.issue_upload(
            current_user(request),
            file_name=form.cleaned_data["name"],
            content_type=form.cleaned_data["type"],
            size=form.cleaned_data["size"],
        )
    except service.UploadError as exc:
        return _error(exc.message, exc.status)
    recording = issued.recording
    return _json(
        {
            "id": str(recording.pk),
            "upload": {"url": issued.form.url, "fields": issued.form.fields},
            "confirm_url": reverse("media:confirm", args=[recording.pk]),
            "expires_in": int(settings.MEDIA_UPLOAD_FORM_SECONDS),
        },
        status=201,
    )


@require_POST
def confirm_view(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    """The browser says its upload finished: check the object before the recording appears."""
    user = current_user(request)
    recording = visible_recordings(request).filter(owner=user).select_for_update().filter(pk=recording_id).first()
    if recording is None:
        return _error(_("No such upload."), 404)
    try:
        recording = service.confirm_upload(recording)
    except service.UploadError as exc:
        return _error(exc.message, exc.status)
    return _json(_recording_json(recording))


@require_GET
def status_view(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    """The scan state of a recording, polled by the list page while something is being scanned."""
    recording = visible_recordings(request).exclude(status=Status.PENDING).filter(pk=recording_id).first()
    if recording is None:
        # also a recording removed after a threat was found (its row is gone)
        return _error(_("No such recording."), 404)
    return _json(_recording_json(recording))
