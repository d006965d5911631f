"""Storing positions: batched, de-duplicated, durable when the caller commits.

This is the hot path of ingest (tens of thousands of rows a second), so it speaks to the
database driver directly instead of through the ORM:

* SQLite: multi-row ``INSERT … ON CONFLICT DO NOTHING``, 400 rows a statement; when the batch
  inserted fewer rows than it had (a retransmission), the rows it did insert are read back by
  their ``id``, all above the largest ``id`` before the insert (``INTEGER PRIMARY KEY``: SQLite
  numbers new rows after the largest, and the writer holds the write lock);
* PostgreSQL: ``COPY`` straight into the table, in a savepoint; all rows are new then (the
  usual case). When one conflicts with a stored row (a retransmission) the COPY fails as a
  whole, the savepoint is rolled back, and the same text goes to a temporary table, then one
  ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING digest`` says which were new. The COPY
  text is written here (:class:`CopyRows`, one line a row, built with the digest from the same
  pieces), not by the driver: psycopg's ``write_row`` adapts every value on its own and took
  a third of the writer's time.

Rows that conflict with a stored one (same device, time and content digest) are retransmissions
and are not stored again; :func:`insert_positions` says which of the batch were new, so the
pipeline sees each record once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any, Final

import orjson
from psycopg.errors import UniqueViolation
from sqlalchemy import Connection

from smartcustoms.tracking.records import AttrValue, Position

__all__ = [
    "CopyRows",
    "Incoming",
    "attributes_json",
    "insert_positions",
    "position_digest",
    "position_row",
    "position_rows",
]

Rows = Sequence[tuple[Any, ...]]

_COLUMNS: Final = (
    "device_id",
    "time",
    "received_at",
    "latitude",
    "longitude",
    "speed_kmh",
    "course",
    "satellites",
    "valid",
    "altitude",
    "events",
    "attributes",
    "implausible",
    "protocol",
    "digest",
)
_PG_TYPES: Final = (
    "varchar",
    "timestamptz",
    "timestamptz",
    "float8",
    "float8",
    "float8",
    "float8",
    "int2",
    "bool",
    "float8",
    "varchar",
    "text",
    "varchar",
    "varchar",
    "int8",
)
_DIGEST_INDEX: Final = _COLUMNS.index("digest")
# One encoder for every row (json.dumps would build one per call).
_JSON: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
# orjson writes what _JSON writes, several times faster, except: NaN and infinities (null),
# floats below 1e-4 (0.00001 for 1e-05, 1e-7 for 1e-07), and the types it serialises itself
# (datetimes, dataclasses: passed through here, so it refuses them). Output that could hold
# one of those differences goes to _JSON, so the text — and the digest made from it — is the
# same whichever encoder wrote it.
_ORJSON: Final = orjson.dumps
_ORJSON_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def attributes_json(attributes: Mapping[str, AttrValue]) -> str:
    """The attributes as stored: compact JSON, keys in their order, non-ASCII as is."""
    try:
        out = _ORJSON(attributes, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # keys that are not text, integers past 64 bits, lone surrogates …
        return _JSON.encode(attributes)
    # Searched as text, not bytes: the same answer (UTF-8 puts no ASCII byte inside another
    # character), in half the time.
    if "null" in out or "e-" in out or "0.0000" in out:
        return _JSON.encode(attributes)
    return out


@dataclass(frozen=True, slots=True)
class Incoming:
    """A decoded record as the listener hands it over: when it arrived, by which protocol."""

    position: Position
    received_at: datetime
    protocol: str


def _iso(value: datetime) -> str:
    # The form SQLAlchemy's SQLite DateTime reads and writes (so ORM reads of these rows work,
    # and string order is time order): naive UTC, always with microseconds. Positions and
    # receipt times are UTC already (Position checks it): cutting the "+00:00" is enough.
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


# isoformat() of a datetime in UTC, without its C code's general formatting (a third of the
# time): the day's text kept per day, hours and minutes and seconds from tables.
_HOUR_MINUTE: Final = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SECOND: Final = tuple(f"{s:02d}" for s in range(60))
_DAYS: dict[int, str] = {}
_DAYS_KEPT: Final = 4096  # days; records of any number of days cannot grow it further


def _isoformat(value: datetime) -> str:
    """``value.isoformat()``, the same text (the tests hold it to it), faster in UTC."""
    if value.tzinfo is not UTC or type(value) is not datetime:
        return value.isoformat()
    ordinal = value.toordinal()
    day = _DAYS.get(ordinal)
    if day is None:
        if len(_DAYS) >= _DAYS_KEPT:
            _DAYS.clear()
        day = _DAYS[ordinal] = value.date().isoformat() + "T"
    hour_minute = _HOUR_MINUTE[value.hour * 60 + value.minute]
    if microsecond := value.microsecond:
        return f"{day}{hour_minute}{_SECOND[value.second]}.{microsecond:06d}+00:00"
    return f"{day}{hour_minute}{_SECOND[value.second]}+00:00"


# An empty BLAKE2b of 8 bytes, copied per row: a third cheaper than the constructor's keyword
# arguments, the same digest.
_BLAKE2B_8: Final = hashlib.blake2b(digest_size=8)


def position_digest(device_id: str, position: Position, attributes_json: str) -> int:
    """A stable 63-bit hash of what the record says (not when it arrived).

    Stable across processes and restarts (unlike ``hash()``), so a retransmission after a crash
    has the same digest as the stored original, whichever packet the device re-sends it in.
    """
    return _digest(device_id, position, _isoformat(position.time), attributes_json)


def _digest(device_id: str, position: Position, time_text: str, attributes_json: str) -> int:
    text = (
        f"{device_id}|{time_text}|{position.latitude!r}|{position.longitude!r}|"
        f"{position.speed_kmh!r}|{position.course!r}|{position.satellites!r}|{position.valid}|"
        f"{position.altitude!r}|{','.join(position.events)}|{attributes_json}"
    )
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest) >> 1  # fits a signed BIGINT


def position_row(item: Incoming, device_id: str) -> tuple[Any, ...]:
    """The column values of one record, in :data:`_COLUMNS` order (times as datetimes)."""
    return position_rows((item.position,), device_id, item.received_at, item.protocol)[0]


def position_rows(
    positions: Iterable[Position],
    device_id: str,
    received_at: datetime,
    protocol: str,
    *,
    text_times: bool = False,
) -> list[tuple[Any, ...]]:
    """:func:`position_row` for the records of one frame (one device, one arrival).

    With ``text_times``, ``time`` and ``received_at`` are the text SQLite stores (what
    :func:`insert_positions` would make of the datetimes), computed once per frame for the
    arrival and from the text the digest needs anyway for the record's time.

    The writer's hot path: :func:`attributes_json` and :func:`position_digest` written out
    (the tests hold them to the same results).
    """
    received: datetime | str = _iso(received_at) if text_times else received_at
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    dumps = _ORJSON
    options = _ORJSON_OPTIONS
    new_hash = _BLAKE2B_8.copy
    from_bytes = int.from_bytes
    isoformat = _isoformat
    for p in positions:
        try:
            attributes = dumps(p.attributes, option=options).decode()
        except TypeError:
            attributes = _JSON.encode(p.attributes)
        else:
            if "null" in attributes or "e-" in attributes or "0.0000" in attributes:
                attributes = _JSON.encode(p.attributes)
        time = p.time
        iso = isoformat(time)
        events = ",".join(p.events) if p.events else ""
        text = (
            f"{device_id}|{iso}|{p.latitude!r}|{p.longitude!r}|{p.speed_kmh!r}|{p.course!r}|"
            f"{p.satellites!r}|{p.valid}|{p.altitude!r}|{events}|{attributes}"
        )
        h = new_hash()
        h.update(text.encode("utf-8", "surrogatepass"))
        digest = from_bytes(h.digest())
        if not text_times:
            stored: datetime | str = time
        elif iso[10] == "T" and iso.endswith("+00:00"):  # UTC: as _iso(time), from iso
            if len(iso) == 25:  # whole seconds: isoformat left the microseconds out
                stored = iso[:10] + " " + iso[11:19] + ".000000"
            else:
                stored = iso[:10] + " " + iso[11:26]
        else:
            stored = _iso(time)
        append(
            (
                device_id,
                stored,
                received,
                p.latitude,
                p.longitude,
                p.speed_kmh,
                p.course,
                p.satellites,
                p.valid,
                p.altitude,
                events or None,
                attributes,
                ",".join(p.implausible) if p.implausible else None,
                protocol,
                digest >> 1,  # fits a signed BIGINT
            )
        )
    return rows


# PostgreSQL's COPY text format: a tab between columns, \N for NULL, backslash escapes.
_NULL: Final = "\\N"
_COPY_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """``value`` as a COPY text field (a device id, a protocol: checked once per frame)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _copy_value(value: Any) -> str:
    """Any column value as COPY text (rows made by :func:`position_row`: not the hot path)."""
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float | int):
        return repr(value)
    return _copy_text(str(value))


