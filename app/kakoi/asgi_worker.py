"""The gunicorn worker for kakoi.asgi (HTTP and WebSocket): uvicorn's, with our options.

Pure-Python protocol stacks (h11 for HTTP, websockets for WebSocket) on the asyncio loop. The
WebSocket frame limit sits just above the signalling protocol's message limit, so a huge frame
is refused by the server before the app reads it. Proxy headers are NOT rewritten by uvicorn:
Django decides what to trust in X-Forwarded-* itself (SECURE_PROXY_SSL_HEADER,
KAKOI_TRUSTED_PROXY_COUNT), exactly as it did under the WSGI worker.
"""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker

CONTROLS: dict[str, str] = {
    "BOF-1": "HTTP/WebSocket parsing in pure Python (h11, websockets); WebSocket frames capped at 64 KiB by the server",
}

SERVER_OPTIONS: dict[str, Any] = {
    "loop": "asyncio",
    "http": "h11",
    "ws": "websockets-sansio",
    "lifespan": "off",
    "proxy_headers": False,
    "server_header": False,
    "ws_max_size": 64 * 1024,
    "ws_ping_interval": 20.0,
    "ws_ping_timeout": 20.0,
}


class KakoiUvicornWorker(UvicornWorker):
    CONFIG_KWARGS = SERVER_OPTIONS
