"""Scans shared with a partner: the origin's side, and the examination result flowing back.

* :func:`share_scan` (an image analyst or a supervisor) queues ``scan.shared`` to a partner
  that may receive scans, in the transaction that records the sharing: the file as stored
  (checked against its SHA-256 on the way out), its sidecar, our machine's report, the decision
  taken so far, the declaration, and the transit handed over to that partner for this
  container, if there is one. The partner's side is :mod:`.scans_received`. A file too large
  for one message (the partner's inbox limit) goes ahead in ``scan.piece`` messages queued in
  the same transaction, their bytes read from the scan store at delivery (:mod:`.scans_pieces`).
* Our examination of a scan a partner shared flows back as ``scan.examined`` from whatever
  path records it: the bus recorder of :mod:`.scan_answers`.
* The ``scan.examined`` handler stores a partner's result beside the scan we shared.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, PayloadTooLarge
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.store import get_declaration
from smartcustoms.federation import scans_received  # noqa: F401  (registers scan.shared)
from smartcustoms.federation.directory import get_partner, kinds_of
from smartcustoms.federation.inbox import Incoming, handler
from smartcustoms.federation.outbox import enqueue, envelope_text
from smartcustoms.federation.scans_events import ScanExaminedByPartner, ScanShared
from smartcustoms.federation.scans_pieces import cut_pieces, file_changed
from smartcustoms.federation.scans_tables import RECEIVED, SENT, SharedScanRow
from smartcustoms.federation.scans_wire import (
    EXAMINED,
    PIECE,
    SCANS_KIND,
    SHARED,
    PartnerNotAllowed,
    iso,
    read_examined,
)
from smartcustoms.federation.tables import ACTIVE, ForwardingRow, PartnerRow
from smartcustoms.scans.reviews import FINDING_CODES
from smartcustoms.scans.storage import ScanStore
from smartcustoms.scans.tables import ScanRow
from smartcustoms.tracking.tables import TransitRow

__all__ = ["PartnerNotAllowed", "share_scan", "sharing_partners"]


def sharing_partners(session: Session) -> list[PartnerRow]:
    """The active partners that may receive scans (the review station's choice)."""
    rows = session.scalars(select(PartnerRow).where(PartnerRow.state == ACTIVE)).all()
    return [p for p in rows if SCANS_KIND in kinds_of(p)]


def _handed_over_transit(session: Session, partner: PartnerRow, scan: ScanRow) -> TransitRow | None:
    """The transit of this container (or declaration) we handed over to ``partner``, latest."""
    rows = session.scalars(
        select(TransitRow)
        .join(ForwardingRow, ForwardingRow.transit_id == TransitRow.id)
        .where(ForwardingRow.partner_id == partner.id)
        .order_by(TransitRow.id.desc())
        .limit(200)
    ).all()
    return next(
        (
            t
            for t in rows
            if t.declaration_id == scan.declaration_id or scan.container_number in t.containers
        ),
        None,
    )


def _file(store: ScanStore, scan: ScanRow) -> bytes:
    """The stored file, refused if it no longer hashes to what its row says."""
    data = store.existing(scan.file_sha256, scan.file_format).read_bytes()
    if hashlib.sha256(data).hexdigest() != scan.file_sha256:
        raise file_changed(scan.id, scan.file_sha256)
    return data


def _sidecar(store: ScanStore, scan: ScanRow) -> bytes | None:
    side = store.sidecar_path(scan.file_sha256)
    return side.read_bytes() if scan.separate_sidecar and side.is_file() else None


def _b64_length(size: int) -> int:
    return -(-size // 3) * 4


def _body(
    session: Session,
    scan: ScanRow,
    sidecar: bytes | None,
    *,
    transit: TransitRow | None,
    note: str | None,
    actor: str,
    own_name: str,
) -> dict[str, Any]:
    declaration = get_declaration(session, scan.declaration_id)
    assert declaration is not None  # a foreign key
    last = scan.reviews[-1] if scan.reviews else None
    return {
        "from": own_name,
        "scan": {
            "id": scan.id,
            "file_name": scan.file_name,
            "file_format": scan.file_format,
            "file_sha256": scan.file_sha256,
            "file_bytes": scan.file_bytes,
            "container_number": scan.container_number,
            "declaration_ref": declaration.lrn,
            "alarm_decision": scan.alarm_decision,
            "acquired_at": iso(scan.acquired_at),
        },
        "file": None,  # filled in, or the file goes in pieces (share_scan)
        "sidecar": None if sidecar is None else base64.b64encode(sidecar).decode("ascii"),
        "report": scan.report,
        "decision": None
        if last is None
        else {
            "decision": scan.decision,
            "status": scan.status,
            "at": iso(last.reviewed_at),
            "regions": last.regions,
        },
        "note": note,
        "declaration": declaration.document,
        "transit": None if transit is None else {"id": transit.id, "reference": transit.reference},
        "shared_by": actor[:64],
        "shared_at": iso(clock.now()),
    }


def share_scan(
    unit: Unit,
    store: ScanStore,
    scan_id: int,
    partner_name: str,
    *,
    note: str | None = None,
    actor: str,
    own_name: str,
    max_bytes: int,
) -> SharedScanRow:
    """Queue scan ``scan_id`` to partner ``partner_name`` (once per partner); ``max_bytes`` is
    the inbox body limit the message must fit (the partner's, which we take to be ours)."""
    scan = unit.session.get(ScanRow, scan_id)
    if scan is None:
        raise NotFound(f"no scan {scan_id}", details=[{"field": "scan_id"}])
    partner = get_partner(unit.session, partner_name, field="partner")
    if partner.state != ACTIVE or SCANS_KIND not in kinds_of(partner):
        why = "is suspended" if partner.state != ACTIVE else "may not receive scans"
        raise PartnerNotAllowed(
            f"partner {partner.name!r} {why}",
            details=[{"field": "partner", "value": partner.name, "kinds": kinds_of(partner)}],
        )
    came_from = unit.session.scalar(
        select(SharedScanRow.id).where(
            SharedScanRow.scan_id == scan.id, SharedScanRow.direction == RECEIVED
        )
    )
    if came_from is not None:
        raise Conflict(
            f"scan {scan.id} came from a partner: it is the sender's to share",
            details=[{"field": "scan_id"}],
            code="scan_from_partner",
        )
    already = unit.session.scalars(
        select(SharedScanRow).where(
            SharedScanRow.partner_id == partner.id,
            SharedScanRow.direction == SENT,
            SharedScanRow.origin_scan_id == scan.id,
        )
    ).first()
    if already is not None:
        raise Conflict(
            f"scan {scan.id} was shared with {partner.name} on {already.shared_at:%Y-%m-%d}",
            details=[{"field": "partner", "value": partner.name}],
            code="already_shared",
        )
    text = (note or "").strip() or None
    transit = _handed_over_transit(unit.session, partner, scan)
    body = _body(
        unit.session, scan, _sidecar(store, scan), transit=transit, note=text, actor=actor,
        own_name=own_name,
    )  # fmt: skip
    size = len(envelope_text("0" * 36, SHARED, body | {"file": ""}).encode())
    if size > max_bytes:  # the report, declaration and sidecar alone: no piece helps
        raise PayloadTooLarge(
            f"scan {scan.id} makes a message of {size} bytes without its file; a partner's "
            f"inbox takes at most {max_bytes} (SMARTCUSTOMS_MAX_UPLOAD_BYTES)",
            details=[{"field": "scan_id", "limit": max_bytes, "got": size}],
        )
    now = clock.now()
    conn = unit.session.connection()
    if size + _b64_length(scan.file_bytes) <= max_bytes:
        # One message, as every partner understands.
        body["file"] = base64.b64encode(_file(store, scan)).decode("ascii")
    else:
        cut, pieces = cut_pieces(store, scan, max_bytes)
        for piece in pieces:
            enqueue(conn, partner.id, PIECE, piece, at=now)
        body["pieces"] = {"count": cut.count, "piece_bytes": cut.piece_bytes}
    message_id = enqueue(conn, partner.id, SHARED, body, at=now)
    row = SharedScanRow(
        direction=SENT,
        scan_id=scan.id,
        partner_id=partner.id,
        origin_scan_id=scan.id,
        message_id=message_id,
        file_sha256=scan.file_sha256,
        container_number=scan.container_number,
        declaration_ref=body["scan"]["declaration_ref"],
        sender_machine=scan.alarm_decision,
        sender_decision=scan.decision,
        sender_status=scan.status,
        sender_decided_at=scan.reviews[-1].reviewed_at if scan.reviews else None,
        sender_regions=scan.reviews[-1].regions if scan.reviews else [],
        sender_report={},  # ours is on the scan row
        note=text,
        transit_id=transit.id if transit else None,
        transit_reference=transit.reference if transit else None,
        shared_at=now,
        shared_by=actor[:64],
    )
    unit.session.add(row)
    unit.session.flush()
    unit.emit(
        ScanShared(
            actor=actor,
            scan_id=scan.id,
            partner=partner.name,
            message_id=message_id,
            file_sha256=scan.file_sha256,
            container_number=scan.container_number,
            decision=scan.decision,
            transit_id=row.transit_id,
            note_sha256=hashlib.sha256(text.encode()).hexdigest() if text else None,
        )
    )
    return row


@handler(EXAMINED)
def _receive_examined(unit: Unit, message: Incoming) -> dict[str, Any]:
    """A partner's examination result on a scan we shared with it, kept beside our scan."""
    partner = message.partner
    result = read_examined(message.body, list(FINDING_CODES))
    shared = unit.session.scalars(
        select(SharedScanRow).where(
            SharedScanRow.partner_id == partner.id,
            SharedScanRow.direction == SENT,
            SharedScanRow.origin_scan_id == result.origin_scan_id,
        )
    ).first()
    if shared is None or shared.file_sha256 != result.file_sha256:
        raise NotFound(
            f"no scan {result.origin_scan_id} was shared with {partner.name}",
            details=[{"field": "body.origin_scan_id", "value": result.origin_scan_id}],
        )
    if shared.examined_at is not None:
        return {"scan_id": shared.scan_id, "existing": True}
    shared.examined_irregular = result.irregular
    shared.examined_codes = result.codes
    shared.examined_regions = result.regions
    shared.examined_found_kg = result.found_kg
    shared.examined_at = result.examined_at
    shared.examined_by = result.by
    shared.answer_message_id = message.message_id
    unit.session.flush()
    unit.emit(
        ScanExaminedByPartner(
            actor=f"partner:{partner.name}"[:64],
            scan_id=shared.scan_id,
            partner=partner.name,
            irregular=result.irregular,
            codes=tuple(result.codes),
            found_kg=None if result.found_kg is None else str(result.found_kg),
        )
    )
    return {"scan_id": shared.scan_id, "irregular": result.irregular}
