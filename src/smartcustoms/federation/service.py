"""This instance in the federation: its signer and card, pinging a partner, the inbox's
entry point shared by the web route, and the outbox wired into a context
(:func:`attach_federation`: the hand-over recorder on the bus, the deliverer thread)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict
from smartcustoms.core.events import Event
from smartcustoms.federation.card import Card, sign_card
from smartcustoms.federation.client import send_message
from smartcustoms.federation.directory import get_partner
from smartcustoms.federation.errors import (
    FederationNotConfigured,
    PartnerUnreachable,
    RequestRefused,
)
from smartcustoms.federation.events import MessageSent, RequestRefusedEvent
from smartcustoms.federation.forward_hook import add_forwarding_hook
from smartcustoms.federation.inbox import INBOX_PATH, receive
from smartcustoms.federation.keys import load_federation_signer
from smartcustoms.federation.metrics import FederationMetrics, OutboxGauges
from smartcustoms.federation.outbox import QUEUED
from smartcustoms.federation.refusals import refusal_limiter
from smartcustoms.federation.tables import ACTIVE, PartnerRow
from smartcustoms.federation.verify import claimed_key_id, verify_request
from smartcustoms.federation.witnessing import attach_partner_witnesses
from smartcustoms.ledger.leader import AdvisoryLease, FileLease, Lease, advisory_key
from smartcustoms.ledger.service import ledger_of
from smartcustoms.ledger.tlog.keys import Ed25519Signer

if TYPE_CHECKING:
    from smartcustoms.federation.deliverer import Deliverer

__all__ = [
    "FederationOutbox",
    "attach_federation",
    "handle_inbox",
    "outbox_of",
    "own_card",
    "own_signer",
    "own_url",
    "ping",
]

log = logging.getLogger("smartcustoms.federation")

_SIGNER: Final = "federation.signer"


def own_signer(ctx: AppContext) -> Ed25519Signer:
    signer = ctx.services.get(_SIGNER)
    if signer is None:
        signer = load_federation_signer(ctx.settings.data_dir, ctx.settings.ledger_origin)
        ctx.services[_SIGNER] = signer
    return signer


def own_url(ctx: AppContext) -> str:
    url = ctx.settings.federation_url
    if not url:
        raise FederationNotConfigured(
            "this instance has no federation URL: set SMARTCUSTOMS_FEDERATION_URL to the "
            "https:// address partners reach it at",
            details=[{"setting": "SMARTCUSTOMS_FEDERATION_URL"}],
        )
    return url.rstrip("/")


def own_card(ctx: AppContext) -> Card:
    """This instance's signed card, from its settings and keys (the same every time)."""
    country = ctx.settings.federation_country
    if not country:
        raise FederationNotConfigured(
            "this instance has no country: set SMARTCUSTOMS_FEDERATION_COUNTRY (ISO 3166-1 "
            "alpha-2, e.g. KE)",
            details=[{"setting": "SMARTCUSTOMS_FEDERATION_COUNTRY"}],
        )
    ledger = ledger_of(ctx)
    return sign_card(
        own_signer(ctx),
        name=ctx.settings.administration_name,
        country=country,
        url=own_url(ctx),
        ledger_vkey=ledger.vkey(),
        witness_vkey=ledger.witness_signer().verifier().key_string(),
    )


def handle_inbox(
    ctx: AppContext, *, method: str, path: str, headers: dict[str, str], body: bytes, client: str
) -> dict[str, Any]:
    """Verify a partner's request to the inbox and process it, in one transaction; a refusal is
    recorded in the ledger (its own unit: the request's was rolled back) and raised."""
    # The handlers of each message kind register themselves with the inbox when they load.
    from smartcustoms.federation import (  # noqa: F401
        handover,
        notices,
        rules_offered,
        scans_received,
        scans_shared,
    )

    url = own_url(ctx) + INBOX_PATH
    try:
        with ctx.unit() as unit:
            partner = verify_request(
                unit.session,
                method=method,
                url=url,
                headers=headers,
                body=body,
                window_s=ctx.settings.federation_max_skew_s,
            )
            return receive(
                unit,
                partner,
                body,
                own_name=ctx.settings.administration_name,
                auto_accept=ctx.settings.federation_auto_accept,
                settings=ctx.settings,
            )
    except RequestRefused as exc:
        key_id = claimed_key_id(headers)
        if exc.code in ("unknown_key", "signature_missing"):
            # Anyone who reaches the inbox can send these: were they ledger records, a stranger
            # could grow our ledger at will. They are logged; a partner's refusals are recorded.
            log.warning(
                "federation request refused (%s) from %s claiming key %r",
                exc.code, client[:64], (key_id or "")[:200],
            )  # fmt: skip
            raise
        if not refusal_limiter(ctx).admit(client[:64]):
            raise  # refused all the same; beyond the address's share of ledger records
        with ctx.db.session() as session:
            partner_name = session.scalar(
                select(PartnerRow.name).where(PartnerRow.key_id == key_id)
            )
        ctx.record(
            RequestRefusedEvent(
                actor="federation",
                code=exc.code,
                reason=exc.message[:300],
                key_id=key_id,
                partner=partner_name,
                method=method,
                path=path[:200],
                client=client[:64],
            )
        )
        raise


