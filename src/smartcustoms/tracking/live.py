"""The live stream: each web process reads the feed (:mod:`.feed`) and fans it out to its
command-centre browsers.

One :class:`LiveHub` per process polls ``tracking_feed`` every ``poll_s`` while anyone is
subscribed (one query per poll, however many browsers), and puts each new entry on every
subscriber's queue. A subscriber that cannot keep up (its queue is full) is dropped; its browser
reconnects and resumes from the last entry it saw (``Last-Event-ID``), which the feed still has.

PostgreSQL hands out ids in insert order but commits in any order, so an id can become visible
after a higher one was read. The hub remembers the ids it skipped over and asks for them again
for a few seconds (SQLite, with one writer at a time, never skips).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import func, select

from smartcustoms.core.db import Database
from smartcustoms.tracking.feed import feed_since
from smartcustoms.tracking.tables import FeedRow

__all__ = ["LiveEntry", "LiveHub", "Subscription"]

log = logging.getLogger("smartcustoms.tracking.live")

_GAP_WAIT_S: Final = 5.0
_QUEUE: Final = 2000
_BACKLOG: Final = 5000


@dataclass(frozen=True, slots=True)
class LiveEntry:
    id: int
    kind: str
    payload: str  # JSON

    def sse(self) -> str:
        """The entry as one server-sent event."""
        return f"id: {self.id}\nevent: {self.kind}\ndata: {self.payload}\n\n"


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[LiveEntry | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=_QUEUE)
    )
    backlog: Sequence[LiveEntry] = ()
    dropped: bool = False


class LiveHub:
    def __init__(self, db: Database, poll_s: float = 0.25) -> None:
        self.db = db
        self.poll_s = poll_s
        self.subscribers: set[Subscription] = set()
        self.last_id: int | None = None
        self._gaps: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def subscribe(self, after: int | None = None) -> Subscription:
        """A new subscriber; with ``after``, the entries after that id come first."""
        if self.last_id is None:
            self.last_id = await asyncio.to_thread(self._max_id)
        backlog: list[LiveEntry] = []
        if after is not None and after < self.last_id:
            rows = await asyncio.to_thread(self._read, after, ())
            backlog = [LiveEntry(i, k, p) for i, k, p in rows if i <= self.last_id]
        sub = Subscription(backlog=backlog)
        self.subscribers.add(sub)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)

    async def close(self) -> None:
        for sub in list(self.subscribers):
            self._drop(sub)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # -- polling -------------------------------------------------------------------------------

    def _max_id(self) -> int:
        with self.db.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(FeedRow.id), 0))).scalar_one())

    def _read(self, after: int, also: Sequence[int]) -> list[tuple[int, str, str]]:
        with self.db.engine.connect() as conn:
            rows = feed_since(conn, after, also=also, limit=_BACKLOG)
        return [(i, kind, payload) for i, _, kind, payload in rows]

    async def _poll(self) -> None:
        while self.subscribers:
            await asyncio.sleep(self.poll_s)
            try:
                await self._once()
            except Exception:
                log.exception("reading the live feed failed; trying again")
                await asyncio.sleep(1.0)

    async def _once(self) -> None:
        assert self.last_id is not None
        now = time.monotonic()
        for gap, since in list(self._gaps.items()):
            if now - since > _GAP_WAIT_S:
                del self._gaps[gap]
        rows = await asyncio.to_thread(self._read, self.last_id, sorted(self._gaps))
        for entry_id, kind, payload in rows:
            if entry_id <= self.last_id:
                if self._gaps.pop(entry_id, None) is None:
                    continue  # already sent
            else:
                for missing in range(self.last_id + 1, min(entry_id, self.last_id + 1000)):
                    self._gaps.setdefault(missing, now)
                self.last_id = entry_id
            self._fan_out(LiveEntry(entry_id, kind, payload))

    def _fan_out(self, entry: LiveEntry) -> None:
        for sub in list(self.subscribers):
            try:
                sub.queue.put_nowait(entry)
            except asyncio.QueueFull:
                log.warning("a live subscriber fell behind; dropping it (it will resume)")
                self._drop(sub)

    def _drop(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)
        sub.dropped = True
        with contextlib.suppress(asyncio.QueueFull):
            while sub.queue.full():
                sub.queue.get_nowait()
            sub.queue.put_nowait(None)
