"""The ledger's storage layout, read and written in one place (see :mod:`.tables`).

The tree is stored as what :meth:`CompactRange.append` hands back: every perfect-subtree hash,
256 consecutive nodes of a level per ``ledger_hashes`` row. Node ``(level, i)`` lives in row
``(level, i // 256)`` at byte ``(i % 256) * 32``. A tlog tile ``L/N`` is row ``(8 * L, N)``
(its first ``W`` hashes when partial), so tiles are served without computation, and a proof
reads one 32-byte slice from each of a couple of dozen rows.

Entries are stored as full tlog-tiles entry bundles plus one row per entry of the incomplete
last bundle (``ledger_tail_entries``).

Only the sequencer writes, through :class:`TreeWriter`, which keeps the incomplete last row of
each level and the tail entries in memory so that an append never reads before it writes. Every
write ends by moving the ``ledger_tree`` row from the size the writer started from to the new
size; if another writer got there first, no row matches and the whole transaction is undone
(:class:`Fenced`), so two sequencers can never interleave their writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from smartcustoms.core import clock
from smartcustoms.ledger.errors import InvalidArgument, LedgerError, MissingHash
from smartcustoms.ledger.tables import (
    LedgerEntryBundle,
    LedgerHashBlock,
    LedgerTailEntry,
    LedgerTree,
)
from smartcustoms.ledger.tlog.compact import CompactRange, HashRun
from smartcustoms.ledger.tlog.proof import NodeID, root_hash
from smartcustoms.ledger.tlog.rfc6962 import EMPTY_ROOT, HASH_SIZE
from smartcustoms.ledger.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    EntryBundleID,
    TileID,
    format_entry_bundle,
    parse_entry_bundle,
)

__all__ = [
    "BLOCK",
    "Fenced",
    "StoreHashReader",
    "TreeHead",
    "TreeWriter",
    "iter_rows",
    "read_entries",
    "read_entry_bundle",
    "read_nodes",
    "read_tile",
    "read_tree_head",
    "root_from_store",
    "truncate_unsigned",
]

BLOCK = TILE_WIDTH
"""Nodes per ``ledger_hashes`` row and entries per entry bundle."""
_ROW_BYTES = BLOCK * HASH_SIZE
_TREE_ROW = 1


class Fenced(LedgerError):
    """Another sequencer moved the tree since this one loaded it: this one must stop writing."""

    code = "ledger_fenced"


@dataclass(frozen=True)
class TreeHead:
    """The durable (stored, not necessarily signed) size and root of the tree."""

    size: int
    root_hash: bytes


def read_tree_head(conn: Connection) -> TreeHead:
    row = conn.execute(
        select(LedgerTree.size, LedgerTree.root_hash).where(LedgerTree.id == _TREE_ROW)
    ).first()
    if row is None:
        return TreeHead(0, EMPTY_ROOT)
    return TreeHead(int(row.size), bytes(row.root_hash))


# -- reading hashes ----------------------------------------------------------------------------


def read_nodes(conn: Connection, ids: Sequence[NodeID]) -> list[bytes]:
    """Return the stored hash of each perfect subtree ``(level, index)``, in order, in one
    query. Raises MissingHash naming the first node storage does not have."""
    if not ids:
        return []
    keys = sorted({(level, index // BLOCK) for level, index in ids})
    # The proof endpoint's hot path: a driver-level statement skips SQLAlchemy's compilation,
    # which would cost ten times the query itself (about 0.5 ms against 0.05 ms).
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    where = " OR ".join([f"(level = {mark} AND block = {mark})"] * len(keys))
    params = tuple(v for key in keys for v in key)
    blocks: dict[tuple[int, int], bytes] = {}
    sql = f"SELECT level, block, data FROM ledger_hashes WHERE {where}"  # noqa: S608 - marks only
    for level, block, row in conn.exec_driver_sql(sql, params):
        blocks[(int(level), int(block))] = bytes(row)
    out = []
    for level, index in ids:
        data = blocks.get((level, index // BLOCK), b"")
        off = (index % BLOCK) * HASH_SIZE
        if len(data) < off + HASH_SIZE:
            raise MissingHash(
                f"no stored hash for node (level {level}, index {index})",
                details=[{"level": level, "index": index}],
            )
        out.append(data[off : off + HASH_SIZE])
    return out


class StoreHashReader:
    """A :class:`~smartcustoms.ledger.tlog.proof.HashReader` over one open connection."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def __call__(self, ids: Sequence[NodeID], /) -> list[bytes]:
        return read_nodes(self._conn, ids)


