"""The scan workflow's auditor for ``smartcustoms ledger fsck``: every received scan, every
analyst's review and supervisor's re-check, and every examination result has its ledger record,
and the records still say what the rows say.

* ``scans``: ``scans.received`` (file SHA-256, declaration, container, machine decision), and
  the status and decision against the latest ``scans.reviewed`` / ``scans.rechecked`` /
  ``scans.examined`` record (``awaiting_review`` while there is none);
* ``scan_reviews``: the scan's reviews and re-checks, in order, against its ``scans.reviewed``
  and ``scans.rechecked`` records, one each;
* ``scan_examinations``: irregular, codes and masses against ``scans.examined``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from smartcustoms.ledger.audit import (
    Audit,
    Auditor,
    Latest,
    Position,
    differences,
    fingerprint,
    show,
)
from smartcustoms.scans.tables import ExaminationRow, ReviewRow, ScanRow

__all__ = ["ScanAuditor", "auditors"]

RECEIVED = "scans.received"
REVIEWED = "scans.reviewed"
RECHECKED = "scans.rechecked"
EXAMINED = "scans.examined"
_KIND = {REVIEWED: "review", RECHECKED: "recheck"}
_WAITING = "awaiting_review"

_RECEIVED_FIELDS = ("file_sha256", "declaration", "container", "machine decision")
_EXAMINED_FIELDS = ("irregular", "codes", "found_kg", "weighed_net_kg")


def _kg(value: Any) -> Decimal | str | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.001"))
    except InvalidOperation:
        return str(value)


def _received_of(record: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        record.get("file_sha256"),
        record.get("declaration_id"),
        record.get("container_number"),
        record.get("alarm_decision"),
    )


def _examined_of(record: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        record.get("irregular"),
        tuple(sorted(str(c) for c in record.get("codes") or [])),
        _kg(record.get("found_kg")),
        _kg(record.get("weighed_net_kg")),
    )


class ScanAuditor(Auditor):
    types = frozenset({RECEIVED, REVIEWED, RECHECKED, EXAMINED})

    def __init__(self) -> None:
        self.received = Latest()
        self.examined = Latest()
        self.state = Latest()  # status after the latest workflow record
        # Per scan, its reviews and re-checks in ledger order ("review:clear", position).
        self.reviews: dict[int, tuple[tuple[str, Position], ...]] = {}

    def see(self, record: dict[str, Any], at: Position) -> None:
        scan = int(record["scan_id"])
        kind = record["type"]
        if kind == RECEIVED:
            self.received.put(scan, at, *_received_of(record))
            return
        if kind == EXAMINED:
            self.examined.put(scan, at, *_examined_of(record))
            self.state.put(scan, at, "examined")
            return
        label = f"{_KIND[kind]}:{record['decision']}"
        self.reviews[scan] = (*self.reviews.get(scan, ()), (label, at))
        self.state.put(scan, at, record.get("status"))

    def check(self, audit: Audit) -> None:
        query = select(
            ScanRow.id,
            ScanRow.file_sha256,
            ScanRow.declaration_id,
            ScanRow.container_number,
            ScanRow.alarm_decision,
            ScanRow.status,
            ScanRow.decision,
        )
        for rows in audit.chunks(query, ScanRow.id):
            ids = [int(r.id) for r in rows]
            reviews: dict[int, list[tuple[str, str]]] = {}
            for scan_id, kind, decision in audit.conn.execute(
                select(ReviewRow.scan_id, ReviewRow.kind, ReviewRow.decision)
                .where(ReviewRow.scan_id.in_(ids))
                .order_by(ReviewRow.scan_id, ReviewRow.id)
            ):
                reviews.setdefault(int(scan_id), []).append((kind, decision))
            examinations = {
                int(e.scan_id): e
                for e in audit.conn.execute(
                    select(
                        ExaminationRow.scan_id,
                        ExaminationRow.irregular,
                        ExaminationRow.codes,
                        ExaminationRow.found_kg,
                        ExaminationRow.weighed_net_kg,
                    ).where(ExaminationRow.scan_id.in_(ids))
                )
            }
            for row in rows:
                audit.checked("scans")
                self._check_scan(audit, row)
                self._check_reviews(audit, row, reviews.get(int(row.id), []))
                self._check_examination(audit, row, examinations.get(int(row.id)))
        self._leftovers(audit)

    def _check_scan(self, audit: Audit, row: Any) -> None:
        what = f"scan {row.id}"
        table = (row.file_sha256, int(row.declaration_id), row.container_number, row.alarm_decision)
        received = self.received.take(row.id)
        if received is None:
            audit.problem(f"{what} is stored and the ledger has no {RECEIVED} record for it")
        elif received[1] != fingerprint(*table):
            at = received[0]
            fields = list(zip(_RECEIVED_FIELDS, table, _received_of(audit.record(at)), strict=True))
            audit.problem(f"{what}: {differences(fields, audit.where(at))}")
        state = self.state.take(row.id)
        if state is None:
            if row.status != _WAITING:
                audit.problem(
                    f"{what} is {row.status} but the ledger has no review or examination "
                    "record for it"
                )
        elif state[1] != fingerprint(row.status):
            at = state[0]
            record = audit.record(at)
            status = "examined" if record.get("type") == EXAMINED else record.get("status")
            audit.problem(f"{what} is {row.status} in the table but {status} in {audit.where(at)}")

    def _check_reviews(self, audit: Audit, row: Any, rows: list[tuple[str, str]]) -> None:
        table = [f"{kind}:{decision}" for kind, decision in rows]
        seen = self.reviews.pop(int(row.id), ())
        recorded = [label for label, _ in seen]
        what = f"scan {row.id}"
        if table != recorded:
            if not seen:
                audit.problem(
                    f"{what} has review decisions {show(table)} in scan_reviews and no "
                    f"{REVIEWED} record in the ledger"
                )
            else:
                entries = ", ".join(audit.where(at) for _, at in seen)
                audit.problem(
                    f"{what}: its reviews are {show(table)} in scan_reviews but "
                    f"{show(recorded)} in the ledger ({entries})"
                )
        decision = recorded[-1].split(":", 1)[1] if recorded else None
        if table == recorded and row.decision != decision:
            at = seen[-1][1] if seen else None
            where = "the ledger" if at is None else audit.where(at)
            audit.problem(
                f"{what}: decision is {show(row.decision)} in the table but {show(decision)} "
                f"in {where}"
            )

    def _check_examination(self, audit: Audit, row: Any, exam: Any) -> None:
        what = f"scan {row.id}"
        seen = self.examined.take(row.id)
        if exam is None:
            if seen is not None:
                audit.problem(
                    f"{audit.where(seen[0])} records the examination of scan {row.id}, which "
                    "scan_examinations does not have"
                )
            return
        table = (
            bool(exam.irregular),
            tuple(sorted(str(c) for c in exam.codes or [])),
            _kg(exam.found_kg),
            _kg(exam.weighed_net_kg),
        )
        if seen is None:
            audit.problem(
                f"{what} has an examination result and no {EXAMINED} record in the ledger"
            )
        elif seen[1] != fingerprint(*table):
            at = seen[0]
            fields = list(zip(_EXAMINED_FIELDS, table, _examined_of(audit.record(at)), strict=True))
            audit.problem(f"{what}: {differences(fields, audit.where(at))}")

    def _leftovers(self, audit: Audit) -> None:
        """Records of scans that the scans table does not have (reported once per scan)."""
        reported: set[Any] = set()
        left = [
            *self.received.remaining(),
            *self.state.remaining(),
            *self.examined.remaining(),
            *((scan, seen[-1][1]) for scan, seen in self.reviews.items()),
        ]
        for scan, at in left:
            if scan not in reported:
                reported.add(scan)
                kind = audit.record(at).get("type")
                audit.problem(
                    f"{audit.where(at)} records scan {scan} ({kind}), which scans does not have"
                )


def auditors() -> list[Auditor]:
    """The scan workflow's auditors, fresh for one run of ``ledger fsck``."""
    return [ScanAuditor()]
