"""The event bus: single subscribers see every event in order; batch subscribers see one
publish_all's share in one call; a unit of work publishes its events together, after commit."""

from __future__ import annotations

from collections.abc import Sequence

from smartcustoms.core.events import AdminAction, Event, EventBus, UserLoggedOut


def test_single_and_batch_subscribers() -> None:
    bus = EventBus()
    singles: list[str] = []
    batches: list[list[str]] = []
    logouts: list[list[str]] = []

    def batch(events: Sequence[Event]) -> None:
        batches.append([e.actor for e in events])

    def only_logouts(events: Sequence[UserLoggedOut]) -> None:
        logouts.append([e.actor for e in events])

    bus.subscribe(Event, lambda e: singles.append(e.actor))
    bus.subscribe_batch(Event, batch)
    bus.subscribe_batch(UserLoggedOut, only_logouts)
    bus.publish_all([AdminAction(actor="a", action="x"), UserLoggedOut(actor="b")])
    bus.publish(AdminAction(actor="c", action="y"))
    assert singles == ["a", "b", "c"]
    assert batches == [["a", "b"], ["c"]]
    assert logouts == [["b"]]  # and no call at all for a publish with none
    bus.unsubscribe(batch)
    bus.publish(UserLoggedOut(actor="d"))
    assert batches == [["a", "b"], ["c"]] and logouts == [["b"], ["d"]]