def ping(ctx: AppContext, name: str, *, actor: str) -> dict[str, Any]:
    """Send ``partner.hello`` to partner ``name`` and return its answer; a refusal by the
    partner is raised with its code. The acknowledged send is a ledger record."""
    with ctx.db.session() as session:
        partner = get_partner(session, name)
        url, state, pname = partner.url, partner.state, partner.name
    if state != ACTIVE:
        raise Conflict(f"partner {pname!r} is suspended", code="partner_suspended")
    payload, answer = send_message(own_signer(ctx), url, "partner.hello", {"ping": True})
    if not answer.ok:
        raise PartnerUnreachable(
            f"partner {pname!r} answered {answer.status} {answer.error_code or ''}".rstrip(),
            details=[{"status": answer.status, "code": answer.error_code}],
            code="partner_refused",
        )
    ctx.record(
        MessageSent(
            actor=actor,
            partner=pname,
            message_id=str(answer.body.get("id", "")),
            kind="partner.hello",
            body_sha256=hashlib.sha256(payload).hexdigest(),
            status=answer.status,
        )
    )
    return answer.body


# -- the outbox: recorder and deliverer --------------------------------------------------------

_OUTBOX: Final = "federation.outbox"
_PG_KEY: Final = advisory_key("smartcustoms/federation/deliverer")


class _InProcessLease:
    """An in-memory SQLite database has one process: it always holds the lease."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None


def _lease_for(ctx: AppContext) -> Lease:
    db = ctx.db
    if db.is_sqlite:
        database = make_url(db.url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return _InProcessLease()
        return FileLease(Path(database + ".federation-lock"))
    return AdvisoryLease(db, key=_PG_KEY)


#: The events the hand-over recorder acts on: any other transaction never loads it.
_HANDOVER_EVENTS: Final = frozenset(
    {"tracking.transit_handed_over", "tracking.transit_discharged", "tracking.transit_cancelled"}
)


class _Recorder:
    """The hand-over recorder (:class:`.handover.HandoverRecorder`), loaded with tracking's
    modules on the first transaction that hands over or ends a transit: a command that never
    does (most) starts without them."""

    def __init__(self, own_name: str) -> None:
        self._own_name = own_name
        self._inner: Callable[[Connection, Sequence[Event]], None] | None = None

    def __call__(self, conn: Connection, events: Sequence[Event]) -> None:
        if not any(e.type in _HANDOVER_EVENTS for e in events):
            return
        if self._inner is None:
            from smartcustoms.federation.handover import HandoverRecorder

            self._inner = HandoverRecorder(self._own_name)
        self._inner(conn, events)


class FederationOutbox:
    """The hand-over recorder on the bus and, in a server, the deliverer thread."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.metrics = FederationMetrics()
        self.recorder = _Recorder(ctx.settings.administration_name)
        self._deliverer: Deliverer | None = None

    @property
    def deliverer(self) -> Deliverer:
        if self._deliverer is None:
            from smartcustoms.federation.deliverer import Deliverer, RetryPolicy

            settings = self._ctx.settings
            policy = RetryPolicy(
                base=settings.federation_retry_base_ms / 1000,
                cap=settings.federation_retry_max_ms / 1000,
            )
            self._deliverer = Deliverer(
                self._ctx, own_signer(self._ctx), policy, _lease_for(self._ctx), self.metrics
            )
        return self._deliverer

    def start(self) -> None:
        self.deliverer.start()

    def stop(self) -> None:
        if self._deliverer is not None:
            self._deliverer.stop()

    def expose(self, registry: CollectorRegistry) -> None:
        registry.register(RegistryBridge(self.metrics.registry))
        registry.register(OutboxGauges(self._ctx.db))

    def _committed(self, _events: object) -> None:
        if QUEUED.take() and self._deliverer is not None:
            self._deliverer.wake()


class RegistryBridge(Collector):
    """Exposes another registry's metrics through the one it is registered in."""

    def __init__(self, inner: CollectorRegistry) -> None:
        self._inner = inner

    def collect(self) -> Iterable[Metric]:
        return self._inner.collect()


def attach_federation(ctx: AppContext, *, start: bool = True) -> FederationOutbox:
    """Give ``ctx`` the hand-over recorder (once) and, with ``start``, the deliverer, which
    stops when the context closes (within ``shutdown_grace_s``: see ``Deliverer.stop``). A
    command (``start=False``) queues; the server sends."""
    existing = ctx.services.get(_OUTBOX)
    if isinstance(existing, FederationOutbox):
        if start:
            existing.start()
        return existing
    outbox = FederationOutbox(ctx)
    ctx.services[_OUTBOX] = outbox
    ctx.bus.subscribe_recorder(outbox.recorder)
    add_forwarding_hook(ctx)  # handed-over transits' positions queued as they are stored
    if start:  # the server: partners cosign our checkpoints, and we theirs
        attach_partner_witnesses(ctx)
    # A commit that queued messages wakes the deliverer rather than waiting for its poll.
    ctx.bus.subscribe_batch(Event, outbox._committed)
    ctx.on_close(outbox.stop)
    if start:
        outbox.start()
    return outbox


def outbox_of(ctx: AppContext) -> FederationOutbox | None:
    found = ctx.services.get(_OUTBOX)
    return found if isinstance(found, FederationOutbox) else None
