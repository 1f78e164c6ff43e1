"""Forms of the recordings pages (rename, delete) and the JSON upload request."""

from __future__ import annotations

from typing import Any

from django import forms

from media.models import DISPLAY_NAME_MAX
from media.service import UploadError, validate_new_name

CONTROLS: dict[str, str] = {
    "CJ-3": "deleting a recording needs the word 'delete' typed; it cannot be done by clicks alone",
    "XSS-1": "display names are plain text: validated here, auto-escaped by the templates",
}

DELETE_WORD = "delete"


class RenameForm(forms.Form):
    display_name = forms.CharField(label="Name", max_length=DISPLAY_NAME_MAX, strip=False)

    def clean_display_name(self) -> str:
        try:
            return validate_new_name(self.cleaned_data["display_name"])
        except UploadError as exc:
            raise forms.ValidationError(exc.message) from None


class DeleteRecordingForm(forms.Form):
    confirm = forms.CharField(label=f'Type "{DELETE_WORD}" to confirm', max_length=20)

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip().lower()
        if typed != DELETE_WORD:
            raise forms.ValidationError(f'Type "{DELETE_WORD}" to delete this recording.')
        return typed


class UploadRequest(forms.Form):
    """The JSON body of an upload-form request: {"name": str, "type": str, "size": int}."""

    name = forms.CharField(max_length=1000, required=False, strip=False)
    type = forms.CharField(max_length=100, strip=False)  # compared with the allow-list exactly
    size = forms.IntegerField(min_value=0, max_value=2**63 - 1)

    @classmethod
    def from_json(cls, data: Any) -> UploadRequest:
        if not isinstance(data, dict):
            raise UploadError("Send a JSON object with name, type and size.")
        for field, kinds in (("name", (str,)), ("type", (str,)), ("size", (int,))):
            value = data.get(field)
            if field == "name" and value is None:
                continue
            if not isinstance(value, kinds) or isinstance(value, bool):
                raise UploadError(f"The field {field!r} is missing or has the wrong type.")
        return cls({"name": data.get("name") or "", "type": data["type"], "size": data["size"]})
