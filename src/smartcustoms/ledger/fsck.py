"""Checking the stored ledger against itself: ``smartcustoms ledger fsck``.

The tree is recomputed from the stored entries alone and compared, hash by hash, with every
stored tree hash; then every checkpoint's signature, origin, size and root, and every kept
cosignature, are verified; then the log's key file against the public keys on record. All of it
reads one consistent snapshot, so it can run beside a live sequencer.

The report names the first thing wrong in the order entries → tree hashes → tree head →
checkpoints → cosignatures → keys → what the log published (a hold on signing, see
:mod:`.fork_guard`: the stored tree is behind or off a checkpoint it signed or a witness saw),
e.g. ``entry 1234 was changed``, ``entry 7 is missing``, ``entries 4 and 5 are out of order``,
``tile/0/004 does not match the entries``, ``checkpoint 2048: signature by key … does not
verify``. Once one part of the tree is wrong, later tree hashes are not reported (they would
all differ).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import orjson
from sqlalchemy import Connection, func, select

from smartcustoms.core import clock
from smartcustoms.core.db import Database
from smartcustoms.core.errors import ConfigurationError
from smartcustoms.ledger.errors import PRODUCT_ERRORS, TlogError
from smartcustoms.ledger.fork_guard import hold_in, read_state
from smartcustoms.ledger.keystore import (
    LOG_KEY_FILE,
    current_log_key,
    key_dir,
    key_label,
    load_log_signer,
    log_verifiers,
)
from smartcustoms.ledger.store import (
    BLOCK,
    read_entries,
    read_nodes,
    read_tree_head,
    root_from_store,
)
from smartcustoms.ledger.tables import (
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerEntryBundle,
    LedgerHashBlock,
    LedgerTailEntry,
)
from smartcustoms.ledger.tlog.checkpoint import parse_checkpoint
from smartcustoms.ledger.tlog.compact import CompactRange, HashRun
from smartcustoms.ledger.tlog.cosignature import parse_witness_verifier_key, verify_cosignature_line
from smartcustoms.ledger.tlog.keys import Ed25519Verifier
from smartcustoms.ledger.tlog.note import open_note
from smartcustoms.ledger.tlog.rfc6962 import HASH_SIZE, hash_children, hash_leaves
from smartcustoms.ledger.tlog.tiles import TILE_HEIGHT, TileID, parse_entry_bundle

__all__ = ["FsckReport", "Problem", "fsck"]

_CHUNK_BUNDLES = 64  # entries are recomputed 16,384 at a time


@dataclass(frozen=True)
class Problem:
    kind: str  # entry, tree, head, checkpoint, cosignature, key, published
    message: str


@dataclass
class FsckReport:
    size: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, message: str) -> None:
        self.problems.append(Problem(kind, message))


class _TreeBroken(Exception):
    pass


def fsck(
    db: Database,
    data_dir: Path | None,
    origin: str,
    *,
    checkpoint_interval_s: float | None = None,
) -> FsckReport:
    """Check the ledger in ``db`` (and the log key in ``data_dir``, when given).

    With ``checkpoint_interval_s`` (the sequencer's), entries left unsigned for much longer
    than it are reported too."""
    report = FsckReport()
    with db.engine.connect() as base:
        # One snapshot for everything: SQLite's read transaction is one already; PostgreSQL's
        # default (read committed) would see appends made while we read.
        conn = base if db.is_sqlite else base.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            head = read_tree_head(conn)
            report.size = head.size
            try:
                root = _check_tree(conn, head.size, report)
            except _TreeBroken:
                root = None
            if root is not None and root != head.root_hash:
                report.add(
                    "head",
                    f"the tree head says root {head.root_hash.hex()} at size {head.size}, the "
                    f"entries give {root.hex()}",
                )
            verifiers = _log_keys(conn, report)
            _check_checkpoints(conn, head.size, origin, verifiers, root is not None, report)
            _check_cosignatures(conn, report)
            _check_checkpoint_history(
                conn, head.size, data_dir, origin, checkpoint_interval_s, report
            )
            if data_dir is not None:
                _check_key_file(conn, data_dir, origin, report)
                hold = hold_in(conn, data_dir, origin)
                if hold is not None:
                    report.add("published", f"{hold.message}. To resolve: {hold.remedy}")
    return report


# -- entries and tree hashes ---------------------------------------------------------------------


def _entries(conn: Connection, size: int, report: FsckReport) -> Iterator[tuple[int, list[bytes]]]:
    """Yield ``(first index, entries)`` in order, one bundle at a time; report what is missing."""
    full = size // BLOCK
    expected = 0
    query = select(LedgerEntryBundle.bundle, LedgerEntryBundle.data).order_by(
        LedgerEntryBundle.bundle
    )
    for bundle, data in conn.execute(query):
        bundle = int(bundle)
        if bundle != expected:
            if bundle > expected and expected < full:
                report.add(
                    "entry",
                    f"entries {expected * BLOCK}..{expected * BLOCK + BLOCK - 1} "
                    f"are missing (entry bundle {expected})",
                )
            else:
                report.add("entry", f"entry bundle {bundle} is beyond the tree of size {size}")
            raise _TreeBroken
        if bundle >= full:
            report.add("entry", f"entry bundle {bundle} is beyond the tree of size {size}")
            raise _TreeBroken
        try:
            entries = parse_entry_bundle(bytes(data), BLOCK)
        except PRODUCT_ERRORS as exc:
            report.add(
                "entry",
                f"entry bundle {bundle} (entries {bundle * BLOCK}.."
                f"{bundle * BLOCK + BLOCK - 1}) is damaged: {exc.message}",
            )
            raise _TreeBroken from None
        yield bundle * BLOCK, entries
        expected += 1
    if expected < full:
        report.add(
            "entry",
            f"entries {expected * BLOCK}..{expected * BLOCK + BLOCK - 1} are "
            f"missing (entry bundle {expected})",
        )
        raise _TreeBroken
    tail = [
        (int(i), bytes(d))
        for i, d in conn.execute(
            select(LedgerTailEntry.idx, LedgerTailEntry.data).order_by(LedgerTailEntry.idx)
        )
    ]
    for n, (index, _) in enumerate(tail):
        want = full * BLOCK + n
        if index != want:
            if want < size and index > want:
                report.add("entry", f"entry {want} is missing")
            else:
                report.add(
                    "entry", f"entry {index} is stored but not part of the tree of size {size}"
                )
            raise _TreeBroken
    if full * BLOCK + len(tail) < size:
        report.add("entry", f"entry {full * BLOCK + len(tail)} is missing")
        raise _TreeBroken
    if full * BLOCK + len(tail) > size:
        report.add("entry", f"entry {size} is stored but not part of the tree of size {size}")
        raise _TreeBroken
    if tail:
        yield full * BLOCK, [d for _, d in tail]


def _check_tree(conn: Connection, size: int, report: FsckReport) -> bytes | None:
    """Recompute the tree from the entries, compare every stored hash; return the root."""
    compact = CompactRange()
    chunk: list[bytes] = []
    chunk_start = 0
    for first, entries in _entries(conn, size, report):
        if not chunk:
            chunk_start = first
        chunk.extend(entries)
        if len(chunk) >= _CHUNK_BUNDLES * BLOCK:
            _compare(conn, compact, chunk_start, chunk, report)
            chunk = []
    if chunk:
        _compare(conn, compact, chunk_start, chunk, report)
    _check_no_extra_hashes(conn, size, report)
    return compact.root()


def _compare(
    conn: Connection, compact: CompactRange, first: int, entries: list[bytes], report: FsckReport
) -> None:
    leaves = hash_leaves(entries)
    runs = compact.append(leaves)
    for run in runs:
        stored = _stored_run(conn, run)
        for i, (want, got) in enumerate(zip(run.hashes, stored, strict=True)):
            if got is None:
                node = run.start + i
                report.add("tree", f"{_where(run.level, node)} has no hash for node {node}")
                raise _TreeBroken
            if want != got:
                report.add(*_name_mismatch(conn, run, run.start + i, entries, leaves, first))
                raise _TreeBroken


def _stored_run(conn: Connection, run: HashRun) -> list[bytes | None]:
    lo, hi = run.start // BLOCK, (run.start + len(run.hashes) - 1) // BLOCK
    rows = {
        int(b): bytes(d)
        for b, d in conn.execute(
            select(LedgerHashBlock.block, LedgerHashBlock.data).where(
                LedgerHashBlock.level == run.level, LedgerHashBlock.block.between(lo, hi)
            )
        )
    }
    out: list[bytes | None] = []
    for node in range(run.start, run.start + len(run.hashes)):
        data = rows.get(node // BLOCK, b"")
        off = (node % BLOCK) * HASH_SIZE
        out.append(data[off : off + HASH_SIZE] if len(data) >= off + HASH_SIZE else None)
    return out


def _where(level: int, node: int) -> str:
    block = node // BLOCK
    name = f"hash row (level {level}, block {block})"
    if level % TILE_HEIGHT == 0:
        name = f"{TileID(level // TILE_HEIGHT, block).path} ({name})"
    return name


def _name_mismatch(
    conn: Connection,
    run: HashRun,
    node: int,
    entries: list[bytes],
    leaves: list[bytes],
    first: int,
) -> tuple[str, str]:
    """Say whether an entry or a stored hash changed, from which one the level above agrees
    with."""
    if run.level == 0:
        stored = _stored_run(conn, HashRun(0, node, [b""]))[0]
        if stored is None:
            return "tree", f"{_where(0, node)} has no leaf hash for entry {node}"
        mine = leaves[node - first]
        if stored in leaves:
            other = first + leaves.index(stored)
            return "entry", f"entries {min(node, other)} and {max(node, other)} are out of order"
        if _parent_agrees(conn, node, stored, first, leaves):
            return (
                "entry",
                f"entry {node} was changed (its leaf hash is {mine.hex()}, the "
                f"stored tree has {stored.hex()})",
            )
        return (
            "tree",
            f"{_where(0, node)} does not match the entries: leaf hash of entry "
            f"{node} stored as {stored.hex()}, want {mine.hex()}",
        )
    return (
        "tree",
        f"{_where(run.level, node)} does not match the hashes below it (node "
        f"{node} of level {run.level})",
    )


def _parent_agrees(
    conn: Connection, node: int, stored: bytes, first: int, leaves: list[bytes]
) -> bool:
    """Whether the stored level-1 parent was computed from the stored leaf hash (so the entry,
    not the stored hash, is what changed)."""
    sibling = node ^ 1
    if not first <= sibling < first + len(leaves):
        return False
    try:
        (parent,) = read_nodes(conn, [(1, node >> 1)])
    except PRODUCT_ERRORS:
        return False
    pair = (stored, leaves[sibling - first]) if node % 2 == 0 else (leaves[sibling - first], stored)
    return hash_children(*pair) == parent


def _check_no_extra_hashes(conn: Connection, size: int, report: FsckReport) -> None:
    query = select(LedgerHashBlock.level, LedgerHashBlock.block, LedgerHashBlock.data)
    for level in range(64):
        count = size >> level
        last = conn.execute(
            query.where(LedgerHashBlock.level == level).order_by(LedgerHashBlock.block.desc())
        ).first()
        if last is None:
            if count:
                report.add("tree", f"{_where(level, 0)} is missing")
                raise _TreeBroken
            continue
        have = int(last.block) * BLOCK + len(last.data) // HASH_SIZE
        if have != count or len(last.data) % HASH_SIZE:
            report.add(
                "tree",
                f"{_where(level, int(last.block) * BLOCK)} holds hashes up to "
                f"node {have}, the tree of size {size} has {count} on level {level}",
            )
            raise _TreeBroken


# -- checkpoints, cosignatures, keys ---------------------------------------------------------------


def _log_keys(conn: Connection, report: FsckReport) -> list[Ed25519Verifier]:
    try:
        return log_verifiers(conn)
    except PRODUCT_ERRORS as exc:
        report.add("key", exc.message)
        return []


def _check_checkpoints(
    conn: Connection,
    size: int,
    origin: str,
    verifiers: Sequence[Ed25519Verifier],
    tree_ok: bool,
    report: FsckReport,
) -> None:
    rows = conn.execute(
        select(LedgerCheckpoint.size, LedgerCheckpoint.root_hash, LedgerCheckpoint.note).order_by(
            LedgerCheckpoint.size
        )
    )
    for cp_size, root, note in rows:
        cp_size, root = int(cp_size), bytes(root)
        report.checkpoints += 1
        where = f"checkpoint {cp_size}"
        try:
            opened = open_note(note, verifiers)
            cp = parse_checkpoint(opened.text)
        except PRODUCT_ERRORS as exc:
            report.add("checkpoint", f"{where}: {exc.message}")
            continue
        if cp.origin != origin or cp.size != cp_size or cp.root_hash != root:
            report.add(
                "checkpoint",
                f"{where}: its note says origin {cp.origin!r}, size "
                f"{cp.size}, root {cp.root_hash.hex()}; the row says {origin!r}, "
                f"{cp_size}, {root.hex()}",
            )
            continue
        if cp_size > size:
            report.add("checkpoint", f"{where} is beyond the stored tree of size {size}")
            continue
        if tree_ok and cp_size:
            computed = root_from_store(conn, cp_size)
            if computed != root:
                report.add(
                    "checkpoint",
                    f"{where}: signed root {root.hex()}, the entries give {computed.hex()}",
                )


def _check_cosignatures(conn: Connection, report: FsckReport) -> None:
    query = select(
        LedgerCosignature.checkpoint_size,
        LedgerCosignature.witness,
        LedgerCosignature.vkey,
        LedgerCosignature.line,
        LedgerCheckpoint.note,
    ).join(LedgerCheckpoint, LedgerCheckpoint.size == LedgerCosignature.checkpoint_size)
    for cp_size, witness, vkey, line, note in conn.execute(query):
        report.cosignatures += 1
        try:
            verifier = parse_witness_verifier_key(vkey)
            if key_label(verifier.name, verifier.key_id) != witness:
                raise ConfigurationError(f"its key is {key_label(verifier.name, verifier.key_id)}")
            body = note[: note.rindex("\n\n") + 1]
            verify_cosignature_line(body, line, verifier)
        except (*PRODUCT_ERRORS, ValueError) as exc:
            message = exc.message if isinstance(exc, PRODUCT_ERRORS) else str(exc)
            report.add(
                "cosignature", f"cosignature by {witness} on checkpoint {cp_size}: {message}"
            )


#: Unsigned entries are reported once the oldest is older than this many checkpoint intervals
#: (the sequencer signs within about one), and at least :data:`UNSIGNED_GRACE`.
UNSIGNED_INTERVALS = 5
UNSIGNED_GRACE = timedelta(seconds=60)
_REPORT_AT_MOST = 20  # of one kind of checkpoint problem; then a count


def _check_checkpoint_history(
    conn: Connection,
    size: int,
    data_dir: Path | None,
    origin: str,
    interval_s: float | None,
    report: FsckReport,
) -> None:
    """Checkpoints deleted or missing: a kept cosignature of a checkpoint whose row is gone;
    signed sizes that go backwards in time; a stored tail left unsigned for many intervals;
    a latest checkpoint smaller than what this instance's guard file says it signed."""
    orphans = conn.execute(
        select(LedgerCosignature.checkpoint_size, func.count())
        .outerjoin(LedgerCheckpoint, LedgerCheckpoint.size == LedgerCosignature.checkpoint_size)
        .where(LedgerCheckpoint.size.is_(None))
        .group_by(LedgerCosignature.checkpoint_size)
        .order_by(LedgerCosignature.checkpoint_size)
    ).all()
    for cp_size, count in orphans[:_REPORT_AT_MOST]:
        report.add(
            "checkpoint",
            f"checkpoint {cp_size} is missing: its row was deleted, but {count} witness "
            "cosignature(s) of it are kept",
        )
    if len(orphans) > _REPORT_AT_MOST:
        report.add("checkpoint", f"… and {len(orphans) - _REPORT_AT_MOST} more missing checkpoints")

    # In size order, each checkpoint must have been signed no earlier than every smaller one.
    backwards = 0
    latest: tuple[int, datetime] | None = None  # the last signed of those read so far
    last = -1
    while True:
        page = conn.execute(
            select(LedgerCheckpoint.size, LedgerCheckpoint.created_at)
            .where(LedgerCheckpoint.size > last)
            .order_by(LedgerCheckpoint.size)
            .limit(10_000)
        ).all()
        for cp_size, created in page:
            cp_size = int(cp_size)
            if latest is not None and created < latest[1]:
                backwards += 1
                if backwards <= _REPORT_AT_MOST:
                    report.add(
                        "checkpoint",
                        f"checkpoint {latest[0]} was signed at {latest[1].isoformat()}, after "
                        f"the larger checkpoint {cp_size} ({created.isoformat()}): the signed "
                        "size went backwards",
                    )
            if latest is None or created >= latest[1]:
                latest = (cp_size, created)
        if len(page) < 10_000:
            break
        last = int(page[-1].size)
    if backwards > _REPORT_AT_MOST:
        report.add(
            "checkpoint", f"… and {backwards - _REPORT_AT_MOST} more checkpoints out of order"
        )

    signed = int(conn.execute(select(func.max(LedgerCheckpoint.size))).scalar() or 0)
    if interval_s is not None and size > signed:
        _check_unsigned_tail(conn, signed, size, interval_s, report)
    if data_dir is not None:
        try:
            state = read_state(data_dir, origin)
        except TlogError:
            return  # a damaged guard file is reported as the hold on signing
        mark = state.mark
        # After an accepted fork the mark is where the new key starts, not a signed size.
        forked = (
            any(f.size == mark.size and f.new_key == mark.key for f in state.forks)
            if mark
            else False
        )
        if mark is not None and not forked and mark.size > signed:
            report.add(
                "checkpoint",
                f"the latest checkpoint is of size {signed}, but this instance signed one of "
                f"size {mark.size} ({mark.at}, key {mark.key}): checkpoints were deleted, or "
                "the database was restored from an older backup",
            )


def _check_unsigned_tail(
    conn: Connection, signed: int, size: int, interval_s: float, report: FsckReport
) -> None:
    """Report entries ``signed``.. left unsigned although their records' own ``at`` times show
    them older than a few checkpoint intervals (a deleted checkpoint, or a log that stopped
    signing). The first of them that carries a time is the one judged."""
    limit = max(UNSIGNED_GRACE, timedelta(seconds=UNSIGNED_INTERVALS * interval_s))
    try:
        entries = read_entries(conn, signed, min(BLOCK, size - signed), size)
    except PRODUCT_ERRORS:
        return  # missing entries are reported with the tree
    for n, entry in enumerate(entries):
        try:
            at = datetime.fromisoformat(str(orjson.loads(entry)["at"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        if at.tzinfo is None:
            return
        age = clock.now() - at
        if age > limit:
            report.add(
                "checkpoint",
                f"entries {signed}..{size - 1} are not covered by any signed checkpoint, and "
                f"entry {signed + n} was recorded at {at.isoformat()}, "
                f"{int(age.total_seconds())} s ago (checkpoints are signed every "
                f"{interval_s:g} s): a checkpoint was deleted, or the log stopped signing",
            )
        return


def _check_key_file(conn: Connection, data_dir: Path, origin: str, report: FsckReport) -> None:
    if not (key_dir(data_dir) / LOG_KEY_FILE).exists():
        return  # a replica that never sequences has no key: nothing to compare
    try:
        signer = load_log_signer(data_dir, origin, create=False)
    except PRODUCT_ERRORS as exc:
        report.add("key", exc.message)
        return
    current = current_log_key(conn)
    label = key_label(signer.name, signer.key_id)
    if current is not None and (
        current.key != label or current.vkey != signer.verifier().key_string()
    ):
        report.add("key", f"the key file holds {label}, but the log's current key is {current.key}")
