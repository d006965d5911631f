"""The lodging use case: records checked, stored, history kept, the others assessed, events."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Forbidden, ValidationFailed
from smartcustoms.core.events import AdminAction, Event
from smartcustoms.declarations import intake
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.declarations.store import Stored
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.events import LaneAssigned
from smartcustoms.risk.lodging import lodge, lodge_stream
from smartcustoms.risk.tables import InspectionRow, LaneDecisionRow
from tests.risk.history import kcs_slice


def _count(ctx: AppContext, table: type) -> int:
    with ctx.unit() as unit:
        return int(unit.session.scalar(select(func.count()).select_from(table)) or 0)


def test_lodge_stores_assesses_and_emits(
    ctx: AppContext, tmp_path: Path, events: list[Event]
) -> None:
    records = list(read_kcs(kcs_slice(tmp_path, 0, 12, labels=False)))
    with ctx.unit() as unit:
        lodging = lodge(ctx, unit, records, source="api", submitted_by="dec", actor="dec")
    assert lodging.report.created == len(lodging.lodged) > 0
    assert lodging.history == 0
    assert all(item.stored.created and item.decision for item in lodging.lodged)
    assert sum(lodging.lanes.values()) == len(lodging.lodged)
    first = lodging.lodged[0].decision
    assert first is not None and first.model_version is None  # no model yet
    assigned = [e for e in events if isinstance(e, LaneAssigned)]
    assert [e.declaration_id for e in assigned] == [i.stored.id for i in lodging.lodged]
    assert {e.actor for e in assigned} == {"dec"}

    # A replay stores nothing, decides nothing new, and answers the decisions already made.
    with ctx.unit() as unit:
        again = lodge(ctx, unit, records, source="api", submitted_by="dec", actor="dec")
    assert again.report.created == 0
    assert [i.stored.id for i in again.lodged] == [i.stored.id for i in lodging.lodged]
    assert all(not i.stored.created for i in again.lodged)
    assert [i.decision.lane for i in again.lodged if i.decision] == [
        i.decision.lane for i in lodging.lodged if i.decision
    ]
    assert len([e for e in events if isinstance(e, LaneAssigned)]) == len(assigned)
    assert _count(ctx, LaneDecisionRow) == len(lodging.lodged)


def test_decisions_come_back_as_rows_of_the_session(ctx: AppContext, tmp_path: Path) -> None:
    """The decisions are inserted without the ORM's unit of work, but the caller still gets
    rows of its session: read without a query, and changed and flushed like any loaded row."""
    records = list(read_kcs(kcs_slice(tmp_path, 0, 6, labels=False)))
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    with ctx.unit() as unit:
        lodging = lodge(ctx, unit, records, source="api", submitted_by="dec", actor="dec")
        rows = [item.decision for item in lodging.lodged if item.decision is not None]
        assert len(rows) == len(records)
        event.listen(ctx.db.engine, "before_cursor_execute", seen)
        try:
            assert all(row.id and row.inspection is None for row in rows)
            assert [row.final_lane for row in rows] == [row.lane for row in rows]
        finally:
            event.remove(ctx.db.engine, "before_cursor_execute", seen)
        assert statements == []  # everything was there, the inspection too
        assert all(row in unit.session and not unit.session.is_modified(row) for row in rows)
        rows[0].overridden_lane = "green"
        unit.session.flush()
    with ctx.unit() as unit:
        stored = unit.session.get(LaneDecisionRow, rows[0].id)
        assert stored is not None and stored.overridden_lane == "green"
        assert stored.reasons == rows[0].reasons and stored.lane == rows[0].lane


def test_past_results_are_history_not_lanes(ctx: AppContext, tmp_path: Path) -> None:
    records = list(read_kcs(kcs_slice(tmp_path, 0, 10)))
    with ctx.unit() as unit:
        lodging = lodge(ctx, unit, records, source="import:kcs", submitted_by="t", actor="t")
    assert lodging.history == len(lodging.lodged) > 0
    assert all(item.decision is None for item in lodging.lodged)
    assert not lodging.lanes
    assert _count(ctx, InspectionRow) == lodging.history
    assert _count(ctx, LaneDecisionRow) == 0


def test_check_refuses_before_assessing_and_rolls_back(
    ctx: AppContext, tmp_path: Path, events: list[Event]
) -> None:
    records = list(read_kcs(kcs_slice(tmp_path, 0, 5, labels=False)))
    seen: list[int] = []

    def refuse(checked: Sequence[SourceRecord], stored: Sequence[Stored]) -> None:
        assert len(checked) == len(stored)
        seen.extend(s.id for s in stored)
        raise Forbidden("not yours")

    with pytest.raises(Forbidden), ctx.unit() as unit:
        lodge(ctx, unit, records, source="api", submitted_by="d", actor="d", check=refuse)
    assert seen
    assert _count(ctx, DeclarationRow) == 0
    assert _count(ctx, LaneDecisionRow) == 0
    assert not events


def test_invalid_batch_is_all_or_nothing(ctx: AppContext, tmp_path: Path) -> None:
    records = list(read_kcs(kcs_slice(tmp_path, 0, 4, labels=False)))
    records.append(SourceRecord("row 99", problems=[{"field": "x", "problem": "bad"}]))
    with pytest.raises(ValidationFailed), ctx.unit() as unit:
        lodge(ctx, unit, records, source="api", submitted_by="d", actor="d")
    assert _count(ctx, DeclarationRow) == 0
    with ctx.unit() as unit:
        lodging = lodge(
            ctx, unit, records, source="api", submitted_by="d", actor="d", skip_invalid=True
        )
    assert lodging.report.rejected_count == 1
    assert [r.where for r in lodging.report.rejected] == ["row 99"]
    assert len(lodging.lodged) == 4


def test_stream_assesses_chunk_by_chunk(
    ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, events: list[Event]
) -> None:
    monkeypatch.setattr(intake, "CHUNK", 3)
    history = list(read_kcs(kcs_slice(tmp_path, 0, 4)))
    fresh = list(read_kcs(kcs_slice(tmp_path, 4, 7, labels=False)))
    read: list[int] = []
    with ctx.unit() as unit:
        lodging = lodge_stream(
            ctx,
            unit,
            iter(history + fresh),
            source="import:kcs",
            submitted_by="t",
            actor="t",
            progress=read.append,
            file_name="day.csv",
        )
    assert lodging.report.read == sum(read) == len(history) + len(fresh)
    assert lodging.history == len(history)
    assert sum(lodging.lanes.values()) == len(fresh) == lodging.report.created - len(history)
    assert not lodging.lodged  # a stream keeps no declaration
    assert _count(ctx, LaneDecisionRow) == len(fresh)
    # Recorded in the transaction as each chunk is assessed, not published one by one; the
    # import itself is.
    assert not [e for e in events if isinstance(e, LaneAssigned)]
    (action,) = [e for e in events if isinstance(e, AdminAction)]
    assert action.action == "declarations_import"
    assert action.target == f"day.csv: {lodging.report.created} new, 0 known, 0 rejected"
