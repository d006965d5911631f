"""Taking forwarded records into the same write path as our own listeners.

A Traccar server posts to the web application, not to a listener, so each web process that
receives forwards runs an ingest writer of its own (:class:`~smartcustoms.tracking.ingest.
Ingestor`) — what ``tracking listen --workers N`` does per process already: the same batched,
de-duplicated store, the same pipeline (transit matching, corridor, rules, alerts with their
ledger records in the same transaction), the same refusal of unknown devices when
``tracking_accept_unknown_devices`` is off. It starts on the first forward and stops, draining
what it holds, when the context closes.

:meth:`TraccarIntake.take` returns once the record is committed — the HTTP answer (Traccar's
acknowledgement, after which it forgets the position) is sent only then — or raises, so that
Traccar retries (``forward.retry.enable``): :class:`UnknownDevice` (403) for a device we do not
take, :class:`~smartcustoms.core.errors.ServiceUnavailable` (503) when the writer is
overloaded, failed or too slow.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any, Final

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Forbidden, ServiceUnavailable
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.traccar.forwarded import (
    Forwarded,
    TraccarFieldError,
    read_event,
    read_position,
)

__all__ = ["PROTOCOL", "IntakeStats", "Receipt", "TraccarIntake", "UnknownDevice", "intake_of"]

log = logging.getLogger("smartcustoms.tracking")

#: The ``protocol`` stored with forwarded positions (Traccar's own is in the attributes).
PROTOCOL: Final = "traccar"
_SERVICE: Final = "tracking.traccar"
_COMMIT_TIMEOUT_S: Final = 30.0


class UnknownDevice(Forbidden):
    """The device is not registered (or disabled) and unknown devices are refused."""

    code = "unknown_device"

    def __init__(self, device_id: str) -> None:
        super().__init__(
            f"device {device_id} is not registered here, and unknown devices are refused",
            details=[{"field": "device.uniqueId", "value": device_id}],
        )


@dataclass
class IntakeStats:
    forwards: int = 0  # requests read
    bad: int = 0  # refused: a field missing, of the wrong type or out of range
    stored: int = 0  # records committed (retransmissions included: the store skips those)
    ignored: int = 0  # events that carry nothing to store
    refused: int = 0  # unknown devices
    failed: int = 0  # not committed: overloaded, write failed, timed out

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Receipt:
    """What a forward came to: the device, the seal events stored (``stored`` false and
    ``ignored`` naming the event type when there was nothing to store)."""

    device_id: str
    stored: bool
    events: tuple[str, ...]
    ignored: str | None


class TraccarIntake:
    """See the module documentation; one per context (:func:`intake_of`)."""

    def __init__(self, ctx: AppContext, *, commit_timeout_s: float = _COMMIT_TIMEOUT_S) -> None:
        settings = ctx.settings
        self.ingestor = Ingestor(
            ctx,
            live_interval_s=settings.tracking_live_interval_s,
            feed_retention_minutes=settings.tracking_feed_retention_minutes,
            accept_unknown_devices=settings.tracking_accept_unknown_devices,
        )
        self.stats = IntakeStats()
        self.commit_timeout_s = commit_timeout_s

    async def receive(self, body: Any, *, event: bool) -> Receipt:
        """Read a forwarded body (an ``EventData`` when ``event``, else a ``PositionData``)
        and :meth:`take` it."""
        try:
            forwarded = (read_event if event else read_position)(body, clock.now())
        except TraccarFieldError:
            self.stats.forwards += 1
            self.stats.bad += 1
            raise
        stored = await self.take(forwarded)
        record = forwarded.record
        found = tuple(e.value for e in record.events) if record is not None else ()
        return Receipt(forwarded.device_id, stored, found, forwarded.ignored)

    async def take(self, forwarded: Forwarded) -> bool:
        """Store ``forwarded``'s record and run the pipeline on it; ``False`` when there was
        nothing to store. Returns only after the commit."""
        self.stats.forwards += 1
        record = forwarded.record
        if record is None:
            self.stats.ignored += 1
            return False
        ingestor = self.ingestor
        if not ingestor.allows(forwarded.device_id):
            self.stats.refused += 1
            log.warning(
                "traccar forward: unknown device %r (named %r in Traccar) refused",
                forwarded.device_id,
                forwarded.device_name,
            )
            raise UnknownDevice(forwarded.device_id)
        if ingestor.overloaded:
            self.stats.failed += 1
            raise ServiceUnavailable("the tracking writer is busy; retry later")
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[bool] = loop.create_future()

        def done(stored: bool) -> None:  # runs in this loop, after the commit (or failure)
            if not committed.done():
                committed.set_result(stored)

        ingestor.submit_records((record,), clock.now(), PROTOCOL, forwarded.device_id, done, loop)
        try:
            stored = await asyncio.wait_for(asyncio.shield(committed), self.commit_timeout_s)
        except TimeoutError:
            stored = False
        if not stored:
            self.stats.failed += 1
            raise ServiceUnavailable("the position could not be stored; retry later")
        self.stats.stored += 1
        return True

    def stop(self) -> None:
        self.ingestor.stop()


_LOCK = threading.Lock()


def intake_of(ctx: AppContext) -> TraccarIntake:
    """The context's intake, started on first use and stopped when the context closes."""
    intake = ctx.services.get(_SERVICE)
    if intake is None:
        with _LOCK:
            intake = ctx.services.get(_SERVICE)
            if intake is None:
                intake = TraccarIntake(ctx)
                intake.ingestor.start()
                ctx.services[_SERVICE] = intake
                ctx.on_close(intake.stop)
    assert isinstance(intake, TraccarIntake)
    return intake
