"""The federation deliverer: sends the outbox to partners, in order per partner, at least once.

One thread per process; only the holder of the lease (a ``flock`` beside a SQLite database, an
advisory lock on PostgreSQL, as :mod:`smartcustoms.interop.webhooks.lease`) works, so several
workers neither forward positions twice nor send in two orders. Each pass:

1. queue the positions stored since the last pass for each transit handed over to a partner
   (:func:`.handover.forward_positions`);
2. for each active partner, read its pending messages in id order (the commit order). If the
   oldest waits for a retry, nothing newer overtakes it: a partner must see the hand-over
   before the positions and the positions before anything after them;
3. send them one after another (signed, RFC 9421), stopping at the first failure, which is
   retried after an exponential back-off with jitter (messages to partners are never given up
   on: an operator sees the queue and its age in the metrics);
4. mark the acknowledged ones delivered with their ``federation.message_sent`` records in one
   transaction.

A message is marked delivered only after the partner answered 2xx. The process dying between
the answer and the mark leaves it pending: it is sent again, with the same id, and the
partner's inbox answers it as a duplicate without processing it again.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.federation.client import post_signed
from smartcustoms.federation.errors import PartnerUnreachable
from smartcustoms.federation.events import MessageSent
from smartcustoms.federation.handover import forward_positions
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.metrics import FederationMetrics
from smartcustoms.federation.signing import sign_request
from smartcustoms.federation.tables import ACTIVE, DELIVERED, PENDING, OutboxRow, PartnerRow
from smartcustoms.ledger.leader import Lease
from smartcustoms.ledger.tlog.keys import Ed25519Signer

__all__ = ["Deliverer", "RetryPolicy"]

log = logging.getLogger("smartcustoms.federation")

LEASE_CHECK_EVERY = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    base: float  # seconds before the second try
    cap: float  # longest wait

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Doubling from ``base`` up to ``cap``, half of it random (equal jitter)."""
        step = min(self.cap, self.base * 2.0 ** min(attempts - 1, 60))
        return step / 2 + rng.uniform(0, step / 2)


@dataclass(frozen=True)
class _Message:
    id: int
    message_id: str
    kind: str
    body: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime


