"""Signed checkpoints and their witness cosignatures, as stored and as served.

The sequencer signs a checkpoint (C2SP tlog-checkpoint) for the tree it stored and keeps the
log-signed note; witnesses' cosignature lines are kept beside it, one row each, and appended to
the note when it is served. A checkpoint counts as *witnessed* once ``quorum`` trusted witnesses
cosigned it (the witness client records that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from smartcustoms.core import clock
from smartcustoms.ledger.keystore import key_label
from smartcustoms.ledger.tables import LedgerCheckpoint, LedgerCosignature
from smartcustoms.ledger.tlog.checkpoint import Checkpoint, format_checkpoint
from smartcustoms.ledger.tlog.cosignature import CosignatureVerifier
from smartcustoms.ledger.tlog.keys import Signer
from smartcustoms.ledger.tlog.note import sign_note

__all__ = [
    "Cosigned",
    "SignedCheckpoint",
    "add_cosignature",
    "for_proof",
    "get_checkpoint",
    "last_cosigned_size",
    "latest_checkpoint",
    "sign_and_store",
]


@dataclass(frozen=True)
class Cosigned:
    """One witness's cosignature on a stored checkpoint."""

    witness: str  # name+keyid
    timestamp: int
    line: str


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root_hash: bytes
    note: str  # signed by the log only
    key: str  # name+keyid of the log key that signed
    created_at: datetime
    cosignatures: tuple[Cosigned, ...]
    quorum: int
    quorum_met: bool

    @property
    def text(self) -> str:
        """The checkpoint as served: the log's signature, then every witness cosignature."""
        return self.note + "".join(c.line for c in self.cosignatures)


def sign_and_store(
    conn: Connection,
    origin: str,
    size: int,
    root_hash: bytes,
    signers: Sequence[Signer],
    quorum: int = 0,
) -> SignedCheckpoint:
    """Sign the checkpoint (origin, size, root) with ``signers`` (the current log key first)
    and store it in the caller's transaction; ``quorum`` cosignatures will make it witnessed."""
    note = sign_note(format_checkpoint(Checkpoint(origin, size, root_hash)), signers)
    now = clock.now()
    key = key_label(signers[0].name, signers[0].key_id)
    conn.execute(
        insert(LedgerCheckpoint).values(
            size=size,
            root_hash=root_hash,
            note=note,
            key=key,
            created_at=now,
            cosigned=0,
            quorum=quorum,
            quorum_met=False,
        )
    )
    return SignedCheckpoint(size, root_hash, note, key, now, (), quorum, False)


# Built once (with bind parameters): building a statement costs more than running it, and
# these run for every proof and every checkpoint served.
_ROWS = select(*LedgerCheckpoint.__table__.columns)
_LATEST = _ROWS.order_by(LedgerCheckpoint.size.desc()).limit(1)
_BY_SIZE = _ROWS.where(LedgerCheckpoint.size == bindparam("size"))
# Witnessed checkpoints first (true sorts after false), then the newest.
_FOR_PROOF = (
    _ROWS.where(LedgerCheckpoint.size > bindparam("index"))
    .order_by(
        LedgerCheckpoint.quorum_met.desc(),
        LedgerCheckpoint.cosigned.desc(),
        LedgerCheckpoint.size.desc(),
    )
    .limit(1)
)
_COSIGNATURES = (
    select(LedgerCosignature.witness, LedgerCosignature.timestamp, LedgerCosignature.line)
    .where(LedgerCosignature.checkpoint_size == bindparam("size"))
    .order_by(LedgerCosignature.created_at, LedgerCosignature.witness)
)


def _load(conn: Connection, row: Row[Any] | None) -> SignedCheckpoint | None:
    if row is None:
        return None
    cosigs = conn.execute(_COSIGNATURES, {"size": row.size}).all()
    return SignedCheckpoint(
        size=int(row.size),
        root_hash=bytes(row.root_hash),
        note=row.note,
        key=row.key,
        created_at=row.created_at,
        cosignatures=tuple(Cosigned(w, int(t), line) for w, t, line in cosigs),
        quorum=row.quorum,
        quorum_met=row.quorum_met,
    )


def latest_checkpoint(conn: Connection) -> SignedCheckpoint | None:
    """The newest signed checkpoint, with its cosignatures; None before the first."""
    return _load(conn, conn.execute(_LATEST).first())


def get_checkpoint(conn: Connection, size: int) -> SignedCheckpoint | None:
    return _load(conn, conn.execute(_BY_SIZE, {"size": size}).first())


def for_proof(conn: Connection, index: int) -> SignedCheckpoint | None:
    """The checkpoint a proof of entry ``index`` should use: among those that cover it, a
    witnessed one before one that is not, then the one with the most cosignatures (a partner's
    among them: the proof then holds against that partner too), then the newest; None if no
    checkpoint covers it yet."""
    return _load(conn, conn.execute(_FOR_PROOF, {"index": index}).first())


def last_cosigned_size(conn: Connection, witness: str) -> int:
    """The largest checkpoint size ``witness`` (name+keyid) cosigned, 0 if none."""
    size = conn.execute(
        select(func.max(LedgerCosignature.checkpoint_size)).where(
            LedgerCosignature.witness == witness
        )
    ).scalar()
    return int(size or 0)


def add_cosignature(
    conn: Connection,
    size: int,
    verifier: CosignatureVerifier,
    line: str,
    timestamp: int,
    quorum: int,
) -> None:
    """Keep a verified cosignature of checkpoint ``size`` and recount its quorum."""
    label = key_label(verifier.name, verifier.key_id)
    exists = conn.execute(
        select(LedgerCosignature.witness).where(
            LedgerCosignature.checkpoint_size == size, LedgerCosignature.witness == label
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(LedgerCosignature).values(
                checkpoint_size=size,
                witness=label,
                vkey=verifier.key_string(),
                line=line,
                timestamp=timestamp,
                created_at=clock.now(),
            )
        )
    count = conn.execute(
        select(func.count()).where(LedgerCosignature.checkpoint_size == size)
    ).scalar_one()
    conn.execute(
        update(LedgerCheckpoint)
        .where(LedgerCheckpoint.size == size)
        .values(cosigned=count, quorum=quorum, quorum_met=count >= quorum)
    )
