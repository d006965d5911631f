"""A partner's scan, examined here, answers back: ``scan.examined``.

A scan a partner shared is our scan (:mod:`.scans_received`), examined through the scans'
own use case (:func:`smartcustoms.scans.reviews.record_examination`) by whatever path (API,
page, command). That use case emits ``scans.examined``; this recorder, on the bus, sees it in
the examination's transaction and queues the result to the partner there, so the result and
its message commit together or not at all, once per received scan.

What it queued is itself a ledger record (``federation.scan_examination_sent``): the recorder
hands it to the bus's recorders in the same transaction, the ledger among them (the ledger ran
before this recorder on the examination's events, so it would not see it otherwise).
Subscribers told after the commit (the log) hear of the examination only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, cast

from sqlalchemy import Connection, select, update

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import Event
from smartcustoms.federation.outbox import enqueue
from smartcustoms.federation.scans_events import ScanExaminationSent
from smartcustoms.federation.scans_wire import EXAMINED, iso
from smartcustoms.federation.tables import PartnerRow

if TYPE_CHECKING:
    from smartcustoms.scans.events import ScanExamined

__all__ = ["EXAMINED_EVENT", "attach_scan_answers", "record_scan_answers"]

#: ``smartcustoms.scans.events.ScanExamined.type``, matched by name: every command attaches this
#: recorder, and importing the scans package would load its numerical libraries into each one
#: (``smartcustoms db status`` must start fast); the scans' table is imported when one is seen.
EXAMINED_EVENT: Final = "scans.examined"

_SERVICE: Final = "federation.scan_answers"


def record_scan_answers(conn: Connection, events: Sequence[Event]) -> list[ScanExaminationSent]:
    """Queue ``scan.examined`` to the partner of each received scan examined in this
    transaction; the ledger records of what was queued."""
    sent: list[ScanExaminationSent] = []
    for any_event in events:
        if any_event.type != EXAMINED_EVENT:
            continue
        # Imported late (the scans package's tables, through ours): see EXAMINED_EVENT.
        from smartcustoms.federation.scans_tables import RECEIVED, SharedScanRow
        from smartcustoms.scans.tables import ExaminationRow

        event = cast("ScanExamined", any_event)
        received = conn.execute(
            select(
                SharedScanRow.id,
                SharedScanRow.partner_id,
                SharedScanRow.origin_scan_id,
                SharedScanRow.file_sha256,
                PartnerRow.name,
            )
            .join(PartnerRow, PartnerRow.id == SharedScanRow.partner_id)
            .where(
                SharedScanRow.scan_id == event.scan_id,
                SharedScanRow.direction == RECEIVED,
                SharedScanRow.answer_message_id.is_(None),
            )
        ).all()
        if not received:
            continue  # one of our own scans (most)
        # The event carries counts, the partner wants the marks themselves: the row, as stored
        # (flushed by the use case in this transaction).
        exam = conn.execute(
            select(
                ExaminationRow.irregular,
                ExaminationRow.codes,
                ExaminationRow.regions,
                ExaminationRow.found_kg,
                ExaminationRow.recorded_at,
            ).where(ExaminationRow.scan_id == event.scan_id)
        ).one()
        for shared in received:
            message_id = enqueue(
                conn,
                shared.partner_id,
                EXAMINED,
                {
                    "origin_scan_id": shared.origin_scan_id,
                    "file_sha256": shared.file_sha256,
                    "irregular": exam.irregular,
                    "codes": list(exam.codes),
                    "regions": list(exam.regions),
                    "found_kg": None if exam.found_kg is None else str(exam.found_kg),
                    "examined_at": iso(exam.recorded_at),
                    "by": event.actor[:64],
                },
                at=exam.recorded_at,
            )
            conn.execute(
                update(SharedScanRow)
                .where(SharedScanRow.id == shared.id)
                .values(answer_message_id=message_id)
            )
            sent.append(
                ScanExaminationSent(
                    actor=event.actor,
                    scan_id=event.scan_id,
                    partner=shared.name,
                    origin_scan_id=shared.origin_scan_id,
                    message_id=message_id,
                    irregular=exam.irregular,
                )
            )
    return sent


def attach_scan_answers(ctx: AppContext) -> None:
    """Put the recorder on ``ctx``'s bus (once)."""
    if _SERVICE in ctx.services:
        return
    bus = ctx.bus

    def recorder(conn: Connection, events: Sequence[Event]) -> None:
        sent = record_scan_answers(conn, events)
        if sent:  # every recorder (the ledger's too) gets them in this transaction
            bus.record(conn, sent)

    ctx.services[_SERVICE] = recorder
    bus.subscribe_recorder(recorder)
