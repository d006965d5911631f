"""The shared scans' auditor for ``smartcustoms ledger fsck``: every scan shared with a partner
or received from one has its ledger record, and a partner's examination result kept beside a
scan we shared has its record, each still saying what the row says.

* ``federation_scans`` sent: ``federation.scan_shared`` (message id, file SHA-256, container,
  the decision shared);
* received: ``federation.scan_received_from_partner`` (our scan, file SHA-256, the sender's
  decision); the scan row itself has ``scans.received``, audited by :mod:`..scans.audit`;
* the partner's result on a sent scan: ``federation.scan_examined_by_partner`` (irregular, codes).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy import select

from smartcustoms.federation.scans_tables import SENT, SharedScanRow
from smartcustoms.federation.tables import PartnerRow
from smartcustoms.ledger.audit import Audit, Auditor, Latest, Position, fingerprint

__all__ = ["SharedScanAuditor", "auditors"]

SHARED = "federation.scan_shared"
RECEIVED = "federation.scan_received_from_partner"
EXAMINED = "federation.scan_examined_by_partner"


def _codes(values: Any) -> tuple[str, ...]:
    return tuple(sorted(str(c) for c in values or []))


class SharedScanAuditor(Auditor):
    types = frozenset({SHARED, RECEIVED, EXAMINED})

    def __init__(self) -> None:
        self.shared = Latest()  # ("sent" | "received", partner, scan id at the sender)
        self.examined = Latest()  # (partner, our scan id)

    def see(self, record: dict[str, Any], at: Position) -> None:
        partner = record.get("partner")
        if record["type"] == SHARED:
            key: Hashable = ("sent", partner, int(record["scan_id"]))
            values = (record.get("message_id"), record.get("file_sha256"), record.get("decision"))
            self.shared.put(key, at, *values)
        elif record["type"] == RECEIVED:
            key = ("received", partner, int(record["origin_scan_id"]))
            values = (
                record.get("scan_id"),
                record.get("file_sha256"),
                record.get("sender_decision"),
            )
            self.shared.put(key, at, *values)
        else:
            key = (partner, int(record["scan_id"]))
            self.examined.put(key, at, record.get("irregular"), _codes(record.get("codes")))

    def check(self, audit: Audit) -> None:
        t = SharedScanRow
        query = select(
            t.id, t.direction, t.scan_id, t.origin_scan_id, t.message_id, t.file_sha256,
            t.sender_decision, t.examined_at, t.examined_irregular, t.examined_codes,
            PartnerRow.name.label("partner"),
        ).join(PartnerRow, PartnerRow.id == t.partner_id)  # fmt: skip
        for rows in audit.chunks(query, t.id):
            for row in rows:
                audit.checked("federation_scans")
                self._check(audit, row, row.partner)
        for key, at in [*self.shared.remaining(), *self.examined.remaining()]:
            audit.problem(
                f"{audit.where(at)} records a shared scan {key}, which federation_scans does not "
                "have"
            )

    def _check(self, audit: Audit, row: Any, partner: str) -> None:
        what = f"federation_scans row {row.id} ({row.direction} with {partner})"
        if row.direction == SENT:
            table: tuple[Any, ...] = (row.message_id, row.file_sha256, row.sender_decision)
        else:
            table = (row.scan_id, row.file_sha256, row.sender_decision)
        seen = self.shared.take((row.direction, partner, row.origin_scan_id))
        if seen is None:
            audit.problem(f"{what} has no ledger record")
        elif seen[1] != fingerprint(*table):
            audit.problem(f"{what} differs from {audit.where(seen[0])}")
        result = self.examined.take((partner, row.scan_id)) if row.direction == SENT else None
        if row.direction != SENT or (result is None and row.examined_at is None):
            return
        if result is None:
            audit.problem(f"{what} holds the partner's examination and no {EXAMINED} record")
        elif row.examined_at is None:
            audit.problem(f"{audit.where(result[0])} records an examination {what} does not hold")
        elif result[1] != fingerprint(row.examined_irregular, _codes(row.examined_codes)):
            audit.problem(
                f"{what}: the partner's examination differs from {audit.where(result[0])}"
            )


def auditors() -> list[Auditor]:
    """The shared scans' auditor, fresh for one run of ``ledger fsck``."""
    return [SharedScanAuditor()]
