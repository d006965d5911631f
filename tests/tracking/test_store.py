"""Position storage: the fast row builder against the plain definitions, and which rows are new."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.tracking import store
from smartcustoms.tracking.records import Position, SealEvent
from smartcustoms.tracking.store import (
    CopyRows,
    Incoming,
    _iso,
    _isoformat,
    attributes_json,
    insert_positions,
    position_digest,
    position_row,
    position_rows,
)
from smartcustoms.tracking.tables import PositionRow

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
# What the attributes were stored as before orjson: the reference for text and digest.
REFERENCE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e-5, 1.5e-7, 1e16, -0.0, 0.00001234, 12.6, 100.00001])
    | st.text(max_size=8)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)


@given(st.dictionaries(st.text(max_size=6), _VALUES, max_size=6))
def test_attributes_text_is_what_the_json_module_writes(attributes: dict[str, Any]) -> None:
    # orjson where it writes the same text; the json module wherever it might not.
    assert attributes_json(attributes) == REFERENCE.encode(attributes)


def test_attributes_that_orjson_would_write_differently() -> None:
    for attributes in (
        {"v": math.nan},
        {"v": math.inf},
        {"v": 1e-5},
        {"v": 1.5e-7},
        {1: "int key"},
        {"big": 2**64},
        {"at": T0},
        {"s": "\ud800"},
        {"e": SealEvent.OPENED},
    ):
        assert attributes_json(attributes) == REFERENCE.encode(attributes)  # type: ignore[arg-type]


def _position(**changes: Any) -> Position:
    values: dict[str, Any] = {
        "device_id": "D1",
        "time": T0,
        "latitude": -3.39605,
        "longitude": 38.55609,
        "speed_kmh": 62.0,
        "course": 300.0,
        "satellites": 9,
        "valid": True,
        "altitude": 1200.0,
        "events": (),
        "attributes": {"codec": "8", "io": {"239": 1, "66": 12600}, "power_voltage": 12.6},
    }
    values.update(changes)
    return Position(**values)


POSITIONS = [
    _position(),
    _position(time=T0 + timedelta(microseconds=123_456)),
    _position(time=datetime(2026, 11, 26, 10, 0, tzinfo=UTC).astimezone()),  # a UTC alias
    _position(events=(SealEvent.OPENED, SealEvent.CABLE_CUT), implausible=("speed",)),
    _position(latitude=None, longitude=None, speed_kmh=None, attributes={"n": None, "x": 1e-9}),
    _position(attributes={"v": math.nan, 3: "three"}),
]


def _reference_row(p: Position, received_at: datetime, device_id: str) -> tuple[Any, ...]:
    """A row as the store made it before its hot path was written out (the definition)."""
    attributes = REFERENCE.encode(p.attributes)
    text = (
        f"{device_id}|{p.time.isoformat()}|{p.latitude!r}|{p.longitude!r}|"
        f"{p.speed_kmh!r}|{p.course!r}|{p.satellites!r}|{p.valid}|"
        f"{p.altitude!r}|{','.join(p.events)}|{attributes}"
    )
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return (
        device_id,
        p.time,
        received_at,
        p.latitude,
        p.longitude,
        p.speed_kmh,
        p.course,
        p.satellites,
        p.valid,
        p.altitude,
        ",".join(p.events) if p.events else None,
        attributes,
        ",".join(p.implausible) if p.implausible else None,
        "test",
        int.from_bytes(digest, "big") >> 1,
    )


@pytest.mark.parametrize("text_times", [False, True])
def test_rows_of_a_frame_are_the_rows_of_each_record(text_times: bool) -> None:
    received = T0 + timedelta(seconds=3, microseconds=7)
    rows = position_rows(POSITIONS, "D1", received, "test", text_times=text_times)
    for p, row in zip(POSITIONS, rows, strict=True):
        reference = _reference_row(p, received, "D1")
        assert position_row(Incoming(p, received, "test"), "D1") == reference
        assert reference[14] == position_digest("D1", p, reference[11])
        if text_times:
            assert row[1] == _iso(p.time) and row[2] == _iso(received)
            assert (row[0], *row[3:]) == (reference[0], *reference[3:])
        else:
            assert row == reference


class _Stamp(datetime):
    """A datetime subclass (its isoformat is its own business)."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "stamp"


@given(
    st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999_999)
    ),
    st.sampled_from([UTC, None, timezone(timedelta(hours=3)), timezone(timedelta(0), "Z")]),
)
def test_the_fast_isoformat_is_isoformat(value: datetime, tz: Any) -> None:
    value = value.replace(tzinfo=tz)
    assert _isoformat(value) == value.isoformat()


def test_the_fast_isoformat_on_edges() -> None:
    for value in (
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 12, tzinfo=UTC).replace(fold=1),
        T0.astimezone(),  # a UTC alias that is not datetime.UTC
    ):
        assert _isoformat(value) == value.isoformat()
    assert _isoformat(_Stamp(2026, 1, 1, tzinfo=UTC)) == "stamp"


