"""``ledger fsck`` on tracking: every alert and transit has the records of its life, and the
latest of them is the state the row is in — whatever is changed behind the services' back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.audit import AuditReport, audit
from smartcustoms.ledger.service import attach_ledger, ledger_of
from smartcustoms.tracking.alerts import acknowledge_alert, escalate_alert, resolve_alert
from smartcustoms.tracking.audit import auditors
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.records import SealEvent
from smartcustoms.tracking.tables import AlertRow
from smartcustoms.tracking.transits import cancel_transit, discharge_transit
from tests.ledger.stored import FAST_MS, sql

from .helpers import import_packaged, incoming, make_transit, position


@pytest.fixture
def actx(settings: Settings) -> Iterator[AppContext]:
    """A context whose events go to its ledger, as in the server and the CLI."""
    ctx = AppContext.from_settings(
        settings.model_copy(update={"ledger_checkpoint_interval_ms": FAST_MS})
    )
    attach_ledger(ctx)
    yield ctx
    ctx.close()


def checked(ctx: AppContext) -> AuditReport:
    ledger_of(ctx).flush()
    return audit(ctx.db, auditors())


def raise_alerts(ctx: AppContext, *devices: str) -> dict[str, int]:
    """A cable-cut alert on each device's transit, raised the real way (the ingest writer)."""
    writer = Ingestor(ctx)
    writer.start()
    try:
        for device in devices:
            done = threading.Event()
            writer.submit(
                [incoming(position(device, events=(SealEvent.CABLE_CUT,)))],
                device,
                lambda ok, done=done: done.set(),
            )
            assert done.wait(10)
    finally:
        writer.stop()
    with ctx.db.session() as session:
        return {r.device_id: r.id for r in session.scalars(select(AlertRow))}


@dataclass
class World:
    transits: dict[str, int]
    alerts: dict[str, int]


@pytest.fixture
def world(actx: AppContext) -> World:
    import_packaged(actx)
    transits = {d: make_transit(actx, d) for d in ("W1", "W2", "W3")}
    transits["W4"] = make_transit(actx, "W4", arm=False)
    alerts = raise_alerts(actx, "W1", "W2", "W3")
    with actx.unit() as unit:
        acknowledge_alert(unit, alerts["W1"], actor="op1")
    with actx.unit() as unit:
        escalate_alert(unit, alerts["W2"], actor="op1", team="Mobile unit Voi")
    with actx.unit() as unit:
        resolve_alert(unit, alerts["W2"], actor="op1", outcome="tampering_confirmed")
    with actx.unit() as unit:
        discharge_transit(unit, transits["W2"], actor="officer", seal_intact=False)
    with actx.unit() as unit:
        cancel_transit(unit, transits["W3"], actor="officer", reason="wrong seal")
    return World(transits, alerts)


def test_untouched_alerts_and_transits_have_their_records(actx: AppContext, world: World) -> None:
    report = checked(actx)
    assert report.ok, report.problems
    assert report.checked == {"alerts": 3, "transits": 4}


def entry_of(ctx: AppContext, kind: str, **fields: object) -> int:
    ledger = ledger_of(ctx)
    return max(
        i
        for i in range(ledger.size())
        if (r := ledger.record(i))["type"] == kind and all(r[k] == v for k, v in fields.items())
    )


def test_what_an_attacker_changes_in_the_tables_is_named(actx: AppContext, world: World) -> None:
    a1, a2, a3 = (world.alerts[d] for d in ("W1", "W2", "W3"))
    t1, t4 = world.transits["W1"], world.transits["W4"]
    ledger_of(actx).flush()
    acknowledged = entry_of(actx, "tracking.alert_acknowledged", alert_id=a1)
    resolved = entry_of(actx, "tracking.alert_resolved", alert_id=a2)
    raised3 = entry_of(actx, "tracking.alert_raised", alert_id=a3)
    db = actx.db
    # Resolved in the table only, and made to look less severe.
    sql(
        db,
        "UPDATE tracking_alerts SET status = 'resolved', outcome = 'false_alarm', "
        "open_key = NULL, severity = 'low' WHERE id = :a",
        a=a1,
    )
    # The outcome of a resolved alert rewritten.
    sql(db, "UPDATE tracking_alerts SET outcome = 'false_alarm' WHERE id = :a", a=a2)
    # An alert made to disappear.
    sql(db, "DELETE FROM tracking_alerts WHERE id = :a", a=a3)
    # A transit discharged in the table only; another put back to "armed".
    sql(db, "UPDATE tracking_transits SET status = 'discharged' WHERE id = :t", t=t1)
    sql(db, "UPDATE tracking_transits SET status = 'armed' WHERE id = :t", t=t4)

    problems = checked(actx).problems
    expected = [
        f"alert {a1}: severity is low in the table but critical in ledger entry "
        f"{entry_of(actx, 'tracking.alert_raised', alert_id=a1)}",
        f"alert {a1} is resolved but the ledger has no tracking.alert_resolved record for it "
        f"(the latest, ledger entry {acknowledged}, says acknowledged)",
        f"alert {a2}: outcome is false_alarm in the table but tampering_confirmed in ledger "
        f"entry {resolved}",
        f"ledger entry {raised3} records alert {a3} (tracking.alert_raised), which "
        "tracking_alerts does not have",
        f"transit {t1} (BRK001-T-W1) is discharged but the ledger has no "
        f"tracking.transit_discharged record for it (the latest, ledger entry "
        f"{entry_of(actx, 'tracking.transit_armed', transit_id=t1)}, says armed)",
        f"transit {t4} (BRK001-T-W4) is armed but the ledger has no tracking.transit_armed "
        f"record for it (the latest, ledger entry "
        f"{entry_of(actx, 'tracking.transit_created', transit_id=t4)}, says created)",
    ]
    assert sorted(problems) == sorted(expected)
