"""From a ledger record to a delivered e-mail: rules, escalation, de-duplication, quiet hours,
states, at-least-once reading — on SQLite and PostgreSQL, with a real SMTP server."""

from __future__ import annotations

from sqlalchemy import select, update

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import AdminAction
from smartcustoms.core.roles import Role
from smartcustoms.interop.notify.contacts import set_contact
from smartcustoms.interop.notify.cursor import CURSOR
from smartcustoms.interop.notify.notifier import Notifier
from smartcustoms.interop.notify.rules import add_rule
from smartcustoms.interop.notify.tables import NotificationRow, NotifyCursor, NotifyWatch
from smartcustoms.ledger.service import ledger_of
from smartcustoms.tracking.events import AlertAcknowledged, AlertRaised
from tests.conftest import add_user
from tests.interop.notify.conftest import Clock
from tests.interop.notify.servers import SmtpServer


def _alert(alert_id: int, *, transit_id: int = 1, severity: str = "critical") -> AlertRaised:
    return AlertRaised(
        actor="pipeline",
        alert_id=alert_id,
        transit_id=transit_id,
        reference="T-42",
        device_id="EL-1",
        alert_type="seal_opened",
        severity=severity,
        occurred_at="2026-12-06T09:59:00+00:00",
    )


def _people(ctx: AppContext) -> None:
    add_user(ctx, "op1", Role.COMMAND_CENTRE_OPERATOR)
    add_user(ctx, "op2", Role.COMMAND_CENTRE_OPERATOR)
    add_user(ctx, "chief", Role.SUPERVISOR)
    with ctx.unit() as unit:
        set_contact(unit, "op1", email="op1@customs.example", phone=None, office=None,
                    quiet_start="00:00", quiet_end="23:59", actor="test")  # fmt: skip
        set_contact(unit, "chief", email="chief@customs.example", phone="+254 700 000 002",
                    office=None, quiet_start=None, quiet_end=None, actor="test")  # fmt: skip
        # op2 has no contact: recorded as dead, "no e-mail address on file"
        add_rule(unit, trigger="alert_critical", role="command_centre_operator",
                 channels=["email"], actor="admin")  # fmt: skip
        add_rule(unit, trigger="alert_critical", username="chief", channels=["email"],
                 after_minutes=10, actor="admin")  # fmt: skip


def _emit(ctx: AppContext, *events: object) -> None:
    ctx.record(*events)  # type: ignore[arg-type]
    ledger_of(ctx).flush()


def _rows(ctx: AppContext) -> list[NotificationRow]:
    with ctx.db.session() as session:  # committed, not rolled back: the rows stay loaded
        return list(session.scalars(select(NotificationRow).order_by(NotificationRow.id)))


def test_critical_alert_is_told_escalated_and_the_chain_stops(
    notify_ctx: AppContext, mail: SmtpServer, moving_clock: Clock
) -> None:
    ctx = notify_ctx
    _people(ctx)
    notifier = Notifier(ctx)
    _emit(ctx, _alert(7), _alert(8, severity="medium"))
    tick = notifier.tick()
    assert tick.read >= 2 and tick.queued == 2 and tick.delivered.sent == 1
    op1, op2 = _rows(ctx)
    # Quiet hours all day long, yet a critical alert goes out at once.
    assert (op1.username, op1.state, op1.tries) == ("op1", "sent", 1)
    assert (op2.username, op2.state, op2.last_error) == ("op2", "dead", "no e-mail address on file")
    assert op1.title == "Critical alert seal_opened on transit T-42"
    assert [m.rcpt_tos for m in mail.mailbox.messages] == [["op1@customs.example"]]

    moving_clock.advance(minutes=9)
    assert notifier.tick().escalated == 0  # not yet
    moving_clock.advance(minutes=2)
    assert notifier.tick().escalated == 1
    chief = _rows(ctx)[-1]
    assert (chief.username, chief.step, chief.state) == ("chief", 10, "sent")
    assert chief.title.startswith("Still waiting after 10 min: Critical alert")
    assert notifier.tick().escalated == 0  # each step fires once

    # Acknowledged: the watch closes, so a later alert's chain is the only one left.
    _emit(ctx, AlertAcknowledged(actor="op1", alert_id=7, elapsed_ms=660_000))
    notifier.tick()
    with ctx.db.read_session() as session:
        watch = session.scalars(select(NotifyWatch).where(NotifyWatch.subject == "alert:7")).one()
        assert watch.closed_at is not None


