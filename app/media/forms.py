"""Forms of the recordings pages (rename, delete) and the JSON upload request."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from media.models import DISPLAY_NAME_MAX
from media.service import UploadError, validate_new_name

CONTROLS: dict[str, str] = {
    "CJ-3": "deleting a recording needs the word 'delete' (in Japanese 削除) typed; it cannot be done by clicks alone",
    "XSS-1": "display names are plain text: validated here, auto-escaped by the templates",
}

DELETE_WORD = "delete"


def delete_words() -> set[str]:
    """What may be typed to confirm a deletion: the English word and its translation in the active language."""
    return {DELETE_WORD, pgettext("the word typed to confirm a deletion", "delete").lower()}


def _typed(text: str) -> str:
    """A typed confirmation as compared: NFKC (full-width letters typed with a Japanese IME count), trimmed, lower case."""
    return unicodedata.normalize("NFKC", text).strip().lower()


class RenameForm(forms.Form):
    display_name = forms.CharField(label=gettext_lazy("Name"), max_length=DISPLAY_NAME_MAX, strip=False)

    def clean_display_name(self) -> str:
        try:
            return validate_new_name(self.cleaned_data["display_name"])
        except UploadError as exc:
            raise forms.ValidationError(exc.message) from None


class DeleteRecordingForm(forms.Form):
    confirm = forms.CharField(max_length=20)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        word = pgettext("the word typed to confirm a deletion", "delete")
        self.fields["confirm"].label = _("To confirm, type “%(word)s”") % {"word": word}

    def clean_confirm(self) -> str:
        typed = _typed(self.cleaned_data["confirm"])
        if typed not in delete_words():
            word = pgettext("the word typed to confirm a deletion", "delete")
            raise forms.ValidationError(_("Type “%(word)s” to delete this recording.") % {"word": word})
        return typed


class UploadRequest(forms.Form):
    """The JSON body of an upload-form request: {"name": str, "type": str, "size": int}."""

    name = forms.CharField(max_length=1000, required=False, strip=False)
    type = forms.CharField(max_length=100, strip=False)  # compared with the allow-list exactly
    size = forms.IntegerField(min_value=0, max_value=2**63 - 1)

    @classmethod
    def from_json(cls, data: Any) -> UploadRequest:
        if not isinstance(data, dict):
            raise UploadError(_("Send a JSON object with name, type and size."))
        for field, kinds in (("name", (str,)), ("type", (str,)), ("size", (int,))):
            value = data.get(field)
            if field == "name" and value is None:
                continue
            if not isinstance(value, kinds) or isinstance(value, bool):
                raise UploadError(_("The field “%(field)s” is missing or has the wrong type.") % {"field": field})
        return cls({"name": data.get("name") or "", "type": data["type"], "size": data["size"]})
