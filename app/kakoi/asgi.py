"""ASGI entry point (gunicorn with uvicorn workers: kakoi.asgi:application).

HTTP goes to Django's ASGI handler with the same middleware as ever (health checks, HTTPS,
headers, CSP, sessions, CSRF, the tenant transaction, timeouts, login required); WebSocket
goes to the live-call signalling under /ws/ only, which checks Origin, Host and the session
itself (calls.consumers). Any other WebSocket path is refused.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kakoi.settings.production")

django_asgi_app = get_asgi_application()  # sets Django up before the consumers are imported

from calls.consumers import CallConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import WebsocketDenier  # noqa: E402
from django.urls import path, re_path  # noqa: E402

CONTROLS: dict[str, str] = {
    "HDR-1": "HTTP keeps Django's full middleware stack under ASGI; WebSocket is routed only for /ws/calls/",
}

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [path("ws/calls/", CallConsumer.as_asgi()), re_path(r"", WebsocketDenier.as_asgi())]  # type: ignore[arg-type]  # ASGI apps, not views
        ),
    }
)
