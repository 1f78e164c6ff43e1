"""The rooms page and the call page. The call itself (joining, signalling, TURN credentials)
happens on the WebSocket (calls.consumers); these views only render and manage rooms.

Every lookup is by the request's tenant (and RLS underneath): another company's room ID
answers the same 404 as one that does not exist.
"""

from __future__ import annotations

import uuid

from accounts.views.common import current_user, manager_required, tenant_of
from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from calls import service
from calls.forms import RoomForm
from calls.models import Room

CONTROLS: dict[str, str] = {
    "AUTHZ-2": "rooms are looked up by the request's tenant; another company's room ID and a missing one both answer 404",
    "AUTHZ-1": "only managers create and delete rooms",
    "CSRF-1": "creating and deleting rooms are POST only (CsrfViewMiddleware)",
    "XSS-1": "the call page's script is a static file; its strings come from the template (json_script), no inline script",
}


def _rooms_page(request: HttpRequest, form: RoomForm, status: int = 200) -> HttpResponse:
    tenant = tenant_of(request)
    rooms = list(Room.objects.filter(company_id=tenant))
    occupancy = service.room_occupancy(tenant)
    for room in rooms:
        room.present = occupancy.get(room.pk, 0)  # type: ignore[attr-defined]
    context = {
        "rooms": rooms,
        "form": form,
        "max_participants": settings.KAKOI_ROOM_MAX_PARTICIPANTS,
        "is_manager": current_user(request).is_manager,
    }
    return render(request, "calls/rooms.html", context, status=status)


@require_GET
def rooms_view(request: HttpRequest) -> HttpResponse:
    return _rooms_page(request, RoomForm())


@require_POST
@manager_required
def create_room_view(request: HttpRequest) -> HttpResponse:
    form = RoomForm(request.POST)
    if not form.is_valid():
        return _rooms_page(request, form, status=400)
    user = current_user(request)
    try:
        with transaction.atomic():
            room = Room.objects.create(company_id=tenant_of(request), name=form.cleaned_data["name"], created_by=user)
    except IntegrityError:
        form.add_error("name", _("A room with this name already exists."))
        return _rooms_page(request, form, status=400)
    messages.success(request, _("The room was created."))
    return redirect("calls:room", room_id=room.pk)


@require_POST
@manager_required
def delete_room_view(request: HttpRequest, room_id: uuid.UUID) -> HttpResponse:
    room = get_object_or_404(Room.objects.filter(company_id=tenant_of(request), is_lobby=False), pk=room_id)
    room.delete()
    messages.success(request, _("The room was deleted."))
    return redirect("calls:rooms")


@require_GET
def room_view(request: HttpRequest, room_id: uuid.UUID) -> HttpResponse:
    room = get_object_or_404(Room.objects.filter(company_id=tenant_of(request)), pk=room_id)
    strings = {
        "connecting": _("Connecting…"),
        "ready": _("Ready to join."),
        "joining": _("Joining…"),
        "inCall": _("In the call."),
        "alone": _("You are the only one here. Colleagues who join will appear here."),
        "left": _("You left the call."),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "cameraOff": _("Turn camera off"),
        "cameraOn": _("Turn camera on"),
        "muted": _("muted"),
        "cameraIsOff": _("camera off"),
        "speaking": _("speaking"),
        "you": _("You"),
        "error_room_full": _("This room is full (at most %(max)s people). Try another room.")
        % {"max": settings.KAKOI_ROOM_MAX_PARTICIPANTS},
        "error_no_room": _("This room no longer exists."),
        "error_not_in_room": _("You are not in the call."),
        "error_no_peer": _("That participant has left."),
        "noMedia": _("Your camera and microphone could not be used. Check the browser's permissions for this site."),
        "closed_4401": _("Your session ended. Please sign in again."),
        "closed": _("The connection to the server was lost. Reload the page to rejoin."),
        "connectionFailed": _("The media connection failed."),
        "reconnecting": _("The connection to the server was interrupted. Reconnecting…"),
        "mediaReconnecting": _("The media connection was interrupted. Reconnecting…"),
    }
    context = {"room": room, "strings": strings, "socket_path": "/ws/calls/", "rooms_url": reverse("calls:rooms")}
    return render(request, "calls/room.html", context)
