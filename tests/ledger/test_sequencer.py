"""The sequencer: one append function, durable before it answers, batched, then signed."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from sqlalchemy import select, text

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ServiceUnavailable
from smartcustoms.ledger.errors import MalformedRecord, RecordTooLarge
from smartcustoms.ledger.service import Ledger, attach_ledger
from smartcustoms.ledger.tables import LedgerCheckpoint
from smartcustoms.ledger.tlog.checkpoint import open_checkpoint
from smartcustoms.ledger.tlog.keys import parse_verifier_key
from smartcustoms.ledger.tlog.records import encode_record, parse_record
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves
from smartcustoms.ledger.tlog.verify import verify_consistency
from tests.ledger.helpers import mth
from tests.ledger.stored import FAST_MS, fill, records
from tests.waiting import wait_for


def test_append_returns_consecutive_indexes_of_stored_entries(ledger: Ledger) -> None:
    first = ledger.append({"type": "test.one", "v": 1, "amount": "12.50"})
    more = ledger.append_many(records(3))
    assert [first, *more] == [0, 1, 2, 3]
    assert ledger.size() == 4  # stored when append returned, before any checkpoint
    assert ledger.entry(0) == b'{"amount":"12.50","type":"test.one","v":1}'
    assert [parse_record(ledger.entry(i))["n"] for i in more] == [0, 1, 2]


def test_concurrent_appends_get_distinct_indexes_and_are_batched(
    ledger: Ledger, lctx: AppContext
) -> None:
    threads, per_thread = 8, 40
    got: list[tuple[int, int]] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        for k in range(per_thread):
            index = ledger.append({"type": "test.thread", "v": 1, "t": t, "k": k})
            with lock:
                got.append((index, t * per_thread + k))

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    n = threads * per_thread
    assert sorted(i for i, _ in got) == list(range(n))
    for index, tag in got:
        rec = parse_record(ledger.entry(index))
        assert rec["t"] * per_thread + rec["k"] == tag
    assert ledger.wait_covered(n - 1, 10)
    with lctx.db.engine.connect() as conn:
        stored = [
            bytes(r[0])
            for r in conn.execute(text("SELECT data FROM ledger_tail_entries ORDER BY idx"))
        ]
    bundles = n // 256
    assert len(stored) == n - 256 * bundles
    assert ledger.checkpoint() is not None
    assert ledger.checkpoint().root_hash == mth([ledger.entry(i) for i in range(n)])  # type: ignore[union-attr]


def test_checkpoints_are_signed_at_most_once_per_interval(ledger: Ledger, lctx: AppContext) -> None:
    started = time.monotonic()
    while time.monotonic() - started < 0.6:
        ledger.append({"type": "test.tick", "v": 1})
        time.sleep(0.002)
    assert ledger.wait_covered(ledger.size() - 1, 5)
    with lctx.db.engine.connect() as conn:
        query = select(LedgerCheckpoint.created_at).order_by(LedgerCheckpoint.size)
        times = list(conn.execute(query).scalars())
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert len(times) >= 3  # it kept signing while entries came
    assert min(gaps) >= FAST_MS / 1000 * 0.9, gaps  # clock granularity margin
    assert len(times) <= 0.6 / (FAST_MS / 1000) + 2


def test_checkpoint_is_the_signed_tree(ledger: Ledger) -> None:
    fill(ledger, 300)
    cp = ledger.checkpoint()
    assert cp is not None
    opened = open_checkpoint(cp.text, parse_verifier_key(ledger.vkey()))
    assert opened.checkpoint.origin == ledger.origin
    assert opened.checkpoint.size == cp.size == 300
    assert opened.checkpoint.root_hash == mth([ledger.entry(i) for i in range(300)])


def test_stopping_signs_what_is_not_yet_covered(ledger_settings: object, lctx: AppContext) -> None:
    slow = lctx.settings.model_copy(update={"ledger_checkpoint_interval_ms": 3_600_000})
    ctx = AppContext.from_settings(slow)
    try:
        ledger = attach_ledger(ctx)
        ledger.append_many(records(5))
        # The first entries are signed at once (no checkpoint yet); later ones wait an hour.
        wait_for(lambda: ledger.checkpoint() is not None, message="no first checkpoint")
        cp = ledger.checkpoint()
        first_size = 0 if cp is None else cp.size
        ledger.append_many(records(3, 5))
        assert ledger.checkpoint() is None or ledger.checkpoint().size == first_size  # type: ignore[union-attr]
    finally:
        ctx.close()
    assert Ledger(slow, lctx.db).checkpoint().size == 8  # type: ignore[union-attr]


def test_a_restarted_ledger_continues_the_same_tree(
    ledger: Ledger, lctx: AppContext, ledger_settings: object
) -> None:
    fill(ledger, 70)
    before = ledger.checkpoint()
    ledger.stop()
    again = Ledger(lctx.settings, lctx.db)
    again.start()
    try:
        assert again.append({"type": "test.after", "v": 1}) == 70
        assert again.wait_covered(70, 10)
        after = again.checkpoint()
        assert before is not None and after is not None and after.size == 71
        proof = again.consistency_proof(before.size, after.size)
        verify_consistency(before.size, after.size, proof, before.root_hash, after.root_hash)
    finally:
        again.stop()


BAD_RECORDS: list[tuple[object, type[Exception], str]] = [
    ({"type": "test.x", "v": 1, "weight": 12.5}, MalformedRecord, "floats"),
    ({"v": 1}, MalformedRecord, "type"),
    ({"type": "Test X", "v": 1}, MalformedRecord, "type"),
    ({"type": "test.x", "v": 0}, MalformedRecord, "version"),
    ({"type": "test.x", "v": 1, "n": 1 << 60}, MalformedRecord, "integer"),
    ({"type": "test.x", "v": 1, "blob": "x" * 70_000}, RecordTooLarge, "70"),
    (["not", "an", "object"], MalformedRecord, "object"),
]


def test_bad_records_are_refused_and_nothing_is_appended(ledger: Ledger) -> None:
    ledger.append({"type": "test.ok", "v": 1})
    for record, error, where in BAD_RECORDS:
        with pytest.raises(error, match=where):
            ledger.append(record)  # type: ignore[arg-type]
    with pytest.raises(RecordTooLarge):
        ledger.append_entries([b"x" * 65_536])
    assert ledger.size() == 1


def test_a_batch_with_one_bad_record_appends_none(ledger: Ledger) -> None:
    with pytest.raises(MalformedRecord, match=r"\$\.w"):
        ledger.append_many([*records(3), {"type": "test.x", "v": 1, "w": 1.5}])
    assert ledger.size() == 0


def test_entries_are_stored_exactly_as_encoded(ledger: Ledger) -> None:
    record = {"type": "test.unicode", "v": 1, "name": "Aïssatou Ndiaye", "z": None, "a": [1, 2]}
    index = ledger.append(record)
    assert ledger.entry(index) == encode_record(record)
    assert hash_leaves([ledger.entry(index)]) == hash_leaves([encode_record(record)])


def test_a_stopped_ledger_refuses_appends(ledger: Ledger) -> None:
    ledger.append({"type": "test.x", "v": 1})
    ledger.stop()
    with pytest.raises(ServiceUnavailable, match="not running"):
        ledger.append({"type": "test.x", "v": 1})