def test_the_fast_isoformat_keeps_a_bounded_number_of_days() -> None:
    days = [T0 + timedelta(days=n) for n in range(store._DAYS_KEPT + 10)]
    assert [_isoformat(d) for d in days] == [d.isoformat() for d in days]
    assert len(store._DAYS) <= store._DAYS_KEPT


def test_the_digest_is_stable() -> None:
    # Retransmissions after an upgrade must still match what was stored before it.
    p = _position()
    assert position_digest("D1", p, REFERENCE.encode(p.attributes)) == 2886700666311061374


def _count(ctx: AppContext) -> int:
    with ctx.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(PositionRow)).scalar_one())


def test_insert_says_which_rows_were_new(ctx: AppContext) -> None:
    sqlite = ctx.db.engine.dialect.name == "sqlite"
    first = [_position(time=T0 + timedelta(seconds=s)) for s in range(5)]
    rows = position_rows(first, "D1", T0, "test", text_times=sqlite)
    with ctx.db.engine.begin() as conn:
        assert insert_positions(conn, rows) == [True] * 5
    # A retransmission of two, regrouped with new records and a repeat within the batch.
    again = [first[3], _position(time=T0 + timedelta(seconds=9)), first[1]]
    again.append(again[1])
    rows = position_rows(again, "D1", T0 + timedelta(seconds=30), "test", text_times=sqlite)
    with ctx.db.engine.begin() as conn:
        assert insert_positions(conn, rows) == [False, True, False, False]
    # The same record from another device is another row; rows from position_row work too.
    with ctx.db.engine.begin() as conn:
        rows = [position_row(Incoming(first[0], T0, "test"), d) for d in ("D2", "D1")]
        assert insert_positions(conn, rows) == [True, False]
    assert _count(ctx) == 7


def test_a_large_batch_spans_several_statements(ctx: AppContext) -> None:
    sqlite = ctx.db.engine.dialect.name == "sqlite"
    many = [_position(time=T0 + timedelta(seconds=s)) for s in range(1_001)]
    with ctx.db.engine.begin() as conn:
        new = insert_positions(conn, position_rows(many, "D1", T0, "test", text_times=sqlite))
    assert new == [True] * 1_001
    with ctx.db.engine.begin() as conn:
        rows = position_rows(
            [*many[990:], _position(time=T0 - timedelta(seconds=1))], "D1", T0, "t"
        )
        assert insert_positions(conn, rows) == [False] * 11 + [True]
    assert _count(ctx) == 1_002


# Values COPY's text format must escape or spell: backslashes, tabs and newlines in the
# attributes (JSON escapes them with backslashes), a backslash in the device id, infinities.
COPY_POSITIONS = [
    *POSITIONS,
    _position(attributes={"s": "tab\tnew\nline\\back\r", "q": '"'}),
    _position(speed_kmh=math.inf, course=-math.inf, satellites=None, altitude=None),
]


def test_copy_rows_have_the_digests_of_position_rows() -> None:
    received = T0 + timedelta(seconds=3, microseconds=7)
    for device in ("D1", "D\\1"):
        copy_rows = CopyRows()
        copy_rows.add(COPY_POSITIONS[:3], device, received, "test")
        copy_rows.add(COPY_POSITIONS[3:], device, received, "test")
        rows = position_rows(COPY_POSITIONS, device, received, "test")
        assert copy_rows.digests == [r[14] for r in rows]
        assert len(copy_rows) == len(copy_rows.lines) == len(rows)
        assert all(line.count("\t") == 14 and line.endswith("\n") for line in copy_rows.lines)


def test_copy_rows_store_the_reference_values(ctx: AppContext) -> None:
    received = T0 + timedelta(seconds=3, microseconds=7)
    copy_rows = CopyRows()
    copy_rows.add(COPY_POSITIONS, "D\\1", received, "test")
    if ctx.db.engine.dialect.name == "sqlite":
        with ctx.db.engine.begin() as conn, pytest.raises(TypeError, match="SQLite"):
            insert_positions(conn, copy_rows)
        return
    with ctx.db.engine.begin() as conn:
        assert insert_positions(conn, copy_rows) == [True] * len(COPY_POSITIONS)
    columns = [c for c in PositionRow.__table__.columns if c.name != "id"]
    with ctx.db.engine.connect() as conn:
        stored = conn.execute(select(*columns).order_by(PositionRow.id)).all()
    for p, row in zip(COPY_POSITIONS, stored, strict=True):
        reference = _reference_row(p, received, "D\\1")
        assert tuple(row) == reference
    # Sent again with one new record: the COPY fails on the conflict, the fallback says which.
    again = CopyRows()
    again.add([COPY_POSITIONS[0], _position(time=T0 + timedelta(hours=1))], "D\\1", T0, "test")
    with ctx.db.engine.begin() as conn:
        assert insert_positions(conn, again) == [False, True]
    assert _count(ctx) == len(COPY_POSITIONS) + 1
