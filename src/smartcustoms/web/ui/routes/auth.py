"""Log in, log out, switch language, change one's own password (required after an
administrator's reset: :mod:`smartcustoms.core.password_change`)."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from smartcustoms.core.errors import (
    Forbidden,
    RateLimited,
    SmartCustomsError,
    Unauthenticated,
    ValidationFailed,
)
from smartcustoms.core.events import UserLoggedOut
from smartcustoms.core.i18n import N_
from smartcustoms.core.login import authenticate
from smartcustoms.core.password_change import change_own_password
from smartcustoms.core.passwords import MIN_PASSWORD_LENGTH
from smartcustoms.core.sessions import end_session, open_session
from smartcustoms.web.auth import (
    LANGUAGE_COOKIE,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    client_address,
    context,
    login_csrf_token,
    open_while_password_must_change,
    prelogin_nonce,
    set_cookie,
)
from smartcustoms.web.i18n import LANGUAGES, translations
from smartcustoms.web.policy import ANY_ROLE, CurrentPrincipal, requires
from smartcustoms.web.ui.render import language_of, render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an attacker's link must not bounce a fresh login to another site.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, *, error: str | None, status_code: int, next_: str) -> Response:
    lang = request.query_params.get("lang")
    response = Response()
    nonce = prelogin_nonce(request, response)
    if lang in LANGUAGES:
        request.state.language = lang
    page = render(
        request,
        "login.html",
        status_code=status_code,
        error=error,
        next=_safe_next(next_),
        login_csrf=login_csrf_token(request, nonce),
    )
    for key, value in response.raw_headers:
        if key == b"set-cookie":
            page.raw_headers.append((key, value))
    if lang in LANGUAGES:
        set_cookie(request, page, LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600)
    return page


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, error=None, status_code=200, next_=next)


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=256)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    ctx = context(request)
    _ = translations(language_of(request)).gettext
    nonce = request.cookies.get(PRELOGIN_COOKIE, "")
    expected = login_csrf_token(request, nonce) if nonce else ""
    if not nonce or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        raise Forbidden("missing or wrong CSRF token; reload the page", code="csrf_failed")
    address = client_address(request)
    try:
        user = await run_in_threadpool(authenticate, ctx, username, password, address)
    except RateLimited as exc:
        request.app.state.metrics.logins.labels("rate_limited").inc()
        message = _("Too many failed attempts. Try again in %(minutes)d minutes.") % {
            "minutes": max(1, exc.retry_after_s // 60)
        }
        page = _login_page(request, error=message, status_code=429, next_=next)
        page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    except Unauthenticated:
        request.app.state.metrics.logins.labels("failed").inc()
        return _login_page(
            request, error=_("Wrong username or password."), status_code=401, next_=next
        )
    request.app.state.metrics.logins.labels("ok").inc()

    def _open() -> str:
        with ctx.db.session() as session:
            return open_session(session, user, address)

    cookie = await run_in_threadpool(_open)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, cookie)
    response.delete_cookie(PRELOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
@requires(ANY_ROLE)
@open_while_password_must_change
def logout(request: Request, principal: CurrentPrincipal) -> Response:
    ctx = context(request)
    with ctx.unit() as unit:
        end_session(unit.session, request.cookies.get(SESSION_COOKIE, ""))
        unit.emit(UserLoggedOut(actor=principal.username))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/lang")
@requires(ANY_ROLE)
@open_while_password_must_change
def switch_language(
    request: Request,
    language: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if language in LANGUAGES:
        set_cookie(request, response, LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600)
    return response


# A refused change, told in the reader's language: (field, problem) → sentence.
_PASSWORD_PROBLEMS = {
    ("current_password", "wrong"): N_("Current password: not the one you logged in with."),
    ("new_password", "too short"): N_("New password: at least %(min)d characters."),
    ("new_password", "unchanged"): N_("New password: it must differ from the current one."),
    ("repeat_password", "differs"): N_("Repeat the new password exactly."),
}


def _password_page(
    request: Request, *, status_code: int = 200, problem: SmartCustomsError | None = None
) -> Response:
    field, text = "", ""
    if problem is not None:
        detail = next((d for d in problem.details if "field" in d), {})
        field = str(detail.get("field", ""))
        sentence = _PASSWORD_PROBLEMS.get((field, str(detail.get("problem", ""))))
        _ = translations(language_of(request)).gettext
        text = _(sentence) % {"min": MIN_PASSWORD_LENGTH} if sentence else problem.message
    return render(
        request,
        "password.html",
        status_code=status_code,
        problem_field=field,
        problem_text=text,
        min_password=MIN_PASSWORD_LENGTH,
    )


@router.get("/password")
@requires(ANY_ROLE)
@open_while_password_must_change
def password_form(request: Request) -> Response:
    return _password_page(request)


@router.post("/password")
@requires(ANY_ROLE)
@open_while_password_must_change
async def change_password(
    request: Request,
    principal: CurrentPrincipal,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    repeat_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change one's own password. Every session of the user ends (another browser holding one
    may have been someone else's); this browser gets a fresh one."""
    ctx = context(request)
    if new_password != repeat_password:
        mismatch = ValidationFailed(
            "the two new passwords differ",
            details=[{"field": "repeat_password", "problem": "differs"}],
        )
        return _password_page(request, status_code=422, problem=mismatch)

    def _change() -> str:
        with ctx.unit() as unit:
            user = change_own_password(unit, principal.user_id, current_password, new_password)
            return open_session(unit.session, user, client_address(request))

    try:
        cookie = await run_in_threadpool(_change)
    except SmartCustomsError as exc:
        return _password_page(request, status_code=exc.status_code, problem=exc)
    response = RedirectResponse("/", status_code=303)
    set_cookie(request, response, SESSION_COOKIE, cookie)
    return response
