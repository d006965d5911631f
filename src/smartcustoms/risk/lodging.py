"""Lodging declarations: the one use case behind the API, the ``declarations import`` command
and the demo.

Records are checked and stored (:mod:`smartcustoms.declarations.intake`), past inspection
results that came with them are stored as history, and the others are assessed
(:func:`~smartcustoms.risk.assess.assess`) in the caller's unit of work, so the declarations,
their lane decisions and the decisions' events commit together or not at all.

:func:`lodge` takes a batch (one API request, one demo declaration) and assesses it at once;
:func:`lodge_stream` takes a file's records of any size and assesses them a chunk at a time as
they are stored, in bounded memory. Who may lodge under which declarant is the caller's to
check (the API does, before anything and through ``check``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import AdminAction, Event
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import (
    ImportReport,
    Rejection,
    StoredChunk,
    import_records,
    import_stream,
)
from smartcustoms.declarations.store import Stored
from smartcustoms.risk.assess import assess
from smartcustoms.risk.inspections import record_history
from smartcustoms.risk.tables import LaneDecisionRow

__all__ = ["Lodged", "Lodging", "lodge", "lodge_chunk", "lodge_stream"]


@dataclass(frozen=True)
class Lodged:
    """A stored declaration and its lane decision (None for a past result stored as history)."""

    stored: Stored
    decision: LaneDecisionRow | None


@dataclass
class Lodging:
    """What a lodging did: the import's counts (``report``), the past inspection results stored
    as history, the lanes given (counted, declarations already lodged included) and, from
    :func:`lodge` only, each stored declaration with its decision (``lodged``)."""

    report: ImportReport
    history: int = 0
    lanes: Counter[str] = field(default_factory=Counter)
    lodged: list[Lodged] = field(default_factory=list)


def lodge_chunk(
    ctx: AppContext, unit: Unit, chunk: StoredChunk, *, source: str, actor: str
) -> tuple[int, list[Lodged]]:
    """Store a stored chunk's past results as history and assess the others on ``unit``;
    return how many results were stored and each declaration with its decision."""
    history = record_history(unit.session, chunk.outcomes, source=source, actor=actor)
    with_outcome = {declaration_id for declaration_id, _ in chunk.outcomes}
    fresh = [s for s in chunk.stored if s.id not in with_outcome]
    decisions = {d.declaration_id: d for d in assess(ctx, unit, fresh, actor=actor)}
    return history, [Lodged(s, decisions.get(s.id)) for s in chunk.stored]


def lodge(
    ctx: AppContext,
    unit: Unit,
    records: Sequence[SourceRecord],
    *,
    source: str,
    submitted_by: str,
    actor: str,
    skip_invalid: bool = False,
    check: Callable[[Sequence[SourceRecord], Sequence[Stored]], None] | None = None,
) -> Lodging:
    """Check and store ``records`` (all or nothing, unless ``skip_invalid``), then assess them
    together in ``unit``. ``check`` sees the records and what was stored of them before they
    are assessed; raising there rolls the whole unit back."""
    report = import_records(
        unit.session, records, source=source, submitted_by=submitted_by, skip_invalid=skip_invalid
    )
    if check is not None:
        check(records, report.stored)
    history, lodged = lodge_chunk(
        ctx, unit, StoredChunk(report.stored, report.outcomes), source=source, actor=actor
    )
    lanes = Counter(item.decision.lane for item in lodged if item.decision is not None)
    return Lodging(report, history=history, lanes=lanes, lodged=lodged)


def _record_now(ctx: AppContext, unit: Unit, events: list[Event]) -> None:
    """Record a chunk's events in the ledger's outbox now, in the open transaction, rather
    than holding every event of a file until the commit. (A bus without an outbox recorder
    gets them the usual way, at the end of the unit.)"""
    record = getattr(ctx.bus, "record", None)
    if record is None:
        for event in events:
            unit.emit(event)
        return
    record(unit.session.connection(), events)


def lodge_stream(
    ctx: AppContext,
    unit: Unit,
    records: Iterable[SourceRecord],
    *,
    source: str,
    submitted_by: str,
    actor: str,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
    on_rejected: Callable[[Rejection], None] | None = None,
    file_name: str | None = None,
) -> Lodging:
    """Lodge ``records`` a chunk at a time in ``unit``'s transaction (a file of any size).

    Each chunk is stored, its past results kept as history and the others assessed as it is
    stored; the chunk's lane decisions go into the ledger's outbox at once, in the same
    transaction (not held until the commit: a file's worth of events would be), and are not
    published one by one; with ``file_name``, the import itself is (an ``admin.action`` event
    counting what it did). The answer counts; it keeps no declaration (``lodged`` is empty)."""
    history = 0
    lanes: Counter[str] = Counter()

    def stored(chunk: StoredChunk) -> None:
        nonlocal history
        made = Unit(unit.session)  # this chunk's events, recorded just below
        added, lodged = lodge_chunk(ctx, made, chunk, source=source, actor=actor)
        history += added
        lanes.update(item.decision.lane for item in lodged if item.decision is not None)
        _record_now(ctx, unit, made.events)

    report = import_stream(
        unit.session,
        records,
        source=source,
        submitted_by=submitted_by,
        skip_invalid=skip_invalid,
        progress=progress,
        on_rejected=on_rejected,
        on_stored=stored,
    )
    if file_name is not None:
        unit.emit(
            AdminAction(
                actor=actor,
                action="declarations_import",
                target=f"{file_name}: {report.created} new, {report.existing} known, "
                f"{report.rejected_count} rejected",
            )
        )
    return Lodging(report, history=history, lanes=lanes)
