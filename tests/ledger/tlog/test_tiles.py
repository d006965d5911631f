from __future__ import annotations

import contextlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.compact import CompactRange
from smartcustoms.ledger.tlog.errors import InvalidArgument, MalformedTile, MissingHash
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.proof import consistency_proof, inclusion_proof, root_hash
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves
from smartcustoms.ledger.tlog.tiles import (
    MAX_ENTRY_SIZE,
    EntryBundleID,
    TileHashReader,
    TileID,
    entry_bundles_for_size,
    format_entry_bundle,
    format_index,
    format_tile,
    node_hash_from_tile,
    parse_entry_bundle,
    parse_index,
    parse_tile,
    parse_tile_path,
    tile_for_node,
    tile_node_ids,
    tiles_changed,
    tiles_for_size,
)
from tests.ledger.helpers import entries, vectors

V = vectors("c2sp_tlog_tiles_vectors")
REF = vectors("rfc6962_reference_tree")


@pytest.mark.parametrize("item", V["index_path_encoding"], ids=lambda i: str(i["n"]))
def test_index_encoding(item: dict[str, object]) -> None:
    assert format_index(int(item["n"])) == item["path_elem"]  # type: ignore[call-overload]
    assert parse_index(str(item["path_elem"])) == item["n"]


def test_c2sp_paths() -> None:
    for item in V["c2sp_paths"]:
        width = item["width"] or 256
        if "entries_n" in item:
            tile: TileID | EntryBundleID = EntryBundleID(item["entries_n"], width)
        else:
            tile = TileID(item["level"], item["n"], width)
        assert tile.path == item["path"]
        assert parse_tile_path(item["path"]) == tile


@pytest.mark.parametrize(
    "path",
    [
        *(item["path"] for item in V["go_sumdb_paths"]),  # tile/H/L/N is Go's form, not C2SP's
        "tile/0/x000/001",
        "tile/0/1",
        "tile/0/0001",
        "tile/0/x1/000",
        "tile/0/001/x002",
        "tile/00/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/08",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.p/8/",
        "tile/0/000/",
        "tile/0/",
        "tile/entries/",
        "tile/entries/000.p/300",
        "tile/0/٠٠٠",
        "tiles/0/000",
        "/tile/0/000",
        "tile/0/x001/x002/x003/x004/x005/x006/x007/000",
        "",
    ],
)
def test_bad_paths(path: str) -> None:
    with pytest.raises(MalformedTile):
        parse_tile_path(path)


def test_size_70000_breakdown() -> None:
    want = V["size_70000_breakdown (C2SP)"]
    tiles = tiles_for_size(70000)
    full0 = [t for t in tiles if t.level == 0 and not t.is_partial]
    assert len(full0) == want["full_level0"]
    assert [t.width for t in tiles if t.is_partial] == [
        want["partial_level0_width"],
        want["partial_level1_width"],
        want["partial_level2_width"],
    ]
    assert len([t for t in tiles if t.level == 1 and not t.is_partial]) == want["full_level1"]
    # "A tree of size 256 is a full level 0 tile and a partial level 1 tile of width 1."
    assert tiles_for_size(256) == [TileID(0, 0), TileID(1, 0, 1)]
    assert tiles_for_size(0) == []


def test_tree_size_8_tile_and_bundle() -> None:
    t = V["tree_size_8"]
    leaves = [bytes.fromhex(x) for x in REF["leaves_hex"]]
    (tile,) = tiles_for_size(8)
    assert tile.path == t["tile_path"]
    assert format_tile(hash_leaves(leaves)).hex() == t["tile_hex"]
    assert parse_tile(bytes.fromhex(t["tile_hex"]), tile.width) == hash_leaves(leaves)
    (bundle,) = entry_bundles_for_size(8)
    assert bundle.path == t["entry_bundle_path"]
    assert format_entry_bundle(leaves).hex() == t["entry_bundle_hex"]
    assert parse_entry_bundle(bytes.fromhex(t["entry_bundle_hex"]), 8) == leaves
    assert node_hash_from_tile(hash_leaves(leaves)).hex() == t["root_hex"]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 200_000), st.integers(0, 200_000))
def test_tiles_changed_adds_up(a: int, b: int) -> None:
    old, new = min(a, b), max(a, b)
    before = {(t.level, t.index): t.width for t in tiles_for_size(old)}
    after = {(t.level, t.index): t.width for t in tiles_for_size(new)}
    changed = {(t.level, t.index): t.width for t in tiles_changed(old, new)}
    assert changed == {k: w for k, w in after.items() if before.get(k) != w}


