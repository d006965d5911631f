"""Delivery from the outbox to a real HTTP receiver: signed, in order per subject after an
outage, retried with back-off, dead-lettered after the bounded tries, replayed; never in the
way of lodging; one deliverer per database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import UserLoggedOut
from smartcustoms.interop.webhooks import subscriptions
from smartcustoms.interop.webhooks.deliverer import RetryPolicy
from smartcustoms.interop.webhooks.service import WebhookService, attach_webhooks
from smartcustoms.interop.webhooks.tables import WebhookDelivery
from tests.interop.webhooks.conftest import decide, lane_event
from tests.interop.webhooks.receiver import Receiver
from tests.waiting import wait_for


def rows(ctx: AppContext) -> list[WebhookDelivery]:
    with ctx.db.read_session() as session:
        found = list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        session.expunge_all()  # keep them readable after the read's rollback
    return found


def test_lane_decision_arrives_signed_as_the_standard_says(
    ctx: AppContext, hooks: WebhookService, subscription: tuple[int, str], receiver: Receiver
) -> None:
    hooks.start()
    decide(ctx, 7)
    wait_for(lambda: len(receiver.received) == 1, message="the receiver got the decision")
    got = receiver.received[0]
    # An independent verifier: the standardwebhooks package checks id.timestamp.body HMAC.
    payload = Webhook(subscription[1]).verify(got.body, got.headers)
    assert payload["type"] == "declaration.lane_decided"
    assert payload["subject"] == "declaration:7"
    assert payload["data"]["lane"] == "red"
    assert payload["data"]["rules"] == ["HS 8703 undervalued"]
    assert "actor" not in payload["data"]  # who decided stays inside
    with pytest.raises(Exception, match="signature"):
        Webhook(subscription[1]).verify(got.body.replace(b"red", b"green"), got.headers)
    wait_for(lambda: rows(ctx)[0].status == "delivered", message="marked delivered")
    (row,) = rows(ctx)
    assert row.attempts == 1
    assert row.message_id == got.headers["webhook-id"]
    assert got.headers["content-type"] == "application/json"


def test_a_rolled_back_decision_is_never_sent(
    ctx: AppContext, hooks: WebhookService, subscription: tuple[int, str]
) -> None:
    with pytest.raises(RuntimeError), ctx.unit() as unit:
        unit.emit(lane_event(1))
        raise RuntimeError("lodging failed after the decision")
    assert rows(ctx) == []


def test_receiver_down_then_back_gets_everything_in_order_per_subject(
    ctx: AppContext, hooks: WebhookService, subscription: tuple[int, str], receiver: Receiver
) -> None:
    hooks.policy = RetryPolicy(base=0.02, cap=0.1, max_attempts=1000)  # never dead here
    hooks.start()
    receiver.stop()
    for seq in range(4):
        decide(ctx, 1, seq)
        decide(ctx, 2, seq)
    # Retries happen, with back-off, while it is down (only a probe spends its tries).
    wait_for(lambda: max(r.attempts for r in rows(ctx)) >= 3, message="retried while down")
    assert all(r.status == "pending" for r in rows(ctx))
    assert receiver.received == []
    receiver.start()
    wait_for(lambda: all(r.status == "delivered" for r in rows(ctx)), message="all delivered")
    per_subject: dict[str, list[str]] = {}
    for body in receiver.bodies():
        per_subject.setdefault(body["subject"], []).append(body["data"]["model_version"])
    assert per_subject == {
        "declaration:1": ["m0", "m1", "m2", "m3"],
        "declaration:2": ["m0", "m1", "m2", "m3"],
    }
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert sorted(ids) == sorted(r.message_id for r in rows(ctx))


def test_dead_letter_after_the_bounded_tries_then_replay(
    ctx: AppContext, hooks: WebhookService, subscription: tuple[int, str], receiver: Receiver
) -> None:
    hooks.start()
    receiver.status = 500
    decide(ctx, 3, 0)
    wait_for(lambda: rows(ctx)[0].status == "dead", message="the delivery went dead")
    (dead,) = rows(ctx)
    assert dead.attempts == ctx.settings.webhook_max_attempts == 4
    assert dead.last_status == 500
    assert dead.last_error == "HTTP 500"
    receiver.status = 204
    # A dead letter does not hold its subject: the next decision about it goes out.
    decide(ctx, 3, 1)
    wait_for(lambda: len(receiver.received) == 1, message="the next one was delivered")
    with ctx.unit() as unit:
        subscriptions.replay_delivery(unit, dead.id, actor="admin")
    wait_for(lambda: len(receiver.received) == 2, message="the replay was delivered")
    replayed = receiver.received[1]
    assert replayed.headers["webhook-id"] == dead.message_id  # the same message, again
    Webhook(subscription[1]).verify(replayed.body, replayed.headers)
    # The receiver has the body before the deliverer has read its answer and marked the row.
    wait_for(
        lambda: all(r.status == "delivered" for r in rows(ctx)), message="both marked delivered"
    )


def test_a_hung_receiver_never_blocks_lodging(
    ctx: AppContext, hooks: WebhookService, subscription: tuple[int, str], receiver: Receiver
) -> None:
    hooks.start()
    receiver.hold = threading.Event()
    try:
        decide(ctx, 1)
        wait_for(lambda: rows(ctx)[0].attempts == 0 and _in_flight(receiver))
        for n in range(2, 52):  # the receiver is still hanging on the first request
            decide(ctx, n)
        assert not receiver.hold.is_set()
        with ctx.db.read_session() as session:
            queued = session.scalar(select(func.count()).select_from(WebhookDelivery))
        assert queued == 51
    finally:
        receiver.hold.set()
    wait_for(lambda: len(receiver.received) == 51, message="everything once released")


def _in_flight(receiver: Receiver) -> bool:
    return bool(receiver._connections)


def test_one_deliverer_per_database(
    ctx: AppContext, hooks: WebhookService, subscription: tuple[int, str], receiver: Receiver
) -> None:
    other = AppContext.from_settings(ctx.settings)
    try:
        second = attach_webhooks(other)
        hooks.start()
        wait_for(lambda: hooks.deliverer.is_leader or second.deliverer.is_leader)
        decide(ctx, 1)
        wait_for(lambda: len(receiver.received) == 1)
        assert hooks.deliverer.is_leader != second.deliverer.is_leader
    finally:
        other.close()
    # The survivor takes over once the other process is gone.
    wait_for(lambda: hooks.deliverer.is_leader, message="the lease passed on")
    decide(ctx, 2)
    wait_for(lambda: len(receiver.received) == 2)


def test_only_a_commit_that_queued_a_delivery_wakes_the_deliverer(
    ctx: AppContext, hooks: WebhookService, subscription: tuple[int, str]
) -> None:
    # Not started: a wake stays set until the deliverer's thread would have cleared it.
    woken = hooks.deliverer._worker._wake
    with ctx.unit() as unit:  # an event no webhook carries
        unit.emit(UserLoggedOut(actor="officer"))
    assert not woken.is_set()
    decide(ctx, 3)
    assert woken.is_set()
