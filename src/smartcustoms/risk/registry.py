"""Trained models in the database, and the active one in memory, kept current.

The database is the source of truth. A process loads the active model once, then before each
scoring catches its history up with what was stored since — declarations lodged (observed) and
inspection results (recorded) — so every web worker scores against the same past, and a restart
loses nothing. A lock serialises catching up and scoring within a process.

Catching up reads rows by id, after the highest id it has seen. On PostgreSQL ids are given at
insert, not at commit: a transaction that took id 100 may commit after another one's id 101
was read. Each id skipped that way is kept as a *gap* and looked up again at every catch-up
until its row appears (a late commit) or no transaction that could commit it is left (a
rolled-back insert): see :mod:`smartcustoms.risk.gaps`. An inspection whose declaration the
history has not seen yet waits until it has.

A catch-up adds only the new rows to the history's tables (see
:class:`~smartcustoms.risk.features.history.HistoryState`): its cost grows with what was
stored since, not with the history.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.db import Database, core_connection
from smartcustoms.core.errors import NotFound
from smartcustoms.core.events import AdminAction
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.card import ModelCard, load_model
from smartcustoms.risk.gaps import Gaps, open_writers
from smartcustoms.risk.items import items_frame
from smartcustoms.risk.model import RiskModel
from smartcustoms.risk.tables import InspectionRow, LaneDecisionRow, RiskModelRow

__all__ = ["ActiveModel", "activate", "active_model", "list_models"]

log = logging.getLogger(__name__)

CATCH_UP_CHUNK = 5000
# A catch-up costs what it adds (the history's tables are updated in place), plus a few
# queries: the history is caught up every CATCH_UP_BATCH declarations on a background thread,
# or after CATCH_UP_EVERY_S seconds when lodging is slow, so it lags lodging by seconds.
CATCH_UP_BATCH = 64
CATCH_UP_EVERY_S = 5.0
RECENT_DECISIONS = 2000
SCORES_TTL_S = 10.0


@dataclass
class ActiveModel:
    version: str
    model: RiskModel
    card: ModelCard
    declarations_seen: int  # highest declaration id in the model's history
    inspections_seen: int  # highest inspection id recorded into it
    caught_up_at: float = 0.0  # time.monotonic() of the last catch-up
    _scores: np.ndarray = field(default_factory=lambda: np.empty(0))
    # Ids skipped while catching up: see the module's note.
    declaration_gaps: Gaps = field(default_factory=lambda: Gaps(DeclarationRow.__tablename__))
    inspection_gaps: Gaps = field(default_factory=lambda: Gaps(InspectionRow.__tablename__))
    # Inspections read whose declaration the history has not observed yet.
    inspections_waiting: set[int] = field(default_factory=set)
    _scores_at: float = -1e9

    def recent_scores(self, session: Session) -> np.ndarray:
        """Declaration scores of the latest decisions made with this model (cached briefly)."""
        now = time.monotonic()
        if now - self._scores_at > SCORES_TTL_S:
            recent = session.scalars(
                select(LaneDecisionRow.score)
                .where(
                    LaneDecisionRow.model_version == self.version,
                    LaneDecisionRow.score.is_not(None),
                )
                .order_by(LaneDecisionRow.id.desc())
                .limit(RECENT_DECISIONS)
            ).all()
            self._scores = np.asarray(recent, dtype=float)
            self._scores_at = now
        return self._scores


# Which model is active, asked on every lodging (another process may have activated one): built
# once, since building the statement cost more than running it.
_ACTIVE_ROW = select(RiskModelRow.id, RiskModelRow.version).where(RiskModelRow.active)


class _Slot:
    def __init__(self) -> None:
        self.lock = threading.RLock()  # scoring, and swapping the active model
        self.updating = threading.Lock()  # one catch-up at a time (scoring may run beside it)
        self.active: ActiveModel | None = None
        self.pending = False  # a background catch-up is queued or running


_slots: weakref.WeakKeyDictionary[Database, _Slot] = weakref.WeakKeyDictionary()
_slots_lock = threading.Lock()


def _slot(db: Database) -> _Slot:
    with _slots_lock:
        slot = _slots.get(db)
        if slot is None:
            slot = _slots[db] = _Slot()
        return slot


@contextmanager
def active_model(
    db: Database,
    session: Session,
    *,
    below_declaration_id: int | None = None,
    in_background: bool = False,
) -> Iterator[ActiveModel | None]:
    """The active model, caught up with everything stored before ``below_declaration_id``.

    Held under the process's lock until the ``with`` block ends. With ``in_background`` (the
    lodging path), a model already in memory is caught up on a background thread instead, when
    a catch-up is due: the history then lags lodging by a few seconds, and no request waits for
    the catch-up (it costs what it adds, a few milliseconds per 64 declarations, but shares the
    interpreter with requests).
    The history can be read while it is updated (see ``HistoryState``).
    """
    slot = _slot(db)
    with slot.lock:
        row = core_connection(session).execute(_ACTIVE_ROW).first()  # Core: asked every lodging
        if row is None:
            slot.active = None
            yield None
            return
        if slot.active is None or slot.active.version != row.version:
            stored = session.get(RiskModelRow, row.id)
            assert stored is not None
            model, card = load_model(stored.artefact)
            slot.active = ActiveModel(
                version=stored.version,
                model=model,
                card=card,
                declarations_seen=stored.through_declaration_id,
                inspections_seen=stored.through_inspection_id,
            )
            # The model's history is hundreds of thousands of long-lived objects: left to the
            # collector, each full collection walks them all (about 150 ms on this machine, a
            # pause every thousand or so lodgings). Frozen, they are never walked again.
            gc.freeze()
            loaded = True
        else:
            loaded = False
        if in_background and not loaded:
            _catch_up_later(db, slot, slot.active, below_declaration_id)
        else:
            with slot.updating:
                _catch_up(session, slot.active, below_declaration_id)
        yield slot.active


def _catch_up_later(db: Database, slot: _Slot, active: ActiveModel, below: int | None) -> None:
    due = time.monotonic() - active.caught_up_at >= CATCH_UP_EVERY_S or (
        below is not None and below - 1 - active.declarations_seen >= CATCH_UP_BATCH
    )
    if not due or slot.pending:
        return
    slot.pending = True

    def run() -> None:
        try:
            with slot.updating, db.read_session() as session:
                if slot.active is active:  # not replaced meanwhile
                    _catch_up(session, active, None)
        except Exception:  # the next lodging schedules another
            log.exception("risk model catch-up failed")
        finally:
            slot.pending = False

    try:
        db.background("risk-catch-up").submit(run)
    except RuntimeError:  # the database is being disposed
        slot.pending = False


def _catch_up(session: Session, active: ActiveModel, below: int | None) -> None:
    if time.monotonic() - active.caught_up_at < CATCH_UP_EVERY_S:
        # Ids only grow: fewer than a batch lie between what the model saw and this batch, so
        # there is nothing to count (lodging skips a query).
        if below is not None and below - 1 - active.declarations_seen < CATCH_UP_BATCH:
            return
        pending = session.scalar(
            select(func.count())
            .select_from(DeclarationRow)
            .where(DeclarationRow.id > active.declarations_seen)
        )
        if (pending or 0) < CATCH_UP_BATCH:
            return
    active.caught_up_at = time.monotonic()
    _observe_declarations(session, active, below)
    _record_inspections(session, active)


_DECLARATION = (DeclarationRow.id, DeclarationRow.document, DeclarationRow.received_at)


def _observe(active: ActiveModel, rows: Sequence[Any]) -> None:
    active.model.observe(items_frame((r.id, r.document, r.received_at) for r in rows))


def _observe_declarations(session: Session, active: ActiveModel, below: int | None) -> None:
    """Observe the declarations committed late into a gap, then those stored since."""
    table = DeclarationRow.__tablename__
    active.declaration_gaps.fill(
        session,
        lambda first, last: (
            select(*_DECLARATION)
            .where(DeclarationRow.id.between(first, last))
            .order_by(DeclarationRow.id)
        ),
        lambda rows: _observe(active, rows),
        open_writers(session, table),
    )
    read: list[tuple[int, list[int]]] = []
    while True:
        query = (
            select(*_DECLARATION)
            .where(DeclarationRow.id > active.declarations_seen)
            .order_by(DeclarationRow.id)
            .limit(CATCH_UP_CHUNK)
        )
        if below is not None:
            query = query.where(DeclarationRow.id < below)
        rows = session.execute(query).all()
        if not rows:
            break
        read.append((active.declarations_seen, [r.id for r in rows]))
        _observe(active, rows)
        active.declarations_seen = rows[-1].id
    if read:
        writers = open_writers(session, table)  # after the reads: see risk.gaps
        for seen, ids in read:
            active.declaration_gaps.note(seen, ids, writers)


def _record_inspections(session: Session, active: ActiveModel) -> None:
    """Record the inspection results stored since, and those that waited (a late commit, or a
    declaration the history had not seen yet)."""
    columns = (
        InspectionRow.id, InspectionRow.irregular, DeclarationRow.id,
        DeclarationRow.document, DeclarationRow.received_at,
    )  # fmt: skip
    joined = select(*columns).join(
        DeclarationRow, DeclarationRow.id == InspectionRow.declaration_id
    )
    waiting = sorted(active.inspections_waiting)
    batches = [
        session.execute(joined.where(InspectionRow.id.in_(waiting[i : i + 1000]))).all()
        for i in range(0, len(waiting), 1000)
    ]
    table = InspectionRow.__tablename__
    active.inspection_gaps.fill(
        session,
        lambda first, last: joined.where(InspectionRow.id.between(first, last)).order_by(
            InspectionRow.id
        ),
        batches.append,
        open_writers(session, table),
    )
    read: list[tuple[int, list[int]]] = []
    while True:
        found = session.execute(
            joined.where(InspectionRow.id > active.inspections_seen)
            .order_by(InspectionRow.id)
            .limit(CATCH_UP_CHUNK)
        ).all()
        if not found:
            break
        read.append((active.inspections_seen, [r[0] for r in found]))
        active.inspections_seen = found[-1][0]
        batches.append(found)
    if read:
        writers = open_writers(session, table)
        for seen, ids in read:
            active.inspection_gaps.note(seen, ids, writers)
    for rows in batches:
        ready = []
        for r in rows:
            observed = r[2] <= active.declarations_seen and r[2] not in active.declaration_gaps
            if observed:
                ready.append(r)
                active.inspections_waiting.discard(r[0])
            else:  # its declaration is not in the history yet: record it once it is
                active.inspections_waiting.add(r[0])
        if ready:
            frame = items_frame((r[2], r[3], r[4]) for r in ready)
            outcome_by_declaration = {str(r[2]): float(r[1]) for r in ready}
            outcomes = np.array([outcome_by_declaration[d] for d in frame["declaration_id"]])
            active.model.record(frame, outcomes)


def forget_active(db: Database) -> None:
    """Drop the in-memory model (tests, and after activation in this process)."""
    slot = _slot(db)
    with slot.lock:
        slot.active = None


def list_models(session: Session) -> list[RiskModelRow]:
    return list(session.scalars(select(RiskModelRow).order_by(RiskModelRow.created_at.desc())))


def activate(unit: Unit, version: str, *, actor: str) -> RiskModelRow:
    """Make ``version`` the model that scores new declarations (one active at a time)."""
    row = unit.session.scalar(select(RiskModelRow).where(RiskModelRow.version == version))
    if row is None:
        raise NotFound(f"no model version {version!r}", details=[{"field": "version"}])
    unit.session.execute(update(RiskModelRow).values(active=False))
    row.active = True
    row.activated_at = clock.now()
    row.activated_by = actor
    unit.emit(AdminAction(actor=actor, action="risk_model_activated", target=version))
    return row