def read_tile(conn: Connection, tile: TileID, tree_size: int) -> bytes:
    """Return the contents of ``tile`` as the tree of ``tree_size`` has it.

    Raises InvalidArgument if that tree does not hold the tile (it is beyond the tree, or wider
    than the tree's partial tile), MissingHash if storage lacks hashes the tree has.
    """
    have = tree_size >> (TILE_HEIGHT * tile.level)
    if tile.index * TILE_WIDTH + tile.width > have:
        raise InvalidArgument(
            f"{tile.path} is not in the tree of size {tree_size}",
            details=[{"tile": tile.path, "tree_size": tree_size}],
        )
    data = conn.execute(
        select(LedgerHashBlock.data).where(
            LedgerHashBlock.level == tile.level * TILE_HEIGHT, LedgerHashBlock.block == tile.index
        )
    ).scalar()
    want = tile.width * HASH_SIZE
    if data is None or len(data) < want:
        raise MissingHash(
            f"{tile.path}: storage has {0 if data is None else len(data)} bytes, want {want}",
            details=[{"tile": tile.path}],
        )
    return bytes(data[:want])


# -- reading entries ---------------------------------------------------------------------------


def read_entries(conn: Connection, start: int, count: int, tree_size: int) -> list[bytes]:
    """Return entries ``start .. start + count - 1`` of the tree of ``tree_size``.

    Raises InvalidArgument if the range is outside the tree, MissingHash-like
    :class:`LedgerError` ``missing_entry`` if storage lacks an entry the tree has.
    """
    if start < 0 or count < 1 or start + count > tree_size:
        raise InvalidArgument(
            f"entries {start}..{start + count - 1} are not in the tree of size {tree_size}",
            details=[{"index": start, "count": count, "tree_size": tree_size}],
        )
    out: list[bytes] = []
    full_bundles = tree_size // BLOCK
    first, last = start // BLOCK, (start + count - 1) // BLOCK
    in_bundles = range(first, min(last, full_bundles - 1) + 1)
    if len(in_bundles):
        query = select(LedgerEntryBundle.bundle, LedgerEntryBundle.data).where(
            LedgerEntryBundle.bundle.between(in_bundles[0], in_bundles[-1])
        )
        rows = {int(b): bytes(data) for b, data in conn.execute(query)}
        for b in in_bundles:
            data = rows.get(b)
            if data is None:
                raise _missing_entry(b * BLOCK)
            lo = max(start, b * BLOCK) - b * BLOCK
            hi = min(start + count, (b + 1) * BLOCK) - b * BLOCK
            if hi - lo == 1:  # one entry (a proof's): walk the length prefixes, split nothing
                out.append(_nth_entry(data, lo, b))
            else:
                out.extend(parse_entry_bundle(data, BLOCK)[lo:hi])
    tail_start = max(start, full_bundles * BLOCK)
    if tail_start < start + count:
        query = select(LedgerTailEntry.idx, LedgerTailEntry.data).where(
            LedgerTailEntry.idx.between(tail_start, start + count - 1)
        )
        rows = {int(i): bytes(data) for i, data in conn.execute(query)}
        for i in range(tail_start, start + count):
            data = rows.get(i)
            if data is None:
                raise _missing_entry(i)
            out.append(data)
    return out