def test_tile_node_mapping() -> None:
    assert tile_node_ids(TileID(1, 2, 3)) == [(8, 512), (8, 513), (8, 514)]
    assert tile_for_node(0, 300, 1000) == (TileID(0, 1), 44, 1)
    assert tile_for_node(3, 5, 1000) == (TileID(0, 0), 40, 8)
    assert tile_for_node(9, 0, 70000) == (TileID(1, 0), 0, 2)
    assert tile_for_node(8, 272, 70000) == (TileID(1, 1, 17), 16, 1)
    with pytest.raises(InvalidArgument):
        tile_for_node(3, 125, 1000)  # leaves 1000..1007 are not in the tree


STORE = MemoryHashStore()
CR = CompactRange()
LEAVES = hash_leaves(entries(70_000))
STORE.add(CR.append(LEAVES))


def tile_reader(size: int) -> TileHashReader:
    """Serves tiles built only from the stored level-0, 8 and 16 hashes, as a tile store would."""

    def read_tiles(tiles: Sequence[TileID]) -> list[bytes]:
        out = [b"".join(STORE(tile_node_ids(t))) for t in tiles]
        assert out == [STORE.read_range(8 * t.level, 256 * t.index, t.width) for t in tiles]
        return out

    return TileHashReader(size, read_tiles)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 70_000), st.data())
def test_tile_reader_gives_the_same_proofs(size: int, data: st.DataObject) -> None:
    tiles = tile_reader(size)
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(1, size))
    assert root_hash(size, tiles) == root_hash(size, STORE)
    assert inclusion_proof(index, size, tiles) == inclusion_proof(index, size, STORE)
    assert consistency_proof(old, size, tiles) == consistency_proof(old, size, STORE)


def test_tile_reader_reads_each_tile_once_and_checks_sizes() -> None:
    asked: list[list[TileID]] = []

    def read_tiles(tiles: Sequence[TileID]) -> list[bytes]:
        asked.append(list(tiles))
        return [b"".join(STORE(tile_node_ids(t))) for t in tiles]

    inclusion_proof(12_345, 70_000, TileHashReader(70_000, read_tiles))
    assert len(asked) == 1
    assert len(asked[0]) == len(set(asked[0]))
    with pytest.raises(MalformedTile, match=r"tile/0/\d+(\.p/\d+)?: tile is 31 bytes"):
        inclusion_proof(5, 1000, TileHashReader(1000, lambda ts: [b"x" * 31] * len(ts)))
    with pytest.raises(MissingHash):
        inclusion_proof(5, 1000, TileHashReader(1000, lambda ts: []))


@pytest.mark.parametrize(
    ("data", "width", "why"),
    [
        (b"", None, "empty"),
        (b"\x00", None, "inside a length prefix"),
        (b"\x00\x05abc", None, "claims 5 bytes, only 3 remain"),
        (b"\x00\x01a\x00", None, "offset 3"),
        (b"\x00\x01a", 2, "has 1 entries, want 2"),
        (b"\x00\x00" * 257, None, "after 256 entries"),
    ],
)
def test_bad_entry_bundles(data: bytes, width: int | None, why: str) -> None:
    with pytest.raises(MalformedTile, match=why):
        parse_entry_bundle(data, width)


def test_entry_and_tile_limits() -> None:
    big = b"x" * MAX_ENTRY_SIZE
    assert parse_entry_bundle(format_entry_bundle([big, b""])) == [big, b""]
    with pytest.raises(InvalidArgument):
        format_entry_bundle([big + b"x"])
    with pytest.raises(InvalidArgument):
        format_entry_bundle([])
    with pytest.raises(InvalidArgument):
        format_tile([b"x" * 32] * 257)
    with pytest.raises(MalformedTile, match="want 8192"):
        parse_tile(b"x" * 8191)
    for bad in ((64, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257)):
        with pytest.raises(InvalidArgument):
            TileID(*bad)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**64 - 1), st.integers(0, 63), st.integers(1, 256))
def test_paths_round_trip(n: int, level: int, width: int) -> None:
    assert parse_index(format_index(n)) == n
    assert parse_tile_path(TileID(level, n, width).path) == TileID(level, n, width)
    assert parse_tile_path(EntryBundleID(n, width).path) == EntryBundleID(n, width)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.from_regex(r"tile/[0-9a-z/.x]{0,30}", fullmatch=True)))
def test_garbage_paths_raise_only_malformed_tile(path: str) -> None:
    try:
        parsed = parse_tile_path(path)
    except MalformedTile:
        return
    assert parsed.path == path  # only canonical paths are accepted


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_garbage_bundles_raise_only_malformed_tile(data: bytes) -> None:
    with contextlib.suppress(MalformedTile):
        assert format_entry_bundle(parse_entry_bundle(data)) == data