def test_acknowledgement_cancels_a_pending_escalation(
    notify_ctx: AppContext, mail: SmtpServer, moving_clock: Clock
) -> None:
    ctx = notify_ctx
    _people(ctx)
    notifier = Notifier(ctx)
    with ctx.unit() as unit:  # the chief is in quiet hours now, but escalations are urgent
        set_contact(unit, "chief", email=None, phone=None, office=None, quiet_start=None,
                    quiet_end=None, actor="test")  # fmt: skip
    _emit(ctx, _alert(9))
    notifier.tick()
    moving_clock.advance(minutes=11)
    notifier.tick()
    assert _rows(ctx)[-1].state == "dead"  # the chief had no address: recorded, not sent
    _emit(ctx, _alert(10))
    notifier.tick()
    with ctx.db.session() as session:  # an escalation row waiting for its retry …
        session.execute(
            update(NotificationRow)
            .where(NotificationRow.subject == "alert:10")
            .values(state="failed", address="x@customs.example", step=10)
        )
    _emit(ctx, AlertAcknowledged(actor="op1", alert_id=10, elapsed_ms=1000))
    tick = notifier.tick()
    assert tick.cancelled >= 1  # … is cancelled once the alert is acknowledged
    assert {r.state for r in _rows(ctx) if r.subject == "alert:10"} == {"cancelled"}


def test_same_matter_within_the_window_is_told_once(
    notify_ctx: AppContext, mail: SmtpServer, moving_clock: Clock
) -> None:
    ctx = notify_ctx
    _people(ctx)
    notifier = Notifier(ctx)
    _emit(ctx, _alert(11, transit_id=5))
    notifier.tick()
    moving_clock.advance(minutes=3)
    _emit(ctx, _alert(12, transit_id=5))  # raised again on the same transit, same type
    notifier.tick()
    mine = [r for r in _rows(ctx) if r.username == "op1"]
    assert [r.state for r in mine] == ["sent", "suppressed"]
    assert mine[1].last_error == f"same matter told in notification {mine[0].id}"
    moving_clock.advance(minutes=20)  # past the window: told again
    _emit(ctx, _alert(13, transit_id=5))
    notifier.tick()
    assert [r.state for r in _rows(ctx) if r.username == "op1"][-1] == "sent"
    told = [m for m in mail.mailbox.messages if m.rcpt_tos == ["op1@customs.example"]]
    assert len(told) == 2


def test_quiet_hours_hold_what_can_wait(
    notify_ctx: AppContext, mail: SmtpServer, moving_clock: Clock
) -> None:
    ctx = notify_ctx
    add_user(ctx, "sup", Role.SUPERVISOR)
    with ctx.unit() as unit:
        # 10:00 UTC is 13:00 in Nairobi, inside 12:30-14:00 local.
        set_contact(unit, "sup", email="sup@customs.example", phone=None, office=None,
                    quiet_start="12:30", quiet_end="14:00", timezone="Africa/Nairobi",
                    actor="test")  # fmt: skip
        add_rule(unit, trigger="rule_approval", role="supervisor", channels=["email"],
                 actor="admin")  # fmt: skip
    notifier = Notifier(ctx)
    _emit(ctx, AdminAction(actor="analyst", action="risk_rule_proposed", target="Undervalued@1"))
    notifier.tick()
    (row,) = _rows(ctx)
    assert row.state == "queued" and row.next_attempt_at.isoformat() == "2026-12-06T11:00:00+00:00"
    assert mail.mailbox.messages == []
    moving_clock.advance(hours=1)
    assert notifier.tick().delivered.sent == 1
    assert "Undervalued@1" in mail.mailbox.texts()[0]


def test_a_matter_settled_in_the_same_batch_waits_for_nobody(
    notify_ctx: AppContext, mail: SmtpServer
) -> None:
    # A rule proposed and approved in one transaction (the demo's, an import of rules) never
    # tells a supervisor that it waits for approval.
    ctx = notify_ctx
    add_user(ctx, "sup", Role.SUPERVISOR)
    with ctx.unit() as unit:
        set_contact(unit, "sup", email="sup@customs.example", phone=None, office=None,
                    quiet_start=None, quiet_end=None, actor="test")  # fmt: skip
        add_rule(unit, trigger="rule_approval", role="supervisor", channels=["email"],
                 actor="admin")  # fmt: skip
    notifier = Notifier(ctx)
    _emit(
        ctx,
        AdminAction(actor="analyst", action="risk_rule_proposed", target="Settled@1"),
        AdminAction(actor="supervisor", action="risk_rule_approved", target="Settled@1"),
    )
    notifier.tick()
    assert _rows(ctx) == []
    # One approved later, in another batch, was told while it waited.
    _emit(ctx, AdminAction(actor="analyst", action="risk_rule_proposed", target="Later@1"))
    notifier.tick()
    _emit(ctx, AdminAction(actor="supervisor", action="risk_rule_approved", target="Later@1"))
    notifier.tick()
    assert [r.subject for r in _rows(ctx)] == ["rule:Later@1"]


