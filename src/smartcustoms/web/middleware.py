"""ASGI middleware: security headers on every response, a cap on request body size.

Caching: an answer to an authenticated request (a page, an API answer, an image) is
``Cache-Control: no-store`` whatever the route said, so nothing a user saw stays in a browser
or proxy cache after logging out — on a shared border-post computer, the next person would
find it there. Static files (``/static``: stylesheets, scripts, fonts, the same for everyone)
keep their caching; anonymous answers keep a policy the route set (public ledger tiles) and
are ``no-store`` otherwise.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimitMiddleware", "SecurityHeadersMiddleware"]

# Everything the pages load comes from this server (vendored), so 'self' is the whole policy.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Swagger UI sets inline styles; its page alone gets them.
CSP_API_DOCS = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

BASE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
NO_STORE = (b"cache-control", b"no-store")
STATIC_PREFIX = "/static/"


def _authenticated(scope: Scope) -> bool:
    """Whether the access policy found a principal for this request (it keeps it in the
    request's state, which lives in the scope)."""
    state = scope.get("state")
    return isinstance(state, dict) and state.get("principal") is not None


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = CSP_API_DOCS if scope["path"] == "/api/docs" else CSP
        https = scope.get("scheme") == "https"
        static = scope["path"].startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not static and _authenticated(scope):
                    headers = [h for h in headers if h[0].lower() != NO_STORE[0]]
                present = {name.lower() for name, _ in headers}
                extra = [*BASE_HEADERS, (b"content-security-policy", csp.encode())]
                if not static:
                    extra.append(NO_STORE)
                if https:  # HSTS over plain HTTP is ignored by browsers and misleads readers
                    extra.append(HSTS)
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, whether or not they declare a length.

    ``limits`` maps path prefixes to larger caps for the few routes that take uploads.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = limits or {}

    def _limit_for(self, path: str) -> int:
        for prefix, limit in self.limits.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reject(send, 400, "bad_request", "invalid Content-Length header")
                    return
                if declared > limit:
                    await _reject(send, 413, "payload_too_large", _too_large(limit))
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException passes unchanged through FastAPI's body parsing (any
                    # other error there becomes a 400) to the application's error handler.
                    raise HTTPException(413, _too_large(limit))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except HTTPException as exc:  # raised where no handler was installed to catch it
            if exc.status_code != 413 or started:
                raise
            await _reject(send, 413, "payload_too_large", _too_large(limit))


def _too_large(limit: int) -> str:
    return f"request body larger than {limit} bytes"


async def _reject(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
