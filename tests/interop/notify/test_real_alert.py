"""A real alert from the tracking pipeline (a cut cable reported by a device on a transit from
KEMBA to UGKLA) reaches the operator of an office on the transit, not the one elsewhere, and
the operator's acknowledgement through the alert workflow ends the escalation chain."""

from __future__ import annotations

import threading

from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.interop.notify.contacts import set_contact
from smartcustoms.interop.notify.notifier import Notifier
from smartcustoms.interop.notify.rules import add_rule
from smartcustoms.interop.notify.tables import NotificationRow, NotifyWatch
from smartcustoms.ledger.service import ledger_of
from smartcustoms.tracking.alerts import acknowledge_alert
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.records import SealEvent
from smartcustoms.tracking.tables import AlertRow
from tests.conftest import add_user
from tests.interop.notify.conftest import Clock
from tests.interop.notify.servers import SmtpServer
from tests.tracking.helpers import import_packaged, incoming, make_transit, position


def test_pipeline_alert_by_office_and_acknowledged(
    notify_ctx: AppContext, mail: SmtpServer, moving_clock: Clock
) -> None:
    ctx = notify_ctx
    for name, office in (("kemba-op", "KEMBA"), ("dar-op", "TZDAR"), ("hq-op", None)):
        add_user(ctx, name, Role.COMMAND_CENTRE_OPERATOR)
        with ctx.unit() as unit:
            set_contact(unit, name, email=f"{name}@customs.example", phone=None, office=office,
                        quiet_start=None, quiet_end=None, actor="test")  # fmt: skip
    add_user(ctx, "duty-chief", Role.SUPERVISOR)
    with ctx.unit() as unit:
        set_contact(unit, "duty-chief", email="chief@customs.example", phone=None, office=None,
                    quiet_start=None, quiet_end=None, actor="test")  # fmt: skip
        add_rule(unit, trigger="alert_critical", role="command_centre_operator",
                 channels=["email"], actor="admin")  # fmt: skip
        add_rule(unit, trigger="alert_critical", username="duty-chief", channels=["email"],
                 after_minutes=5, actor="admin")  # fmt: skip
    notifier = Notifier(ctx)

    import_packaged(ctx)
    make_transit(ctx, "N1")
    writer = Ingestor(ctx)
    writer.start()
    done = threading.Event()
    writer.submit(
        [incoming(position("N1", events=(SealEvent.CABLE_CUT,)))], "N1", lambda ok: done.set()
    )
    assert done.wait(10)
    writer.stop()
    ledger_of(ctx).flush()
    notifier.tick()
    with ctx.db.session() as session:
        told = sorted(session.scalars(select(NotificationRow.username)))
        alert_id = session.scalars(select(AlertRow.id)).one()
    assert told == ["hq-op", "kemba-op"]  # the Dar es Salaam operator is not on this transit
    assert sorted(m.rcpt_tos[0] for m in mail.mailbox.messages) == [
        "hq-op@customs.example",
        "kemba-op@customs.example",
    ]

    with ctx.unit() as unit:
        acknowledge_alert(unit, alert_id, actor="kemba-op")
    ledger_of(ctx).flush()
    notifier.tick()
    moving_clock.advance(minutes=6)
    assert notifier.tick().escalated == 0  # acknowledged in time: the chief is not woken
    with ctx.db.session() as session:
        watch = session.scalars(select(NotifyWatch)).one()
        assert watch.closed_at is not None and watch.subject == f"alert:{alert_id}"
