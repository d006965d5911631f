"""Partners witness each other's ledgers.

Every step of a hand-over (and every other exchange) is an entry in both administrations'
ledgers; for either to prove later what was handed over, when and in what state, the other must
have cosigned a checkpoint that covers it. So a partner in the directory is, without further
setup:

* a witness of **our** log: the ledger's witness client asks it (``<its URL>/ledger/witness``,
  its card's witness key) to cosign our checkpoints, at most once per
  ``federation_witness_interval_s`` (0: every checkpoint), beside the configured
  ``ledger_witnesses`` (:func:`attach_partner_witnesses`);
* a log **we** witness: its card's ledger key is registered with our witness when it is added
  (:func:`witness_partner_log`, in the transaction that adds it), so that its checkpoints are
  cosigned when it asks.

A suspended partner is no longer asked. Partners added before this existed are registered when
the server starts (:func:`witness_partner_logs`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Final

from sqlalchemy import Connection, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.db import Database
from smartcustoms.federation.errors import PartnerConflict
from smartcustoms.federation.tables import ACTIVE, PartnerRow
from smartcustoms.ledger.cosigning import WitnessPeer
from smartcustoms.ledger.errors import MalformedKey
from smartcustoms.ledger.service import ledger_of
from smartcustoms.ledger.tlog.cosignature import parse_witness_verifier_key
from smartcustoms.ledger.tlog.keys import parse_verifier_key
from smartcustoms.ledger.witness import add_log, list_logs

__all__ = [
    "WITNESS_PATH",
    "PartnerWitnesses",
    "attach_partner_witnesses",
    "witness_partner_log",
    "witness_partner_logs",
]

log = logging.getLogger("smartcustoms.federation.witnessing")

#: Where an instance serves its witness (``web/api/routes/tlog.py``), under its federation URL.
WITNESS_PATH: Final = "/ledger/witness"
#: How long the list of partners is reused: a partner added or suspended is seen within this.
REFRESH_S: Final = 5.0


def witness_partner_log(conn: Connection, ledger_vkey: str, *, own_origin: str) -> None:
    """Register the partner's log (its card's ledger key) with our witness.

    Refused (PartnerConflict, naming ``ledger_vkey``) when the log's name is ours or another
    partner's: the card would make us cosign a second tree under a name we witness, and the
    real log's checkpoints would then be refused as inconsistent. A log the operator registered
    by hand, or a partner's that was removed, gains the key (a rotated key keeps the state).
    """
    verifier = parse_verifier_key(ledger_vkey.strip())
    origin = verifier.name
    if origin == own_origin:
        raise PartnerConflict(
            "the card's ledger has this instance's own log name",
            details=[{"field": "ledger_vkey", "value": origin}],
            code="partner_is_self",
        )
    for name, vkey in conn.execute(select(PartnerRow.name, PartnerRow.ledger_vkey)):
        if _name_of(vkey) == origin and vkey.strip() != ledger_vkey.strip():
            raise PartnerConflict(
                f"partner {name!r} already has a log named {origin!r}, under another key",
                details=[{"field": "ledger_vkey", "value": origin, "partner": name}],
            )
    add_log(conn, ledger_vkey)


def _name_of(vkey: str) -> str | None:
    try:
        return parse_verifier_key(vkey.strip()).name
    except MalformedKey:
        return None


def witness_partner_logs(db: Database, own_origin: str) -> int:
    """Register every active partner's log that is not yet witnessed; return how many were
    added. A partner whose log cannot be registered is logged and skipped."""
    with db.engine.connect() as conn:
        witnessed = {w.origin for w in list_logs(conn)}
        partners = conn.execute(
            select(PartnerRow.name, PartnerRow.ledger_vkey).where(PartnerRow.state == ACTIVE)
        ).all()
    missing = []
    for name, vkey in partners:
        try:
            if parse_verifier_key(vkey.strip()).name not in witnessed:
                missing.append((name, vkey))
        except MalformedKey as exc:
            log.warning("not witnessing partner %s's ledger: %s", name, exc)
    added = 0
    if missing:  # a write only when there is something to write: every worker runs this
        with db.writer.begin() as conn:
            for name, vkey in missing:
                try:
                    witness_partner_log(conn, vkey, own_origin=own_origin)
                    added += 1
                except PartnerConflict as exc:
                    log.warning("not witnessing partner %s's ledger: %s", name, exc)
    return added


class PartnerWitnesses:
    """The active partners as witnesses of our log, read from the directory at most every
    :data:`REFRESH_S` (the witness client calls this before each round)."""

    def __init__(self, db: Database, interval_s: float) -> None:
        self._db = db
        self._interval = interval_s
        self._lock = threading.Lock()
        self._peers: list[WitnessPeer] = []
        self._read_at = -REFRESH_S

    def __call__(self) -> Sequence[WitnessPeer]:
        with self._lock:
            now = time.monotonic()
            if now - self._read_at >= REFRESH_S:
                self._peers = self._read()
                self._read_at = now
            return list(self._peers)

    def _read(self) -> list[WitnessPeer]:
        with self._db.engine.connect() as conn:
            rows = conn.execute(
                select(PartnerRow.name, PartnerRow.url, PartnerRow.witness_vkey)
                .where(PartnerRow.state == ACTIVE)
                .order_by(PartnerRow.name)
            ).all()
        peers: dict[str, WitnessPeer] = {}
        for name, url, vkey in rows:
            try:
                verifier = parse_witness_verifier_key(vkey.strip())
            except MalformedKey as exc:  # the card was checked when added: not expected
                log.warning("partner %s's witness key is unusable: %s", name, exc)
                continue
            peer = WitnessPeer(url.rstrip("/") + WITNESS_PATH, verifier, self._interval)
            peers.setdefault(peer.label, peer)
        return list(peers.values())


def attach_partner_witnesses(ctx: AppContext) -> None:
    """Make the partners witnesses of our log (and register their logs with our witness, for
    partners added before this was done on adding)."""
    ledger = ledger_of(ctx)
    try:
        witness_partner_logs(ctx.db, ledger.origin)
    except Exception:  # never keeps the server from starting: the next start tries again
        log.exception("registering the partners' logs with our witness failed")
    ledger.witnesses.set_peer_source(
        PartnerWitnesses(ctx.db, ctx.settings.federation_witness_interval_s)
    )
