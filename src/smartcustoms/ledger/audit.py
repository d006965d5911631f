"""Auditing the modules' stored decisions against the ledger (``smartcustoms ledger fsck``).

fsck proves the tree is what it signed; an auditor also asks whether every decision the
database holds — a lane, an examination result, an alert's state, a scan review — has its
ledger record, and whether that record still says what the row says. The ledger cannot know
those tables (the modules that record into it import the ledger, never the reverse), so each
module brings its own :class:`Auditor`: it names the record types it reads, is shown each such
record once, in ledger order — the stored entries, then the records still queued in the outbox
(``ledger_pending`` without an index: committed with their change, so present, but counted as
*queued*) — keeps only what it needs of them (usually, per row id, the latest record's position
and a fingerprint of the compared fields, in a :class:`Latest`), then reads its own tables in
chunks and reports each row that has no record, differs from its record, or whose record has
no row.

:func:`audit` runs every auditor over one consistent snapshot of the database, so a change
committed meanwhile (its row and its record commit together) is seen whole or not at all.
Entries are read 64 bundles (16,384 entries) at a time and tables 500 rows at a time; memory
grows with the number of rows audited (about 150 bytes each in a :class:`Latest`: some 1.5 GB
for ten million decisions), never with the size of the records. About 50,000 records a second.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import InstrumentedAttribute

from smartcustoms.core.db import Database
from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.ledger.store import BLOCK, read_entries, read_tree_head
from smartcustoms.ledger.tables import LedgerEntryBundle, LedgerPending, LedgerTailEntry
from smartcustoms.ledger.tlog.tiles import parse_entry_bundle

__all__ = [
    "Audit",
    "AuditReport",
    "Auditor",
    "Latest",
    "audit",
    "differences",
    "fingerprint",
    "show",
    "snapshot",
]

#: Where a record is: its entry index (>= 0), or minus its ``ledger_pending`` id while queued.
Position = int

_CHUNK_BUNDLES = 64
_CHUNK_ROWS = 500
_FP_BITS = 64
_FP_MASK = (1 << _FP_BITS) - 1


def fingerprint(*values: Any) -> int:
    """A 64-bit digest of plain values (str, int, bool, None, Decimal, tuples of them): equal
    values give equal fingerprints, whether they came from a record or a row."""
    return int.from_bytes(
        hashlib.blake2b(repr(values).encode(), digest_size=_FP_BITS // 8).digest(), "big"
    )


class Latest:
    """Per key (a row id), the position and fingerprint of the latest record seen, packed in
    one int: the same small cost per key, whatever the records hold."""

    def __init__(self) -> None:
        self._seen: dict[Hashable, int] = {}

    def put(self, key: Hashable, at: Position, *values: Any) -> Position | None:
        """Remember the record at ``at`` as ``key``'s latest; return the one it replaces."""
        before = self._seen.get(key)
        self._seen[key] = (at << _FP_BITS) | fingerprint(*values)
        return None if before is None else before >> _FP_BITS

    def take(self, key: Hashable) -> tuple[Position, int] | None:
        """``(position, fingerprint)`` of ``key``'s latest record, forgotten; None if none."""
        packed = self._seen.pop(key, None)
        return None if packed is None else (packed >> _FP_BITS, packed & _FP_MASK)

    def peek(self, key: Hashable) -> tuple[Position, int] | None:
        packed = self._seen.get(key)
        return None if packed is None else (packed >> _FP_BITS, packed & _FP_MASK)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def remaining(self) -> Iterator[tuple[Hashable, Position]]:
        """Keys never taken (records whose row was not found), in the order first seen."""
        for key, packed in self._seen.items():
            yield key, packed >> _FP_BITS


