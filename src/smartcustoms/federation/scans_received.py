"""A partner's shared scan, received (``scan.shared``): stored, analysed, queued for review.

The partner's bytes are bad input until proven otherwise: the body is checked field by field
and the file against the SHA-256 it announces (:mod:`.scans_wire`), then the file goes through
our own intake (:func:`smartcustoms.scans.intake.receive_scan`): our readers within our limits
(a decompression bomb is refused from its header or its bounded strip buffer, 413
``scan_too_large``), our container and declaration checks, our machine's analysis, our scan
store (the file is put there only once all of that passed), and our review queue. The
declaration travels with the scan and is stored here as a hand-over stores it (idempotent on
declarant and LRN). The sender's decision and report are kept beside our scan
(:class:`.scans_tables.SharedScanRow`). Anything refused rolls the inbox's transaction back:
no row, no file, no inbox entry; the sender hears the typed error.

A file too large for one message came ahead in ``scan.piece`` messages
(:mod:`.scans_pieces_received`): it is put together here and checked against its SHA-256
before the same intake. Its pieces are deleted once the scan is committed, or at once when the
message is refused for good (400, 409, 413, 422: the sender sets it aside and will not send it
again); a refusal that may pass (403, 5xx) keeps them for the sender's next try.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core.errors import SmartCustomsError, ValidationFailed
from smartcustoms.core.settings import Settings
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.model import Declaration
from smartcustoms.declarations.store import store_declarations
from smartcustoms.federation.deliverer import SET_ASIDE_STATUSES
from smartcustoms.federation.inbox import Incoming, handler
from smartcustoms.federation.scans_events import ScanReceivedFromPartner
from smartcustoms.federation.scans_pieces_received import (
    after_commit,
    assemble,
    discard,
    scans_settings,
)
from smartcustoms.federation.scans_tables import RECEIVED, SharedScanRow
from smartcustoms.federation.scans_wire import (
    SHARED,
    SharedScan,
    read_shared,
)
from smartcustoms.federation.tables import PartnerRow
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.storage import store_for
from smartcustoms.tracking.tables import TransitRow

__all__ = ["SOURCE", "handed_in_transit"]

#: ``scans.source`` of a scan a partner shared.
SOURCE = "federation"


def handed_in_transit(
    session: Session, partner: str, origin_transit_id: int | None, container: str
) -> TransitRow | None:
    """Our transit for a partner's scan: the one it handed us under that id, else the latest
    one it handed us carrying the container."""
    query = select(TransitRow).where(TransitRow.handed_in_from == partner)
    if origin_transit_id is not None:
        found = session.scalars(
            query.where(TransitRow.origin_transit_id == origin_transit_id)
            .order_by(TransitRow.id.desc())
            .limit(1)
        ).first()
        if found is not None:
            return found
    rows = session.scalars(query.order_by(TransitRow.id.desc()).limit(200)).all()
    return next((t for t in rows if container in t.containers), None)


def _declaration_id(unit: Unit, doc: dict[str, Any], actor: str) -> int:
    try:
        declaration = Declaration.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ValidationFailed(
            f"message: body.declaration.{where}: {first.get('msg', 'invalid')}",
            details=[{"field": f"body.declaration.{where}"}],
        ) from None
    stored = store_declarations(unit.session, [declaration], source=SOURCE, submitted_by=actor)
    return stored.stored[0].id


def _row(shared: SharedScan, partner: PartnerRow, scan_id: int, message_id: str) -> SharedScanRow:
    return SharedScanRow(
        direction=RECEIVED,
        scan_id=scan_id,
        partner_id=partner.id,
        origin_scan_id=shared.origin_scan_id,
        message_id=message_id,
        file_sha256=shared.file_sha256,
        container_number=shared.container_number,
        declaration_ref=shared.declaration_ref,
        sender_machine=shared.machine,
        sender_decision=shared.decision,
        sender_status=shared.status,
        sender_decided_at=shared.decided_at,
        sender_regions=shared.regions,
        sender_report=shared.report,
        note=shared.note,
        transit_reference=shared.transit_reference,
        shared_at=shared.shared_at,
        shared_by=shared.shared_by,
    )


@handler(SHARED)
def _receive_shared(unit: Unit, message: Incoming) -> dict[str, Any]:
    partner, settings = message.partner, scans_settings(message)
    shared = read_shared(message.body, max_bytes=settings.max_upload_bytes)
    cut = shared.pieces
    if cut is None:
        return _store_shared(unit, message, shared, settings)
    try:
        answer = _store_shared(unit, message, shared, settings)
    except SmartCustomsError as exc:
        if exc.status_code in SET_ASIDE_STATUSES:  # the sender will not try it again
            discard(settings, partner.id, shared.file_sha256, cut)
        raise
    after_commit(unit.session, lambda: discard(settings, partner.id, shared.file_sha256, cut))
    return answer


def _store_shared(
    unit: Unit, message: Incoming, shared: SharedScan, settings: Settings
) -> dict[str, Any]:
    partner = message.partner
    existing = unit.session.scalars(
        select(SharedScanRow).where(
            SharedScanRow.partner_id == partner.id,
            SharedScanRow.direction == RECEIVED,
            SharedScanRow.origin_scan_id == shared.origin_scan_id,
        )
    ).first()
    if existing is not None:  # shared again under another message id: the same scan here
        return {"scan_id": existing.scan_id, "existing": True}
    actor = f"partner:{partner.name}"[:64]
    store = store_for(settings)
    data = shared.data
    if data is None:
        assert shared.pieces is not None  # read_shared gives the one or the other
        data = assemble(settings, partner, shared.file_sha256, shared.pieces)
    received = receive_scan(
        unit,
        store,
        Upload(
            data=data,
            file_name=shared.file_name,
            declaration_id=_declaration_id(unit, shared.declaration, actor),
            sidecar=shared.sidecar,
            container_number=shared.container_number,
        ),
        actor=actor,
        source=SOURCE,
    )
    scan = received.scan
    try:
        row = _row(shared, partner, scan.id, message.message_id)
        transit = handed_in_transit(
            unit.session, partner.name, shared.transit_id, shared.container_number
        )
        row.transit_id = transit.id if transit is not None else None
        unit.session.add(row)
        unit.session.flush()
    except Exception:
        if received.created:  # nothing half-stored: the file goes with its rows
            store.remove(scan.file_sha256, scan.file_format)
        raise
    unit.emit(
        ScanReceivedFromPartner(
            actor=actor,
            scan_id=scan.id,
            partner=partner.name,
            origin_scan_id=shared.origin_scan_id,
            file_sha256=shared.file_sha256,
            container_number=scan.container_number,
            sender_decision=shared.decision,
            sender_machine=shared.machine,
            transit_id=row.transit_id,
        )
    )
    return {"scan_id": scan.id, "machine": scan.alarm_decision, "created": received.created}
