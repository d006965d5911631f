"""The ledger as one running instance uses it: :class:`Ledger`, attached to an AppContext.

Modules record what happened by emitting an :class:`~smartcustoms.core.events.Event` on a unit
of work: :func:`attach_ledger` makes the ledger the bus's *recorder*, so every event (logins,
failed logins, role and token changes, administrator actions, lane decisions, alerts, reviews)
is queued in the ledger's outbox inside the transaction that made it (:mod:`.outbox`) and
stored in the tree by the sequencer moments later. :meth:`Ledger.append` appends a record
directly and waits for its index (the ``ledger append`` command, witness evidence).

The web application and the CLI call :func:`attach_ledger`; the ledger stops when the context
closes (``AppContext.close``), storing what is queued and signing a last checkpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Connection, func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.db import Database
from smartcustoms.core.errors import NotFound, ServiceUnavailable
from smartcustoms.core.events import Event
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.checkpoints import SignedCheckpoint, for_proof, latest_checkpoint
from smartcustoms.ledger.cosigning import WitnessClient, parse_witness_peers
from smartcustoms.ledger.errors import InvalidArgument, RecordTooLarge
from smartcustoms.ledger.fork_guard import ForkGuard
from smartcustoms.ledger.handoff import wait_stored
from smartcustoms.ledger.keystore import (
    current_log_key,
    key_label,
    load_log_signer,
    load_witness_signer,
    retire_and_replace,
    write_new_log_key,
)
from smartcustoms.ledger.outbox import CONFIDENTIAL_FIELDS, event_records, queue_once, record_events
from smartcustoms.ledger.sequencer import Sequencer, SequencerConfig
from smartcustoms.ledger.store import (
    StoreHashReader,
    read_entries,
    read_entry_bundle,
    read_tile,
    read_tree_head,
)
from smartcustoms.ledger.tables import LedgerKey, LedgerPending
from smartcustoms.ledger.tlog.cosignature import CosignatureSigner
from smartcustoms.ledger.tlog.proof import consistency_proof, inclusion_proof
from smartcustoms.ledger.tlog.proof_bundle import ProofBundle, format_bundle
from smartcustoms.ledger.tlog.records import MAX_RECORD_SIZE, encode_record, parse_record
from smartcustoms.ledger.tlog.tiles import EntryBundleID, TileID, parse_tile_path
from smartcustoms.ledger.witness import add_checkpoint

__all__ = [
    "CONFIDENTIAL_FIELDS",
    "Ledger",
    "WitnessConflictSeen",
    "attach_ledger",
    "event_records",
    "ledger_of",
]

log = logging.getLogger("smartcustoms.ledger")

_SERVICE = "ledger"


@dataclass(frozen=True, kw_only=True)
class WitnessConflictSeen(Event):
    """Our witness was offered a partner's checkpoint inconsistent with one it cosigned: the
    evidence of a split view goes into our own ledger."""

    type: ClassVar[str] = "ledger.witness_conflict"
    origin: str
    cosigned: str | None
    offered: str


class Ledger:
    """The ledger of one instance: sequencer, witness client, reads, proofs, keys."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.origin = settings.ledger_origin
        peers = parse_witness_peers(settings.ledger_witnesses)
        quorum = settings.ledger_witness_quorum
        self.quorum = len(peers) if quorum is None else quorum
        #: What the log published, kept outside the database: no checkpoint forks it.
        self.guard = ForkGuard(settings.data_dir, self.origin, self.quorum)
        self.witnesses = WitnessClient(db, peers, self.quorum, guard=self.guard)
        self.sequencer = Sequencer(
            db,
            SequencerConfig(
                origin=self.origin,
                data_dir=settings.data_dir,
                interval_s=settings.ledger_checkpoint_interval_ms / 1000,
                quorum=self.quorum,
            ),
            on_checkpoint=self.witnesses.notify,
            guard=self.guard,
        )
        self._witness_signer: CosignatureSigner | None = None
        self._started = False

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.sequencer.start()
            self.witnesses.start()

    def stop(self, flush_timeout: float = 10.0) -> None:
        """Store what this instance queued (a command that just recorded something should not
        leave it for the next sequencer), sign a last checkpoint, stop the threads."""
        if self._started and self.sequencer.running:
            try:
                self.flush(flush_timeout)
            except Exception as exc:  # never lost: the next sequencer to run stores them
                log.warning("ledger stopping with records still queued: %s", exc)
            self.guard.wait_probed()  # the last checkpoint waits for the witnesses' answer
        self.sequencer.stop()
        self.witnesses.stop()

    # -- appending -----------------------------------------------------------------------------

    def append(self, record: Mapping[str, Any]) -> int:
        """Append one record (canonical JSON with ``type`` and ``v``) durably; return its index.

        Raises MalformedRecord or RecordTooLarge for a bad record, ServiceUnavailable if the
        ledger cannot store it.
        """
        return self.append_entries([encode_record(record)])

    def append_many(self, records: Sequence[Mapping[str, Any]]) -> list[int]:
        """Append records as one batch; return their indexes (consecutive)."""
        if not records:
            raise InvalidArgument("nothing to append")
        entries = [encode_record(r) for r in records]  # each within MAX_RECORD_SIZE
        self.start()
        first = self.sequencer.submit(entries)
        return list(range(first, first + len(entries)))

    def append_entries(self, entries: Sequence[bytes]) -> int:
        """Append already-encoded entries as one batch; return the first one's index."""
        if not entries:
            raise InvalidArgument("nothing to append")
        for n, entry in enumerate(entries):
            if len(entry) > MAX_RECORD_SIZE:
                raise RecordTooLarge(
                    f"entry {n} is {len(entry)} bytes, above the limit of {MAX_RECORD_SIZE}",
                    details=[{"entry": n, "got": len(entry), "want": f"<= {MAX_RECORD_SIZE}"}],
                )
        self.start()
        return self.sequencer.submit(entries)

    def record_in(self, conn: Connection, events: Sequence[Event]) -> None:
        """The bus's recorder: queue ``events`` as records in the caller's open transaction
        (the outbox); the sequencer stores them once it commits."""
        record_events(conn, events)

    def committed(self, _events: Sequence[Event]) -> None:
        """After a unit committed: tell the sequencer there is something to store now."""
        self.sequencer.poke()

    def append_once(
        self, keyed: Sequence[tuple[str, Mapping[str, Any]]], *, timeout: float = 30.0
    ) -> list[int | None]:
        """Append each ``(key, record)`` whose idempotency key was never appended before;
        return each one's index, or None for a key already appended (by an earlier run)."""
        entries = [(key, encode_record(record)) for key, record in keyed]
        self.start()
        with self.db.writer.begin() as conn:
            ids = queue_once(conn, entries)
        self.sequencer.poke()
        fresh = [i for i in ids if i is not None]
        stored = iter(wait_stored(self.db, fresh, timeout=timeout, forget=False) if fresh else [])
        return [None if i is None else next(stored) for i in ids]

    def queued(self) -> int:
        """Entries committed to the outbox that the sequencer has not stored yet."""
        with self.db.engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(LedgerPending).where(LedgerPending.idx.is_(None))
            ).scalar_one()
        return int(count)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every record committed to the outbox so far is stored in the tree.
        Raises ServiceUnavailable after ``timeout`` seconds (the records stay queued)."""
        self.start()
        self.sequencer.poke()
        deadline = time.monotonic() + timeout
        pause = 0.002
        while self.queued():
            if time.monotonic() > deadline:
                raise ServiceUnavailable(
                    f"the ledger did not store its queued records within {timeout:g} s",
                    code="ledger_unavailable",
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def wait_covered(self, index: int, timeout: float = 10.0) -> bool:
        """Wait until a signed checkpoint covers entry ``index``."""
        return self.sequencer.wait_covered(index, timeout)

    # -- reading -------------------------------------------------------------------------------

    def size(self) -> int:
        """Entries stored (durable), signed or not yet."""
        with self.db.engine.connect() as conn:
            return read_tree_head(conn).size

    def checkpoint(self) -> SignedCheckpoint | None:
        """The latest signed checkpoint with its cosignatures."""
        with self.db.engine.connect() as conn:
            return latest_checkpoint(conn)

    def _published_size(self) -> int:
        cp = self.checkpoint()
        return 0 if cp is None else cp.size

    def entry(self, index: int) -> bytes:
        """Return stored entry ``index``. Raises NotFound beyond the stored tree."""
        with self.db.engine.connect() as conn:
            size = read_tree_head(conn).size
            if not 0 <= index < size:
                raise NotFound(f"the ledger has no entry {index} (it holds {size})")
            return read_entries(conn, index, 1, size)[0]

    def record(self, index: int) -> dict[str, Any]:
        """Return entry ``index`` parsed as a record."""
        return parse_record(self.entry(index))

    def proof_bundle(self, index: int) -> str:
        """Return a ``c2sp.org/tlog-proof@v1`` bundle proving entry ``index``, carrying the entry
        in its ``extra`` line so that it verifies with nothing but keys.

        Uses the checkpoint :func:`.checkpoints.for_proof` picks (witnessed, most cosigned, newest).
        Raises NotFound if the entry is not stored or no checkpoint covers it yet.
        """
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise InvalidArgument(f"entry index must be a non-negative integer, got {index!r}")
        with self.db.engine.connect() as conn:
            cp = for_proof(conn, index)
            if cp is None:
                raise NotFound(f"entry {index} is not covered by a signed checkpoint (yet)")
            proof = inclusion_proof(index, cp.size, StoreHashReader(conn))
            entry = read_entries(conn, index, 1, cp.size)[0]
        return format_bundle(ProofBundle(index, tuple(proof), cp.text, extra=entry or None))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        with self.db.engine.connect() as conn:
            if new_size > read_tree_head(conn).size:
                raise NotFound(f"the ledger holds fewer than {new_size} entries")
            return consistency_proof(old_size, new_size, StoreHashReader(conn))

    def tile(self, path: str) -> tuple[TileID | EntryBundleID, bytes]:
        """Return a tile or entry bundle by its tlog-tiles path (``tile/…``), as the latest
        checkpoint's tree has it. Raises MalformedTile, NotFound."""
        tile = parse_tile_path(path)
        with self.db.engine.connect() as conn:
            cp = latest_checkpoint(conn)
            size = 0 if cp is None else cp.size
            try:
                if isinstance(tile, TileID):
                    return tile, read_tile(conn, tile, size)
                return tile, read_entry_bundle(conn, tile, size)
            except InvalidArgument as exc:
                raise NotFound(exc.message, details=exc.details) from None

    # -- keys ----------------------------------------------------------------------------------

    def vkey(self) -> str:
        """The verifier key of the log's current signing key (created on first use)."""
        with self.db.engine.connect() as conn:
            current = current_log_key(conn)
        if current is not None:
            return current.vkey
        return load_log_signer(self.settings.data_dir, self.origin).verifier().key_string()

    def vkeys(self) -> list[tuple[str, bool]]:
        """Every log verifier key with whether it is current, newest first."""
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(LedgerKey.vkey, LedgerKey.retired_at).order_by(LedgerKey.created_at.desc())
            ).all()
        return [(vkey, retired is None) for vkey, retired in rows]

    def rotate_key(self, actor: str) -> tuple[str, str]:
        """Replace the log's signing key; return ``(old, new)`` as ``name+keyid``. The next
        checkpoint is signed with the new key (and, by a running sequencer, the old one too)."""
        data_dir = self.settings.data_dir
        old = load_log_signer(data_dir, self.origin, create=False)
        new, new_path = write_new_log_key(data_dir, self.origin)
        with self.db.writer.begin() as conn:
            retire_and_replace(conn, data_dir, old, new, new_path)
        return key_label(old.name, old.key_id), key_label(new.name, new.key_id)

    # -- this instance as a witness -------------------------------------------------------------

    def witness_signer(self) -> CosignatureSigner:
        if self._witness_signer is None:
            name = self.settings.ledger_witness_name or f"{self.origin}/witness"
            self._witness_signer = load_witness_signer(self.settings.data_dir, name)
        return self._witness_signer

    def witness_add_checkpoint(self, body: bytes) -> str:
        """Handle a tlog-witness add-checkpoint request body; return the cosignature line."""
        return add_checkpoint(self.db, self.witness_signer(), body, on_conflict=self._evidence)

    def _evidence(self, origin: str, cosigned: str | None, offered: str) -> None:
        try:
            seen = WitnessConflictSeen(
                actor="witness", origin=origin, cosigned=cosigned, offered=offered
            )
            with self.db.writer.begin() as conn:
                records = event_records(conn, [seen])
            self.append_many(records)
        except Exception:  # the refusal matters more than the evidence: never lose it
            log.exception("could not record a witness conflict for %s", origin)


def attach_ledger(ctx: AppContext, *, start: bool = True) -> Ledger:
    """Give ``ctx`` its ledger (once): events on its bus are appended, and it stops when the
    context closes. ``start=False`` defers the threads to the first append."""
    existing = ctx.services.get(_SERVICE)
    if isinstance(existing, Ledger):
        if start:
            existing.start()
        return existing
    ledger = Ledger(ctx.settings, ctx.db)
    ctx.services[_SERVICE] = ledger
    ctx.bus.subscribe_recorder(ledger.record_in)
    ctx.bus.subscribe_batch(Event, ledger.committed)
    ctx.on_close(ledger.stop)
    if start:
        ledger.start()
    return ledger


def ledger_of(ctx: AppContext) -> Ledger:
    """The ledger attached to ``ctx``. Raises ServiceUnavailable if none is."""
    ledger = ctx.services.get(_SERVICE)
    if not isinstance(ledger, Ledger):
        raise ServiceUnavailable("no ledger is attached to this context", code="ledger_unavailable")
    return ledger
