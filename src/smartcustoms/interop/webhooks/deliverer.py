"""The delivery worker: sends the webhook outbox, in order per subject, at least once.

One thread per process, but only the lease holder (see :mod:`.lease`) sends
(:class:`smartcustoms.ledger.leased_worker.LeasedWorker`). Each pass:

1. for each active subscription, read its *due* pending deliveries (``next_attempt_at`` passed)
   in id order — the commit order;
2. keep a subject only if its first due delivery is the subject's oldest pending one (an
   older one is waiting for its retry: nothing newer about that subject may overtake it);
3. send the subjects concurrently (``webhook_concurrency`` persistent connections), each
   subject's deliveries one after another, stopping at its first failure;
4. write the outcomes in one transaction: delivered; or failed, with the next try after an
   exponential back-off with jitter (the subject's later deliveries wait with it); or dead
   after ``webhook_max_attempts`` tries, which releases the subject.

A delivery is marked delivered only after the receiver answered 2xx, so a process killed
mid-pass leaves it pending and the next deliverer sends it again with the same ``webhook-id``
(receivers deduplicate on it, as the specification recommends).

When no delivery of a subscription succeeded in a pass and some failed, the receiver is taken
to be down: the subscription pauses until the earliest retry, then sends a single *probe*
delivery; the first success resumes full speed. So a receiver that is down for ten minutes
costs one request per back-off step, not one per queued message, and only the probe's
delivery spends its tries; once the receiver is back, everything queued follows in order.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import Connection, Row, bindparam, delete, func, select, update

from smartcustoms import __version__
from smartcustoms.core import clock
from smartcustoms.core.db import Database
from smartcustoms.interop.webhooks import transport
from smartcustoms.interop.webhooks.metrics import WebhookMetrics
from smartcustoms.interop.webhooks.signing import Sealer, headers
from smartcustoms.interop.webhooks.tables import (
    DEAD,
    DELIVERED,
    PENDING,
    WebhookDelivery,
    WebhookSubscription,
)
from smartcustoms.ledger.leader import Lease
from smartcustoms.ledger.leased_worker import IDLE_POLL_S, LeasedWorker

__all__ = ["Deliverer", "Outcome", "RetryPolicy"]

log = logging.getLogger("smartcustoms.webhooks")

#: Delivered rows are kept this long for the deliveries page, then purged.
RETENTION = timedelta(days=7)
PURGE_EVERY = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    base: float  # seconds before the second try
    cap: float  # longest wait
    max_attempts: int

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Wait after the ``attempts``-th failed try: doubling from ``base`` up to ``cap``,
        half of it random ("equal jitter"), so receivers coming back are not hit in step and
        a wait never shrinks to nothing."""
        step = min(self.cap, self.base * 2.0 ** min(attempts - 1, 60))
        return step / 2 + rng.uniform(0, step / 2)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    error: str | None


#: A pending delivery as read for sending: id, subject, message id, payload, attempts, created.
_DRow = Row[int, str, str, str, int, datetime]


@dataclass(frozen=True)
class _Subscription:
    id: int
    url: str
    secret: str


@dataclass
class _Result:
    subscription_id: int
    row: _DRow
    outcome: Outcome
    at: datetime = field(default_factory=clock.now)


_Group = tuple[_Subscription, list[_DRow]]


