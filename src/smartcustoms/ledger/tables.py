"""The ledger's tables: entries, stored tree hashes, checkpoints, cosignatures, keys, witness
state, the hand-off queue and commitment openings.

Layout (one module, :mod:`smartcustoms.ledger.store`, reads and writes the tree tables):

* ``ledger_entry_bundles``: every *full* group of 256 entries as one tlog-tiles entry bundle
  (uint16 length-prefixed entries), keyed by bundle number — what ``tile/entries/<N>`` serves.
* ``ledger_tail_entries``: the entries of the last, incomplete bundle, one row each, so a small
  append never rewrites a bundle; they move into a bundle row when it fills.
* ``ledger_hashes``: every perfect-subtree hash the tree has, 256 consecutive nodes of one level
  per row (``data`` is up to 8 KiB). Rows of levels 0, 8, 16 … are exactly the tlog tiles; the
  levels between are stored too, so a proof reads one 32-byte slice per level instead of
  rebuilding nodes from tiles.
* ``ledger_tree``: the durable, not yet signed tree head (one row), the fence that keeps two
  sequencers from both writing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = [
    "LedgerCheckpoint",
    "LedgerCommitment",
    "LedgerCosignature",
    "LedgerEntryBundle",
    "LedgerHashBlock",
    "LedgerKey",
    "LedgerPending",
    "LedgerRecordKey",
    "LedgerTailEntry",
    "LedgerTree",
    "LedgerWitnessedLog",
]

# SQLite makes an INTEGER PRIMARY KEY the row id (no second index, fast appends); BIGINT would
# not be. PostgreSQL needs 64 bits for indexes and sizes.
Int64 = BigInteger().with_variant(Integer(), "sqlite")


class LedgerTree(Base):
    __tablename__ = "ledger_tree"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Int64)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerEntryBundle(Base):
    __tablename__ = "ledger_entry_bundles"

    bundle: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerTailEntry(Base):
    __tablename__ = "ledger_tail_entries"

    idx: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerHashBlock(Base):
    __tablename__ = "ledger_hashes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    block: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerCheckpoint(Base):
    """A checkpoint the log signed. ``note`` carries the log's signature(s) only; cosignatures
    are rows of ``ledger_cosignatures`` and are appended when the checkpoint is served."""

    __tablename__ = "ledger_checkpoints"

    size: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(255))  # "name+keyid" of the signing log key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cosigned: Mapped[int] = mapped_column(Integer, default=0)
    quorum: Mapped[int] = mapped_column(Integer, default=0)
    quorum_met: Mapped[bool] = mapped_column(Boolean, default=False)


class LedgerCosignature(Base):
    __tablename__ = "ledger_cosignatures"

    checkpoint_size: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(255), primary_key=True)  # "name+keyid"
    vkey: Mapped[str] = mapped_column(Text)
    line: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerKey(Base):
    """Every public key the log has signed with; the one without ``retired_at`` is current."""

    __tablename__ = "ledger_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)  # "name+keyid"
    vkey: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LedgerWitnessedLog(Base):
    """A partner's log this instance witnesses, and the latest checkpoint it cosigned."""

    __tablename__ = "ledger_witnessed_logs"

    origin: Mapped[str] = mapped_column(String(255), primary_key=True)
    vkeys: Mapped[str] = mapped_column(Text)  # the log's verifier keys, one per line
    size: Mapped[int] = mapped_column(Int64, default=0)
    root_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    checkpoint: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerPending(Base):
    """Appends handed to the sequencer by processes that are not it; ``idx`` is set when the
    sequencer stores the entry, in the same transaction."""

    __tablename__ = "ledger_pending"
    __table_args__ = (Index("ix_ledger_pending_idx", "idx"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    idx: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerRecordKey(Base):
    """Idempotency keys of appends that must happen once (one per input line of ``ledger
    append``): written in the transaction that queues the entry, so a re-run after a crash
    finds the key and skips the entry instead of appending it twice."""

    __tablename__ = "ledger_record_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    pending_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerCommitment(Base):
    """The opening of a salted commitment that went into a record: kept so the owner can reveal
    it to someone entitled to see the value."""

    __tablename__ = "ledger_commitments"

    commitment: Mapped[str] = mapped_column(String(71), primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    value: Mapped[str] = mapped_column(Text)  # canonical JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
