"""Import from files and batches: all or nothing, --skip-invalid, no duplicates, named rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats import FORMATS
from smartcustoms.declarations.formats.csv_flat import COLUMNS
from smartcustoms.declarations.formats.kcs import KCS_COLUMNS
from smartcustoms.declarations.intake import import_records
from smartcustoms.declarations.tables import DeclarationItemRow, DeclarationRow
from tests.declarations.helpers import declaration, item


def count(ctx: AppContext) -> tuple[int, int]:
    with ctx.db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(DeclarationRow)) or 0,
            s.scalar(select(func.count()).select_from(DeclarationItemRow)) or 0,
        )


def run(ctx: AppContext, path: Path, fmt: str, **kwargs: object):  # type: ignore[no-untyped-def]
    with ctx.unit() as unit:
        return import_records(
            unit.session, FORMATS[fmt](path), source=f"import:{fmt}", submitted_by="t", **kwargs
        )


def write_json(path: Path, entries: list[object]) -> Path:
    path.write_text(json.dumps({"declarations": entries}))
    return path


def test_json_import_is_idempotent(ctx: AppContext, tmp_path: Path) -> None:
    path = write_json(tmp_path / "d.json", [declaration(lrn=f"L{i}") for i in range(5)])
    report = run(ctx, path, "json")
    assert (report.read, report.created, report.existing) == (5, 5, 0)
    assert count(ctx) == (5, 10)
    again = run(ctx, path, "json")
    assert (again.created, again.existing) == (0, 5)
    assert count(ctx) == (5, 10)
    assert [s.id for s in again.stored] == [s.id for s in report.stored]


def test_one_bad_declaration_imports_nothing(ctx: AppContext, tmp_path: Path) -> None:
    entries = [declaration(lrn="A"), item(1, net_mass_kg="0"), declaration(lrn="C")]
    entries[1]["lrn"] = "B"
    path = write_json(tmp_path / "d.json", entries)
    with pytest.raises(ValidationFailed) as err:
        run(ctx, path, "json")
    assert "1 of 3 declarations are invalid; nothing was imported" in err.value.message
    assert err.value.details[0]["where"] == "declarations[1]"
    assert err.value.details[0]["field"] == "items[1].net_mass_kg"
    assert count(ctx) == (0, 0)
    report = run(ctx, path, "json", skip_invalid=True)
    assert report.created == 2
    assert [r.where for r in report.rejected] == ["declarations[1]"]
    assert count(ctx) == (2, 4)


def test_duplicate_ids_in_one_file(ctx: AppContext, tmp_path: Path) -> None:
    path = write_json(tmp_path / "d.json", [declaration(lrn="X"), declaration(lrn="X")])
    report = run(ctx, path, "json", skip_invalid=True)
    assert report.created == 1
    assert "repeats declarations[0]" in report.rejected[0].problems[0]["problem"]


def test_malformed_json_names_the_position(ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('{"declarations": [{"lrn": "A",}]}')
    with pytest.raises(ValidationFailed, match="line 1, column 31"):
        run(ctx, path, "json")
    lines = tmp_path / "d.jsonl"
    lines.write_text(json.dumps(declaration(lrn="J1")) + "\n{broken\n" + json.dumps([1]) + "\n")
    report = run(ctx, lines, "json", skip_invalid=True)
    assert report.created == 1
    assert [r.where for r in report.rejected] == ["line 2", "line 3"]


def test_flat_csv(ctx: AppContext, tmp_path: Path) -> None:
    header = "lrn,office_of_declaration,declarant_id,importer_id,border_transport_mode,"
    header += "container_ids,item_sequence,item_hs_code,item_origin_country,item_customs_value,"
    header += "item_currency,item_net_mass_kg,item_tax_type,item_tax_rate\n"
    rows = [
        "C1,KEMBA,B1,I1,1,CSQU3054383,1,850440,CN,100.5,USD,10,A00,10",
        "C1,KEMBA,B1,I1,1,CSQU3054383,2,610910,BD,50,USD,4,,",
        "C2,KEMBA,B1,I2,3,,1,999999,CN,1,USD,1,,",
    ]
    path = tmp_path / "d.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    report = run(ctx, path, "csv", skip_invalid=True)
    assert report.created == 1
    assert count(ctx) == (1, 2)
    assert report.rejected[0].where == "row 4"
    assert report.rejected[0].problems[0]["field"] == "items[0].hs_code"
    stored = report.stored[0].declaration
    assert stored.items[0].duties[0].rate == 10
    assert stored.transport_equipment[0].container_id == "CSQU3054383"
    assert set(header.strip().split(",")) <= set(COLUMNS)


def test_csv_with_unknown_or_missing_columns(ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("lrn,colour\nA,red\n")
    with pytest.raises(ValidationFailed) as err:
        run(ctx, path, "csv")
    problems = {(d["column"], d["problem"]) for d in err.value.details}
    assert ("colour", "unknown column") in problems
    assert ("item_hs_code", "missing column") in problems


def test_kcs_profile(ctx: AppContext, tmp_path: Path) -> None:
    head = ",".join([*KCS_COLUMNS, "Fraud", "Critical Fraud"])
    common = "30,B,11,21,11,{mode},ZZR1LT6,QLRUBN9,0VKY2BR,,440890,BE,BE,0.0,FEU1,G"
    good = "97061800,2020-01-01," + common.format(mode=10) + ",108.0,372254.40000000001,1,0"
    zero_mass = "97061801,2020-01-01," + common.format(mode=40) + ",0.0,1.0,0,0"
    path = tmp_path / "kcs.csv"
    path.write_text("\n".join([head, good, zero_mass]) + "\n")
    report = run(ctx, path, "kcs", skip_invalid=True)
    assert report.created == 1
    assert report.rejected[0].where == "row 3"
    assert report.outcomes == [(report.stored[0].id, {"fraud": True, "critical": False})]
    stored = report.stored[0].declaration
    assert str(stored.items[0].customs_value.value) == "372254.40"
    assert stored.national_fields["kcs_transport_mode"] == "10"
    assert stored.border_transport_mode == "1"
    with ctx.db.session() as s:
        assert s.scalars(select(DeclarationRow.hs_edition)).one() == "HS2017"


def test_not_a_kcs_file(ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValidationFailed, match="not a KCS file"):
        run(ctx, path, "kcs")
