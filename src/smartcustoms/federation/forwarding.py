"""Forwarding a handed-over transit's positions to the partner, losing none.

Positions are queued where they are stored, never looked for afterwards. Reading positions
"with an id above the last one forwarded" misses some on PostgreSQL: ids are drawn when a row
is inserted, not when it commits, so a writer that drew id 100 and commits after another
writer's 101 was read leaves 100 behind the cursor for ever. Instead:

1. :func:`stage_positions`, a positions-written hook
   (:data:`smartcustoms.tracking.pipeline.PositionsWritten`, added to each context by
   :func:`.service.attach_federation`, and called by the inbox for forwarded positions of a
   transit handed onward), writes each batch's new positions of a device being forwarded into
   ``federation_forward_queue`` in the transaction that stores them: both commit or neither.
2. :func:`forward_positions` (the deliverer, the one lease holder) packs the queued rows into
   ``transit.positions`` messages and deletes exactly those rows in the transaction that queues
   the messages: a row committed late is simply there on the next pass.
3. The hand-over and the writers are serialised at the boundary between the track sent with
   the hand-over and the first forwarded position: :func:`freeze_positions` (called by the
   hand-over recorder before it reads the track) takes PostgreSQL's ``SHARE`` lock on the
   positions table, which waits for the writers in flight to commit (their positions are in
   the track) and holds new ones until the hand-over commits (their hook then sees the new
   forwarding row). SQLite writers are serialised already (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC
from typing import Any, Final

import orjson
from sqlalchemy import Connection, delete, insert, select, text, update

from smartcustoms.core import clock
from smartcustoms.federation.handover_tables import ForwardQueueRow
from smartcustoms.federation.outbox import QUEUED, enqueue
from smartcustoms.federation.tables import ForwardingRow
from smartcustoms.tracking.rules import Report
from smartcustoms.tracking.store import position_rows
from smartcustoms.tracking.tables import PositionRow

__all__ = [
    "BATCH",
    "FIELDS",
    "POSITIONS",
    "forward_positions",
    "freeze_positions",
    "iso",
    "stage_positions",
    "wire",
]

POSITIONS: Final = "transit.positions"
#: Positions per ``transit.positions`` message; queued rows packed per forwarding pass.
BATCH: Final = 2000
PASS_ROWS: Final = 2000
#: A position on the wire: these fields, in this order (compact: a batch is thousands).
FIELDS: Final = (
    "time",
    "latitude",
    "longitude",
    "speed_kmh",
    "course",
    "satellites",
    "valid",
    "altitude",
    "events",
    "attributes",
    "received_at",
    "protocol",
)


def iso(value: Any) -> str | None:
    """A stored time as ISO 8601 with its zone (SQLite gives naive UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.isoformat())


def wire(rows: Sequence[Any]) -> list[list[Any]]:
    """Stored positions (rows with the columns' names) as :data:`FIELDS` lists."""
    return [
        [
            iso(r.time),
            r.latitude,
            r.longitude,
            r.speed_kmh,
            r.course,
            r.satellites,
            bool(r.valid),
            r.altitude,
            r.events,
            r.attributes,
            iso(r.received_at),
            r.protocol,
        ]
        for r in rows
    ]


def _wire_reports(reports: Sequence[Report]) -> list[list[Any]]:
    """New positions as the writer stores them (:func:`.store.position_rows`), on the wire."""
    found = []
    for r in reports:
        row = position_rows((r.position,), r.device_id, r.received_at, r.protocol)[0]
        # position_rows' columns: device, time, received_at, latitude … attributes,
        # implausible, protocol, digest.
        found.append([iso(row[1]), *row[3:8], bool(row[8]), *row[9:12], iso(row[2]), row[13]])
    return found


def freeze_positions(conn: Connection) -> None:
    """Until ``conn``'s transaction ends, no position is being stored (see the module)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"LOCK TABLE {PositionRow.__tablename__} IN SHARE MODE"))


def stage_positions(
    conn: Connection, devices: Collection[str], new_of: Callable[[str], list[Report]]
) -> None:
    """Queue the new positions of the devices being forwarded, in the storing transaction."""
    forwarding = conn.execute(
        select(ForwardingRow.transit_id, ForwardingRow.partner_id, ForwardingRow.device_id).where(
            ForwardingRow.ended_at.is_(None)
        )
    ).all()
    wanted = [f for f in forwarding if f.device_id in devices]
    if not wanted:
        return
    now = clock.now()
    rows = []
    for f in wanted:
        reports = new_of(f.device_id)
        if reports:
            rows.append(
                {
                    "transit_id": f.transit_id,
                    "partner_id": f.partner_id,
                    "device_id": f.device_id,
                    "count": len(reports),
                    "positions": orjson.dumps(_wire_reports(reports)).decode(),
                    "created_at": now,
                }
            )
    if rows:
        conn.execute(insert(ForwardQueueRow), rows)
        QUEUED.mark()


def forward_positions(
    conn_factory: Any, *, reader: Any, batch: int = BATCH, limit: int = PASS_ROWS
) -> int:
    """Pack up to ``limit`` queued rows into ``transit.positions`` messages of up to ``batch``
    positions per partner and delete them, in one transaction; how many positions.
    ``conn_factory`` is the database's writer engine: its transactions take SQLite's write
    lock at once, so it is only begun when ``reader`` (an engine whose transactions do not)
    found something queued."""
    with reader.connect() as conn:
        if conn.scalar(select(ForwardQueueRow.id).limit(1)) is None:
            return 0
    total = 0
    with conn_factory.begin() as conn:
        queued = conn.execute(
            select(
                ForwardQueueRow.id,
                ForwardQueueRow.transit_id,
                ForwardQueueRow.partner_id,
                ForwardQueueRow.device_id,
                ForwardQueueRow.positions,
            )
            .order_by(ForwardQueueRow.id)
            .limit(limit)
        ).all()
        # Per partner, messages of up to ``batch`` positions; within one, a transit's
        # positions from consecutive rows make one group.
        packed: dict[int, list[list[dict[str, Any]]]] = {}
        sizes: dict[int, int] = {}
        counts: dict[int, int] = {}
        for q in queued:
            positions = orjson.loads(q.positions)
            counts[q.transit_id] = counts.get(q.transit_id, 0) + len(positions)
            messages = packed.setdefault(q.partner_id, [[]])
            while positions:
                room = batch - sizes.get(q.partner_id, 0)
                if room <= 0:
                    messages.append([])
                    sizes[q.partner_id] = 0
                    continue
                chunk, positions = positions[:room], positions[room:]
                groups = messages[-1]
                if groups and groups[-1]["origin_transit_id"] == q.transit_id:
                    groups[-1]["positions"] += chunk
                else:
                    groups.append(
                        {
                            "origin_transit_id": q.transit_id,
                            "device_id": q.device_id,
                            "positions": chunk,
                        }
                    )
                sizes[q.partner_id] = sizes.get(q.partner_id, 0) + len(chunk)
        for partner_id, messages in packed.items():
            for groups in messages:
                if groups:
                    enqueue(
                        conn, partner_id, POSITIONS, {"fields": list(FIELDS), "transits": groups}
                    )
        ids = [q.id for q in queued]
        for start in range(0, len(ids), 500):
            conn.execute(
                delete(ForwardQueueRow).where(ForwardQueueRow.id.in_(ids[start : start + 500]))
            )
        for transit_id, count in counts.items():
            conn.execute(
                update(ForwardingRow)
                .where(ForwardingRow.transit_id == transit_id)
                .values(forwarded=ForwardingRow.forwarded + count)
            )
            total += count
    return total