class Deliverer:
    def __init__(
        self,
        ctx: AppContext,
        signer: Ed25519Signer,
        policy: RetryPolicy,
        lease: Lease,
        metrics: FederationMetrics,
        *,
        timeout: float = 10.0,
        batch: int = 200,
        idle_poll: float = 0.05,
    ) -> None:
        self._ctx = ctx
        self._signer = signer
        self._policy = policy
        self._lease = lease
        self._metrics = metrics
        self._timeout = timeout
        self._batch = batch
        self._idle_poll = idle_poll
        self._rng = random.Random()  # noqa: S311 - jitter, not security
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._leader = False
        self._next_lease_check = 0.0
        self._writer = ctx.db.engine.execution_options(sqlite_immediate=True)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="smartcustoms-federation-deliverer", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the message in flight (at most ``timeout`` s: a send that takes longer
        is left to die with the process; the message stays pending and is sent again)."""
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._lease.release()
        self._leader = False
        self._metrics.leader.set(0)

    def wake(self) -> None:
        self._wake.set()

    @property
    def is_leader(self) -> bool:
        return self._leader

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if not self._hold_lease():
                    self._stopping.wait(1.0)
                    continue
                done = self.pass_once()
            except Exception:  # a database hiccup must not end the worker: log, wait, retry
                log.exception("federation delivery pass failed")
                self._stopping.wait(1.0)
                continue
            if done == 0:
                self._wake.wait(self._idle_poll)
                self._wake.clear()

    def _hold_lease(self) -> bool:
        now = time.monotonic()
        if self._leader and now < self._next_lease_check:
            return True
        self._next_lease_check = now + LEASE_CHECK_EVERY
        held = self._lease.still_held() if self._leader else self._lease.try_acquire()
        if held != self._leader:
            log.info("federation deliverer %s", "elected" if held else "lost its lease")
        self._leader = held
        self._metrics.leader.set(1 if held else 0)
        return held

    # -- one pass ------------------------------------------------------------------------------

    def pass_once(self) -> int:
        """Forward new positions, then send what is due; how much was done."""
        forwarded = forward_positions(self._writer)
        self._metrics.positions.inc(forwarded)
        sent = 0
        with self._ctx.db.engine.connect() as conn:
            partners = conn.execute(
                select(PartnerRow.id, PartnerRow.name, PartnerRow.url).where(
                    PartnerRow.state == ACTIVE
                )
            ).all()
        for pid, name, url in partners:
            if self._stopping.is_set():
                break
            sent += self._deliver_to(int(pid), str(name), str(url))
        return forwarded + sent

    def _due(self, partner_id: int) -> list[_Message]:
        now = clock.now()
        with self._ctx.db.engine.connect() as conn:
            rows = conn.execute(
                select(
                    OutboxRow.id,
                    OutboxRow.message_id,
                    OutboxRow.kind,
                    OutboxRow.body,
                    OutboxRow.attempts,
                    OutboxRow.next_attempt_at,
                    OutboxRow.created_at,
                )
                .where(OutboxRow.partner_id == partner_id, OutboxRow.state == PENDING)
                .order_by(OutboxRow.id)
                .limit(self._batch)
            ).all()
        messages = [_Message(*r) for r in rows]
        if not messages or messages[0].next_attempt_at > now:
            return []  # the oldest waits for its retry: nothing newer may overtake it
        return messages

    def _deliver_to(self, partner_id: int, name: str, url: str) -> int:
        messages = self._due(partner_id)
        done: list[tuple[_Message, int]] = []
        failure: tuple[_Message, int | None, str] | None = None
        for message in messages:
            if self._stopping.is_set():
                break
            status, error = self.send(url, message.body.encode())
            if error is None:
                done.append((message, status or 200))
            else:
                failure = (message, status, error)
                break
        self._settle(name, done, failure)
        return len(done) + (failure is not None)

    def send(self, base_url: str, body: bytes) -> tuple[int | None, str | None]:
        """POST one signed envelope to the partner's inbox: (status, error or None)."""
        target = base_url.rstrip("/") + INBOX_PATH
        started = time.perf_counter()
        try:
            headers = sign_request(self._signer, "POST", target, body)
            answer = post_signed(target, body, headers, timeout=self._timeout)
        except PartnerUnreachable as exc:
            return None, exc.message[:255]
        finally:
            self._metrics.request.observe(time.perf_counter() - started)
        if answer.ok:
            return answer.status, None
        return answer.status, f"HTTP {answer.status} {answer.error_code or ''}".strip()[:255]

    def _settle(
        self,
        partner: str,
        done: list[tuple[_Message, int]],
        failure: tuple[_Message, int | None, str] | None,
    ) -> None:
        if not done and failure is None:
            return
        now = clock.now()
        with self._ctx.unit() as unit:
            for message, status in done:
                unit.session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == message.id, OutboxRow.state == PENDING)
                    .values(
                        state=DELIVERED,
                        attempts=OutboxRow.attempts + 1,
                        delivered_at=now,
                        last_status=status,
                        last_error=None,
                    )
                )
                unit.emit(
                    MessageSent(
                        actor="system:federation",
                        at=now,
                        partner=partner,
                        message_id=message.message_id,
                        kind=message.kind,
                        body_sha256=hashlib.sha256(message.body.encode()).hexdigest(),
                        status=status,
                    )
                )
            if failure is not None:
                message, failed_status, error = failure
                attempts = message.attempts + 1
                wait = self._policy.delay(attempts, self._rng)
                unit.session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == message.id)
                    .values(
                        attempts=attempts,
                        next_attempt_at=now + timedelta(seconds=wait),
                        last_status=failed_status,
                        last_error=error,
                    )
                )
        for message, _ in done:
            self._metrics.lag.observe(max(0.0, (now - message.created_at).total_seconds()))
        self._metrics.attempts.labels("delivered").inc(len(done))
        if failure is not None:
            self._metrics.attempts.labels("failed").inc()
            log.warning(
                "federation: message %s to %s failed (%s); retrying with back-off",
                failure[0].message_id, partner, failure[2],
            )  # fmt: skip