class CopyRows:
    """Rows as PostgreSQL's COPY text (one line each) and their digests, in batch order.

    What :func:`position_rows` gives, for PostgreSQL: the writer appends each frame's records
    with :meth:`add`, building the digest's text and the row's line from the same pieces.
    """

    __slots__ = ("digests", "lines")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.digests: list[int] = []

    def __len__(self) -> int:
        return len(self.digests)

    @classmethod
    def of(cls, rows: Rows) -> CopyRows:
        """From rows in :data:`_COLUMNS` order (:func:`position_row`, :func:`position_rows`)."""
        out = cls()
        for row in rows:
            out.lines.append("\t".join([_copy_value(v) for v in row]) + "\n")
            out.digests.append(row[_DIGEST_INDEX])
        return out

    def add(
        self,
        positions: Iterable[Position],
        device_id: str,
        received_at: datetime,
        protocol: str,
    ) -> None:
        """Append the records of one frame (one device, one arrival): the same values and
        digests as :func:`position_rows` (the tests hold them to it)."""
        head = _copy_text(device_id)
        tail = "\t" + _copy_text(protocol) + "\t"
        received = _isoformat(received_at)
        lines = self.lines.append
        digests = self.digests.append
        dumps = _ORJSON
        options = _ORJSON_OPTIONS
        new_hash = _BLAKE2B_8.copy
        from_bytes = int.from_bytes
        isoformat = _isoformat
        null = _NULL
        for p in positions:
            try:
                attributes = dumps(p.attributes, option=options).decode()
            except TypeError:
                attributes = _JSON.encode(p.attributes)
            else:
                if "null" in attributes or "e-" in attributes or "0.0000" in attributes:
                    attributes = _JSON.encode(p.attributes)
            iso = isoformat(p.time)
            events = ",".join(p.events) if p.events else ""
            # The digest's middle is the row's numeric columns, "|" for the tab and None for \N.
            middle = (
                f"{p.latitude!r}|{p.longitude!r}|{p.speed_kmh!r}|{p.course!r}|"
                f"{p.satellites!r}|{p.valid}|{p.altitude!r}"
            )
            text = f"{device_id}|{iso}|{middle}|{events}|{attributes}"
            h = new_hash()
            h.update(text.encode("utf-8", "surrogatepass"))
            digest = from_bytes(h.digest()) >> 1
            columns = middle.replace("|", "\t")
            if "None" in columns:
                columns = columns.replace("None", null)
            if "\\" in attributes:  # JSON has no raw tabs or newlines; backslashes it may
                attributes = attributes.translate(_COPY_ESCAPES)
            implausible = ",".join(p.implausible) if p.implausible else null
            lines(
                f"{head}\t{iso}\t{received}\t{columns}\t{events or null}\t{attributes}\t"
                f"{implausible}{tail}{digest}\n"
            )
            digests(digest)


