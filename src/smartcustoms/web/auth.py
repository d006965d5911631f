"""How a request proves who it is: a bearer API token or a web session cookie."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from fastapi import Request, Response
from sqlalchemy.orm import Session

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Unauthenticated
from smartcustoms.core.password_change import PasswordChangeRequired
from smartcustoms.core.principal import Principal
from smartcustoms.core.sessions import follow_up_session, lookup_session
from smartcustoms.core.tokens import lookup_token, touch_token

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PASSWORD_PAGE",
    "PRELOGIN_COOKIE",
    "SESSION_COOKIE",
    "client_address",
    "cookie_secure",
    "login_csrf_token",
    "open_while_password_must_change",
    "principal_from_request",
    "set_cookie",
]

SESSION_COOKIE = "sc_session"
PRELOGIN_COOKIE = "sc_prelogin"
LANGUAGE_COOKIE = "sc_lang"
log = logging.getLogger("smartcustoms.web")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
#: Where a user whose password an administrator reset is sent (web/ui/routes/auth.py).
PASSWORD_PAGE = "/password"  # noqa: S105 (a path, not a secret)
_OPEN_WHILE_MUST_CHANGE = "__smartcustoms_open_while_password_must_change__"
F = TypeVar("F", bound=Callable[..., Any])


def context(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


def client_address(request: Request) -> str | None:
    # Behind a trusted proxy uvicorn has already replaced the peer with X-Forwarded-For.
    return request.client.host if request.client else None


def open_while_password_must_change(fn: F) -> F:
    """Mark an endpoint a user whose password was reset may still call (log out, change the
    password, switch language); every other one answers :class:`PasswordChangeRequired`."""
    setattr(fn, _OPEN_WHILE_MUST_CHANGE, True)
    return fn


def _password_gate(request: Request, principal: Principal | None) -> Principal | None:
    if principal is None or not principal.must_change_password:
        return principal
    if getattr(request.scope.get("endpoint"), _OPEN_WHILE_MUST_CHANGE, False):
        return principal
    # Browsers are redirected to the change page by the error handler (web.errors).
    raise PasswordChangeRequired(
        "an administrator set your password: choose a new one first",
        details=[{"path": request.url.path, "change_at": PASSWORD_PAGE}],
    )


def principal_from_request(request: Request) -> Principal | None:
    """Resolve the caller; None when anonymous. A bad bearer token raises Unauthenticated; a
    user who must change their password raises PasswordChangeRequired on any endpoint not
    marked :func:`open_while_password_must_change`.

    The lookup only reads, so it never waits for a writer (a long import, the ledger): the
    occasional bookkeeping write (last use of a token, session activity) happens afterwards, on
    a background thread, and is skipped if the database is busy.
    """
    ctx = context(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated(
                "the Authorization header must be 'Bearer <token>'", code="token_malformed"
            )
        with ctx.db.read_session() as session:
            principal, stale = lookup_token(session, value.strip())
        token_id = principal.token_id
        if stale and token_id:
            _in_background(ctx, lambda s: touch_token(s, token_id))
        return _password_gate(request, principal)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    settings = ctx.settings
    with ctx.db.read_session() as session:
        found, action = lookup_session(
            session,
            cookie,
            idle=timedelta(minutes=settings.session_idle_minutes),
            max_age=timedelta(hours=settings.session_max_hours),
        )
    if action is not None:
        _in_background(ctx, lambda s: follow_up_session(s, cookie, action))
    return _password_gate(request, found)


def _in_background(ctx: AppContext, write: Callable[[Session], None]) -> None:
    """Run ``write`` after the request, on the database's bookkeeping thread."""

    def run() -> None:
        try:
            with ctx.db.session() as session:
                write(session)
        except Exception:  # bookkeeping only: a busy or closed database is not an error
            log.debug("skipped an authentication bookkeeping write", exc_info=True)

    with contextlib.suppress(RuntimeError):  # the database is closing: nothing left to keep
        ctx.db.background("auth-bookkeeping").submit(run)


def cookie_secure(request: Request) -> bool:
    settings = context(request).settings
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return settings.production or request.url.scheme == "https"


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        secure=cookie_secure(request),
        samesite="lax",
        path="/",
    )


def prelogin_nonce(request: Request, response: Response) -> str:
    """The anonymous browser's nonce for the login form's CSRF token, set if missing."""
    nonce = request.cookies.get(PRELOGIN_COOKIE)
    if not nonce or len(nonce) > 64:
        nonce = secrets.token_urlsafe(24)
        set_cookie(request, response, PRELOGIN_COOKIE, nonce, max_age=3600)
    return nonce


def login_csrf_token(request: Request, nonce: str) -> str:
    # Signed double submit: the form must echo an HMAC of the browser's own cookie, which a
    # cross-site page can neither read nor forge without the server's secret key.
    key = context(request).secret_key.encode()
    return hmac.new(key, b"login:" + nonce.encode(), hashlib.sha256).hexdigest()
