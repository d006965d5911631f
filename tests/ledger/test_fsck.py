"""Tampering: one changed byte anywhere in the stored ledger is found, and named."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from smartcustoms.core.context import AppContext
from smartcustoms.core.db import Database
from smartcustoms.ledger.checkpoints import add_cosignature, latest_checkpoint
from smartcustoms.ledger.fork_guard import Fork, read_state, write_state
from smartcustoms.ledger.fsck import fsck
from smartcustoms.ledger.service import Ledger
from smartcustoms.ledger.tables import LedgerCheckpoint
from smartcustoms.ledger.tlog.cosignature import CosignatureSigner, cosign, cosignature_timestamp
from smartcustoms.ledger.tlog.note import parse_note
from tests.ledger.stored import fill, flip, records, sql

SIZE = 700  # two full entry bundles and a tail of 188; tiles 0/000…0/002 and 1/000.p/2


def blob(db: Database, query: str, **params: object) -> bytes:
    return bytes(sql(db, query, **params)[0][0])


def set_blob(
    db: Database, table: str, column: str, where: str, value: bytes, **params: object
) -> None:
    sql(db, f"UPDATE {table} SET {column} = :v WHERE {where}", v=value, **params)


def change_bundle_entry(db: Database, data_dir: Path) -> None:
    data = blob(db, "SELECT data FROM ledger_entry_bundles WHERE bundle = 1")
    set_blob(db, "ledger_entry_bundles", "data", "bundle = 1", flip(data, 2 + 10 + 50 * 0))


def change_tail_entry(db: Database, data_dir: Path) -> None:
    data = blob(db, "SELECT data FROM ledger_tail_entries WHERE idx = 600")
    set_blob(db, "ledger_tail_entries", "data", "idx = 600", flip(data, 5))


def change_leaf_hash(db: Database, data_dir: Path) -> None:
    data = blob(db, "SELECT data FROM ledger_hashes WHERE level = 0 AND block = 1")
    set_blob(db, "ledger_hashes", "data", "level = 0 AND block = 1", flip(data, 32 * 7 + 3))


def change_inner_hash(db: Database, data_dir: Path) -> None:
    data = blob(db, "SELECT data FROM ledger_hashes WHERE level = 3 AND block = 0")
    set_blob(db, "ledger_hashes", "data", "level = 3 AND block = 0", flip(data, 32 * 40))


def change_level8_tile(db: Database, data_dir: Path) -> None:
    data = blob(db, "SELECT data FROM ledger_hashes WHERE level = 8 AND block = 0")
    set_blob(db, "ledger_hashes", "data", "level = 8 AND block = 0", flip(data, 33))


def other_char(text: str, at: int) -> str:
    """``text`` with the base64 character at ``at`` replaced by another one."""
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def change_checkpoint_signature(db: Database, data_dir: Path) -> None:
    note = sql(db, "SELECT note FROM ledger_checkpoints ORDER BY size DESC")[0][0]
    changed = other_char(note, len(note) - 20)
    sql(db, "UPDATE ledger_checkpoints SET note = :n WHERE note = :o", n=changed, o=note)


def change_checkpoint_root_line(db: Database, data_dir: Path) -> None:
    note = sql(db, "SELECT note FROM ledger_checkpoints ORDER BY size DESC")[0][0]
    origin, size, root, rest = note.split("\n", 3)
    changed = "\n".join(
        [origin, size, root[:5] + ("A" if root[5] != "A" else "B") + root[6:], rest]
    )
    sql(db, "UPDATE ledger_checkpoints SET note = :n WHERE note = :o", n=changed, o=note)


def change_checkpoint_row_root(db: Database, data_dir: Path) -> None:
    root = blob(db, "SELECT root_hash FROM ledger_checkpoints WHERE size = :s", s=SIZE)
    set_blob(db, "ledger_checkpoints", "root_hash", "size = :s", flip(root, 0), s=SIZE)


def change_stored_log_key(db: Database, data_dir: Path) -> None:
    vkey = sql(db, "SELECT vkey FROM ledger_keys")[0][0]
    changed = other_char(vkey, len(vkey) - 3)
    sql(db, "UPDATE ledger_keys SET vkey = :v", v=changed)


def change_key_file(db: Database, data_dir: Path) -> None:
    path = data_dir / "ledger" / "log.key"
    text = path.read_text()
    path.write_text(other_char(text, len(text) - 6))
    os.chmod(path, 0o600)


def change_cosignature(db: Database, data_dir: Path) -> None:
    line = sql(db, "SELECT line FROM ledger_cosignatures")[0][0]
    changed = other_char(line, len(line) - 8)
    sql(db, "UPDATE ledger_cosignatures SET line = :l", l=changed)


def delete_tail_entry(db: Database, data_dir: Path) -> None:
    sql(db, "DELETE FROM ledger_tail_entries WHERE idx = 650")


def delete_bundle(db: Database, data_dir: Path) -> None:
    sql(db, "DELETE FROM ledger_entry_bundles WHERE bundle = 0")


def swap_tail_entries(db: Database, data_dir: Path) -> None:
    a = blob(db, "SELECT data FROM ledger_tail_entries WHERE idx = 610")
    b = blob(db, "SELECT data FROM ledger_tail_entries WHERE idx = 611")
    set_blob(db, "ledger_tail_entries", "data", "idx = 610", b)
    set_blob(db, "ledger_tail_entries", "data", "idx = 611", a)


def truncate_hash_row(db: Database, data_dir: Path) -> None:
    data = blob(db, "SELECT data FROM ledger_hashes WHERE level = 1 AND block = 1")
    set_blob(db, "ledger_hashes", "data", "level = 1 AND block = 1", data[:-32])


CASES: list[tuple[Callable[[Database, Path], None], str]] = [
    (change_bundle_entry, "entry 256 was changed"),
    (change_tail_entry, "entry 600 was changed"),
    (change_leaf_hash, "tile/0/001 (hash row (level 0, block 1)) does not match the entries"),
    (change_inner_hash, "hash row (level 3, block 0) does not match the hashes below it"),
    (change_level8_tile, "tile/1/000 (hash row (level 8, block 0)) does not match"),
    (change_checkpoint_signature, f"checkpoint {SIZE}: signature by key"),
    (change_checkpoint_root_line, f"checkpoint {SIZE}: signature by key"),
    (change_checkpoint_row_root, f"checkpoint {SIZE}: its note says"),
    (change_stored_log_key, "stored log key"),
    (change_key_file, "key file"),
    (change_cosignature, "cosignature by witness.example/w1+"),
    (delete_tail_entry, "entry 650 is missing"),
    (delete_bundle, "entries 0..255 are missing"),
    (swap_tail_entries, "entries 610 and 611 are out of order"),
    (truncate_hash_row, "hash row (level 1, block 1) has no hash for node 349"),
]


@pytest.fixture
def filled(lctx: AppContext, ledger: Ledger) -> Ledger:
    fill(ledger, SIZE, batch=150)
    # One witness cosignature, so that tampering with it can be seen too.
    witness = CosignatureSigner(name="witness.example/w1", seed=b"\x07" * 32)
    with lctx.db.writer.begin() as conn:
        cp = latest_checkpoint(conn)
        assert cp is not None and cp.size == SIZE
        line = cosign(parse_note(cp.note).text, witness)
        timestamp = cosignature_timestamp(parse_note(cp.note + line).signatures[-1])
        add_cosignature(conn, cp.size, witness.verifier(), line, timestamp, quorum=1)
    ledger.stop()  # fsck runs beside a live sequencer too, but tampering needs a still tree
    return ledger


def test_an_untouched_ledger_is_clean(filled: Ledger, lctx: AppContext) -> None:
    report = fsck(lctx.db, lctx.settings.data_dir, lctx.settings.ledger_origin)
    assert report.ok, report.problems
    assert (report.size, report.cosignatures) == (SIZE, 1)
    assert report.checkpoints >= 1


@pytest.mark.parametrize(("tamper", "named"), CASES, ids=[c[0].__name__ for c in CASES])
def test_one_changed_byte_is_named(
    filled: Ledger, lctx: AppContext, tamper: Callable[[Database, Path], None], named: str
) -> None:
    tamper(lctx.db, lctx.settings.data_dir)
    report = fsck(lctx.db, lctx.settings.data_dir, lctx.settings.ledger_origin)
    assert not report.ok
    assert named in report.problems[0].message, report.problems


# -- checkpoints deleted or missing ---------------------------------------------------------------


def messages(lctx: AppContext, interval_s: float | None = None) -> list[str]:
    report = fsck(
        lctx.db,
        lctx.settings.data_dir,
        lctx.settings.ledger_origin,
        checkpoint_interval_s=interval_s,
    )
    return [p.message for p in report.problems]


def test_a_deleted_checkpoint_that_a_witness_cosigned_is_named(
    filled: Ledger, lctx: AppContext
) -> None:
    sql(lctx.db, "DELETE FROM ledger_checkpoints WHERE size = :s", s=SIZE)
    found = messages(lctx)
    assert found[0] == (
        f"checkpoint {SIZE} is missing: its row was deleted, but 1 witness cosignature(s) of it "
        "are kept"
    )
    # The instance's own record of what it signed says so too (a restore would look the same).
    assert any(f"but this instance signed one of size {SIZE}" in m for m in found), found


def test_signed_sizes_going_backwards_in_time_are_named(filled: Ledger, lctx: AppContext) -> None:
    sizes = [int(s) for (s,) in sql(lctx.db, "SELECT size FROM ledger_checkpoints ORDER BY size")]
    assert len(sizes) >= 2
    with lctx.db.writer.begin() as conn:
        conn.execute(
            update(LedgerCheckpoint)
            .where(LedgerCheckpoint.size == sizes[-1])
            .values(created_at=datetime(2001, 1, 1, tzinfo=UTC))
        )
    found = messages(lctx)
    assert any(
        f"the larger checkpoint {sizes[-1]} (2001-01-01T00:00:00+00:00): the signed size went "
        "backwards" in m
        for m in found
    ), found


def test_an_old_unsigned_tail_is_named(lctx: AppContext, ledger: Ledger) -> None:
    """Entries whose own times say they are long past, with no checkpoint covering them."""
    old = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    ledger.append_many([{**r, "at": old} for r in records(100)])
    assert ledger.wait_covered(99, 10)
    ledger.append_many([{**r, "at": old} for r in records(50, start=100)])
    assert ledger.wait_covered(149, 10)
    ledger.stop()
    assert messages(lctx, interval_s=0.05) == []
    sql(lctx.db, "DELETE FROM ledger_checkpoints WHERE size = 150")
    signed = int(sql(lctx.db, "SELECT max(size) FROM ledger_checkpoints")[0][0])
    assert signed < 150
    found = messages(lctx, interval_s=0.05)
    assert any(
        m.startswith(f"entries {signed}..149 are not covered by any signed checkpoint, and entry ")
        and "a checkpoint was deleted, or the log stopped signing" in m
        for m in found
    ), found
    assert any(f"the latest checkpoint is of size {signed}, but" in m for m in found), found
    # Without the interval (a caller that does not know it) the tail is not judged.
    assert not any("not covered" in m for m in messages(lctx))


def test_a_fresh_unsigned_tail_is_not_a_problem(lctx: AppContext, ledger: Ledger) -> None:
    now = datetime.now(UTC).isoformat()
    ledger.append_many([{**r, "at": now} for r in records(20)])
    ledger.stop()
    sql(lctx.db, "DELETE FROM ledger_cosignatures")
    sql(lctx.db, "DELETE FROM ledger_checkpoints")
    found = messages(lctx, interval_s=0.05)
    assert not any("not covered" in m for m in found), found


def test_the_mark_of_an_accepted_fork_is_not_a_signed_size(
    filled: Ledger, lctx: AppContext
) -> None:
    data_dir, origin = lctx.settings.data_dir, lctx.settings.ledger_origin
    state = read_state(data_dir, origin)
    assert state.mark is not None and state.mark.size == SIZE
    ahead = replace(state.mark, size=SIZE + 5, key="new+1")  # where a new key would start
    fork = Fork(SIZE + 5, SIZE + 5, state.mark.key, "new+1", "restored", "admin", state.mark.at)
    write_state(data_dir, replace(state, mark=ahead, forks=(fork,)))
    assert not any("this instance signed" in m for m in messages(lctx))
    write_state(data_dir, replace(state, mark=ahead))
    assert any(
        m.startswith(
            f"the latest checkpoint is of size {SIZE}, but this instance signed one of "
            f"size {SIZE + 5}"
        )
        for m in messages(lctx)
    )
