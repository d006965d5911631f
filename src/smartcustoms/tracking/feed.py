"""The live feed: what the command centre sees change, as an ordered journal in the database.

Writers (the ingest pipeline, and the web when an operator acts on an alert or an officer on a
transit) append entries in their own transactions, so an entry exists exactly when its change
was committed. Readers (each web process, :class:`smartcustoms.tracking.live.LiveHub`) poll
entries by id and send them as server-sent events. Working through the database keeps web
replicas stateless and lets the listeners run in another process, on SQLite or PostgreSQL.

Entry kinds and their JSON payloads:

``position``  a monitored truck moved (at most every few seconds per transit):
              ``{"transit_id", "reference", "device_id", "latitude", "longitude",
              "speed_kmh", "course", "time", "status", "inside_corridor", "zone"}``
``alert``     an alert was raised or changed: :func:`alert_payload`
``transit``   a transit's lifecycle changed: ``{"transit_id", "reference", "status",
              "device_id", "step"}``
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.orm import Session

from smartcustoms.tracking.tables import AlertRow, FeedRow

__all__ = [
    "FEED_KINDS",
    "alert_payload",
    "append_feed",
    "feed_since",
    "prune_feed",
]

FEED_KINDS: Final = ("position", "alert", "transit")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def alert_payload(row: AlertRow, reference: str) -> dict[str, Any]:
    """The public shape of an alert (also the API's ``AlertPublic`` fields)."""
    return {
        "id": row.id,
        "transit_id": row.transit_id,
        "reference": reference,
        "device_id": row.device_id,
        "type": row.type,
        "severity": row.severity,
        "status": row.status,
        "raised_at": _iso(row.raised_at),
        "received_at": _iso(row.received_at),
        "occurred_at": _iso(row.occurred_at),
        "last_occurred_at": _iso(row.last_occurred_at),
        "count": row.count,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "details": row.details,
        "assignee": row.assignee,
        "team": row.team,
        "outcome": row.outcome,
        "acknowledged_at": _iso(row.acknowledged_at),
        "resolved_at": _iso(row.resolved_at),
    }


def append_feed(
    target: Connection | Session,
    entries: Sequence[tuple[str, int | None, Mapping[str, Any]]],
    at: datetime,
) -> None:
    """Append ``(kind, transit_id, payload)`` entries in the caller's transaction."""
    if not entries:
        return
    rows = [
        {
            "at": at,
            "kind": kind,
            "transit_id": transit_id,
            "payload": json.dumps(payload, separators=(",", ":"), default=str),
        }
        for kind, transit_id, payload in entries
    ]
    target.execute(insert(FeedRow), rows)


def feed_since(
    conn: Connection, after: int, *, also: Sequence[int] = (), limit: int = 5000
) -> list[tuple[int, datetime, str, str]]:
    """Entries with id above ``after`` (and the ids in ``also``), oldest first."""
    condition = FeedRow.id > after
    if also:
        condition = condition | FeedRow.id.in_(list(also))
    rows = conn.execute(
        select(FeedRow.id, FeedRow.at, FeedRow.kind, FeedRow.payload)
        .where(condition)
        .order_by(FeedRow.id)
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def prune_feed(conn: Connection, before: datetime) -> int:
    result = conn.execute(delete(FeedRow).where(FeedRow.at < before))
    return int(result.rowcount or 0)
