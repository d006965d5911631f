"""Imports stream: readers hold a block of the file, not the file; intake holds a chunk of
declarations, not the batch; and the import stays all or nothing, idempotent, and names every
place in the file as before — whatever the file's size."""

from __future__ import annotations

import csv
import json
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations import intake, spill
from smartcustoms.declarations.formats import FORMATS
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.formats.csv_flat import read_csv
from smartcustoms.declarations.formats.json_file import read_json
from smartcustoms.declarations.intake import import_records, import_stream
from smartcustoms.declarations.tables import DeclarationItemRow, DeclarationRow
from tests.declarations.helpers import declaration, item

HEADER = [
    "lrn", "office_of_declaration", "declarant_id", "importer_id", "border_transport_mode",
    "container_ids", "item_sequence", "item_hs_code", "item_description", "item_origin_country",
    "item_customs_value", "item_currency", "item_net_mass_kg",
]  # fmt: skip


def count(ctx: AppContext) -> tuple[int, int]:
    with ctx.db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(DeclarationRow)) or 0,
            s.scalar(select(func.count()).select_from(DeclarationItemRow)) or 0,
        )


def csv_row(lrn: str, sequence: int, origin: str = "CN") -> list[str]:
    return [
        lrn, "KEMBA", "B1", "I1", "1", "CSQU3054383", str(sequence), "850440",
        "Solar inverters for the grid, in cartons", origin, "100.5", "USD", "10",
    ]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def big_csv(path: Path, declarations: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for n in range(declarations):
            for sequence in (1, 2, 3):
                writer.writerow(csv_row(f"L{n:07d}", sequence))
    return path


def big_json(path: Path, declarations: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"declarations": [\n')
        for n in range(declarations):
            fh.write(("," if n else "") + json.dumps(declaration(lrn=f"L{n:07d}")) + "\n")
        fh.write("]}\n")
    return path


def peak_traced(work: Callable[[], object]) -> int:
    """Peak bytes allocated by Python (and numpy) while ``work`` runs."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- readers -------------------------------------------------------------------------------------


def test_csv_rows_of_a_declaration_are_grouped_wherever_they_are(tmp_path: Path) -> None:
    rows = [
        csv_row("A", 1),
        csv_row("B", 1),
        [*csv_row("C", 1), "extra"],  # more cells than columns: refused at once
        csv_row("A", 2),  # A again, after B: still A's second item
        csv_row("B", 2),
    ]
    records = list(read_csv(write_csv(tmp_path / "d.csv", rows)))
    assert (records[0].where, records[0].problems) == (
        "row 4",
        [{"field": "", "problem": "more cells than columns"}],
    )
    assert [r.where for r in records[1:]] == ["row 2", "row 3"]
    assert [r.data["lrn"] for r in records[1:]] == ["A", "B"]  # type: ignore[index]
    assert [i["sequence"] for i in records[1].data["items"]] == ["1", "2"]  # type: ignore[index]


def test_csv_not_utf8_names_the_byte_in_the_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [csv_row("A", 1)])
    data = path.read_bytes()
    path.write_bytes(b"\xef\xbb\xbf" + data + b"B,\xff\n")
    with pytest.raises(ValidationFailed) as info:
        list(read_csv(path))
    offset = 3 + len(data) + 2
    assert info.value.message == f"d.csv: not UTF-8 at byte {offset}"
    assert info.value.details == [{"offset": offset, "problem": "not UTF-8"}]


@pytest.mark.parametrize(("make", "read"), [(big_csv, read_csv), (big_json, read_json)])
def test_readers_hold_a_block_not_the_file(
    tmp_path: Path,
    make: Callable[[Path, int], Path],
    read: Callable[[Path], Iterator[SourceRecord]],
) -> None:
    path = make(tmp_path / "big", 12_000)
    size = path.stat().st_size
    assert size > 3_500_000
    seen = 0

    def consume() -> None:
        nonlocal seen
        for record in read(path):
            assert record.data is not None and len(record.data["items"]) >= 1
            seen += 1

    peak = peak_traced(consume)
    assert seen == 12_000
    # Today's reader held the whole text (twice) and every record: several times the file.
    assert peak < 6_000_000, f"peak {peak:,} bytes for a {size:,}-byte file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"declarations": [{"lrn": "A",}]}', "malformed JSON at line 1, column 31 (byte 30)"),
        ("[1, 2] 3", "malformed JSON at line 1, column 8 (byte 7): Extra data"),
        ('[{"a": 1}\n{"b": 2}]', "line 2, column 1 (byte 10): Expecting ',' delimiter"),
        ('{"declarations": 5}', "expected a declaration, a list of them or"),
        ("", "malformed JSON at line 1, column 1 (byte 0): Expecting value"),
    ],
)
def test_json_errors_name_the_place_in_the_whole_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "d.json"
    path.write_text(text)
    with pytest.raises(ValidationFailed) as info:
        list(read_json(path))
    assert message in info.value.message


def test_json_streams_a_large_batch_with_other_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smartcustoms.declarations.formats import json_stream

    monkeypatch.setattr(json_stream, "BLOCK", 64)  # every value crosses a block boundary
    monkeypatch.setattr(json_stream, "WHOLE_OBJECT_CHARS", 100)  # and the object is "large"
    document = {"meta": {"n": [1, 2.5e3, "é"]}, "declarations": [declaration(lrn="A"), 7]}
    path = tmp_path / "d.json"
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False))
    records = list(read_json(path))
    assert [r.where for r in records] == ["declarations[0]", "declarations[1]"]
    assert records[0].data == declaration(lrn="A")
    assert records[1].problems == [{"field": "", "problem": "not a JSON object"}]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(declaration(lrn="S")))
    monkeypatch.setattr(json_stream, "WHOLE_OBJECT_CHARS", 10_000)
    assert [(r.where, r.data["lrn"]) for r in read_json(single)] == [("declaration", "S")]  # type: ignore[index]


# -- intake --------------------------------------------------------------------------------------


def run(ctx: AppContext, path: Path, fmt: str, **kwargs: Any) -> intake.ImportReport:
    with ctx.unit() as unit:
        return import_records(
            unit.session, FORMATS[fmt](path), source=f"import:{fmt}", submitted_by="t", **kwargs
        )


def write_json(path: Path, entries: Sequence[object]) -> Path:
    path.write_text(json.dumps({"declarations": entries}))
    return path


def test_all_or_nothing_across_chunks(
    ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake, "CHUNK", 2)
    bad = item(0, origin_country="ZZ")
    bad["lrn"] = "BAD"
    entries = [declaration(lrn=f"L{i}") for i in range(7)] + [bad]
    path = write_json(tmp_path / "d.json", entries)
    with pytest.raises(ValidationFailed, match="1 of 8 declarations are invalid; nothing"):
        run(ctx, path, "json")
    assert count(ctx) == (0, 0)  # three chunks had been stored: all rolled back
    report = run(ctx, path, "json", skip_invalid=True)
    assert (report.read, report.created, report.rejected_count) == (8, 7, 1)
    assert [s.declaration.lrn for s in report.stored] == [f"L{i}" for i in range(7)]
    assert count(ctx) == (7, 14)
    again = run(ctx, path, "json", skip_invalid=True)
    assert (again.created, again.existing) == (0, 7)


def test_a_refused_batch_of_one_chunk_writes_nothing(ctx: AppContext, tmp_path: Path) -> None:
    good = write_json(tmp_path / "good.json", [declaration(lrn="KEEP")])
    bad = write_json(tmp_path / "bad.json", [declaration(lrn="X1"), item(0, hs_code="1")])
    with ctx.unit() as unit:
        import_records(unit.session, read_json(good), source="t", submitted_by="t")
        with pytest.raises(ValidationFailed):
            import_records(unit.session, read_json(bad), source="t", submitted_by="t")
    with ctx.db.session() as s:
        assert s.scalars(select(DeclarationRow.lrn)).all() == ["KEEP"]


def test_a_repeat_is_named_by_its_first_place_in_a_file_of_any_size(
    ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spill, "SPILL_AT", 3)  # keys move to disk after three
    monkeypatch.setattr(intake, "CHUNK", 2)
    entries = [declaration(lrn=f"L{i}") for i in range(8)] + [declaration(lrn="L1")]
    report = run(ctx, write_json(tmp_path / "d.json", entries), "json", skip_invalid=True)
    (rejection,) = report.rejected
    assert rejection.where == "declarations[8]"
    assert rejection.problems[0]["problem"] == "declarant BRK001 LRN L1 repeats declarations[1]"
    assert report.created == 8


def test_intake_holds_a_chunk_not_the_batch(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake, "CHUNK", 50)

    def records(n: int) -> Iterator[SourceRecord]:
        for i in range(n):
            yield SourceRecord(f"d{i}", data=declaration(lrn=f"M{n}-{i}"))

    def work(n: int) -> Callable[[], object]:
        def go() -> None:
            with ctx.unit() as unit:
                report = import_stream(unit.session, records(n), source="t", submitted_by="t")
                assert report.created == n

        return go

    small = peak_traced(work(100))
    large = peak_traced(work(1500))
    # Holding every declaration (as the batch path did) costs about 12 kB each here.
    assert large - small < 3_000_000, (small, large)
