"""URL configuration. Health endpoints (/healthz/live, /healthz/ready) are answered by
core.middleware.HealthCheckMiddleware before routing. Part 2 adds `path("media/", include("media.urls"))`."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.urls")),
    path("media/", include("media.urls")),
    path("calls/", include("calls.urls")),
]
