"""Error views: a dependency that is briefly unavailable answers 503 with Retry-After, never 500.

Django turns every uncaught exception, wherever it is raised (a view, the session or
authentication middleware, the tenant transaction's BEGIN), into the handler500 response of
the layer that caught it (django.core.handlers.exception.response_for_exception), with the
exception still in sys.exc_info(). `server_error` looks at it: a database that cannot be reached,
a connection cut mid-transaction, or a statement/lock timeout (the fail-fast settings in
kakoi/settings/base.py) is an *unavailable dependency*, not a bug, so the answer is 503 with
Retry-After (the load balancer and browsers retry; the 5xx alarm counts only 500s, see
docs/runbooks/faults.md) and a friendly page. The page is rendered without a request context:
it must not touch the database that has just failed.
"""

from __future__ import annotations

import logging
import sys

from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.utils.cache import patch_cache_control

CONTROLS: dict[str, str] = {
    "AVL-1": "a database that is down, failing over or cut mid-transaction answers 503 with Retry-After and a friendly page, never 500",
}

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

#: Exceptions that mean "a dependency is unavailable for a moment" (database down, connection cut,
#: statement_timeout / lock_timeout: psycopg's QueryCanceled and LockNotAvailable are OperationalErrors).
UNAVAILABLE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


class DependencyUnavailableError(Exception):
    """Raised by code that found a dependency other than the database unavailable (S3, ...)."""


def unavailable_response(status: int = 503) -> HttpResponse:
    response = HttpResponse(loader.render_to_string("503.html"), status=status, content_type="text/html; charset=utf-8")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    patch_cache_control(response, no_store=True)
    return response


#: SQLSTATEs that a failover produces on a connection that still looks alive: the server shutting down or
#: starting up, and a write reaching a node that is (now) read-only.
FAILOVER_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "25006"})


def _sqlstate(error: BaseException) -> str | None:
    for candidate in (error, error.__cause__):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


#: AWS answers that mean "slow down / try again" (S3 SlowDown and 503, throttling of any service).
AWS_RETRYABLE_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling", "ThrottlingException", "TooManyRequestsException"}
)


def _aws_unavailable(error: BaseException) -> bool:
    """An AWS endpoint that cannot be reached, timed out, or answered 'throttled / try again' (S3, SES, ...)."""
    if isinstance(error, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)):
        return True
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in AWS_RETRYABLE_CODES


def is_unavailable(error: BaseException | None) -> bool:
    while error is not None:
        if (
            isinstance(error, (*UNAVAILABLE, DependencyUnavailableError))
            or _sqlstate(error) in FAILOVER_SQLSTATES
            or _aws_unavailable(error)
        ):
            return True
        error = error.__cause__ or error.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 + Retry-After when the cause is an unavailable dependency, else the plain 500 page."""
    error = sys.exc_info()[1]
    if is_unavailable(error):
        logger.warning("dependency unavailable: %s: %s", type(error).__name__, error)
        if error is not None and _sqlstate(error) in FAILOVER_SQLSTATES:
            # A connection to a node that is no longer the primary passes the health check (SELECT 1):
            # drop it, so the next request resolves the endpoint again and reaches the new primary.
            connection.close()
        return unavailable_response()
    return HttpResponseServerError(loader.render_to_string("500.html"), content_type="text/html; charset=utf-8")
