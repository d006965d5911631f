"""Each request's id and its access log line.

The id is the caller's ``X-Request-ID`` when it is sane (``core.request_id``: at most 128
characters of a plain set), else a new one; it is answered in ``X-Request-ID``, set for the
request's logs and for the ``admin.*`` ledger records the request makes, so an operator can go
from a client's complaint to the log lines and the ledger entries of that request.

The access line (logger ``smartcustoms.access``) gives the method, the route *template* (never
the raw path or its query string, where a careless client may put a token), the status, the
latency in milliseconds and who called (username and roles). It never reads headers, cookies
or bodies.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartcustoms.core.request_id import new_request_id, request_id_var, sane_request_id
from smartcustoms.web.metrics import route_template

__all__ = ["RequestContextMiddleware"]

access_log = logging.getLogger("smartcustoms.access")

HEADER = b"x-request-id"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", []):
            if name == HEADER:
                incoming = value.decode("latin-1")
                break
        request_id = sane_request_id(incoming) or new_request_id()
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != HEADER]
                headers.append((HEADER, request_id.encode("ascii")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _log_access(scope, status, (time.perf_counter() - start) * 1000)
            request_id_var.reset(token)


def _log_access(scope: Scope, status: int, latency_ms: float) -> None:
    # A server error is a warning; a refusal for overload (503) is not: under load there are
    # many, and the metrics count them (smartcustoms_http_requests_shed).
    level = logging.WARNING if status >= 500 and status != 503 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    method = scope["method"]
    route = route_template(scope)
    if route == "unmatched":  # no template to give: the path, still without its query string
        route = f"unmatched {scope.get('path', '')[:200]}"
    state = scope.get("state")
    principal = state.get("principal") if isinstance(state, dict) else None
    user = getattr(principal, "username", None)
    roles = sorted(str(r) for r in getattr(principal, "roles", ()) or ())
    access_log.log(
        level,
        "%s %s %s %.1f ms%s",
        method,
        route,
        status,
        latency_ms,
        f" user={user}" if user else "",
        extra={
            "method": method,
            "route": route,
            "status": status,
            "latency_ms": round(latency_ms, 2),
            "user": user,
            "roles": roles,
        },
    )