def _nth_entry(data: bytes, n: int, bundle: int) -> bytes:
    off = 0
    for _ in range(n):
        if off + 2 > len(data):
            break
        off += 2 + int.from_bytes(data[off : off + 2], "big")  # uint16 entry length
    if off + 2 <= len(data):
        end = off + 2 + int.from_bytes(data[off : off + 2], "big")
        if end <= len(data):
            return data[off + 2 : end]
    # A damaged bundle: let the full parser name the byte offset at fault.
    parse_entry_bundle(data, BLOCK)
    raise _missing_entry(bundle * BLOCK + n)


def _missing_entry(index: int) -> LedgerError:
    return LedgerError(
        f"storage has no entry {index}", details=[{"index": index}], code="missing_entry"
    )


def read_entry_bundle(conn: Connection, bundle: EntryBundleID, tree_size: int) -> bytes:
    """Return the entry bundle ``bundle`` of the tree of ``tree_size`` (InvalidArgument if the
    tree does not hold it)."""
    start = bundle.index * BLOCK
    if start + bundle.width > tree_size:
        raise InvalidArgument(
            f"{bundle.path} is not in the tree of size {tree_size}",
            details=[{"tile": bundle.path, "tree_size": tree_size}],
        )
    if not bundle.is_partial:
        data = conn.execute(
            select(LedgerEntryBundle.data).where(LedgerEntryBundle.bundle == bundle.index)
        ).scalar()
        if data is None:
            raise _missing_entry(start)
        return bytes(data)
    return format_entry_bundle(read_entries(conn, start, bundle.width, tree_size))


# -- writing -----------------------------------------------------------------------------------


