"""Traccar forwarding: what a forwarded position costs, beside a forward that stores nothing.

    .venv/bin/python bench/traccar_forward.py [--positions 300] [--devices 20] [--database URL]

A throwaway database (SQLite, or the PostgreSQL URL given), the web application in process, a
``tracking_gateway`` token, and Traccar's own JSON bodies posted one after another, as one
Traccar server forwards:

- *positions*: ``POST /api/tracking/traccar/positions`` — parsed, stored by the ingest writer,
  run through the pipeline, committed, then answered;
- *baseline*: in the same run, ``POST /api/tracking/traccar/events`` with a ``deviceOnline``
  status event, which is authenticated and parsed the same way and answered without a write.

The difference is the durable write and the pipeline; the ratio is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from fresh_database import fresh_database

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from smartcustoms.web.app import create_app

STAMP = "%Y-%m-%dT%H:%M:%S.000+00:00"  # Traccar's Jackson format


def device(n: int) -> dict[str, Any]:
    return {"id": n, "name": f"Truck {n}", "uniqueId": f"86{n:013d}", "status": "online"}


def position(n: int, at: datetime) -> dict[str, Any]:
    return {
        "id": 100_000 + n,
        "deviceId": n,
        "protocol": "gt06",
        "serverTime": at.strftime(STAMP),
        "deviceTime": at.strftime(STAMP),
        "fixTime": at.strftime(STAMP),
        "outdated": False,
        "valid": True,
        "latitude": -3.39605 + n * 1e-4,
        "longitude": 38.55609,
        "altitude": 560.0,
        "speed": 32.4,
        "course": 300.0,
        "accuracy": 0.0,
        "attributes": {"sat": 9, "batteryLevel": 87, "motion": True},
    }


def timed(client: TestClient, path: str, bodies: list[dict[str, Any]], token: str) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    seconds = []
    for body in bodies:
        started = time.perf_counter()
        answer = client.post(path, json=body, headers=headers)
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
    return seconds


def summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (
        f"{name:<10} n={len(seconds)}  median {statistics.median(ordered) * 1000:.1f} ms  "
        f"p95 {p95 * 1000:.1f} ms  ({len(seconds) / sum(seconds):,.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--positions", type=int, default=300)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument(
        "--database", help="a PostgreSQL server URL: the run uses a new database there"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sc-bench-traccar-"))
    stack = contextlib.ExitStack()
    settings = load_settings(
        None,
        data_dir=tmp,
        database_url=stack.enter_context(fresh_database(tmp, args.database)),
        secret_key=secrets.token_urlsafe(48),
    )
    ctx = AppContext.from_settings(settings)
    upgrade(ctx.db)
    with ctx.unit() as unit:
        create_user(
            unit,
            username="traccar",
            password=secrets.token_urlsafe(16),
            roles=[Role.TRACKING_GATEWAY],
            actor="bench",
        )
        user = get_user(unit.session, "traccar")
        assert user is not None
        token = create_token(unit, user, name="bench", days=1, max_days=10, actor="bench").secret
    start = datetime.now(UTC) - timedelta(hours=1)
    forwards = [
        {
            "position": position(i % args.devices, start + timedelta(seconds=i)),
            "device": device(i % args.devices),
        }
        for i in range(args.positions)
    ]
    online = [
        {
            "event": {
                "id": i,
                "type": "deviceOnline",
                "eventTime": (start + timedelta(seconds=i)).strftime(STAMP),
                "deviceId": i % args.devices,
                "positionId": 0,
                "geofenceId": 0,
                "maintenanceId": 0,
                "attributes": {},
            },
            "device": device(i % args.devices),
        }
        for i in range(args.positions)
    ]
    with TestClient(create_app(ctx)) as client:
        timed(client, "/api/tracking/traccar/events", online[:20], token)  # warm up
        baseline = timed(client, "/api/tracking/traccar/events", online, token)
        stored = timed(client, "/api/tracking/traccar/positions", forwards, token)
    ctx.close()
    stack.close()
    print(f"# bench/traccar_forward.py: {args.positions} forwards, {args.devices} devices")
    print(f"database:  {ctx.db.dialect}")
    print(summary("baseline", baseline) + "   (status event: authenticated, parsed, not stored)")
    print(summary("positions", stored) + "   (stored, pipeline, committed before the answer)")
    ratio = statistics.median(stored) / statistics.median(baseline)
    print(f"ratio:     position / baseline, median = {ratio:.2f}×")


if __name__ == "__main__":
    main()