def test_unreachable_smtp_retries_with_back_off_then_dead(
    notify_ctx: AppContext, moving_clock: Clock
) -> None:
    ctx = notify_ctx
    ctx.settings.notify_smtp_port = 1  # nothing listens there
    _people(ctx)
    notifier = Notifier(ctx)
    _emit(ctx, _alert(20))  # recording an alert never waits for the mail server
    notifier.tick()
    row = next(r for r in _rows(ctx) if r.username == "op1")
    assert (row.state, row.tries) == ("failed", 1) and "cannot reach" in (row.last_error or "")
    assert (row.next_attempt_at - moving_clock.now).total_seconds() == 60
    moving_clock.advance(seconds=61)
    notifier.tick()
    row = next(r for r in _rows(ctx) if r.username == "op1")
    assert (row.state, row.tries) == ("failed", 2)
    assert (row.next_attempt_at - moving_clock.now).total_seconds() == 120  # doubled
    moving_clock.advance(seconds=121)
    notifier.tick()
    assert next(r for r in _rows(ctx) if r.username == "op1").state == "dead"  # 3 tries


def test_reading_the_ledger_again_queues_nothing_twice(
    notify_ctx: AppContext, mail: SmtpServer, moving_clock: Clock
) -> None:
    ctx = notify_ctx
    _people(ctx)
    notifier = Notifier(ctx)
    with ctx.db.read_session() as session:
        start = session.scalar(select(NotifyCursor.position).where(NotifyCursor.name == CURSOR))
    _emit(ctx, _alert(30))
    notifier.tick()
    before = [(r.id, r.state) for r in _rows(ctx)]
    with ctx.db.session() as session:  # as if the notifier died before its cursor moved
        session.execute(update(NotifyCursor).values(position=start))
    tick = notifier.tick()
    assert tick.read >= 1 and tick.queued == 0
    assert [(r.id, r.state) for r in _rows(ctx)] == before
    assert len(mail.mailbox.messages) == 1


def test_no_rule_no_reading(notify_ctx: AppContext) -> None:
    """Before the first rule the notifier holds no cursor: it never replays the past."""
    notifier = Notifier(notify_ctx)
    _emit(notify_ctx, _alert(40))
    assert notifier.tick().read == 0
    with notify_ctx.db.read_session() as session:
        assert session.scalar(select(NotifyCursor.position)) is None


def test_two_notifiers_send_each_message_once(
    notify_ctx: AppContext, mail: SmtpServer, moving_clock: Clock
) -> None:
    """Two web workers, each with its notifier, on one database: every notification is
    queued once and sent once (cursor lock, unique keys, claims)."""
    import threading

    ctx = notify_ctx
    _people(ctx)
    other = AppContext.from_settings(ctx.settings)
    try:
        first, second = Notifier(ctx), Notifier(other)
        _emit(ctx, *[_alert(100 + n, transit_id=100 + n) for n in range(20)])
        errors: list[BaseException] = []

        def run(notifier: Notifier) -> None:
            try:
                for _ in range(3):
                    notifier.tick()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(n,)) for n in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors
        sent = [r for r in _rows(ctx) if r.state == "sent"]
        assert len(sent) == 20 and len({r.key for r in _rows(ctx)}) == len(_rows(ctx))
        assert len(mail.mailbox.messages) == 20
    finally:
        other.close()


def test_a_hanging_smtp_server_holds_no_lock(notify_ctx: AppContext, moving_clock: Clock) -> None:
    """While the notifier waits on an SMTP server that accepted the connection but never
    answers, units of work and the ledger's sequencer write as usual: no transaction is open
    during a send."""
    import socket
    import threading
    import time

    from tests.waiting import wait_for

    ctx = notify_ctx
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # the kernel completes the handshake; nobody says "220"
        ctx.settings.notify_smtp_port = listener.getsockname()[1]
        _people(ctx)
        notifier = Notifier(ctx)
        _emit(ctx, _alert(60))
        sending = threading.Thread(target=notifier.tick)
        sending.start()
        wait_for(lambda: any(r.state == "sending" for r in _rows(ctx)), 10)
        started = time.monotonic()
        add_user(ctx, "late", Role.SUPERVISOR)  # a write transaction
        _emit(ctx, AdminAction(actor="analyst", action="risk_rule_proposed", target="R@1"))
        assert time.monotonic() - started < 5  # nothing waited for the mail server
        assert sending.is_alive()  # … which still has not answered
        connection, _ = listener.accept()
        connection.close()  # now it hangs up: the send fails and is recorded
        sending.join(30)
    row = next(r for r in _rows(ctx) if r.username == "op1")
    assert row.state == "failed" and row.tries == 1
