"""Forwarding loses no position when PostgreSQL writers commit out of id order, nor at the
boundary between the hand-over's track and the first forwarded position.

Two real instances on PostgreSQL (see ``test_handover``); the writers are transactions held
open by hand doing what the ingest writer does in its storing transaction (insert the
positions, run the context's positions-written hooks), so that one commits after a later id
was committed and forwarded."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, func, select

from smartcustoms.federation.forward_hook import POSITIONS_WRITTEN as HOOK_KEY
from smartcustoms.federation.handover_tables import ForwardQueueRow
from smartcustoms.federation.tables import DELIVERED
from smartcustoms.tracking.pipeline import POSITIONS_WRITTEN, call_written_hooks
from smartcustoms.tracking.rules import Report
from smartcustoms.tracking.store import insert_positions, position_rows
from smartcustoms.tracking.tables import PositionRow
from smartcustoms.tracking.transits import hand_over_transit
from tests.federation.instances import Instance
from tests.federation.test_handover import (
    DEVICE,
    UG,
    _outbox,
    _positions,
    pair,  # noqa: F401 - the fixture
)
from tests.tracking.helpers import MALABA_KE, make_transit, position
from tests.waiting import wait_for


def _write(instance: Instance, conn: Connection, at: datetime) -> int:
    """What the ingest writer does in its transaction for one record: store, then the hooks.
    The position's id (drawn now, visible to others once ``conn`` commits)."""
    p = position(DEVICE, MALABA_KE, at=at)
    received = datetime.now(UTC)
    assert insert_positions(conn, position_rows([p], DEVICE, received, "test")) == [True]
    report = Report(p, DEVICE, received, "test")
    call_written_hooks(
        instance.ctx.services, conn, {DEVICE}, lambda d: [report] if d == DEVICE else []
    )
    found = conn.scalar(
        select(PositionRow.id).where(PositionRow.device_id == DEVICE, PositionRow.time == p.time)
    )
    assert found is not None
    return int(found)


def test_the_hook_key_is_trackings() -> None:
    assert HOOK_KEY == POSITIONS_WRITTEN


@pytest.mark.postgres
@pytest.mark.parametrize("pair", ["postgresql"], indirect=True)
def test_a_position_committed_after_a_later_one_was_forwarded_is_forwarded(
    pair: tuple[Instance, Instance],  # noqa: F811
) -> None:
    ke, ug = pair
    transit_id = make_transit(ke.ctx, DEVICE)
    with ke.ctx.unit() as unit:
        hand_over_transit(
            unit, transit_id, actor="officer", border="KE-MALABA", to_administration=UG
        )
    wait_for(lambda: _outbox(ke)[0].state == DELIVERED, message="hand-over not sent", timeout=20)
    assert _positions(ug) == 0
    start = datetime.now(UTC).replace(microsecond=0)
    engine = ke.ctx.db.engine
    with engine.connect() as early, engine.connect() as late:
        early_id = _write(ke, early, start)  # draws the lower id, commits last
        late_id = _write(ke, late, start + timedelta(seconds=1))
        assert early_id < late_id
        late.commit()
        # The later id is forwarded while the earlier one is still uncommitted.
        wait_for(lambda: _positions(ug) == 1, message="the later position not forwarded")
        early.commit()
    # A cursor on ids would now stand past early_id for ever; the queue forwards it.
    wait_for(lambda: _positions(ug) == 2, message="the position committed late was lost")
    with ke.ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ForwardQueueRow)) == 0
    kinds = [r.kind for r in _outbox(ke)]
    assert kinds == ["transit.handover", "transit.positions", "transit.positions"]


@pytest.mark.postgres
@pytest.mark.parametrize("pair", ["postgresql"], indirect=True)
def test_a_position_stored_during_the_hand_over_is_in_its_track_or_forwarded(
    pair: tuple[Instance, Instance],  # noqa: F811
) -> None:
    ke, ug = pair
    transit_id = make_transit(ke.ctx, DEVICE)
    start = datetime.now(UTC).replace(microsecond=0)
    engine = ke.ctx.db.engine
    with engine.connect() as writer:
        _write(ke, writer, start)  # in flight: its hook saw no forwarding yet
        handed = threading.Event()

        def hand_over() -> None:
            with ke.ctx.unit() as unit:
                hand_over_transit(
                    unit, transit_id, actor="officer", border="KE-MALABA", to_administration=UG
                )
            handed.set()

        thread = threading.Thread(target=hand_over)
        thread.start()
        # The hand-over waits for the writer in flight (its position goes in the track) …
        assert not handed.wait(1.0)
        writer.commit()
        thread.join(20)
        assert handed.is_set()
    # … and a writer after it sees the forwarding row: its position is queued.
    with engine.connect() as after:
        _write(ke, after, start + timedelta(seconds=1))
        after.commit()
    wait_for(lambda: _positions(ug) == 2, message="a position at the boundary was lost")
    kinds = [r.kind for r in _outbox(ke)]
    assert kinds == ["transit.handover", "transit.positions"]
    assert '"track":[[' in _outbox(ke)[0].body  # the in-flight one went with the hand-over


def test_positions_of_a_transit_not_handed_over_are_not_queued(
    pair: tuple[Instance, Instance],  # noqa: F811
) -> None:
    ke, _ug = pair
    make_transit(ke.ctx, DEVICE)
    with ke.ctx.db.writer.begin() as conn:  # BEGIN IMMEDIATE on SQLite, as the writer's
        _write(ke, conn, datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1))
    with ke.ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ForwardQueueRow)) == 0
    assert _outbox(ke) == []