def show(value: Any) -> str:
    """A value as a message shows it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def differences(fields: Sequence[tuple[str, Any, Any]], where: str) -> str:
    """``lane is green in the table but red in ledger entry 1234`` for each ``(name, in the
    table, in the record)`` that differs, joined by ``; ``."""
    said = "; ".join(
        f"{name} is {show(row)} in the table but {show(record)} in {where}"
        for name, row, record in fields
        if row != record
    )
    return said or f"the row differs from {where}"


@dataclass
class AuditReport:
    records: int = 0  # records read (stored and queued) of a type some auditor reads
    queued: int = 0  # of which still queued in the outbox
    unreadable: int = 0  # entries that are not JSON records (fsck checks their bytes)
    checked: dict[str, int] = field(default_factory=dict)  # rows checked, by what they are
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """``812 lane decisions, 3 alerts … checked against 830 records (2 queued)``."""
        rows = ", ".join(f"{n} {what}" for what, n in self.checked.items()) or "no rows"
        queued = f" ({self.queued} still queued)" if self.queued else ""
        return f"{rows} checked against {self.records} ledger records{queued}"


class Audit:
    """What an auditor's :meth:`Auditor.check` works with: the snapshot's connection, the
    report, and reads of records it saw."""

    def __init__(self, conn: Connection, report: AuditReport, size: int) -> None:
        self.conn = conn
        self.report = report
        self.size = size

    def problem(self, message: str) -> None:
        self.report.problems.append(message)

    def checked(self, what: str, n: int = 1) -> None:
        self.report.checked[what] = self.report.checked.get(what, 0) + n

    @staticmethod
    def where(at: Position) -> str:
        """``ledger entry 1234`` or ``queued record 17 (ledger_pending)``."""
        return f"ledger entry {at}" if at >= 0 else f"queued record {-at} (ledger_pending)"

    def record(self, at: Position) -> dict[str, Any]:
        """The record at ``at`` again (to say what differs once a fingerprint did)."""
        try:
            if at >= 0:
                data = read_entries(self.conn, at, 1, self.size)[0]
            else:
                data = bytes(
                    self.conn.execute(
                        select(LedgerPending.data).where(LedgerPending.id == -at)
                    ).scalar_one()
                )
            value = orjson.loads(data)
        except (SmartCustomsError, orjson.JSONDecodeError):
            return {}
        return value if isinstance(value, dict) else {}

    def chunks(
        self,
        query: Select[*tuple[Any, ...]],
        key: InstrumentedAttribute[Any],
        size: int = _CHUNK_ROWS,
    ) -> Iterator[Sequence[Any]]:
        """The rows of ``query`` in chunks of ``size``, in ``key`` order (keyset paging on a
        unique, non-null column: no server-side cursor, no row read twice)."""
        last: Any = None
        while True:
            page = query if last is None else query.where(key > last)
            rows = self.conn.execute(page.order_by(key).limit(size)).all()
            if not rows:
                return
            yield rows
            last = getattr(rows[-1], key.key)
            if len(rows) < size:
                return


class Auditor(ABC):
    """Checks one module's tables against the records it reads. One instance per run: it keeps
    what it saw of the records until :meth:`check`."""

    #: The record types (``risk.lane_assigned`` …) this auditor is shown.
    types: ClassVar[frozenset[str]]

    @abstractmethod
    def see(self, record: dict[str, Any], at: Position) -> None:
        """One record of one of :attr:`types`, in ledger order (queued ones last)."""

    @abstractmethod
    def check(self, audit: Audit) -> None:
        """Read this module's tables and report every row without its record, every row that
        differs from it, and every record without its row."""


@contextmanager
def snapshot(db: Database) -> Iterator[Connection]:
    """One consistent, read-only view of the database: SQLite's read transaction is one
    already; PostgreSQL's default (read committed) would see commits made while we read."""
    with db.engine.connect() as base:
        conn = base if db.is_sqlite else base.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin() as tx:
            yield conn
            tx.rollback()


def audit(db: Database, auditors: Sequence[Auditor]) -> AuditReport:
    """Show every stored and queued record to the auditors of its type, then let each check
    its tables; all of it on one snapshot."""
    report = AuditReport()
    by_type: dict[str, list[Auditor]] = {}
    for auditor in auditors:
        for name in auditor.types:
            by_type.setdefault(name, []).append(auditor)
    with snapshot(db) as conn:
        size = read_tree_head(conn).size
        for at, data in _records(conn, size, report):
            try:
                record = orjson.loads(data)
            except orjson.JSONDecodeError:
                report.unreadable += 1
                continue
            kind = record.get("type") if isinstance(record, dict) else None
            interested = by_type.get(kind) if isinstance(kind, str) else None
            if not interested:
                continue
            report.records += 1
            report.queued += at < 0
            for auditor in interested:
                try:
                    auditor.see(record, at)
                except (KeyError, TypeError, ValueError) as exc:
                    report.problems.append(
                        f"{Audit.where(at)}: malformed {kind} record "
                        f"({exc.__class__.__name__}: {exc})"
                    )
        checking = Audit(conn, report, size)
        for auditor in auditors:
            auditor.check(checking)
    return report


def _records(conn: Connection, size: int, report: AuditReport) -> Iterator[tuple[Position, bytes]]:
    """Every stored entry in index order, then every queued one in queue order, read in
    chunks. What is missing or damaged is skipped here (fsck names it)."""
    full = size // BLOCK
    for lo in range(0, full, _CHUNK_BUNDLES):
        rows = conn.execute(
            select(LedgerEntryBundle.bundle, LedgerEntryBundle.data)
            .where(
                LedgerEntryBundle.bundle >= lo,
                LedgerEntryBundle.bundle < min(lo + _CHUNK_BUNDLES, full),
            )
            .order_by(LedgerEntryBundle.bundle)
        ).all()
        for bundle, data in rows:
            try:
                entries = parse_entry_bundle(bytes(data), BLOCK)
            except SmartCustomsError:
                report.unreadable += BLOCK
                continue
            first = int(bundle) * BLOCK
            for n, entry in enumerate(entries):
                yield first + n, entry
    tail = conn.execute(
        select(LedgerTailEntry.idx, LedgerTailEntry.data)
        .where(LedgerTailEntry.idx >= full * BLOCK, LedgerTailEntry.idx < size)
        .order_by(LedgerTailEntry.idx)
    ).all()
    for idx, data in tail:
        yield int(idx), bytes(data)
    last = 0
    while True:
        queued = conn.execute(
            select(LedgerPending.id, LedgerPending.data)
            .where(LedgerPending.idx.is_(None), LedgerPending.id > last)
            .order_by(LedgerPending.id)
            .limit(_CHUNK_ROWS)
        ).all()
        for pid, data in queued:
            yield -int(pid), bytes(data)
        if len(queued) < _CHUNK_ROWS:
            return
        last = int(queued[-1].id)
