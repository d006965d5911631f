"""The ledger's transactional outbox: a record is queued in the same transaction as the change
it records.

A unit of work (``ctx.unit()``) and the tracking ingest writer hand their events to the bus's
recorder before they commit; :func:`record_events` encodes them (confidential fields become
salted commitments, whose openings are written in the same transaction) and queues the entries
in ``ledger_pending`` through the caller's connection. The change and its ledger record therefore
commit together or not at all: a process killed at any moment leaves either both or neither.
The sequencer drains the queue in order and writes each entry's tree index back in the
transaction that stores it (exactly once); queued entries of a dead process are stored by the
next sequencer to run.

:func:`queue_once` adds idempotency keys for appends that a caller may repeat after a crash
(``ledger append`` keys each input line): an entry whose key is already known is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from smartcustoms.core import clock
from smartcustoms.core.events import Event
from smartcustoms.ledger.commitments import commit_and_keep
from smartcustoms.ledger.handoff import queue_entries
from smartcustoms.ledger.tables import LedgerRecordKey
from smartcustoms.ledger.tlog.records import encode_record

__all__ = ["CONFIDENTIAL_FIELDS", "event_records", "queue_once", "record_events"]

#: Event fields that enter the ledger only as salted commitments (client network addresses).
CONFIDENTIAL_FIELDS = frozenset({"address"})


def record_events(conn: Connection, events: Sequence[Event]) -> list[int]:
    """Queue the ledger records of ``events`` in ``conn``'s open transaction; return the queue
    ids. Raises MalformedRecord or RecordTooLarge (and so rolls the change back) for an event
    that cannot be a record."""
    entries = [encode_record(r) for r in event_records(conn, events)]
    return queue_entries(conn, entries) if entries else []


def queue_once(conn: Connection, keyed: Sequence[tuple[str, bytes]]) -> list[int | None]:
    """Queue each ``(key, entry)`` whose key was never queued before, in ``conn``'s open
    transaction; return each one's queue id, or None where the key was already known."""
    keys = [k for k, _ in keyed]
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        known.update(
            conn.execute(select(LedgerRecordKey.key).where(LedgerRecordKey.key.in_(chunk)))
            .scalars()
            .all()
        )
    fresh: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for key, entry in keyed:
        if key not in known and key not in seen:
            seen.add(key)
            fresh.append((key, entry))
    ids = queue_entries(conn, [e for _, e in fresh]) if fresh else []
    if fresh:
        now = clock.now()
        conn.execute(
            insert(LedgerRecordKey),
            [
                {"key": key, "pending_id": pid, "created_at": now}
                for (key, _), pid in zip(fresh, ids, strict=True)
            ],
        )
    by_key = {key: pid for (key, _), pid in zip(fresh, ids, strict=True)}
    out: list[int | None] = []
    for key in keys:
        out.append(by_key.pop(key, None))
    return out


def event_records(conn: Connection, events: Sequence[Event]) -> list[dict[str, Any]]:
    """The ledger records of ``events``: each one's ``as_record()``, version 1, with every
    confidential field replaced by a salted commitment whose opening is written through
    ``conn`` (in its open transaction)."""
    records = []
    hidden: list[tuple[dict[str, Any], str]] = []
    for event in events:
        record = dict(event.as_record())
        record.setdefault("v", 1)
        hidden += [(record, k) for k in CONFIDENTIAL_FIELDS if record.get(k) is not None]
        records.append(record)
    for record, key in hidden:
        record[key] = commit_and_keep(conn, record[key])
    return records
