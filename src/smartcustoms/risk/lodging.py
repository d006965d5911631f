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

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.db import core_connection
from smartcustoms.core.events import AdminAction, Event
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import (
    CHUNK,
    ImportReport,
    Rejection,
    StoredChunk,
    check_batch,
    import_records,
    import_stream,
)
from smartcustoms.declarations.store import (
    Stored,
    existing_ids,
    store_declarations,
    stored_document,
)
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.assess import assess, decisions_for, score_lanes, store_decisions
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


def _needs_writes(unit: Unit) -> None:
    if unit.writes is not None:
        raise TypeError("this writes as it goes: give it a unit of work, not a reading unit")


def lodge_chunk(
    ctx: AppContext, unit: Unit, chunk: StoredChunk, *, source: str, actor: str
) -> tuple[int, list[Lodged]]:
    """Store a stored chunk's past results as history and assess the others on ``unit``;
    return how many results were stored and each declaration with its decision."""
    _needs_writes(unit)
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
    are assessed; raising there rolls the whole unit back.

    Given a reading unit (``unit.writes``: the API's), the records are checked and assessed
    reading only, and stored with their decisions in one short transaction of their own
    (:func:`_lodge_briefly`): same answers, but SQLite's write lock is held for the inserts
    only, not through the scoring. ``check`` then sees what is about to be stored (the ids
    new declarations will get), before anything is."""
    if unit.writes is not None:
        return _lodge_briefly(
            ctx,
            unit,
            list(records),
            source=source,
            submitted_by=submitted_by,
            actor=actor,
            skip_invalid=skip_invalid,
            check=check,
        )
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


_LAST_ID = select(func.max(DeclarationRow.id))


def _lodge_briefly(
    ctx: AppContext,
    unit: Unit,
    records: list[SourceRecord],
    *,
    source: str,
    submitted_by: str,
    actor: str,
    skip_invalid: bool,
    check: Callable[[Sequence[SourceRecord], Sequence[Stored]], None] | None,
) -> Lodging:
    """Lodge in two steps: (a) in the reading unit, check the records, and score, explain and
    evaluate the rules on the new declarations as if stored under the ids they will get in
    sequence (SQLite gives a new row the largest id plus one) and at the time they will be
    stored with; (b) in one short write transaction, look them up again, store them, make the
    draws (random control, exploration) for the ids they got and store the decisions. In
    sequence that is exactly the one-transaction path. Under concurrency: if another request
    stored one of these declarations meanwhile, the batch is assessed again in (b), as the
    one-transaction path would (the repeat answered with the stored decision); if it stored
    other declarations (the ids moved on), the scores of (a) stand — made against the history
    and recent scores read in (a) — unless a rule tests the declaration id.

    Only for batches the plan can cover: on SQLite (a PostgreSQL sequence's next value cannot
    be known without taking it, and PostgreSQL writers do not exclude each other anyway), up to
    one chunk of records, without past inspection results (stored as history before the others
    are assessed). Anything else is lodged in one write transaction, as before."""
    writes = unit.writes
    assert writes is not None
    if not ctx.db.is_sqlite or len(records) >= CHUNK or any(r.outcome is not None for r in records):
        return _in_one_transaction(
            ctx,
            unit,
            records,
            source=source,
            submitted_by=submitted_by,
            actor=actor,
            skip_invalid=skip_invalid,
            check=check,
        )
    read = unit.session
    checked, report = check_batch(records, skip_invalid=skip_invalid)
    declarations = [c.declaration for c in checked]
    keys = [(d.declarant.id, d.lrn) for d in declarations]
    known = existing_ids(read, keys)
    last = core_connection(read).scalar(_LAST_ID) or 0
    received = clock.now()
    documents = [stored_document(d) for d in declarations]
    plan: list[Stored] = []
    rows = []
    for key, declaration, document in zip(keys, declarations, documents, strict=True):
        if key in known:
            plan.append(Stored(known[key], declaration, created=False))
        else:
            last += 1
            plan.append(Stored(last, declaration, created=True))
            rows.append((last, document, received))
    if check is not None:
        check(records, plan)
    scored = score_lanes(ctx, read, rows, below=rows[0][0]) if rows else None
    read.rollback()  # hand the reading connection back before waiting for the write lock
    with writes() as write:
        result = store_declarations(
            write.session,
            declarations,
            source=source,
            submitted_by=submitted_by,
            received_at=received,
            documents=documents,
        )
        created = [s.id for s in result.stored if s.created]
        as_planned = [s.created for s in result.stored] == [s.created for s in plan]
        moved = created != [s.id for s in plan if s.created]
        if as_planned and not (moved and scored is not None and scored.rules_read_ids):
            # The same declarations are new. Other lodgings may have stored others meanwhile
            # (the ids moved on): the scores stand, the draws are made for the ids given.
            made = scored.decide(ctx.secret_key, created) if scored is not None else []
            stored_documents = {
                s.id: document
                for s, document in zip(result.stored, documents, strict=True)
                if s.created
            }
            decisions = store_decisions(write, made, stored_documents, actor=actor)
            repeats = [s.id for s in result.stored if not s.created]
            if repeats:
                decisions.update((d.declaration_id, d) for d in decisions_for(write, repeats))
            lodged = [Lodged(s, decisions.get(s.id)) for s in result.stored]
        else:
            # Another request stored one of them meanwhile (now a repeat): assess again, in
            # this transaction, as the one-transaction path would.
            _, lodged = lodge_chunk(
                ctx, write, StoredChunk(result.stored, []), source=source, actor=actor
            )
    report.created, report.existing, report.stored = result.created, result.existing, result.stored
    lanes = Counter(item.decision.lane for item in lodged if item.decision is not None)
    return Lodging(report, lanes=lanes, lodged=lodged)


def _in_one_transaction(
    ctx: AppContext,
    unit: Unit,
    records: list[SourceRecord],
    *,
    source: str,
    submitted_by: str,
    actor: str,
    skip_invalid: bool,
    check: Callable[[Sequence[SourceRecord], Sequence[Stored]], None] | None,
) -> Lodging:
    """Lodge in one write transaction. On PostgreSQL two requests lodging the same declaration
    at once both find it new, and the second insert fails on the (declarant, LRN) constraint
    once the first commits: that one is lodged again, in a fresh transaction, where it is a
    repeat (answered with the stored decision)."""
    writes = unit.writes
    assert writes is not None
    for attempt in (1, 2):
        try:
            with writes() as write:
                return lodge(
                    ctx,
                    write,
                    records,
                    source=source,
                    submitted_by=submitted_by,
                    actor=actor,
                    skip_invalid=skip_invalid,
                    check=check,
                )
        except IntegrityError as exc:
            if attempt == 2 or "uq_declarations_declarant_lrn" not in str(exc.orig):
                raise
    raise AssertionError("unreachable")


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
    _needs_writes(unit)
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
