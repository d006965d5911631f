"""C2SP tiled transparency logs (https://c2sp.org/tlog-tiles): paths, contents, and the
mapping between tiles and the perfect-subtree hashes that proofs read.

The tiles of a tree are its stored hashes cut into pieces of 256 (``TILE_WIDTH``). The tile
``N`` at level ``L`` holds hash ``i`` (0 <= i < 256) = node ``(8 * L, N * 256 + i)``, i.e.
``MTH(D[(N*256 + i) * 256**L : (N*256 + i + 1) * 256**L])``. A node whose level is not a
multiple of 8 lies inside one tile and is rebuilt from ``2**(level % 8)`` of its hashes.

Paths: ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]``, where ``<N>`` is written in
3-digit groups, all but the last prefixed with ``x`` (1234067 → ``x001/x234/067``) and ``.p/<W>``
marks a partial tile of width 1..255. Only the canonical path of a tile is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from smartcustoms.ledger.tlog.errors import InvalidArgument, MalformedTile, MissingHash
from smartcustoms.ledger.tlog.proof import NodeID
from smartcustoms.ledger.tlog.rfc6962 import HASH_SIZE, hash_children

__all__ = [
    "MAX_ENTRY_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "EntryBundleID",
    "TileHashReader",
    "TileID",
    "entry_bundles_for_size",
    "format_entry_bundle",
    "format_index",
    "format_tile",
    "node_hash_from_tile",
    "parse_entry_bundle",
    "parse_index",
    "parse_tile",
    "parse_tile_path",
    "tile_for_node",
    "tile_node_ids",
    "tiles_changed",
    "tiles_for_size",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF
"""Largest entry an entry bundle can hold (its length prefix is a uint16)."""
_MAX_INDEX = (1 << 64) - 1

_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


@dataclass(frozen=True, order=True)
class TileID:
    """A hash tile: ``level`` 0..63, ``index`` in its level, ``width`` 1..256 hashes."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        _check_tile_fields(self.level, self.index, self.width)

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def path(self) -> str:
        """The tile's path below the log's prefix, e.g. ``tile/0/x001/x234/067.p/8``."""
        return f"tile/{self.level}/{format_index(self.index)}{_suffix(self.width)}"


@dataclass(frozen=True, order=True)
class EntryBundleID:
    """An entry bundle: the entries behind level-0 tile ``index``, ``width`` of them."""

    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        _check_tile_fields(0, self.index, self.width)

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def path(self) -> str:
        """The bundle's path below the log's prefix, e.g. ``tile/entries/000.p/8``."""
        return f"tile/entries/{format_index(self.index)}{_suffix(self.width)}"


