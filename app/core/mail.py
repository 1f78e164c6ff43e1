"""An email backend for Amazon SES (API v2), sending Django's own MIME message as Raw content.

Django has no SES backend. This one hands the fully built message (headers
encoded by Django, so no header injection) to `sesv2.send_email` and lists every
recipient, including Bcc, in Destination.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from storage import s3

CONTROLS: dict[str, str] = {
    "CSRF-3": "notices of important operations go out through Django's email API; in production this backend hands them to SES",
}


class SesV2EmailBackend(BaseEmailBackend):
    """MAILERS = {"default": {"BACKEND": "core.mail.SesV2EmailBackend", "OPTIONS": {"configuration_set": "..."}}}."""

    def __init__(self, *args: Any, configuration_set: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.configuration_set = configuration_set
        self._client: Any = None

    def _ses(self) -> Any:
        if self._client is None:
            self._client = s3.client("sesv2")
        return self._client

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            request: dict[str, Any] = {
                "FromEmailAddress": message.from_email or settings.DEFAULT_FROM_EMAIL,
                "Destination": {
                    "ToAddresses": list(message.to),
                    "CcAddresses": list(message.cc),
                    "BccAddresses": list(message.bcc),
                },
                "Content": {"Raw": {"Data": message.message().as_bytes()}},
            }
            if self.configuration_set:
                request["ConfigurationSetName"] = self.configuration_set
            self._ses().send_email(**request)
            sent += 1
        return sent