class Deliverer:
    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        policy: RetryPolicy,
        lease: Lease,
        metrics: WebhookMetrics,
        *,
        timeout: float = 10.0,
        concurrency: int = 16,
        batch: int = 2000,
        idle_poll: float = IDLE_POLL_S,
    ) -> None:
        self._db = db
        self._sealer = sealer
        self._policy = policy
        self._metrics = metrics
        self._timeout = timeout
        self._concurrency = concurrency
        self._batch = batch
        self._agent = f"smartcustoms-webhooks/{__version__}"
        self._rng = random.Random()  # noqa: S311 - jitter, not security
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._opened: list[transport.Connection] = []  # every sending thread's, to close
        self._opened_lock = threading.Lock()
        self._secrets: dict[tuple[int, bytes], str] = {}
        self._paused: dict[int, float] = {}  # subscription → time.monotonic() it may resume
        self._probing: set[int] = set()
        self._next_purge = 0.0
        self._worker = LeasedWorker(
            "smartcustoms-webhook-deliverer",
            lease,
            self.deliver_once,
            log=log,
            idle_poll=idle_poll,
            on_lease_change=self._lease_changed,
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="webhook-send")
        self._worker.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._worker.stop(timeout, before_release=self._close)

    def _close(self) -> None:
        """The sending threads and their kept-alive connections, once the pass has ended."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

    def _lease_changed(self, held: bool) -> None:
        # Back-off pauses are the holder's memory: a new holder starts from the database.
        self._paused.clear()
        self._probing.clear()
        self._metrics.leader.set(1 if held else 0)

    def wake(self) -> None:
        """New deliveries may be queued: look now rather than at the next poll."""
        self._worker.wake()

    def resume(self, subscription_id: int) -> None:
        """Try a subscription at once (an administrator replayed): end its back-off pause."""
        self._paused.pop(subscription_id, None)
        self._worker.wake()

    @property
    def is_leader(self) -> bool:
        return self._worker.is_leader

    # -- one pass ------------------------------------------------------------------------------

    def deliver_once(self) -> int:
        """Send what is due; return how many deliveries were tried."""
        now = clock.now()
        mono = time.monotonic()
        groups: list[_Group] = []
        with self._db.engine.connect() as conn:
            subs = self._subscriptions(conn)
            for sub in subs:
                if self._paused.get(sub.id, 0.0) > mono:
                    continue
                probing = sub.id in self._probing
                rows = conn.execute(
                    select(
                        WebhookDelivery.id,
                        WebhookDelivery.subject,
                        WebhookDelivery.message_id,
                        WebhookDelivery.payload,
                        WebhookDelivery.attempts,
                        WebhookDelivery.created_at,
                    )
                    .where(
                        WebhookDelivery.subscription_id == sub.id,
                        WebhookDelivery.status == PENDING,
                        WebhookDelivery.next_attempt_at <= now,
                    )
                    .order_by(WebhookDelivery.id)
                    .limit(1 if probing else self._batch)
                ).all()
                if not rows:
                    continue
                heads = self._heads(conn, sub.id, {r.subject for r in rows})
                by_subject: dict[str, list[_DRow]] = {}
                for row in rows:
                    group = by_subject.get(row.subject)
                    if group is None:
                        if heads.get(row.subject) != row.id:
                            continue  # an older delivery of this subject waits for a retry
                        group = by_subject[row.subject] = []
                    group.append(row)
                groups += [(sub, g) for g in by_subject.values()]
        if mono >= self._next_purge:
            self._next_purge = mono + PURGE_EVERY
            self._purge()
        self._metrics.paused.set(sum(1 for t in list(self._paused.values()) if t > mono))
        if not groups:
            return 0
        results = self._send(groups)
        self._settle(results)
        return len(results)

    def _subscriptions(self, conn: Connection) -> list[_Subscription]:
        rows = conn.execute(
            select(
                WebhookSubscription.id, WebhookSubscription.url, WebhookSubscription.secret_sealed
            ).where(WebhookSubscription.active.is_(True))
        ).all()
        subs = []
        for sid, url, sealed in rows:
            key = (int(sid), bytes(sealed))
            secret = self._secrets.get(key)
            if secret is None:
                try:
                    secret = self._secrets[key] = self._sealer.unseal(bytes(sealed))
                except Exception:
                    log.exception("webhook subscription %s: cannot unseal its secret", sid)
                    continue
            subs.append(_Subscription(int(sid), str(url), secret))
        return subs

    @staticmethod
    def _heads(conn: Connection, subscription_id: int, subjects: Iterable[str]) -> dict[str, int]:
        """Each subject's oldest pending delivery id."""
        heads: dict[str, int] = {}
        subjects = list(subjects)
        for start in range(0, len(subjects), 500):
            chunk = subjects[start : start + 500]
            query = (
                select(WebhookDelivery.subject, func.min(WebhookDelivery.id))
                .where(
                    WebhookDelivery.subscription_id == subscription_id,
                    WebhookDelivery.status == PENDING,
                    WebhookDelivery.subject.in_(chunk),
                )
                .group_by(WebhookDelivery.subject)
            )
            heads.update({str(s): int(i) for s, i in conn.execute(query)})
        return heads

    def _purge(self) -> None:
        """Forget delivered messages after :data:`RETENTION`, and the pending ones of deleted
        subscriptions (queued by a process whose cache had not yet seen the deletion)."""
        inactive = select(WebhookSubscription.id).where(WebhookSubscription.active.is_(False))
        with self._db.writer.begin() as conn:
            conn.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.status == DELIVERED,
                    WebhookDelivery.delivered_at < clock.now() - RETENTION,
                )
            )
            conn.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.status == PENDING,
                    WebhookDelivery.subscription_id.in_(inactive),
                )
            )

    # -- sending -------------------------------------------------------------------------------

    def _send(self, groups: Sequence[_Group]) -> list[_Result]:
        lanes = [list(groups[i :: self._concurrency]) for i in range(self._concurrency)]
        lanes = [lane for lane in lanes if lane]
        if len(lanes) == 1 or self._pool is None:
            return [r for lane in lanes for r in self._send_lane(lane)]
        results: list[_Result] = []
        for part in self._pool.map(self._send_lane, lanes):
            results += part
        return results

    def _send_lane(self, lane: Sequence[_Group]) -> list[_Result]:
        results: list[_Result] = []
        for sub, rows in lane:
            for row in rows:
                outcome = self.post(sub.url, sub.secret, row.message_id, row.payload.encode())
                results.append(_Result(sub.id, row, outcome))
                if not outcome.ok:
                    break  # the subject's later deliveries wait behind this one
        return results

    def post(self, url: str, secret: str, message_id: str, body: bytes) -> Outcome:
        """POST one signed message; a stale kept-alive connection is retried once, fresh."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        started = time.perf_counter()
        conn = self._connection(parts)
        for _ in range(2):
            reused = conn.used
            sent_headers = {
                **headers(secret, message_id, int(time.time()), body),
                "content-type": "application/json",
                "user-agent": self._agent,
            }
            try:
                status = conn.post(target, sent_headers, body)
            except OSError as exc:
                stale = isinstance(exc, ConnectionResetError | BrokenPipeError)
                if reused and stale:
                    continue  # the receiver closed an idle connection: once more, fresh
                self._metrics.request.observe(time.perf_counter() - started)
                return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:255])
            self._metrics.request.observe(time.perf_counter() - started)
            ok = 200 <= status < 300
            return Outcome(ok, status, None if ok else f"HTTP {status}")
        self._metrics.request.observe(time.perf_counter() - started)
        return Outcome(False, None, "ConnectionResetError: the receiver closed the connection")

    def _connection(self, url: SplitResult) -> transport.Connection:
        """This sending thread's kept-alive connection to the URL's origin."""
        pool: dict[tuple[str, str], transport.Connection] | None = getattr(
            self._local, "connections", None
        )
        if pool is None:
            pool = self._local.connections = {}
        key = (url.scheme, url.netloc)
        conn = pool.get(key)
        if conn is None:
            conn = pool[key] = transport.Connection(url, self._timeout)
            with self._opened_lock:
                self._opened.append(conn)
        return conn

    # -- outcomes ------------------------------------------------------------------------------

    def _settle(self, results: Sequence[_Result]) -> None:
        done = [r for r in results if r.outcome.ok]
        failed = [r for r in results if not r.outcome.ok]
        now = clock.now()
        retries: list[dict[str, object]] = []
        dead: list[dict[str, object]] = []
        for r in failed:
            attempts = r.row.attempts + 1
            values: dict[str, object] = {
                "b_id": r.row.id,
                "b_attempts": attempts,
                "b_status": r.outcome.status,
                "b_error": r.outcome.error,
            }
            if attempts >= self._policy.max_attempts:
                dead.append(values)
            else:
                values["b_next"] = now + timedelta(seconds=self._policy.delay(attempts, self._rng))
                retries.append(values)
        with self._db.writer.begin() as conn:
            # Delivered rows in a few set-wise updates (one per answer status): this is the
            # hot path, thousands of rows a second. delivered_at is this settling time.
            by_status: dict[int | None, list[int]] = {}
            for r in done:
                by_status.setdefault(r.outcome.status, []).append(r.row.id)
            for code, ids in by_status.items():
                for start in range(0, len(ids), 500):
                    conn.execute(
                        update(WebhookDelivery)
                        .where(WebhookDelivery.id.in_(ids[start : start + 500]))
                        .values(
                            status=DELIVERED,
                            attempts=WebhookDelivery.attempts + 1,
                            delivered_at=now,
                            last_status=code,
                            last_error=None,
                        )
                        .execution_options(synchronize_session=False)
                    )
            if dead:
                conn.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == bindparam("b_id"))
                    .values(
                        status=DEAD,
                        attempts=bindparam("b_attempts"),
                        last_status=bindparam("b_status"),
                        last_error=bindparam("b_error"),
                    )
                    .execution_options(synchronize_session=False),
                    dead,
                )
            if retries:
                conn.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == bindparam("b_id"))
                    .values(
                        attempts=bindparam("b_attempts"),
                        next_attempt_at=bindparam("b_next"),
                        last_status=bindparam("b_status"),
                        last_error=bindparam("b_error"),
                    )
                    .execution_options(synchronize_session=False),
                    retries,
                )
                # The subject's later deliveries wait with it, so they are not read (and
                # skipped) on every pass meanwhile.
                for r, values in zip(
                    [r for r in failed if r.row.attempts + 1 < self._policy.max_attempts],
                    retries,
                    strict=True,
                ):
                    conn.execute(
                        update(WebhookDelivery)
                        .where(
                            WebhookDelivery.subscription_id == r.subscription_id,
                            WebhookDelivery.subject == r.row.subject,
                            WebhookDelivery.status == PENDING,
                            WebhookDelivery.id > r.row.id,
                        )
                        .values(next_attempt_at=values["b_next"])
                        .execution_options(synchronize_session=False)
                    )
        for r in done:
            self._metrics.lag.observe(max(0.0, (r.at - r.row.created_at).total_seconds()))
        self._metrics.attempts.labels("delivered").inc(len(done))
        self._metrics.attempts.labels("failed").inc(len(retries))
        self._metrics.attempts.labels("dead").inc(len(dead))
        self._pace(results, retries)

    def _pace(self, results: Sequence[_Result], retries: Sequence[dict[str, object]]) -> None:
        """Pause a subscription none of whose tries succeeded this pass; resume on success."""
        mono = time.monotonic()
        now = clock.now()
        by_sub: dict[int, list[_Result]] = {}
        for r in results:
            by_sub.setdefault(r.subscription_id, []).append(r)
        for sid, rs in by_sub.items():
            if any(r.outcome.ok for r in rs):
                self._paused.pop(sid, None)
                self._probing.discard(sid)
                continue
            waits = [v["b_next"] for v in retries if v["b_id"] in {r.row.id for r in rs}]
            if not waits:
                continue  # every failure went dead: nothing to wait for
            first = min(w for w in waits if isinstance(w, datetime))
            self._paused[sid] = mono + max(0.0, (first - now).total_seconds())
            self._probing.add(sid)
            log.warning(
                "webhook receiver of subscription %s failing (%s); retrying with back-off",
                sid,
                rs[0].outcome.error,
            )
