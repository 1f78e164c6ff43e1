"""The manager's form to create a room."""

from __future__ import annotations

import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from calls.models import ROOM_NAME_MAX

CONTROLS: dict[str, str] = {
    "XSS-1": "room names are plain text: control characters refused here, auto-escaped by the templates",
}


class RoomForm(forms.Form):
    name = forms.CharField(label=_("Room name"), max_length=ROOM_NAME_MAX)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if any(unicodedata.category(ch).startswith("C") for ch in name):
            raise forms.ValidationError(_("A room name cannot contain control characters."))
        if not name:
            raise forms.ValidationError(_("Enter a room name."))
        return name
