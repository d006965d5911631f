"""Load shedding: a bounded number of requests in flight per worker, a short bounded queue
behind them, and a prompt ``503`` with ``Retry-After`` for the rest.

Without it an overloaded worker accepts everything: requests pile up in the thread pool, every
one of them gets slower, clients time out and retry on top, and the connections they hold are
finally dropped. A refusal that comes at once, on a connection that stays open, is what a
customs system's client (or a load balancer) can act on: try again later, or elsewhere.

``/health`` (load balancers must see a live instance, most of all when it is busy),
``/metrics`` (monitoring matters most under load) and live event streams (they stay open for
hours and would hold a place for ever) are never counted or refused; nor are the pieces of a
resumable scan upload (``PATCH /api/scans/uploads/…``): on a thin link one piece streams for
many seconds, mostly waiting on the network, and would hold a place all that time.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from smartcustoms.web.metrics import Metrics

__all__ = ["EXEMPT_PATHS", "LoadShedMiddleware"]

EXEMPT_PATHS = frozenset({"/health", "/metrics", "/api/tracking/stream"})
EXEMPT_PREFIXES = ("/static/",)
#: (method, path prefix) pairs never counted: long bodies that mostly wait on the network.
EXEMPT_STREAMS = (("PATCH", "/api/scans/uploads/"),)


class LoadShedMiddleware:
    """At most ``max_concurrent`` requests handled at once; up to ``max_queued`` more wait (at
    most ``queue_timeout_s``) for a place; anything beyond is answered ``503 overloaded``.

    The counts are per worker process and per event loop: every request of a worker passes
    through one loop, so no lock is needed between a check and its update.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_concurrent: int,
        max_queued: int,
        queue_timeout_s: float,
        retry_after_s: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.app = app
        self.max_concurrent = max_concurrent
        self.max_queued = max_queued
        self.queue_timeout_s = queue_timeout_s
        self.retry_after_s = retry_after_s
        self.metrics = metrics
        self.active = 0
        self.waiting = 0
        # Created on first use, in the loop that serves: asyncio primitives belong to one loop
        # (tests run several loops one after another).
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._slots = asyncio.Semaphore(self.max_concurrent)
            self._loop = loop
            self.active = self.waiting = 0
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _exempt(scope["path"], scope.get("method", "")):
            await self.app(scope, receive, send)
            return
        slots = self._semaphore()
        if slots.locked():
            if self.waiting >= self.max_queued:
                await self._shed(send, "queue full")
                return
            self.waiting += 1
            self._show()
            try:
                await asyncio.wait_for(slots.acquire(), self.queue_timeout_s)
            except TimeoutError:
                await self._shed(send, "waited too long")
                return
            finally:
                self.waiting -= 1
        else:
            await slots.acquire()  # free: returns at once
        self.active += 1
        self._show()
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
            slots.release()
            self._show()

    def _show(self) -> None:
        if self.metrics is not None:
            self.metrics.in_flight.set(self.active)
            self.metrics.queued.set(self.waiting)

    async def _shed(self, send: Send, why: str) -> None:
        if self.metrics is not None:
            self.metrics.shed.labels(why).inc()
            self._show()
        body = json.dumps(
            {
                "error": {
                    "code": "overloaded",
                    "message": f"the server is busy ({why}): try again in {self.retry_after_s} s",
                    "details": [],
                }
            }
        ).encode()
        # The connection stays open (no "Connection: close"): the client retries on it.
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(self.retry_after_s).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _exempt(path: str, method: str) -> bool:
    return (
        path in EXEMPT_PATHS
        or path.startswith(EXEMPT_PREFIXES)
        or any(method == m and path.startswith(p) for m, p in EXEMPT_STREAMS)
    )
