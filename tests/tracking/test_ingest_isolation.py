"""One bad frame never fails other devices' writes: a batch the database refuses is stored
submission by submission, refusing only the bad one; device ids are checked like the API's."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, select

from smartcustoms.core.context import AppContext
from smartcustoms.tracking import ingest
from smartcustoms.tracking.ingest import Ingestor, IngestTiming
from smartcustoms.tracking.records import Position
from smartcustoms.tracking.store import CopyRows
from smartcustoms.tracking.tables import PositionRow

from .helpers import import_packaged, incoming, position

QUIET = IngestTiming(refresh_s=3600, sweep_s=3600, prune_s=3600, devices_s=3600)


def batch_of(ctx: AppContext, frames: Sequence[tuple[str, Sequence[Position]]]) -> list[bool]:
    """Submit ``frames`` before the writer starts, so they form one batch; their answers."""
    writer = Ingestor(ctx, timing=QUIET, live_interval_s=0)
    answers: dict[int, bool] = {}
    done = threading.Event()

    def answer(n: int) -> object:
        def stored(ok: bool) -> None:
            answers[n] = ok
            if len(answers) == len(frames):
                done.set()

        return stored

    for n, (device, positions) in enumerate(frames):
        writer.submit([incoming(p) for p in positions], device, answer(n))  # type: ignore[arg-type]
    writer.start()
    try:
        assert done.wait(20), "the writer did not answer every frame"
    finally:
        writer.stop()
    assert writer.stats.batches >= 1
    return [answers[n] for n in range(len(frames))]


def stored_devices(ctx: AppContext) -> set[str]:
    with ctx.db.engine.connect() as conn:
        return set(conn.execute(select(PositionRow.device_id)).scalars())


def test_text_with_nul_bytes_is_stored_on_both_databases(ctx: AppContext) -> None:
    import_packaged(ctx)
    answers = batch_of(
        ctx,
        [
            ("GOOD-1", [position("GOOD-1")]),
            ("NUL-1", [position("NUL-1", note="nul\x00byte")]),
        ],
    )
    assert answers == [True, True]
    assert stored_devices(ctx) == {"GOOD-1", "NUL-1"}


def test_a_frame_the_database_refuses_fails_only_itself(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the database refuses (a constraint, a value it cannot hold), the batch is
    retried frame by frame and only the guilty frame goes unacknowledged."""
    import_packaged(ctx)
    real = ingest.insert_positions

    def refusing(conn: Connection, rows: list[tuple[Any, ...]] | CopyRows) -> list[bool]:
        # PostgreSQL's writer hands over COPY text (the device id starts each line).
        if isinstance(rows, CopyRows):
            devices = [line.split("\t", 1)[0] for line in rows.lines]
        else:
            devices = [row[0] for row in rows]
        if "BAD-1" in devices:
            raise RuntimeError("the database refused the row")
        return real(conn, rows)

    monkeypatch.setattr(ingest, "insert_positions", refusing)
    answers = batch_of(
        ctx,
        [
            ("GOOD-1", [position("GOOD-1")]),
            ("BAD-1", [position("BAD-1")]),
            ("GOOD-2", [position("GOOD-2")]),
        ],
    )
    assert answers == [True, False, True]
    assert stored_devices(ctx) == {"GOOD-1", "GOOD-2"}


def test_invalid_device_ids_are_refused_before_the_batch(ctx: AppContext) -> None:
    import_packaged(ctx)
    hostile = ["has space", "a/b", "x" * 33, "nul\x00", "+", "#"]
    frames = [(d, [position(d)]) for d in hostile] + [("GOOD-3", [position("GOOD-3")])]
    answers = batch_of(ctx, frames)
    assert answers == [False] * len(hostile) + [True]
    assert stored_devices(ctx) == {"GOOD-3"}