def insert_positions(conn: Connection, rows: Rows | CopyRows) -> list[bool]:
    """Insert ``rows`` (from :func:`position_row` or :func:`position_rows`, or on PostgreSQL
    a :class:`CopyRows`) in the caller's transaction.

    Returns, per row, whether it was new: False for a row already stored, and for the second
    of two identical rows in the batch.
    """
    if not rows:
        return []
    if conn.dialect.name == "sqlite":
        if isinstance(rows, CopyRows):
            raise TypeError("CopyRows are PostgreSQL's COPY text: give SQLite row tuples")
        return _insert_sqlite(conn, rows)
    copy_rows = rows if isinstance(rows, CopyRows) else CopyRows.of(rows)
    inserted = _insert_postgresql(conn, copy_rows)
    if inserted is None:
        return [True] * len(copy_rows)  # the usual case: the COPY into the table went through
    new = []
    for digest in copy_rows.digests:
        if digest in inserted:
            inserted.discard(digest)  # a repeat within the batch is not new
            new.append(True)
        else:
            new.append(False)
    return new


# Constants only go into these statements; every value is a bound parameter.
_INSERT: Final = f"INSERT INTO tracking_positions ({','.join(_COLUMNS)}) "
_SQLITE_ROW: Final = "(" + ",".join("?" * len(_COLUMNS)) + ")"
# Rows per statement: 6,000 parameters, within every SQLite's limit. One statement is one
# sqlite3_step, during which the driver lets other threads run (the event loop decoding the
# next frames); executemany would hand the GIL back and forth once per row.
_SQLITE_CHUNK: Final = 400