@dataclass
class TreeWriter:
    """The sequencer's view of the stored tree: its frontier, the incomplete last hash row of
    each level and the entries of the incomplete last bundle. Not thread-safe."""

    compact: CompactRange
    partial_rows: dict[int, bytes] = field(default_factory=dict)
    tail: list[bytes] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.compact.size

    @classmethod
    def load(cls, conn: Connection) -> TreeWriter:
        """Read the stored tree's frontier, incomplete rows and tail; check them against the
        stored root. Raises MissingHash or LedgerError (``tree_mismatch``) on damage."""
        head = read_tree_head(conn)
        if head.size == 0:
            return cls(CompactRange())
        compact = CompactRange.from_reader(head.size, StoreHashReader(conn))
        if compact.root() != head.root_hash:
            raise LedgerError(
                f"stored tree hashes give root {compact.root().hex()} at size {head.size}, "
                f"the tree head says {head.root_hash.hex()}: run `smartcustoms ledger fsck`",
                code="tree_mismatch",
            )
        partial: dict[int, bytes] = {}
        wanted = {
            level: (head.size >> level) // BLOCK
            for level in range(head.size.bit_length())
            if (head.size >> level) % BLOCK
        }
        if wanted:
            query = select(LedgerHashBlock.level, LedgerHashBlock.block, LedgerHashBlock.data)
            query = query.where(
                tuple_(LedgerHashBlock.level, LedgerHashBlock.block).in_(list(wanted.items()))
            )
            for level, block, data in conn.execute(query):
                if wanted.get(int(level)) == int(block):
                    partial[int(level)] = bytes(data)
        for level, block in wanted.items():
            want = ((head.size >> level) % BLOCK) * HASH_SIZE
            if len(partial.get(level, b"")) != want:
                raise MissingHash(
                    f"hash row (level {level}, block {block}) is not {want} bytes",
                    details=[{"level": level, "block": block}],
                )
        tail_start = head.size - head.size % BLOCK
        tail = (
            read_entries(conn, tail_start, head.size - tail_start, head.size)
            if head.size > tail_start
            else []
        )
        return cls(compact, partial, tail)

    def write(
        self, conn: Connection, entries: Sequence[bytes], leaf_hashes: Sequence[bytes]
    ) -> int:
        """Store ``entries`` (with their leaf hashes) after the tree's last entry, in the
        caller's transaction, and return the new size.

        On any error the caller must roll back and :meth:`load` a fresh writer: this one's
        memory may be ahead of the database. Raises Fenced if the stored tree moved.
        """
        if len(entries) != len(leaf_hashes) or not entries:
            raise InvalidArgument("write needs as many leaf hashes as entries, at least one")
        old_size = self.compact.size
        runs = self.compact.append(leaf_hashes)
        new_size = self.compact.size
        # Move the tree head first: it takes the row's lock (PostgreSQL) before anything else is
        # written, and a writer whose view is stale stops here rather than on a duplicate row.
        moved = conn.execute(
            _MOVE_HEAD,
            {"t": _TREE_ROW, "old": old_size, "new": new_size, "root": self.compact.root(),
             "at": clock.now()},
        )  # fmt: skip
        if moved.rowcount != 1:
            if old_size != 0 or read_tree_head(conn).size != 0:
                raise Fenced(f"the stored tree is no longer at size {old_size}")
            try:
                with conn.begin_nested():  # the first write ever: another writer may race us
                    conn.execute(
                        insert(LedgerTree).values(
                            id=_TREE_ROW,
                            size=new_size,
                            root_hash=self.compact.root(),
                            updated_at=clock.now(),
                        )
                    )
            except IntegrityError:
                raise Fenced("another sequencer wrote the first entries") from None
        self._write_entries(conn, old_size, entries)
        self._write_hashes(conn, runs)
        return new_size

    def _write_entries(self, conn: Connection, old_size: int, entries: Sequence[bytes]) -> None:
        pending = [*self.tail, *entries]
        first = old_size - len(self.tail)  # index of pending[0]; a multiple of BLOCK
        bundles = []
        done = 0
        while len(pending) - done >= BLOCK:
            bundles.append(
                {
                    "bundle": (first + done) // BLOCK,
                    "data": format_entry_bundle(pending[done : done + BLOCK]),
                }
            )
            done += BLOCK
        if bundles:
            conn.execute(_INSERT_BUNDLES, bundles)
            if self.tail:
                conn.execute(_DELETE_TAIL, {"lo": first, "hi": old_size - 1})
        new_tail = pending[done:]
        fresh_from = max(done, len(self.tail))  # tail rows already stored stay as they are
        rows = [
            {"idx": first + i, "data": new_tail[i - done]} for i in range(fresh_from, len(pending))
        ]
        if rows:
            conn.execute(_INSERT_TAIL, rows)
        self.tail = new_tail

    def _write_hashes(self, conn: Connection, runs: Sequence[HashRun]) -> None:
        inserts: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        for run in runs:
            blob = b"".join(run.hashes)
            pos = run.start  # node index of blob[0]
            off = 0
            while off < len(blob):
                block, slot = divmod(pos, BLOCK)
                take = min(len(blob) - off, (BLOCK - slot) * HASH_SIZE)
                if slot:
                    row = self.partial_rows.get(run.level, b"") + blob[off : off + take]
                    updates.append({"l": run.level, "b": block, "data": row})
                else:
                    row = blob[off : off + take]
                    inserts.append({"level": run.level, "block": block, "data": row})
                if len(row) == _ROW_BYTES:
                    self.partial_rows.pop(run.level, None)
                else:
                    self.partial_rows[run.level] = row
                off += take
                pos += take // HASH_SIZE
        if inserts:
            conn.execute(_INSERT_HASHES, inserts)
        if updates:
            conn.execute(_UPDATE_HASHES, updates)


