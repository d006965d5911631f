"""Turning errors into responses: one JSON shape for the API, a friendly page for people.

No stack trace ever reaches a client: unexpected exceptions are logged here with their
traceback and answered with a generic ``internal_error``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from smartcustoms.core.errors import (
    RateLimited,
    ServiceUnavailable,
    SmartCustomsError,
    Unauthenticated,
    ValidationFailed,
)
from smartcustoms.core.i18n import N_
from smartcustoms.ledger.errors import PRODUCT_ERRORS, TlogError

__all__ = ["ERROR_SENTENCES", "install_error_handlers", "wants_html"]

log = logging.getLogger("smartcustoms.web")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}

# What the error page says for errors whose message is for developers (in English, naming
# internals): the reader gets a sentence in their language; the API keeps the message.
ERROR_SENTENCES = {
    "forbidden": N_("Your roles do not allow this page or this action."),
    "not_found": N_("There is nothing here: the address is wrong or the record was removed."),
    "unauthenticated": N_("Sign in to see this page."),
    "method_not_allowed": N_("This address does not accept that kind of request."),
    "payload_too_large": N_("The file or form sent is larger than this service accepts."),
    "rate_limited": N_("Too many requests in a short time: wait a moment and try again."),
    "service_unavailable": N_("The service is busy or a part of it is down: try again shortly."),
    "internal_error": N_("Something went wrong on our side; it has been logged."),
    "password_change_required": N_("Choose a new password of your own before you go on."),
}


def wants_html(request: Request) -> bool:
    """Pages for browsers, JSON for the API and for machines."""
    if request.url.path.startswith("/api/") or request.url.path == "/metrics":
        return False
    if request.headers.get("hx-request"):
        return True
    return "text/html" in request.headers.get("accept", "")


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header", "cookie") and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or str(loc[0] if loc else "?")


def _respond(request: Request, error: SmartCustomsError | TlogError) -> Response:
    if wants_html(request):
        if isinstance(error, Unauthenticated) and request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if error.code == "password_change_required" and request.method == "GET":
            return RedirectResponse("/password", status_code=303)
        from smartcustoms.web.ui.render import render

        response: Response = render(
            request,
            "error.html",
            status_code=error.status_code,
            error=error,
            sentence=ERROR_SENTENCES.get(error.code),
        )
    else:
        response = JSONResponse(error.to_dict(), status_code=error.status_code)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after_s)
    if isinstance(error, Unauthenticated) and not wants_html(request):
        response.headers["WWW-Authenticate"] = 'Bearer realm="smartcustoms"'
    return response


def _database_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" (or "busy"), however SQLAlchemy wrapped it."""
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text


def install_error_handlers(app: FastAPI) -> None:
    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PRODUCT_ERRORS)
        if exc.status_code >= 500:
            log.error("%s: %s", exc.code, exc.message)
        return _respond(request, exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = []
        for err in exc.errors():
            field = _field_path(tuple(err.get("loc", ())))
            problem = "unknown field" if err.get("type") == "extra_forbidden" else err.get("msg")
            details.append({"field": field, "problem": problem, "type": err.get("type")})
        fields = ", ".join(d["field"] for d in details[:5])
        return _respond(request, ValidationFailed(f"invalid input: {fields}", details=details))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        error = SmartCustomsError(
            str(exc.detail), code=_HTTP_CODES.get(exc.status_code, "http_error")
        )
        error.status_code = exc.status_code  # type: ignore[misc]
        response = _respond(request, error)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def unexpected(request: Request, exc: Exception) -> Response:
        if _database_busy(exc):
            # SQLite's one writer was busy for longer than busy_timeout: an overload, not a
            # fault. Nothing was written (the unit of work rolled back); the client may retry.
            log.warning("database busy on %s %s: answered 503", request.method, request.url.path)
            busy = ServiceUnavailable(
                "the database is busy: try again in a moment", code="database_busy"
            )
            response = _respond(request, busy)
            response.headers["Retry-After"] = "1"
            return response
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _respond(request, SmartCustomsError("internal error; it has been logged"))

    app.add_exception_handler(SmartCustomsError, domain_error)
    # The transparency-log core's errors do not derive from ours (it imports nothing of the
    # product) but carry the same status, code and details.
    app.add_exception_handler(TlogError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
