"""The federation deliverer: sends the outbox to partners, in order per partner, at least once.

One thread per process (:class:`smartcustoms.ledger.leased_worker.LeasedWorker`); only the
holder of the lease (a ``flock`` beside a SQLite database, an advisory lock on PostgreSQL, as
:mod:`smartcustoms.interop.webhooks.lease`) works, so several workers neither forward
positions twice nor send in two orders. Each pass:

0. every :data:`.handed_in.SWEEP_EVERY` seconds, run the clock rules (signal lost, deadline)
   for the transits partners handed over to us (:func:`.handed_in.sweep_handed_in`);
1. pack the positions queued for transits handed over to partners, as their writers stored
   them, into messages (:func:`.forwarding.forward_positions`);
2. for each active partner, read its pending messages in id order (the commit order). If the
   oldest waits for a retry, nothing newer overtakes it: a partner must see the hand-over
   before the positions and the positions before anything after them;
3. send them one after another (signed, RFC 9421), stopping at the first failure, which is
   retried after an exponential back-off with jitter (messages to partners are never given up
   on: an operator sees the queue and its age in the metrics) — unless the partner refused the
   message itself (:data:`SET_ASIDE_STATUSES`: malformed, too large, its id reused): sending
   it again cannot succeed and would hold every later message back, so it is set aside
   (``dead``, a ``federation.message_set_aside`` record, `partners outbox` counts it) and the
   queue goes on;
4. mark the acknowledged ones delivered with their ``federation.message_sent`` records in one
   transaction.

A ``scan.piece`` row holds its envelope without the bytes: they are read from the scan store as
it is sent (:func:`.scans_pieces.wire_piece`); one whose bytes the store no longer holds is set
aside as the partner would refuse it.

A message is marked delivered only after the partner answered 2xx. The process dying between
the answer and the mark leaves it pending: it is sent again, with the same id, and the
partner's inbox answers it as a duplicate without processing it again.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.federation.client import post_signed
from smartcustoms.federation.errors import PartnerUnreachable
from smartcustoms.federation.events import MessageSent, MessageSetAside
from smartcustoms.federation.forwarding import forward_positions
from smartcustoms.federation.handed_in import SWEEP_EVERY, sweep_handed_in
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.metrics import FederationMetrics
from smartcustoms.federation.scans_pieces import PieceUnavailable, wire_piece
from smartcustoms.federation.scans_pieces_received import expire_everywhere
from smartcustoms.federation.scans_wire import PIECE
from smartcustoms.federation.signing import sign_request
from smartcustoms.federation.tables import ACTIVE, DEAD, DELIVERED, PENDING, OutboxRow, PartnerRow
from smartcustoms.ledger.leader import Lease
from smartcustoms.ledger.leased_worker import IDLE_POLL_S, LeasedWorker
from smartcustoms.ledger.tlog.keys import Ed25519Signer
from smartcustoms.scans.storage import store_for

__all__ = ["SET_ASIDE_STATUSES", "Deliverer", "RetryPolicy"]

#: A partner's answers that refuse the message itself, not the moment: a bad request, a
#: conflict (its id reused with another body), too large, invalid. A 401 (a key or clock
#: problem), a 403 (what it may receive, a suspension), 429 and 5xx may change: retried.
SET_ASIDE_STATUSES = frozenset({400, 409, 413, 422})

log = logging.getLogger("smartcustoms.federation")


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
        idle_poll: float = IDLE_POLL_S,
    ) -> None:
        self._ctx = ctx
        self._signer = signer
        self._policy = policy
        self._metrics = metrics
        self._timeout = timeout
        self._batch = batch
        self._rng = random.Random()  # noqa: S311 - jitter, not security
        self._writer = ctx.db.engine.execution_options(sqlite_immediate=True)
        self._store = store_for(ctx.settings)
        self._next_sweep = 0.0
        self._worker = LeasedWorker(
            "smartcustoms-federation-deliverer",
            lease,
            self.pass_once,
            log=log,
            idle_poll=idle_poll,
            on_lease_change=lambda held: metrics.leader.set(1 if held else 0),
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._worker.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the message in flight (at most ``timeout`` s: a send that takes longer
        is left to die with the process; the message stays pending and is sent again)."""
        self._worker.stop(timeout)

    def wake(self) -> None:
        self._worker.wake()

    @property
    def is_leader(self) -> bool:
        return self._worker.is_leader

    # -- one pass ------------------------------------------------------------------------------

    def pass_once(self) -> int:
        """Judge handed-in transits' clocks when due, forward new positions, then send what
        is due; how much was done (the sweep does not count: it is on a timer)."""
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + SWEEP_EVERY
            sweep_handed_in(self._ctx)
            # Pieces of a partner's scan that never came whole, even if it never sends again.
            expire_everywhere(self._ctx.unit, self._ctx.settings)
        # Looked for without the write lock: the pass runs many times a second.
        forwarded = forward_positions(self._writer, reader=self._ctx.db.engine)
        self._metrics.positions.inc(forwarded)
        sent = 0
        with self._ctx.db.engine.connect() as conn:
            partners = conn.execute(
                select(PartnerRow.id, PartnerRow.name, PartnerRow.url).where(
                    PartnerRow.state == ACTIVE
                )
            ).all()
        for pid, name, url in partners:
            if self._worker.stopping:
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
            if self._worker.stopping:
                break
            try:
                body = wire_piece(self._store, message.body) if message.kind == PIECE else None
            except PieceUnavailable as exc:
                self._set_aside(name, message, exc.status_code, exc.message[:255])
                continue
            status, error = self.send(url, (body or message.body).encode())
            if error is None:
                done.append((message, status or 200))
            elif status in SET_ASIDE_STATUSES:
                self._set_aside(name, message, status, error)
            else:
                failure = (message, status, error)
                break
        self._settle(name, done, failure)
        return len(done) + (failure is not None)

    def _set_aside(self, partner: str, message: _Message, status: int, error: str) -> None:
        with self._ctx.unit() as unit:
            unit.session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == message.id, OutboxRow.state == PENDING)
                .values(
                    state=DEAD,
                    attempts=OutboxRow.attempts + 1,
                    last_status=status,
                    last_error=error,
                )
            )
            unit.emit(
                MessageSetAside(
                    actor="system:federation",
                    at=clock.now(),
                    partner=partner,
                    message_id=message.message_id,
                    kind=message.kind,
                    body_sha256=hashlib.sha256(message.body.encode()).hexdigest(),
                    status=status,
                    error=error,
                )
            )
        self._metrics.attempts.labels("set_aside").inc()
        log.error(
            "federation: %s refused message %s (%s) for good (%s): set aside",
            partner, message.message_id, message.kind, error,
        )  # fmt: skip

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