# The writer's statements, built once: building a statement costs more than running it.
_MOVE_HEAD = (
    update(LedgerTree)
    .where(LedgerTree.id == bindparam("t"), LedgerTree.size == bindparam("old"))
    .values(size=bindparam("new"), root_hash=bindparam("root"), updated_at=bindparam("at"))
)
_INSERT_BUNDLES = insert(LedgerEntryBundle)
_INSERT_TAIL = insert(LedgerTailEntry)
_DELETE_TAIL = delete(LedgerTailEntry).where(
    LedgerTailEntry.idx.between(bindparam("lo"), bindparam("hi"))
)
_INSERT_HASHES = insert(LedgerHashBlock)
_UPDATE_HASHES = (
    update(LedgerHashBlock)
    .where(LedgerHashBlock.level == bindparam("l"), LedgerHashBlock.block == bindparam("b"))
    .values(data=bindparam("data"))
)


def iter_rows(conn: Connection, level: int) -> Iterator[tuple[int, bytes]]:
    """Yield ``(block, data)`` of every stored hash row of ``level``, in order (fsck)."""
    query = (
        select(LedgerHashBlock.block, LedgerHashBlock.data)
        .where(LedgerHashBlock.level == level)
        .order_by(LedgerHashBlock.block)
    )
    for block, data in conn.execute(query):
        yield int(block), bytes(data)


def root_from_store(conn: Connection, size: int) -> bytes:
    """Return the root hash of the stored tree's first ``size`` leaves."""
    return root_hash(size, StoreHashReader(conn))


def truncate_unsigned(conn: Connection, size: int) -> list[bytes]:
    """Cut the stored tree back to its first ``size`` entries, in the caller's transaction, and
    return the entries cut off, in order.

    Only for entries no checkpoint covers (the caller checks): a catch-up after a restore
    (:mod:`.reconcile`) moves entries stored while signing was held behind the entries the log
    had published. The caller must hold the sequencer lease; a running sequencer would be
    fenced off by the moved tree head. Raises InvalidArgument if ``size`` is beyond the tree,
    Fenced if the tree head moved meanwhile.
    """
    head = read_tree_head(conn)
    if not 0 <= size <= head.size:
        raise InvalidArgument(f"cannot cut the tree of size {head.size} back to {size}")
    if size == head.size:
        return []
    cut = read_entries(conn, size, head.size - size, head.size)
    root = root_from_store(conn, size)  # the hashes it needs all lie below the cut
    full = size // BLOCK  # entry bundles that stay
    keep: list[bytes] = []
    if size % BLOCK and head.size >= (full + 1) * BLOCK:  # the cut falls inside a full bundle
        keep = read_entries(conn, full * BLOCK, size % BLOCK, head.size)
    conn.execute(delete(LedgerEntryBundle).where(LedgerEntryBundle.bundle >= full))
    conn.execute(delete(LedgerTailEntry).where(LedgerTailEntry.idx >= size))
    if keep:
        conn.execute(
            _INSERT_TAIL, [{"idx": full * BLOCK + i, "data": e} for i, e in enumerate(keep)]
        )
    for level in range(head.size.bit_length()):
        count, had = size >> level, head.size >> level
        if count == had:
            continue
        conn.execute(
            delete(LedgerHashBlock).where(
                LedgerHashBlock.level == level, LedgerHashBlock.block >= -(-count // BLOCK)
            )
        )
        if count % BLOCK:
            block = count // BLOCK
            data = conn.execute(
                select(LedgerHashBlock.data).where(
                    LedgerHashBlock.level == level, LedgerHashBlock.block == block
                )
            ).scalar_one()
            conn.execute(
                _UPDATE_HASHES,
                {"l": level, "b": block, "data": bytes(data)[: (count % BLOCK) * HASH_SIZE]},
            )
    moved = conn.execute(
        _MOVE_HEAD,
        {"t": _TREE_ROW, "old": head.size, "new": size, "root": root, "at": clock.now()},
    )
    if moved.rowcount != 1:
        raise Fenced(f"the stored tree is no longer at size {head.size}")
    return cut
