"""The alert workflow: every step timed, attributed, recorded and fed to the live stream."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict, ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.core.roles import Role
from smartcustoms.tracking.alerts import (
    acknowledge_alert,
    assign_alert,
    comment_alert,
    escalate_alert,
    resolve_alert,
)
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.records import SealEvent
from smartcustoms.tracking.tables import AlertRow, AlertStepRow, FeedRow
from tests.conftest import add_user

from .helpers import import_packaged, incoming, make_transit, position


@pytest.fixture
def alert_id(ctx: AppContext) -> int:
    """An open seal-opened alert, raised the real way."""
    import_packaged(ctx)
    make_transit(ctx, "W1")
    writer = Ingestor(ctx)
    writer.start()
    done = threading.Event()
    writer.submit(
        [incoming(position("W1", events=(SealEvent.CABLE_CUT,)))], "W1", lambda ok: done.set()
    )
    assert done.wait(10)
    writer.stop()
    with ctx.db.session() as session:
        return session.scalars(select(AlertRow.id)).one()


def test_every_step_is_timed_and_attributed(
    ctx: AppContext, alert_id: int, events: list[Event]
) -> None:
    add_user(ctx, "op2", Role.COMMAND_CENTRE_OPERATOR)
    with ctx.db.session() as session:
        raised = session.get(AlertRow, alert_id)
        assert raised is not None
    start = raised.raised_at
    moments = iter(start + timedelta(seconds=s) for s in (30, 45, 60, 90, 600))
    clock.set_clock(lambda: next(moments))
    try:
        with ctx.unit() as unit:
            acknowledge_alert(unit, alert_id, actor="op1")
        with ctx.unit() as unit:
            assign_alert(unit, alert_id, actor="op1", assignee="op2")
        with ctx.unit() as unit:
            comment_alert(unit, alert_id, actor="op2", note="Called the driver: no answer.")
        with ctx.unit() as unit:
            escalate_alert(unit, alert_id, actor="op2", team="Mobile unit Voi")
        with ctx.unit() as unit:
            resolve_alert(unit, alert_id, actor="op2", outcome="tampering_confirmed", note="Seized")
    finally:
        clock.set_clock(None)
    with ctx.db.session() as session:
        alert = session.get(AlertRow, alert_id)
        steps = session.scalars(
            select(AlertStepRow).where(AlertStepRow.alert_id == alert_id).order_by(AlertStepRow.id)
        ).all()
        feed = [
            json.loads(f.payload)
            for f in session.scalars(select(FeedRow).where(FeedRow.kind == "alert"))
        ]
    assert alert is not None
    assert (alert.status, alert.outcome, alert.assignee, alert.team) == (
        "resolved",
        "tampering_confirmed",
        "op2",
        "Mobile unit Voi",
    )
    assert alert.open_key is None
    assert [(s.action, s.actor, s.elapsed_s, s.value) for s in steps] == [
        ("raised", "system:tracking", 0.0, "critical"),
        ("acknowledged", "op1", 30.0, None),
        ("assigned", "op1", 45.0, "op2"),
        ("commented", "op2", 60.0, None),
        ("escalated", "op2", 90.0, "Mobile unit Voi"),
        ("resolved", "op2", 600.0, "tampering_confirmed"),
    ]
    assert steps[3].note == "Called the driver: no answer."
    assert [f["status"] for f in feed] == [
        "open",
        "acknowledged",
        "acknowledged",
        "acknowledged",
        "escalated",
        "resolved",
    ]
    records = [e.as_record() for e in events if e.type.startswith("tracking.alert_")]
    assert [r["type"] for r in records] == [
        "tracking.alert_acknowledged",
        "tracking.alert_assigned",
        "tracking.alert_commented",
        "tracking.alert_escalated",
        "tracking.alert_resolved",
    ]
    assert records[0]["elapsed_ms"] == 30_000 and records[0]["actor"] == "op1"
    assert "Called" not in json.dumps(records[2])  # the comment goes to the ledger as a digest
    assert len(records[2]["note_sha256"]) == 64


def test_workflow_refusals(ctx: AppContext, alert_id: int) -> None:
    add_user(ctx, "analyst", Role.RISK_ANALYST)
    with ctx.unit() as unit, pytest.raises(ValidationFailed, match="command-centre operator"):
        assign_alert(unit, alert_id, actor="op1", assignee="analyst")
    with ctx.unit() as unit, pytest.raises(ValidationFailed, match="outcome"):
        resolve_alert(unit, alert_id, actor="op1", outcome="shrug")
    with ctx.unit() as unit, pytest.raises(ValidationFailed, match="note"):
        comment_alert(unit, alert_id, actor="op1", note="   ")
    with ctx.unit() as unit:
        acknowledge_alert(unit, alert_id, actor="op1")
    with ctx.unit() as unit, pytest.raises(Conflict, match="acknowledged"):
        acknowledge_alert(unit, alert_id, actor="op2")
    with ctx.unit() as unit:
        resolve_alert(unit, alert_id, actor="op1", outcome="device_fault")
    with ctx.unit() as unit, pytest.raises(Conflict, match="resolved"):
        escalate_alert(unit, alert_id, actor="op1", team="x")
    with ctx.unit() as unit:  # a note after the fact is still welcome
        comment_alert(unit, alert_id, actor="op1", note="Replaced the seal battery.")


def test_time_of_raising_is_kept(ctx: AppContext, alert_id: int) -> None:
    with ctx.db.session() as session:
        alert = session.get(AlertRow, alert_id)
    assert alert is not None
    assert alert.received_at <= alert.raised_at <= datetime.now(UTC)
    assert alert.type == "cable_cut"
