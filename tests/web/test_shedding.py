"""Load shedding (web.shedding): a bounded number in flight, a bounded wait, 503 beyond."""

from __future__ import annotations

import asyncio

import httpx2
from starlette.types import Receive, Scope, Send

from smartcustoms.web.metrics import Metrics
from smartcustoms.web.shedding import LoadShedMiddleware


class Gate:
    """An ASGI app whose requests wait until the test opens the gate (``/health`` does not)."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        if scope["path"] != "/health":
            await self.open.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def shed_app(gate: Gate, **limits: float) -> tuple[LoadShedMiddleware, Metrics]:
    metrics = Metrics()
    options = {"max_concurrent": 1, "max_queued": 1, "queue_timeout_s": 5.0, "retry_after_s": 3}
    options.update(limits)
    return LoadShedMiddleware(gate, metrics=metrics, **options), metrics  # type: ignore[arg-type]


async def until(condition: object) -> None:
    for _ in range(500):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")


def test_beyond_the_queue_is_refused_at_once_and_the_queue_is_served() -> None:
    async def scenario() -> None:
        gate = Gate()
        app, metrics = shed_app(gate)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
            first = asyncio.create_task(client.get("/api/a"))
            await until(lambda: gate.entered == 1)
            second = asyncio.create_task(client.get("/api/b"))  # waits for the first's place
            await until(lambda: app.waiting == 1)
            third = await client.get("/api/c")  # nowhere to wait: refused without waiting
            assert third.status_code == 503
            assert third.headers["retry-after"] == "3"
            assert third.json()["error"]["code"] == "overloaded"
            assert "connection" not in third.headers  # the connection stays usable
            # /health is never counted nor refused, even now.
            assert (await client.get("/health")).status_code == 200
            gate.open.set()
            assert (await first).status_code == 200
            assert (await second).status_code == 200
        assert app.active == 0 and app.waiting == 0
        assert metrics.shed.labels("queue full")._value.get() == 1

    asyncio.run(scenario())


def test_a_request_waiting_too_long_is_refused() -> None:
    async def scenario() -> None:
        gate = Gate()
        app, metrics = shed_app(gate, queue_timeout_s=0.05)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
            first = asyncio.create_task(client.get("/api/a"))
            await until(lambda: gate.entered == 1)
            late = await client.get("/api/b")
            assert late.status_code == 503
            assert "waited too long" in late.json()["error"]["message"]
            assert app.waiting == 0  # the timed-out waiter left the queue
            gate.open.set()
            assert (await first).status_code == 200
            # The place is free again: the next one goes straight through.
            assert (await client.get("/api/c")).status_code == 200
        assert metrics.shed.labels("waited too long")._value.get() == 1

    asyncio.run(scenario())
