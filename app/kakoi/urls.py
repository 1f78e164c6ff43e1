"""URL configuration. Health endpoints (/healthz/live, /healthz/ready) are answered by
core.middleware.HealthCheckMiddleware before routing. Part 2 adds `path("media/", include("media.urls"))`."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.urls")),
    path("media/", include("media.urls")),
    path("calls/", include("calls.urls")),
]

# A dependency that is briefly unavailable answers 503 + Retry-After, never 500 (core/views.py, AVL-1).
handler500 = "core.views.server_error"
