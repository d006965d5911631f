"""The fork guard: the log signs nothing that does not extend what it published, and keeps
storing appends meanwhile; cutting unsigned entries off the stored tree (a catch-up's first
step) leaves a tree that grows back to the same hashes."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.fork_guard import (
    AHEAD,
    Fork,
    GuardState,
    Mark,
    Restored,
    WitnessReport,
    current_hold,
    guard_path,
    merge_restored,
    read_state,
    write_state,
)
from smartcustoms.ledger.fsck import fsck
from smartcustoms.ledger.service import Ledger, attach_ledger
from smartcustoms.ledger.store import TreeWriter, read_tree_head, truncate_unsigned
from smartcustoms.ledger.tlog.compact import CompactRange
from smartcustoms.ledger.tlog.records import encode_record
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves
from tests.ledger.stored import fill, records


def state_of(settings: Settings) -> GuardState:
    return read_state(settings.data_dir, settings.ledger_origin)


def test_each_checkpoint_is_marked_outside_the_database_first(
    ledger: Ledger, ledger_settings: Settings
) -> None:
    fill(ledger, 30)
    cp = ledger.checkpoint()
    assert cp is not None
    mark = state_of(ledger_settings).mark
    assert mark is not None and (mark.size, mark.root, mark.key) == (cp.size, cp.root_hash, cp.key)
    path = guard_path(ledger_settings.data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert current_hold(ledger.db, ledger_settings.data_dir, ledger.origin) is None


def test_a_log_behind_what_it_signed_stores_appends_but_signs_nothing(
    ledger: Ledger, ledger_settings: Settings
) -> None:
    fill(ledger, 10)
    state = state_of(ledger_settings)
    assert state.mark is not None
    # This key directory signed a larger tree than the database holds: a restored database.
    write_state(
        ledger_settings.data_dir,
        replace(state, mark=Mark(50, b"\x07" * 32, state.mark.key, "2026-01-01T00:00:00+00:00")),
    )
    assert ledger.append_many(records(5, 10)) == [10, 11, 12, 13, 14]  # stored, acknowledged
    assert not ledger.wait_covered(14, 0.5)
    cp = ledger.checkpoint()
    assert cp is not None and cp.size == 10
    hold = ledger.sequencer.hold
    assert hold is not None and hold.code == "behind_mark", hold
    assert "signed a checkpoint of size 50" in hold.message
    assert "ledger reconcile --from" in hold.remedy
    now = current_hold(ledger.db, ledger_settings.data_dir, ledger.origin)
    assert now is not None and now.code == "behind_mark" and now.size == 15
    assert state_of(ledger_settings).held_from == 10  # never signed beyond here
    report = fsck(ledger.db, ledger_settings.data_dir, ledger.origin)
    assert "published" in {p.kind for p in report.problems}, report.problems
    # The mark back as it was: the log signs again, covering what it stored meanwhile.
    write_state(ledger_settings.data_dir, state)
    assert ledger.wait_covered(14, 10)


def test_a_tree_other_than_the_one_signed_is_held(
    ledger: Ledger, ledger_settings: Settings
) -> None:
    fill(ledger, 10)
    state = state_of(ledger_settings)
    assert state.mark is not None
    write_state(
        ledger_settings.data_dir, replace(state, mark=replace(state.mark, root=b"\x01" * 32))
    )
    ledger.append_many(records(3, 10))
    assert not ledger.wait_covered(12, 0.5)
    hold = ledger.sequencer.hold
    assert hold is not None and hold.code == "diverged_from_mark", hold


def test_what_witnesses_say_holds_signing_until_they_cosign_again(
    ledger: Ledger, ledger_settings: Settings
) -> None:
    fill(ledger, 10)
    ledger.guard.witness_report("partner/witness+0000abcd", 40, AHEAD)
    ledger.append_many(records(3, 10))
    assert not ledger.wait_covered(12, 0.5)
    hold = ledger.sequencer.hold
    assert hold is not None and hold.code == "behind_witness", hold
    assert "cosigned size 40" in hold.message
    ledger.guard.witness_confirmed("partner/witness+0000abcd")
    assert ledger.wait_covered(12, 10)
    assert state_of(ledger_settings).witnesses == ()


def test_a_key_retired_by_a_fork_never_signs_again(
    ledger: Ledger, ledger_settings: Settings
) -> None:
    fill(ledger, 10)
    state = state_of(ledger_settings)
    assert state.mark is not None
    fork = Fork(5, 10, state.mark.key, "x+00000001", "test", "test", "2026-01-01T00:00:00+00:00")
    write_state(ledger_settings.data_dir, replace(state, forks=(fork,)))
    ledger.append_many(records(3, 10))
    assert not ledger.wait_covered(12, 0.5)
    hold = ledger.sequencer.hold
    assert hold is not None and hold.code == "key_retired_by_fork", hold


def test_a_damaged_signing_record_holds_signing(ledger: Ledger, ledger_settings: Settings) -> None:
    fill(ledger, 5)
    guard_path(ledger_settings.data_dir).write_text("{not json")
    ledger.append_many(records(2, 5))
    assert not ledger.wait_covered(6, 0.5)
    hold = ledger.sequencer.hold
    assert hold is not None and hold.code == "guard_file_damaged", hold


@pytest.mark.parametrize("size", [700])
def test_cutting_unsigned_entries_then_growing_back_gives_the_same_tree(
    lctx: AppContext, size: int
) -> None:
    entries = [encode_record(r) for r in records(size)]
    expected = CompactRange()
    roots = {0: expected.root()}
    for n, leaf in enumerate(hash_leaves(entries), 1):
        expected.append([leaf])
        roots[n] = expected.root()
    db = lctx.db
    with db.writer.begin() as conn:
        writer = TreeWriter.load(conn)
        writer.write(conn, entries, hash_leaves(entries))
    for cut in (699, 512, 300, 257, 256, 255, 1, 0):
        with db.writer.begin() as conn:
            gone = truncate_unsigned(conn, cut)
            assert gone == entries[cut:]
            head = read_tree_head(conn)
            assert (head.size, head.root_hash) == (cut, roots[cut])
        assert fsck(db, None, "x").ok, fsck(db, None, "x").problems
        with db.writer.begin() as conn:
            writer = TreeWriter.load(conn)
            writer.write(conn, gone, hash_leaves(gone))
        report = fsck(db, None, "x")
        assert report.ok and report.size == size, report.problems
        with db.engine.connect() as conn:
            assert read_tree_head(conn).root_hash == roots[size]


def test_a_restore_keeps_the_larger_mark_and_a_new_machine_waits_for_witnesses(
    tmp_path: Path,
) -> None:
    at = "2026-01-01T00:00:00+00:00"
    old = GuardState("o", mark=Mark(10, b"\x01" * 32, "o+1", at))
    new = GuardState(
        "o",
        mark=Mark(30, b"\x02" * 32, "o+1", at),
        witnesses=(WitnessReport("w+1", 30, AHEAD, at),),
    )
    kept = merge_restored(
        new, old, origin="o", backup_created_at=at, backup_size=12, backup_checkpoint=10
    )
    assert kept == new  # this machine's record stands
    fresh = merge_restored(
        None, old, origin="o", backup_created_at=at, backup_size=12, backup_checkpoint=10
    )
    assert fresh is not None and fresh.mark == old.mark
    assert fresh.restored is not None and fresh.restored.size == 12
    never = merge_restored(
        None, None, origin="o", backup_created_at=at, backup_size=0, backup_checkpoint=0
    )
    assert never is None  # nothing was published: nothing to confirm
    # Round trip through the file.
    state = replace(fresh, restored=Restored(at, at, 12, ("w+1",)), held_from=7)
    write_state(tmp_path, state)
    assert read_state(tmp_path, "o") == state


def test_with_witnesses_the_first_signature_waits_for_their_answer(lctx: AppContext) -> None:
    ledger = attach_ledger(lctx, start=False)
    ledger.guard.witnessed = True  # as a witness client with peers sets it (none runs here)
    ledger.append_many(records(3))
    assert not ledger.wait_covered(2, 1.0)  # the start-up probe has not answered
    ledger.guard.probed()
    assert ledger.wait_covered(2, 10)
