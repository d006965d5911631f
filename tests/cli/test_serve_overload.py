"""`smartcustoms serve` under more load than it may take: prompt 503s with Retry-After on
connections that stay open, never a dropped connection or an error of its own."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx2

from tests.cli.serving import serving
from tests.declarations.helpers import declaration


def test_overload_is_shed_with_503_and_retry_after(tmp_path: Path) -> None:
    limits = {
        "max_concurrent_requests": "1",
        "max_queued_requests": "2",
        "request_queue_timeout_ms": "200",
        "overload_retry_after_s": "7",
        "log_level": "WARNING",
    }
    with serving(tmp_path, **limits) as served:
        headers = {"Authorization": f"Bearer {served.tokens['cms']}"}

        async def flood() -> tuple[Counter[str], set[str]]:
            outcomes: Counter[str] = Counter()
            retry_after: set[str] = set()
            pool = httpx2.Limits(max_connections=20, max_keepalive_connections=20)
            async with httpx2.AsyncClient(base_url=served.url, limits=pool, timeout=30) as client:

                async def one(n: int) -> None:
                    try:
                        r = await client.post(
                            "/api/declarations", json=declaration(lrn=f"FLOOD-{n}"), headers=headers
                        )
                    except httpx2.HTTPError as exc:  # a dropped connection: the failure wanted
                        outcomes[type(exc).__name__] += 1
                        return
                    outcomes[str(r.status_code)] += 1
                    if r.status_code == 503:
                        retry_after.add(r.headers.get("retry-after", "missing"))
                        assert r.json()["error"]["code"] == "overloaded"
                        assert r.headers.get("connection") != "close"

                await asyncio.gather(*(one(n) for n in range(60)))
                # The same client, its connections reused, is served once the flood is over.
                after = await client.post(
                    "/api/declarations", json=declaration(lrn="AFTER"), headers=headers
                )
                outcomes[f"after {after.status_code}"] += 1
                health = await client.get("/health")  # never shed
                outcomes[f"health {health.status_code}"] += 1
            return outcomes, retry_after

        outcomes, retry_after = asyncio.run(flood())
        log = served.log_text()
    assert outcomes["503"] > 0, outcomes
    assert outcomes["201"] > 0, outcomes
    assert set(outcomes) <= {"201", "503", "after 201", "health 200"}, (outcomes, log[-3000:])
    assert retry_after == {"7"}
    assert "Exception in ASGI application" not in log
    assert "database is locked" not in log