def _sqlite_insert(count: int) -> str:
    return _INSERT + "VALUES " + ",".join([_SQLITE_ROW] * count) + " ON CONFLICT DO NOTHING"


_SQLITE_FULL: Final = _sqlite_insert(_SQLITE_CHUNK)
_SQLITE_LAST_ID: Final = "SELECT max(id) FROM tracking_positions"
_SQLITE_INSERTED: Final = "SELECT device_id, time, digest FROM tracking_positions WHERE id > ?"


def _insert_sqlite(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[bool]:
    if not isinstance(rows[0][1], str):  # datetimes (position_row): to the stored text
        rows = [(r[0], _iso(r[1]), _iso(r[2]), *r[3:]) for r in rows]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        last_id = cursor.execute(_SQLITE_LAST_ID).fetchone()[0] or 0
        inserted_count = 0
        for start in range(0, len(rows), _SQLITE_CHUNK):
            chunk = rows[start : start + _SQLITE_CHUNK]
            sql = _SQLITE_FULL if len(chunk) == _SQLITE_CHUNK else _sqlite_insert(len(chunk))
            cursor.execute(sql, list(chain.from_iterable(chunk)))
            inserted_count += cursor.rowcount
        if inserted_count == len(rows):
            return [True] * len(rows)  # the usual case: nothing was stored already
        # Some were: the new ones are those numbered after last_id (SQLite gives an INTEGER
        # PRIMARY KEY the largest plus one, and the writer holds the write lock).
        inserted = set(cursor.execute(_SQLITE_INSERTED, (last_id,)).fetchall())
    finally:
        cursor.close()
    new = []
    for row in rows:
        key = (row[0], row[1], row[_DIGEST_INDEX])
        if key in inserted:
            inserted.discard(key)  # a repeat within the batch is not new
            new.append(True)
        else:
            new.append(False)
    return new


_INCOMING: Final = "tracking_incoming"  # a temporary table per connection, emptied per commit
_CREATE_INCOMING: Final = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_INCOMING} ("
    + ", ".join(f"{c} {t}" for c, t in zip(_COLUMNS, _PG_TYPES, strict=True))
    + ") ON COMMIT DELETE ROWS"
)
_COPY: Final = f"COPY {_INCOMING} ({','.join(_COLUMNS)}) FROM STDIN"
_MOVE: Final = "".join(
    (
        _INSERT,
        f"SELECT {','.join(_COLUMNS)} FROM {_INCOMING} ",  # noqa: S608 - constants
        "ON CONFLICT DO NOTHING RETURNING digest",
    )
)


_SAVEPOINT: Final = "SAVEPOINT tracking_copy"
_RELEASE: Final = "RELEASE SAVEPOINT tracking_copy"
_ROLLBACK: Final = "ROLLBACK TO SAVEPOINT tracking_copy"
_COPY_DIRECT: Final = f"COPY tracking_positions ({','.join(_COLUMNS)}) FROM STDIN"


def _insert_postgresql(conn: Connection, rows: CopyRows) -> set[int] | None:
    """``None`` when every row was new; otherwise the digests of those that were."""
    raw = conn.connection.driver_connection
    text = "".join(rows.lines)
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        # Straight into the table: one pass for PostgreSQL, no second copy of each row. A row
        # that conflicts (a retransmission) fails the whole COPY, and only the savepoint goes.
        cursor.execute(_SAVEPOINT)
        try:
            with cursor.copy(_COPY_DIRECT) as copy:
                copy.write(text)
        except UniqueViolation:
            cursor.execute(_ROLLBACK)
        else:
            cursor.execute(_RELEASE)
            return None
        # Every batch: a transaction that created it and then rolled back took it away.
        cursor.execute(_CREATE_INCOMING)
        with cursor.copy(_COPY) as copy:
            copy.write(text)
        cursor.execute(_MOVE)
        return {r[0] for r in cursor.fetchall()}
    finally:
        cursor.close()
