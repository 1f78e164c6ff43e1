"""The availability probe (AVL-1), run every minute by a CloudWatch Synthetics canary.

GET ``HEALTH_URL`` (``https://<domainName>/healthz/ready``) must answer ``200``
within ``TIMEOUT_SECONDS``, over TLS 1.3 with a certificate that verifies, and
without a redirect. Anything else raises, which fails the run: the canary's
``SuccessPercent`` drops and the availability alarms judge it.

Standard library only, so the same file runs in any Synthetics Python runtime
and in the unit tests (tests/infra/test_detection_availability.py).
"""

from __future__ import annotations

import os
import ssl
import time
import urllib.error
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 10
USER_AGENT = "kakoi-availability-canary"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A readiness URL that redirects is misconfigured: let urllib raise for the 3xx."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


def tls13_context() -> ssl.SSLContext:
    """Verify the certificate and the host name, and accept TLS 1.3 only (ENC-1)."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


def check(url: str, *, timeout: float = TIMEOUT_SECONDS, context: ssl.SSLContext | None = None) -> int:
    """GET `url`; return 200 or raise RuntimeError saying what was wrong."""
    if not url.startswith(("https://", "http://")):
        raise RuntimeError(f"not an http(s) URL: {url!r}")
    handlers: list[Any] = [_NoRedirect()]
    if url.startswith("https://"):
        handlers.append(urllib.request.HTTPSHandler(context=context or tls13_context()))
    opener = urllib.request.build_opener(*handlers)
    # the scheme is checked above: no file:// or custom schemes reach urllib
    request = urllib.request.Request(url, method="GET", headers={"User-Agent": USER_AGENT, "Cache-Control": "no-cache"})  # noqa: S310
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{url} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise RuntimeError(f"{url} unreachable: {exc}") from exc
    if status != 200:
        raise RuntimeError(f"{url} answered HTTP {status}, expected 200")
    return status


def handler(event: Any, context: Any) -> str:
    """The Synthetics entry point (``healthz_canary.handler``)."""
    url = os.environ.get("HEALTH_URL", "")
    if not url.startswith("https://"):
        raise RuntimeError(f"HEALTH_URL must be an https:// URL, got {url!r}")
    started = time.monotonic()
    status = check(url)
    elapsed_ms = round((time.monotonic() - started) * 1000)
    message = f"{url} answered HTTP {status} in {elapsed_ms} ms"
    print(message)
    return message
