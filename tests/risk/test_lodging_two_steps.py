"""Lodging in two steps (a reading unit): decided before the write transaction, stored in a short
one — with the one-transaction path's answers, once per declaration under concurrency, and
nothing half-written when the write step fails."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, make_url, select
from sqlalchemy.engine import Connection

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.core.settings import Settings
from smartcustoms.core.unit import Unit, reading_unit
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.declarations.store import Stored
from smartcustoms.declarations.tables import DeclarationItemRow, DeclarationRow
from smartcustoms.risk import assess as assess_module
from smartcustoms.risk import lodging as lodging_module
from smartcustoms.risk import registry
from smartcustoms.risk.events import LaneAssigned
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.lodging import Lodging, lodge
from smartcustoms.risk.rulebook import propose, review
from smartcustoms.risk.tables import LaneDecisionRow
from smartcustoms.risk.training import train_from_store
from tests.risk.history import kcs_slice, load_history


def _count(ctx: AppContext, table: type) -> int:
    with ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _answer(lodging: Lodging) -> list[tuple[Any, ...]]:
    """Everything a lodging answers and stores about each declaration, but the decision time."""
    out = []
    for item in lodging.lodged:
        d = item.decision
        decision = (
            None
            if d is None
            else (
                d.id,
                d.lane,
                d.final_lane,
                d.score,
                d.threshold,
                d.model_version,
                d.rules_fired,
                d.reasons,
                d.random_control,
                d.exploration,
            )
        )
        out.append((item.stored.id, item.stored.created, item.stored.declaration, decision))
    return out


class _Recorded:
    """The events handed to the bus's recorders (what the ledger's outbox gets), in order."""

    def __init__(self, ctx: AppContext) -> None:
        self.events: list[Event] = []
        ctx.bus.subscribe_recorder(self)

    def __call__(self, _conn: Connection, events: Sequence[Event]) -> None:
        self.events.extend(events)


def _comparable(events: Sequence[Event]) -> list[dict[str, Any]]:
    return [e.as_record() for e in events]  # the clock is fixed: times included


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the two steps apply on SQLite; PostgreSQL lodges in one transaction")


@pytest.fixture
def fixed_clock() -> Iterator[Callable[[datetime], None]]:
    """The clock stands still where the test sets it: both paths store the same times."""
    now = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    clock.set_clock(lambda: now[0])
    yield lambda when: now.__setitem__(0, when)
    clock.set_clock(None)


@pytest.fixture
def deterministic_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # The model's history is caught up on a timer and its recent scores are cached on a
    # timer: both would make two runs differ by their timing, not by their path.
    monkeypatch.setattr(registry, "CATCH_UP_EVERY_S", 1e9)
    monkeypatch.setattr(registry, "CATCH_UP_BATCH", 10**9)
    monkeypatch.setattr(registry, "SCORES_TTL_S", -1.0)


def _prepare(ctx: AppContext, tmp_path: Path) -> None:
    """History, a model trained on it and active, and an approved rule."""
    load_history(ctx, kcs_slice(tmp_path, 0, 1500))
    with ctx.unit() as unit:
        version = train_from_store(unit, actor="analyst", seed=1).version
        registry.activate(unit, version, actor="analyst")
    with ctx.unit() as unit:
        rule = propose(
            unit, name="wood", expression='hs2 = "44"', lane=Lane.YELLOW,
            reason="Timber: check the CITES permit", actor="analyst",
        )  # fmt: skip
    with ctx.unit() as unit:
        review(unit, rule.id, approve=True, actor="supervisor")


def _copy(ctx: AppContext, settings: Settings, tmp_path: Path, **update: object) -> AppContext:
    """A second context on a consistent copy of ``ctx``'s SQLite database (and ``update``d
    settings)."""
    source = make_url(settings.database_url or "").database
    assert source
    target = tmp_path / "copy.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return AppContext.from_settings(
        settings.model_copy(update={**update, "database_url": f"sqlite:///{target}"})
    )


def _batches(records: list[SourceRecord], seed: int) -> list[list[SourceRecord]]:
    """Batches of 1 to 12 new declarations, some with declarations lodged before (repeats
    answered from what is stored) and a few only of repeats."""
    draw = random.Random(seed)
    batches: list[list[SourceRecord]] = []
    lodged: list[SourceRecord] = []
    rest = list(records)
    while rest:
        size = draw.choice([1, 1, 1, 2, 3, 5, 8, 12])
        batch, rest = rest[:size], rest[size:]
        if lodged and draw.random() < 0.25:
            batch = batch + draw.sample(lodged, min(len(lodged), draw.randint(1, 3)))
        lodged.extend(batch)
        batches.append(batch)
        if draw.random() < 0.1:
            batches.append(draw.sample(lodged, min(len(lodged), 2)))
    return batches


def test_two_steps_answer_as_one_transaction(
    ctx: AppContext,
    settings: Settings,
    tmp_path: Path,
    sqlite_only: None,
    fixed_clock: Callable[[datetime], None],
    deterministic_model: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _prepare(ctx, tmp_path)
    other = _copy(ctx, settings, tmp_path)
    try:
        records = [r for r in read_kcs(kcs_slice(tmp_path, 1500, 400, labels=False)) if r.data]
        batches = _batches(records, seed=16)
        one_recorded, two_recorded = _Recorded(ctx), _Recorded(other)
        replanned: list[int] = []
        real_chunk = lodging_module.lodge_chunk

        def counting_chunk(*args: Any, **kwargs: Any) -> Any:
            replanned.append(1)
            return real_chunk(*args, **kwargs)

        # The write lock is free while the two-step path scores: another connection takes
        # it without waiting.
        real_score = assess_module.score_lanes
        target = make_url(other.db.url).database
        assert target

        def score_without_the_lock(*args: Any, **kwargs: Any) -> Any:
            probe = sqlite3.connect(target, timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            finally:
                probe.close()
            return real_score(*args, **kwargs)

        start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        refused = 0
        for number, batch in enumerate(batches):
            fixed_clock(start + timedelta(seconds=number))
            # Most batches skip invalid records (rejections reported), some are all or nothing.
            skip = number % 3 != 0
            one: Lodging | ValidationFailed
            two: Lodging | ValidationFailed
            try:
                with ctx.unit() as unit:
                    one = lodge(
                        ctx, unit, batch, source="api", submitted_by="d", actor="d",
                        skip_invalid=skip,
                    )  # fmt: skip
            except ValidationFailed as exc:
                one = exc
            # Patched for the two-step path only (and apart from the test's own patches).
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(lodging_module, "lodge_chunk", counting_chunk)
                patch.setattr(lodging_module, "score_lanes", score_without_the_lock)
                try:
                    with reading_unit(other.db, other.bus) as reading:
                        two = lodge(
                            other, reading, batch, source="api", submitted_by="d", actor="d",
                            skip_invalid=skip,
                        )  # fmt: skip
                except ValidationFailed as exc:
                    two = exc
            if isinstance(one, ValidationFailed):
                assert isinstance(two, ValidationFailed), f"batch {number}"
                assert (str(two), two.details) == (str(one), one.details)
                refused += 1
                continue
            assert isinstance(two, Lodging), f"batch {number}"
            assert _answer(two) == _answer(one), f"batch {number}"
            assert two.lanes == one.lanes
            assert (two.report.created, two.report.existing, two.report.read) == (
                one.report.created,
                one.report.existing,
                one.report.read,
            )
            assert two.report.rejected == one.report.rejected
            assert two.report.rejected_count == one.report.rejected_count
        assert refused
        assert not replanned, "in sequence the plan always holds"
        assert len(batches) > 80
        assert _comparable(two_recorded.events) == _comparable(one_recorded.events)
        assigned = [e for e in one_recorded.events if isinstance(e, LaneAssigned)]
        assert len(assigned) > 300
        assert {e.model_version for e in assigned} != {None}
        assert any(e.rules for e in assigned)  # the rule fired somewhere
        # Stored alike: documents, items, times.
        for table in (DeclarationRow, DeclarationItemRow, LaneDecisionRow):
            with ctx.db.read_session() as a, other.db.read_session() as b:
                left = [_row(r) for r in a.scalars(select(table).order_by(table.id))]
                right = [_row(r) for r in b.scalars(select(table).order_by(table.id))]
            assert left == right, table.__name__
    finally:
        other.close()


def _row(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs}


def _rendezvous(parties: int) -> Callable[[Sequence[SourceRecord], Sequence[Stored]], None]:
    """A ``check`` that holds each lodging until all have reached it, or a second has passed:
    on SQLite every lodging has then looked the declaration up before any stores it; on
    PostgreSQL (one transaction, the insert made before ``check``) the first waits the second
    out while the second is blocked on the key."""
    arrived = threading.Semaphore(0)
    count = [0]
    lock = threading.Lock()

    def check(_records: Sequence[SourceRecord], _stored: Sequence[Stored]) -> None:
        with lock:
            count[0] += 1
            if count[0] == parties:
                for _ in range(parties):
                    arrived.release()
        arrived.acquire(timeout=1.0)

    return check


def test_the_same_declaration_lodged_twice_at_once_is_stored_once(
    ctx: AppContext, tmp_path: Path, events: list[Event]
) -> None:
    (record,) = list(read_kcs(kcs_slice(tmp_path, 0, 1, labels=False)))
    check = _rendezvous(2)
    answers: list[Lodging] = []
    failures: list[BaseException] = []

    def lodge_one() -> None:
        try:
            with reading_unit(ctx.db, ctx.bus) as reading:
                answers.append(
                    lodge(
                        ctx,
                        reading,
                        [record],
                        source="api",
                        submitted_by="d",
                        actor="d",
                        check=check,
                    )
                )
        except BaseException as exc:  # reported below, with the thread's own traceback
            failures.append(exc)

    threads = [threading.Thread(target=lodge_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert len(answers) == 2
    first, second = (a.lodged[0] for a in answers)
    assert first.stored.id == second.stored.id
    assert sorted([first.stored.created, second.stored.created]) == [False, True]
    assert first.decision is not None and second.decision is not None
    assert _answer(answers[0])[0][3] == _answer(answers[1])[0][3]
    assert _count(ctx, DeclarationRow) == 1
    assert _count(ctx, LaneDecisionRow) == 1
    assert len([e for e in events if isinstance(e, LaneAssigned)]) == 1


def test_a_failure_in_the_write_step_leaves_nothing(
    ctx: AppContext, tmp_path: Path, events: list[Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    records = list(read_kcs(kcs_slice(tmp_path, 0, 6, labels=False)))
    recorded = _Recorded(ctx)
    real = assess_module.store_decisions

    def store_then_fail(unit: Unit, *args: Any, **kwargs: Any) -> Any:
        real(unit, *args, **kwargs)  # declarations, items and decisions flushed by now
        raise RuntimeError("disk full")

    # Two steps (SQLite) store the decisions from the lodging; one transaction (PostgreSQL)
    # from the assessment.
    monkeypatch.setattr(lodging_module, "store_decisions", store_then_fail)
    monkeypatch.setattr(assess_module, "store_decisions", store_then_fail)
    with pytest.raises(RuntimeError, match="disk full"), reading_unit(ctx.db, ctx.bus) as r:
        lodge(ctx, r, records, source="api", submitted_by="d", actor="d")
    assert _count(ctx, DeclarationRow) == 0
    assert _count(ctx, DeclarationItemRow) == 0
    assert _count(ctx, LaneDecisionRow) == 0
    assert not events
    assert not recorded.events
    monkeypatch.undo()
    # And the same records lodge afterwards, as new.
    with reading_unit(ctx.db, ctx.bus) as r:
        again = lodge(ctx, r, records, source="api", submitted_by="d", actor="d")
    assert again.report.created == len(records)
    assert _count(ctx, LaneDecisionRow) == len(records)


def test_a_reading_unit_takes_no_event(ctx: AppContext) -> None:
    with reading_unit(ctx.db, ctx.bus) as r, pytest.raises(RuntimeError, match="reading unit"):
        r.emit(Event(actor="x"))


def test_ids_moved_on_meanwhile_draws_are_made_for_the_ids_given(
    ctx: AppContext,
    settings: Settings,
    tmp_path: Path,
    sqlite_only: None,
    fixed_clock: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No model: lanes come from the rules and the random-control draw, which hangs on the id.
    # Another lodging stores other declarations while this one is being assessed; this one's
    # decisions must be those of lodging it after that one, in one transaction.
    share = {"risk_random_control_share": 0.5}
    first = [r for r in read_kcs(kcs_slice(tmp_path, 0, 40, labels=False)) if r.data][:30]
    other_batch, mine = first[:7], first[7:]
    copy = _copy(ctx, settings, tmp_path, **share)
    ctx = AppContext.from_settings(settings.model_copy(update=share))
    try:
        done: list[int] = []

        def meanwhile(_records: Sequence[SourceRecord], _stored: Sequence[Stored]) -> None:
            if not done:
                with ctx.unit() as unit:
                    lodge(ctx, unit, other_batch, source="api", submitted_by="o", actor="o",
                          skip_invalid=True)  # fmt: skip
                done.append(1)

        with reading_unit(ctx.db, ctx.bus) as reading:
            two = lodge(
                ctx, reading, mine, source="api", submitted_by="d", actor="d",
                skip_invalid=True, check=meanwhile,
            )  # fmt: skip
        assert done
        with copy.unit() as unit:
            lodge(copy, unit, other_batch, source="api", submitted_by="o", actor="o",
                  skip_invalid=True)  # fmt: skip
        with copy.unit() as unit:
            one = lodge(copy, unit, mine, source="api", submitted_by="d", actor="d",
                        skip_invalid=True)  # fmt: skip
        assert _answer(two) == _answer(one)
        assert min(i.stored.id for i in two.lodged) > len(other_batch)
        assert {i.decision.random_control for i in two.lodged if i.decision} == {True, False}
    finally:
        copy.close()
        ctx.close()
