"""Open alerts travel with a hand-over and are raised again over there as the origin's; from
then on the partner raises its own, from the forwarded positions (seal events) and from its
clocks (deadline passed, signal lost), which its ingest writers' sweeps leave to the
federation's; the partner's acceptance reaches the origin; every step is in both ledgers, and
both pass ``ledger fsck``. Two real instances (see ``test_handover``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.federation.handed_in import recreate_alerts, sweep_handed_in
from smartcustoms.federation.handover import accept
from smartcustoms.federation.handover_tables import HandedAlertRow
from smartcustoms.federation.tables import DELIVERED, PartnerRow
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.monitor import Monitor
from smartcustoms.tracking.pipeline import run_clock_rules
from smartcustoms.tracking.records import SealEvent
from smartcustoms.tracking.tables import AlertRow, TransitRow, TransitStepRow
from smartcustoms.tracking.transits import discharge_transit, hand_over_transit
from tests.federation.instances import Instance
from tests.federation.test_handover import (
    DEVICE,
    KE,
    UG,
    _fsck_clean,
    _incoming_transit,
    _outbox,
    pair,  # noqa: F401 - the fixture
)
from tests.tracking.helpers import MALABA_KE, VOI, incoming, make_transit, position
from tests.waiting import wait_for


def _ingest(instance: Instance, *points: tuple[tuple[float, float], tuple[SealEvent, ...]]) -> None:
    writer = Ingestor(instance.ctx)
    writer.start()
    try:
        start = datetime.now(UTC) - timedelta(seconds=len(points))
        writer.submit(
            [
                incoming(position(DEVICE, where, at=start + timedelta(seconds=n), events=events))
                for n, (where, events) in enumerate(points)
            ],
            DEVICE,
        )
    finally:
        writer.stop()


def _alerts(instance: Instance, transit_id: int) -> list[AlertRow]:
    with instance.ctx.db.session() as session:
        rows = list(
            session.scalars(
                select(AlertRow).where(AlertRow.transit_id == transit_id).order_by(AlertRow.id)
            )
        )
        session.expunge_all()
        return rows


def _all_delivered(instance: Instance) -> bool:
    return all(r.state == DELIVERED for r in _outbox(instance))


def test_alerts_go_with_the_hand_over_and_the_partner_raises_its_own(
    pair: tuple[Instance, Instance],  # noqa: F811
) -> None:
    ke, ug = pair
    transit_id = make_transit(ke.ctx, DEVICE)
    _ingest(ke, (VOI, ()), (VOI, (SealEvent.TAMPER,)))
    (origin_alert,) = _alerts(ke, transit_id)
    assert origin_alert.type == "tamper" and origin_alert.status == "open"

    with ke.ctx.unit() as unit:
        hand_over_transit(
            unit, transit_id, actor="officer", border="KE-MALABA", to_administration=UG
        )
    wait_for(lambda: _incoming_transit(ug) is not None, message="not handed over", timeout=20)
    handed = _incoming_transit(ug)
    assert handed is not None

    # The origin's open alert, raised again here on the handed-in transit, as the origin's.
    (carried,) = _alerts(ug, handed.id)
    assert (carried.type, carried.status) == ("tamper", "open")
    assert carried.severity == origin_alert.severity
    assert carried.details["raised_by"] == KE
    assert carried.details["origin_alert_id"] == origin_alert.id
    with ug.ctx.db.session() as session:
        mark = session.get(HandedAlertRow, carried.id)
        assert mark is not None and mark.raised_by == KE
        assert mark.origin_alert_id == origin_alert.id
    raised = [r for r in ug.records("tracking.alert_raised") if r["alert_id"] == carried.id]
    assert raised and raised[0]["actor"] == f"partner:{KE}"

    # Our own rules on forwarded positions: a cable cut is ours, not the origin's.
    _ingest(ke, (MALABA_KE, (SealEvent.CABLE_CUT,)))
    wait_for(lambda: len(_alerts(ug, handed.id)) == 2, message="no alert of our own", timeout=20)
    own = _alerts(ug, handed.id)[1]
    assert own.type == "cable_cut"
    with ug.ctx.db.session() as session:
        assert session.get(HandedAlertRow, own.id) is None
    own_record = [r for r in ug.records("tracking.alert_raised") if r["alert_id"] == own.id]
    assert own_record[0]["actor"] == "system:tracking"

    # Our clocks: the deadline passes and the seal falls silent. An ingest writer's sweep leaves
    # handed-in transits alone (their positions do not pass through it) …
    later = handed.deadline.replace(tzinfo=UTC) + timedelta(hours=1)
    with ug.ctx.db.engine.begin() as conn:
        monitor = Monitor()
        monitor.refresh(conn, later)
        assert handed.id in monitor.by_id
        assert run_clock_rules(conn, monitor, later).alerts_raised == 0
    # … the federation's sweep judges them.
    assert sweep_handed_in(ug.ctx, later) == 2
    types = {a.type for a in _alerts(ug, handed.id)}
    assert {"deadline_passed", "signal_lost"} <= types
    assert sweep_handed_in(ug.ctx, later + timedelta(minutes=1)) == 0  # once per episode

    wait_for(lambda: _all_delivered(ke), message="not all delivered", timeout=20)
    _fsck_clean(ke)
    _fsck_clean(ug)


def test_acceptance_reaches_the_origin_and_every_step_is_in_both_ledgers(
    pair: tuple[Instance, Instance],  # noqa: F811
) -> None:
    ke, ug = pair
    transit_id = make_transit(ke.ctx, DEVICE)
    with ke.ctx.unit() as unit:
        hand_over_transit(
            unit, transit_id, actor="officer", border="KE-MALABA", to_administration=UG
        )
    wait_for(lambda: _incoming_transit(ug) is not None, message="not handed over", timeout=20)
    handed = _incoming_transit(ug)
    assert handed is not None
    with ug.ctx.unit() as unit:
        accept(unit, handed.id, actor="ug-officer", administration=UG)

    def accepted_at_origin() -> bool:
        with ke.ctx.db.session() as session:
            return (
                session.scalars(
                    select(TransitStepRow).where(
                        TransitStepRow.transit_id == transit_id, TransitStepRow.step == "accepted"
                    )
                ).first()
                is not None
            )

    wait_for(accepted_at_origin, message="the origin was not told", timeout=20)
    with ug.ctx.unit() as unit:
        discharge_transit(unit, handed.id, actor="ug-officer", seal_intact=True, note="arrived")

    def released() -> bool:
        with ke.ctx.db.session() as session:
            row = session.get(TransitRow, transit_id)
            return row is not None and row.guarantee_released_at is not None

    wait_for(released, message="not discharged at the origin", timeout=20)
    wait_for(lambda: _all_delivered(ug) and _all_delivered(ke), timeout=20)

    # Handed over, accepted, discharged: each step in the origin's ledger and the partner's.
    assert ke.records("tracking.transit_handed_over")
    assert ug.records("federation.transit_handed_in")[0]["origin_transit_id"] == transit_id
    (ours,) = ug.records("federation.transit_accepted")
    assert ours["actor"] == "ug-officer" and ours["transit_id"] == handed.id
    (theirs,) = ke.records("federation.transit_accepted")
    assert theirs["actor"] == f"partner:{UG}" and theirs["transit_id"] == transit_id
    assert [r["transit_id"] for r in ug.records("tracking.transit_discharged")] == [handed.id]
    discharged = ke.records("tracking.transit_discharged")
    assert [(r["transit_id"], r["actor"]) for r in discharged] == [(transit_id, f"partner:{UG}")]
    assert ke.records("federation.guarantee_released")
    # The messages themselves: sent by one, received by the other.
    sent_ke = {r["kind"] for r in ke.records("federation.message_sent")}
    sent_ug = {r["kind"] for r in ug.records("federation.message_sent")}
    assert "transit.handover" in sent_ke
    assert {"transit.accepted", "transit.discharged"} <= sent_ug
    assert {r["kind"] for r in ke.records("federation.message_received")} >= {
        "transit.accepted",
        "transit.discharged",
    }
    _fsck_clean(ke)
    _fsck_clean(ug)


def test_a_bad_alert_in_a_hand_over_is_refused_naming_it(
    pair: tuple[Instance, Instance],  # noqa: F811
) -> None:
    _ke, ug = pair
    transit_id = make_transit(ug.ctx, "SEAL-LOCAL-1")
    with ug.ctx.unit() as unit:
        row = unit.session.get(TransitRow, transit_id)
        partner = unit.session.scalars(select(PartnerRow).where(PartnerRow.name == KE)).one()
        assert row is not None
        with pytest.raises(ValidationFailed) as bad_type:
            recreate_alerts(unit, row, partner, [{"type": "made_up", "severity": "high"}])
        assert bad_type.value.details == [{"field": "body.open_alerts[0].type"}]
        good = {"type": "tamper", "severity": "high"}
        with pytest.raises(ValidationFailed) as bad_time:
            recreate_alerts(unit, row, partner, [good, {**good, "raised_at": "yesterday"}])
        assert bad_time.value.details == [{"field": "body.open_alerts[1].raised_at"}]
