"""The client's real IP address behind the load balancer.

Each proxy appends the address it received the request from to
X-Forwarded-For, so only the right-most entries were written by our own
proxies; everything to their left was sent by the client and can be forged.
With N trusted proxies (KAKOI_TRUSTED_PROXY_COUNT; the ALB alone is 1), the
client is the N-th entry from the right. With fewer entries than that, the
request did not come through our proxies and REMOTE_ADDR is used.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

CONTROLS: dict[str, str] = {
    "AUTHZ-2": "throttling keys on the client IP parsed from the right of X-Forwarded-For with a configured number of trusted proxies",
}


def client_ip(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR", ""))
    trusted = int(settings.KAKOI_TRUSTED_PROXY_COUNT)
    if trusted <= 0:
        return remote
    hops = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if hop.strip()]
    if len(hops) < trusted:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-trusted]))
    except ValueError:
        return remote