def _check_tile_fields(level: object, index: object, width: object) -> None:
    for name, value, top in (
        ("level", level, MAX_LEVEL),
        ("index", index, _MAX_INDEX),
        ("width", width, TILE_WIDTH),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise InvalidArgument(f"tile {name} {value!r:.40} is outside 0..{top}")
    if width == 0:
        raise InvalidArgument("tile width must be 1..256 (empty tiles do not exist)")


def _suffix(width: int) -> str:
    return "" if width == TILE_WIDTH else f".p/{width}"


def format_index(n: int) -> str:
    """Return ``n`` as tile path elements: 3-digit groups, all but the last prefixed ``x``."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= _MAX_INDEX:
        raise InvalidArgument(f"tile index {n!r:.40} is outside 0..{_MAX_INDEX}")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def parse_index(elements: str) -> int:
    """Return the index that :func:`format_index` writes as ``elements``. Raises MalformedTile
    for anything but the canonical form (no leading ``x000`` group)."""
    parts = elements.split("/") if isinstance(elements, str) else []
    ok = bool(parts) and len(parts) <= 7
    ok = ok and all(len(p) == 4 and p[0] == "x" and _digits3(p[1:]) for p in parts[:-1])
    ok = ok and _digits3(parts[-1])
    if not ok or (len(parts) > 1 and parts[0] == "x000"):
        raise MalformedTile(f"tile index {elements!r:.80} is not canonical 3-digit groups")
    n = int("".join(p.removeprefix("x") for p in parts))
    if n > _MAX_INDEX:
        raise MalformedTile(f"tile index {n} is above {_MAX_INDEX}")
    return n


def _digits3(s: str) -> bool:
    return len(s) == 3 and s.isascii() and s.isdigit()


def parse_tile_path(path: str) -> TileID | EntryBundleID:
    """Parse a tile or entry bundle path (relative to the log's prefix). Raises MalformedTile."""
    if not isinstance(path, str) or not path.startswith("tile/"):
        raise MalformedTile(f"tile path {path!r:.80} does not start with tile/")
    rest = path[len("tile/") :]
    head, _, rest = rest.partition("/")
    width = TILE_WIDTH
    if rest.endswith(".p") or ".p/" in rest:
        rest, _, w = rest.partition(".p/")
        if not _WIDTH.fullmatch(w) or not 1 <= int(w) < TILE_WIDTH:
            raise MalformedTile(f"tile path {path!r:.80}: partial width {w!r:.10} is not 1..255")
        width = int(w)
    index = parse_index(rest)
    if head == "entries":
        return EntryBundleID(index, width)
    if not _LEVEL.fullmatch(head) or int(head) > MAX_LEVEL:
        raise MalformedTile(f"tile path {path!r:.80}: level {head!r:.10} is not 0..63")
    return TileID(int(head), index, width)


def _level_count(size: int, level: int) -> int:
    """Number of level-``8 * level`` hashes in a tree of ``size`` leaves."""
    return size >> (TILE_HEIGHT * level)


def tiles_for_size(size: int) -> list[TileID]:
    """Return every tile of a tree of ``size`` leaves, full and partial, level by level.

    The list grows with the tree (about size / 255 tiles): meant for tools and tests. A
    sequencer asks :func:`tiles_changed` for what one append batch added.
    """
    return tiles_changed(0, size)


def tiles_changed(old_size: int, new_size: int) -> list[TileID]:
    """Return the tiles a tree of ``new_size`` has that a tree of ``old_size`` lacks: new full
    tiles and the new partial tiles (what a sequencer writes after growing the tree)."""
    _check_sizes(old_size, new_size)
    out: list[TileID] = []
    level = 0
    while (new_n := _level_count(new_size, level)) > (old_n := _level_count(old_size, level)):
        for index in range(old_n // TILE_WIDTH, (new_n + TILE_WIDTH - 1) // TILE_WIDTH):
            out.append(TileID(level, index, min(TILE_WIDTH, new_n - index * TILE_WIDTH)))
        level += 1
    return out


def entry_bundles_for_size(size: int) -> list[EntryBundleID]:
    """Return the entry bundles of a tree of ``size`` leaves (the last one maybe partial)."""
    return [EntryBundleID(t.index, t.width) for t in tiles_for_size(size) if t.level == 0]


def _check_sizes(old_size: int, new_size: int) -> None:
    for v in (old_size, new_size):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= _MAX_INDEX:
            raise InvalidArgument(f"tree size {v!r:.40} is outside 0..{_MAX_INDEX}")
    if old_size > new_size:
        raise InvalidArgument(f"old size {old_size} is above new size {new_size}")


def tile_node_ids(tile: TileID) -> list[NodeID]:
    """Return the ``(level, index)`` node of each hash in ``tile``, in order."""
    base = tile.index * TILE_WIDTH
    return [(tile.level * TILE_HEIGHT, base + i) for i in range(tile.width)]


def tile_for_node(level: int, index: int, tree_size: int) -> tuple[TileID, int, int]:
    """Return ``(tile, start, count)``: node (level, index) of the tree of ``tree_size`` is the
    perfect-tree hash of ``tile``'s hashes ``[start, start + count)``, with ``tile`` as wide as
    that tree has it. Precondition: the node is a perfect subtree inside the tree."""
    for name, v in (("level", level), ("index", index), ("tree size", tree_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InvalidArgument(f"{name} {v!r:.40} is not a non-negative integer")
    if level > MAX_LEVEL or (index + 1) << level > tree_size:
        raise InvalidArgument(
            f"node (level {level}, index {index}) is not inside a tree of size {tree_size}"
        )
    tile_level, sub = divmod(level, TILE_HEIGHT)
    first = index << sub  # position among the level-(8 * tile_level) hashes
    tile_index, start = divmod(first, TILE_WIDTH)
    n = _level_count(tree_size, tile_level)
    width = min(TILE_WIDTH, n - tile_index * TILE_WIDTH)
    return TileID(tile_level, tile_index, width), start, 1 << sub


def node_hash_from_tile(hashes: Sequence[bytes]) -> bytes:
    """Return the root of the perfect tree whose leaves-level hashes are ``hashes``.

    Precondition: ``len(hashes)`` is a power of two (as :func:`tile_for_node` gives).
    """
    row = list(hashes)
    if not row or len(row) & (len(row) - 1):
        raise InvalidArgument(f"need a power-of-two number of hashes, got {len(row)}")
    while len(row) > 1:
        row = list(map(hash_children, row[0::2], row[1::2]))
    return row[0]


def format_tile(hashes: Sequence[bytes]) -> bytes:
    """Return tile contents: the hashes concatenated (1..256 hashes of 32 bytes)."""
    if not 1 <= len(hashes) <= TILE_WIDTH or set(map(len, hashes)) != {HASH_SIZE}:
        raise InvalidArgument(f"a tile is 1..{TILE_WIDTH} hashes of {HASH_SIZE} bytes")
    return b"".join(hashes)


def parse_tile(data: bytes, width: int = TILE_WIDTH) -> list[bytes]:
    """Split tile contents into its ``width`` hashes. Raises MalformedTile if the length is not
    exactly ``width * 32`` bytes."""
    if not isinstance(data, bytes | bytearray):
        raise MalformedTile(f"tile must be bytes, got {type(data).__name__}")
    if len(data) != width * HASH_SIZE:
        raise MalformedTile(
            f"tile is {len(data)} bytes, want {width * HASH_SIZE} ({width} hashes)",
            details=[{"got": len(data), "want": width * HASH_SIZE}],
        )
    return [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]


def format_entry_bundle(entries: Iterable[bytes]) -> bytes:
    """Return an entry bundle: each entry prefixed by its length as a big-endian uint16."""
    out = bytearray()
    count = 0
    for i, e in enumerate(entries):
        if not isinstance(e, bytes | bytearray) or len(e) > MAX_ENTRY_SIZE:
            raise InvalidArgument(f"entry {i} is not bytes of at most {MAX_ENTRY_SIZE} bytes")
        out += len(e).to_bytes(2, "big")
        out += e
        count += 1
    if not 1 <= count <= TILE_WIDTH:
        raise InvalidArgument(f"an entry bundle holds 1..{TILE_WIDTH} entries, got {count}")
    return bytes(out)


def parse_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Split an entry bundle into its entries. ``width``, if given, is the number of entries it
    must hold. Raises MalformedTile naming the byte offset at fault."""
    if not isinstance(data, bytes | bytearray):
        raise MalformedTile(f"entry bundle must be bytes, got {type(data).__name__}")
    entries: list[bytes] = []
    off = 0
    while off < len(data):
        if len(entries) == TILE_WIDTH:
            raise MalformedTile(
                f"entry bundle has bytes after {TILE_WIDTH} entries at offset {off}",
                details=[{"offset": off}],
            )
        if off + 2 > len(data):
            raise MalformedTile(
                f"entry bundle ends inside a length prefix at offset {off}",
                details=[{"offset": off}],
            )
        n = int.from_bytes(data[off : off + 2], "big")  # uint16 entry length
        if off + 2 + n > len(data):
            raise MalformedTile(
                f"entry {len(entries)} at offset {off} claims {n} bytes, "
                f"only {len(data) - off - 2} remain",
                details=[{"offset": off, "entry": len(entries)}],
            )
        entries.append(bytes(data[off + 2 : off + 2 + n]))
        off += 2 + n
    if width is not None and len(entries) != width:
        raise MalformedTile(
            f"entry bundle has {len(entries)} entries, want {width}",
            details=[{"got": len(entries), "want": width}],
        )
    if not entries:
        raise MalformedTile("entry bundle is empty")
    return entries


class TileHashReader:
    """A ``HashReader`` over tiles: serves node hashes of the tree of ``tree_size`` by fetching,
    in one call to ``read_tiles``, every tile the requested nodes lie in.

    ``read_tiles`` returns each tile's contents (exactly ``width * 32`` bytes) or raises a
    TlogError; a wrong-sized tile raises MalformedTile.
    """

    __slots__ = ("_read_tiles", "_size")

    def __init__(
        self, tree_size: int, read_tiles: Callable[[Sequence[TileID]], Sequence[bytes]]
    ) -> None:
        _check_sizes(0, tree_size)
        self._size = tree_size
        self._read_tiles = read_tiles

    def __call__(self, ids: Sequence[NodeID], /) -> list[bytes]:
        where = [tile_for_node(level, index, self._size) for level, index in ids]
        wanted = sorted({tile for tile, _, _ in where})
        contents = self._read_tiles(wanted)
        if len(contents) != len(wanted):
            raise MissingHash(f"tile reader returned {len(contents)} tiles, want {len(wanted)}")
        blobs: dict[TileID, bytes] = {}
        for tile, data in zip(wanted, contents, strict=True):
            if not isinstance(data, bytes | bytearray) or len(data) != tile.width * HASH_SIZE:
                got = len(data) if isinstance(data, bytes | bytearray) else type(data).__name__
                raise MalformedTile(
                    f"{tile.path}: tile is {got} bytes, want {tile.width * HASH_SIZE}",
                    details=[{"tile": tile.path, "got": got, "want": tile.width * HASH_SIZE}],
                )
            blobs[tile] = bytes(data)
        out: list[bytes] = []
        for tile, start, count in where:
            # Slice only the hashes this node covers rather than splitting the whole tile.
            blob = blobs[tile]
            lo = start * HASH_SIZE
            row = [blob[i : i + HASH_SIZE] for i in range(lo, lo + count * HASH_SIZE, HASH_SIZE)]
            out.append(node_hash_from_tile(row))
        return out
