"""The servers a browser test needs, all on 127.0.0.1 with free ports, all in this process:

- the app: Django's LiveServerThread (what pytest-django's live_server runs) serving the WSGI
  app plus static files, talking to the test database as kakoi_web. pytest-django's own
  live_server fixture is not used: it flushes the database after each test with TRUNCATE,
  which the DML-only web role is (rightly) not allowed to do; data is committed and removed
  explicitly instead.
- S3: moto's ThreadedMotoServer, with moto's allow-everything CORS switched off, so the
  bucket's own CORS rules (the app origin only, as components/media_bucket.py sets them)
  decide what the browser may do.
- "another site": a plain http.server on another port (same host, so cookies are same-site and
  reach the app: the CSRF check itself has to refuse), serving pages given as strings.

Plain http on 127.0.0.1 is a secure context for Chromium, which therefore stores and sends the
app's Secure, __Host- prefixed cookies without TLS (checked by the tests, not assumed).
"""

from __future__ import annotations

import http.server
import logging
import os
import socketserver
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import moto.moto_server.werkzeug_app as moto_app
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread
from moto.s3.responses import S3Response
from moto.server import ThreadedMotoServer

HOST = "127.0.0.1"

#: the media bucket's CORS rule, as components/media_bucket.py declares it (origin filled in)
CORS_ALLOWED_METHODS = ["GET", "POST"]
CORS_ALLOWED_HEADERS = ["Content-Type", "Range"]
CORS_EXPOSE_HEADERS = ["ETag", "Content-Length", "Content-Range", "Accept-Ranges"]


@contextmanager
def app_server() -> Iterator[str]:
    """The app on http://127.0.0.1:<port> (static files included); yields its origin."""
    thread = LiveServerThread(HOST, StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait(timeout=30)
    if thread.error:
        raise thread.error
    try:
        yield f"http://{HOST}:{thread.port}"
    finally:
        thread.terminate()


def _post_with_cors(original: Any) -> Any:
    """S3 answers a browser's POST Object with the CORS headers of the matching bucket rule; moto 5.2 leaves
    them out of that one response (it adds them to GET, PUT, HEAD ...). Add them, from the bucket's own rules,
    with the function moto uses for the other methods: an origin the rules do not allow still gets none."""

    def post(self: Any, request: Any, bucket_name: str) -> Any:
        status, headers, body = original(self, request, bucket_name)
        self.bucket_name = bucket_name
        return status, {**self._get_cors_headers_other(), **headers}, body

    return post


@contextmanager
def s3_server(bucket: str, region: str, app_origin: str) -> Iterator[tuple[str, Any]]:
    """A moto S3 server with the versioned media bucket and its CORS rule; yields (endpoint, boto3 client)."""
    saved = moto_app.DISABLE_GLOBAL_CORS
    moto_app.DISABLE_GLOBAL_CORS = True
    original_post = S3Response._bucket_response_post
    S3Response._bucket_response_post = _post_with_cors(original_post)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client("s3", region_name=region, endpoint_url=endpoint)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": [app_origin],
                        "AllowedMethods": CORS_ALLOWED_METHODS,
                        "AllowedHeaders": CORS_ALLOWED_HEADERS,
                        "ExposeHeaders": CORS_EXPOSE_HEADERS,
                        "MaxAgeSeconds": 3000,
                    }
                ]
            },
        )
        yield endpoint, s3
    finally:
        # moto keeps its state per process, not per server: reset it (moto's documented /moto-api/reset) so the
        # next module's server starts empty (its bucket does not exist yet).
        host, port = server.get_host_and_port()
        urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST"), timeout=10).close()
        server.stop()
        moto_app.DISABLE_GLOBAL_CORS = saved
        S3Response._bucket_response_post = original_post


class _Pages(http.server.BaseHTTPRequestHandler):
    pages: dict[str, str] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path.split("?", 1)[0])
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def other_site(pages: dict[str, str]) -> Iterator[str]:
    """Serve `pages` ({path: html}) from another origin; yields that origin."""
    handler = type("Pages", (_Pages,), {"pages": pages})
    server = socketserver.ThreadingTCPServer((HOST, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def asgi_server() -> Iterator[str]:
    """The app as production serves it (kakoi.asgi under uvicorn, with the worker's options: HTTP and
    WebSocket on one port), in a thread, on http://127.0.0.1:<free port>; yields its origin."""
    import asyncio
    import socket

    import uvicorn
    from kakoi.asgi import application
    from kakoi.asgi_worker import SERVER_OPTIONS

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(64)
    options = {key: value for key, value in SERVER_OPTIONS.items() if key != "loop"}
    server = uvicorn.Server(uvicorn.Config(application, log_level="warning", access_log=False, **options))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the ASGI server did not start")
    try:
        yield f"http://{HOST}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextmanager
def app_with_s3(tenant_company_id: Any) -> Iterator[tuple[str, str, Any]]:
    """The app and its S3 server with the settings a browser test needs (malware gate on, no proxy in front) and
    AWS test credentials in the environment; yields (app origin, S3 endpoint, boto3 client). At the end the
    tenant's committed rows go, with the global rows the flows leave (sessions, throttle counters, purge queue)."""
    from accounts.models import ThrottleCounter
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.test import override_settings
    from storage.models import PurgeRequest
    from tenancy.db import tenant_context
    from tenancy.models import Company

    saved_env = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing")
    try:
        with (
            app_server() as app,
            s3_server(settings.KAKOI_MEDIA_BUCKET, settings.AWS_REGION, app) as (endpoint, s3),
            override_settings(
                ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "127.0.0.1"],
                KAKOI_S3_ENDPOINT_URL=endpoint,
                KAKOI_TRUSTED_PROXY_COUNT=0,
                MEDIA_REQUIRE_MALWARE_SCAN=True,
            ),
        ):
            yield app, endpoint, s3
    finally:
        with tenant_context(tenant_company_id):
            Company.objects.filter(pk=tenant_company_id).delete()
        Session.objects.all().delete()
        ThrottleCounter.objects.all().delete()
        PurgeRequest.objects.all().delete()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
