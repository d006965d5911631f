"""The history's catch-up and transactions that commit out of id order (PostgreSQL gives ids at
insert, not at commit): a declaration whose id was skipped because a later one committed first
is observed once it commits, and an inspection result waits for its declaration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcustoms.core.context import AppContext
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.declarations.intake import import_records
from smartcustoms.risk import registry
from smartcustoms.risk.inspections import record_inspection
from smartcustoms.risk.training import train_from_store
from tests.risk.history import kcs_slice, load_history


def _stored(session: Session, path: Path) -> int:
    report = import_records(session, read_kcs(path), source="api", submitted_by="t")
    (row,) = report.stored
    return int(row.id)


def _catch_up(ctx: AppContext, observed: list[int], recorded: list[int]) -> registry.ActiveModel:
    with ctx.db.session() as session, registry.active_model(ctx.db, session) as active:
        assert active is not None
        model = active.model
        if not getattr(model, "_spied", False):
            observe, record = model.observe, model.record

            def spy_observe(items: Any) -> Any:
                observed.extend(int(d) for d in items["declaration_id"])
                return observe(items)

            def spy_record(items: Any, outcomes: Any) -> Any:
                recorded.extend(int(d) for d in items["declaration_id"])
                return record(items, outcomes)

            # Wrapping the real model's two methods (a spy, nothing replaced): what reached it.
            setattr(model, "observe", spy_observe)  # noqa: B010
            setattr(model, "record", spy_record)  # noqa: B010
            setattr(model, "_spied", True)  # noqa: B010
        return active


@pytest.mark.timeout(600)
def test_a_declaration_committed_after_a_later_one_is_observed(
    ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: its ids are committed in order")
    load_history(ctx, kcs_slice(tmp_path, 0, 1500))
    with ctx.unit() as unit:
        version = train_from_store(unit, actor="analyst", seed=1).version
        registry.activate(unit, version, actor="analyst")
    monkeypatch.setattr(registry, "CATCH_UP_EVERY_S", 0.0)  # every look is a full catch-up
    observed: list[int] = []
    recorded: list[int] = []
    _catch_up(ctx, observed, recorded)

    # A takes an id (inserted, flushed) and stays open; B takes the next id and commits first.
    with ctx.unit() as slow:
        late = _stored(slow.session, kcs_slice(tmp_path, 1500, 1, labels=False))
        slow.session.flush()
        with ctx.unit() as unit:
            early = _stored(unit.session, kcs_slice(tmp_path, 1501, 1, labels=False))
        assert early > late
        active = _catch_up(ctx, observed, recorded)
        assert active.declarations_seen >= early and early in observed
        assert late not in observed and late in active.declaration_gaps
    active = _catch_up(ctx, observed, recorded)  # A has committed
    assert observed.count(late) == 1 and observed.count(early) == 1
    assert late not in active.declaration_gaps

    # Inspection results out of order too: the second one commits first.
    with ctx.unit() as slow:
        record_inspection(slow, early, irregular=True, codes=["undervaluation"], actor="officer")
        slow.session.flush()
        with ctx.unit() as unit:
            record_inspection(unit, late, irregular=False, actor="officer")
        active = _catch_up(ctx, observed, recorded)
        assert recorded[-1:] == [late] and early not in recorded[-1:]
        assert active.inspection_gaps
    active = _catch_up(ctx, observed, recorded)
    assert recorded.count(early) == 1 and recorded.count(late) == 1
    assert not active.inspection_gaps


class _RolledBack(Exception):
    """Raised to roll a transaction back."""


@pytest.mark.timeout(600)
def test_a_wide_gap_is_waited_for_and_dropped_once_its_transaction_rolls_back(
    ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """No time limit and no width limit: a transaction holding 20,000 ids (a large file) is
    waited for while it is open, and its gap goes as soon as it has rolled back."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: its ids are committed in order")
    load_history(ctx, kcs_slice(tmp_path, 0, 1500))
    with ctx.unit() as unit:
        version = train_from_store(unit, actor="analyst", seed=1).version
        registry.activate(unit, version, actor="analyst")
    monkeypatch.setattr(registry, "CATCH_UP_EVERY_S", 0.0)
    observed: list[int] = []
    _catch_up(ctx, observed, [])

    with pytest.raises(_RolledBack), ctx.db.session() as slow:
        late = _stored(slow, kcs_slice(tmp_path, 1500, 1, labels=False))
        slow.flush()
        # The open transaction's file takes 20,000 more ids (sequences are not transactional).
        slow.execute(
            text("SELECT setval(pg_get_serial_sequence('declarations', 'id'), :to)"),
            {"to": late + 20_000},
        )
        with ctx.unit() as unit:
            early = _stored(unit.session, kcs_slice(tmp_path, 1501, 1, labels=False))
        assert early == late + 20_001
        active = _catch_up(ctx, observed, [])
        assert early in observed and late not in observed
        assert late in active.declaration_gaps and late + 19_999 in active.declaration_gaps
        active = _catch_up(ctx, observed, [])  # still open: still waited for
        assert late in active.declaration_gaps
        raise _RolledBack
    active = _catch_up(ctx, observed, [])
    assert not active.declaration_gaps and late not in observed
    assert observed.count(early) == 1
