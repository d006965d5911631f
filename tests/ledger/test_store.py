"""The storage layout: what the writer stores is exactly the tree, read back any way."""

from __future__ import annotations

import random

import pytest

from smartcustoms.core.db import Database
from smartcustoms.ledger.errors import InvalidArgument, LedgerError, MissingHash
from smartcustoms.ledger.store import (
    Fenced,
    StoreHashReader,
    TreeWriter,
    read_entries,
    read_entry_bundle,
    read_tile,
    read_tree_head,
)
from smartcustoms.ledger.tlog.compact import CompactRange
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.proof import consistency_proof, inclusion_proof, root_hash
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves
from smartcustoms.ledger.tlog.tiles import (
    EntryBundleID,
    TileID,
    entry_bundles_for_size,
    format_entry_bundle,
    tiles_for_size,
)
from smartcustoms.ledger.tlog.verify import verify_consistency, verify_inclusion
from tests.ledger.helpers import entries as make_entries
from tests.ledger.helpers import mth
from tests.ledger.stored import sql


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    yield database  # type: ignore[misc]
    database.dispose()


def write(db: Database, writer: TreeWriter, batch: list[bytes]) -> None:
    with db.writer.begin() as conn:
        writer.write(conn, batch, hash_leaves(batch))


def test_stored_tree_is_the_tree_in_every_form(db: Database) -> None:
    """Uneven batches across bundle and tile boundaries; every tile, bundle, entry and root
    read back from the database equals the in-memory reference, and a reload agrees."""
    rng = random.Random(7)
    entries = make_entries(2100)
    memory, reference = MemoryHashStore(), CompactRange()
    with db.engine.connect() as conn:
        writer = TreeWriter.load(conn)
    done = 0
    sizes = []
    while done < len(entries):
        batch = entries[done : done + rng.choice([1, 2, 3, 200, 255, 256, 257, 600])]
        write(db, writer, batch)
        memory.add(reference.append(hash_leaves(batch)))
        done += len(batch)
        sizes.append(done)
    n = len(entries)
    with db.engine.connect() as conn:
        assert read_tree_head(conn).size == n
        assert read_tree_head(conn).root_hash == reference.root() == mth(entries)
        assert read_entries(conn, 0, n, n) == entries
        for tile in tiles_for_size(n):
            want = memory.read_range(8 * tile.level, 256 * tile.index, tile.width)
            assert read_tile(conn, tile, n) == want, tile.path
        for bundle in entry_bundles_for_size(n):
            lo = bundle.index * 256
            want_bundle = format_entry_bundle(entries[lo : lo + bundle.width])
            assert read_entry_bundle(conn, bundle, n) == want_bundle
        # Partial tiles of older tree sizes are prefixes of the stored rows.
        assert read_tile(conn, TileID(0, 0, 7), 300) == memory.read_range(0, 0, 7)
        assert read_entry_bundle(conn, EntryBundleID(8, 3), n) == format_entry_bundle(
            entries[2048:2051]
        )
        reader = StoreHashReader(conn)
        for size in sizes[:: max(1, len(sizes) // 15)]:
            assert root_hash(size, reader) == mth(entries[:size])
        for index in rng.sample(range(n), 40):
            proof = inclusion_proof(index, n, reader)
            assert proof == inclusion_proof(index, n, memory)
            verify_inclusion(hash_leaves([entries[index]])[0], index, n, proof, reference.root())
        for old in (1, 255, 256, 1000, 2099):
            proof = consistency_proof(old, n, reader)
            verify_consistency(old, n, proof, mth(entries[:old]), reference.root())
        again = TreeWriter.load(conn)
    assert again.tail == writer.tail and again.partial_rows == writer.partial_rows
    assert again.compact.root() == writer.compact.root()


def test_reads_outside_the_tree_are_refused(db: Database) -> None:
    with db.engine.connect() as conn:
        writer = TreeWriter.load(conn)
    write(db, writer, make_entries(300))
    with db.engine.connect() as conn:
        for bad in (TileID(0, 1, 45), TileID(0, 2), TileID(1, 0, 2)):
            with pytest.raises(InvalidArgument):
                read_tile(conn, bad, 300)
        with pytest.raises(InvalidArgument):
            read_entry_bundle(conn, EntryBundleID(1, 45), 300)
        with pytest.raises(InvalidArgument):
            read_entries(conn, 299, 2, 300)
        with pytest.raises(MissingHash):
            inclusion_proof(5, 400, StoreHashReader(conn))  # a tree bigger than what is stored


def test_a_second_writer_is_fenced_off(db: Database) -> None:
    """Two sequencers that both think they lead: the one that writes second writes nothing."""
    with db.engine.connect() as conn:
        first = TreeWriter.load(conn)
    write(db, first, make_entries(10))
    with db.engine.connect() as conn:
        second = TreeWriter.load(conn)
    write(db, first, make_entries(5, seed=1))
    with pytest.raises(Fenced), db.writer.begin() as conn:
        second.write(conn, make_entries(3, seed=2), hash_leaves(make_entries(3, seed=2)))
    with db.engine.connect() as conn:
        assert read_tree_head(conn).size == 15
        assert read_entries(conn, 10, 5, 15) == make_entries(5, seed=1)
        assert TreeWriter.load(conn).compact.root() == mth(make_entries(10) + make_entries(5, 1))


def test_a_tree_head_that_disagrees_with_the_hashes_stops_the_load(db: Database) -> None:
    with db.engine.connect() as conn:
        writer = TreeWriter.load(conn)
    write(db, writer, make_entries(20))
    sql(db, "UPDATE ledger_tree SET root_hash = :r", r=b"\x00" * 32)
    with db.engine.connect() as conn, pytest.raises(LedgerError, match="fsck") as err:
        TreeWriter.load(conn)
    assert err.value.code == "tree_mismatch"
