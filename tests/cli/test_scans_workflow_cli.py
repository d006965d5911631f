"""`smartcustoms scans import | export-labels | evaluate` as an operator runs them: scans into
the review queue, examined scans out as labelled data, and the figures measured on them."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.core.context import AppContext
from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.reviews import record_examination, review_scan
from tests.scans.helpers import simulated
from tests.scans.stored import CLEAN, FLAGGED, case, declaration_for, lodge, write

runner = CliRunner()


def invoke(args: list[str], database_url: str | None = None) -> Any:
    env = {"SMARTCUSTOMS_DATABASE_URL": database_url} if database_url else {}
    return runner.invoke(app, args, env=env)


def test_import_review_export_and_evaluate(
    ctx: AppContext, database_url: str, tmp_path: Path
) -> None:
    flagged, clean = case(FLAGGED), case(CLEAN)
    ids = lodge(ctx, declaration_for(flagged), declaration_for(clean))
    imported = invoke(
        ["scans", "import", str(write(flagged, tmp_path, "a")), "--declaration", str(ids[0])],
        database_url,
    )
    assert imported.exit_code == 0, imported.output
    assert "machine decision ALARM" in imported.output
    assert "Unlike the declared goods" in imported.output
    quiet = invoke(
        ["scans", "import", str(write(clean, tmp_path, "b", "dicos")), "--declaration",
         str(ids[1]), "--json"],
        database_url,
    )  # fmt: skip
    assert quiet.exit_code == 0, quiet.output
    clean_scan = json.loads(quiet.output)
    assert clean_scan["alarm_decision"] == "CLEAR" and clean_scan["created"] is True
    flagged_id = clean_scan["id"] - 1
    mismatched = invoke(
        ["scans", "import", str(write(flagged, tmp_path / "c", "c")), "--declaration",
         str(ids[1])],
        database_url,
    )  # fmt: skip
    assert mismatched.exit_code == 1  # the same file, linked to another declaration
    assert f"received before as scan {flagged_id}" in " ".join(mismatched.output.split())

    # The review station's work, then the labelled data out.
    (hidden,) = flagged.sim.truth.concealed
    c0, r0, c1, r1 = hidden.bbox_px
    with ctx.unit() as unit:
        review_scan(unit, flagged_id, decision="physical_examination", actor="ana")
        review_scan(unit, clean_scan["id"], decision="clear", actor="ana")
        record_examination(
            unit, flagged_id, irregular=True, codes=["concealment"],
            regions=[{"col0": c0, "row0": r0, "col1": c1, "row1": r1}], actor="off",
        )  # fmt: skip
    out = tmp_path / "labelled"
    exported = invoke(["scans", "export-labels", str(out)], database_url)
    assert exported.exit_code == 0, exported.output
    assert "wrote 1 scans (1 irregular, 0 as declared)" in exported.output
    with_cleared = invoke(
        ["scans", "export-labels", str(out), "--cleared-as-declared"], database_url
    )
    assert "wrote 2 scans (1 irregular, 1 as declared)" in with_cleared.output
    with (out / "labels.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["outcome"] for r in rows] == ["irregular", "as_declared"]
    assert rows[0]["finding"] == "concealment" and rows[0]["col0"] == str(c0)
    assert rows[0]["hs_code"] == flagged.hs_code
    assert float(rows[0]["goods_gross_kg"]) == flagged.goods_gross_kg
    assert rows[1]["file"].endswith(".dcm")

    measured = invoke(
        ["scans", "evaluate", str(out), "--labels", str(out / "labels.csv"), "--json"]
    )
    assert measured.exit_code == 0, measured.output
    summary = json.loads(measured.output)
    assert summary["all"]["detection"]["count"] == 1 and summary["all"]["detection"]["of"] == 1
    assert summary["all"]["located_detection"]["count"] == 1
    assert (
        summary["all"]["false_alarms"]["count"] == 0 and summary["all"]["false_alarms"]["of"] == 1
    )


def write_set(folder: Path) -> list[dict[str, Any]]:
    """A small labelled set with known truth: concealments, clean loads, empty containers."""
    rows = []
    scenarios = [
        (CargoKind.TEXTILE_CARTONS, ConcealmentKind.DENSE_BLOCK, 2, False),
        (CargoKind.TEXTILE_CARTONS, ConcealmentKind.DENSE_BLOCK, 3, False),
        (CargoKind.TEXTILE_BALES, ConcealmentKind.NONE, 1, False),
        (CargoKind.TEXTILE_BALES, ConcealmentKind.NONE, 2, False),
        (CargoKind.EMPTY, ConcealmentKind.SMALL_STEEL, 2, True),
    ]
    for n, (cargo, concealment, seed, empty) in enumerate(scenarios):
        sim = simulated(cargo, concealment, ContainerType.DRY_20, seed)
        name = f"s{n}.tif"
        from smartcustoms.scans import write_tiff

        write_tiff(sim.scan, folder / name)
        truth = sim.truth
        row: dict[str, Any] = {
            "file": name,
            "outcome": "irregular" if truth.concealed else "as_declared",
            "hs_code": truth.hs_code or "",
            "declared_empty": "yes" if empty else "no",
            "goods_gross_kg": "" if empty else round(truth.cargo_kg),
            "weighed_net_kg": round(truth.net_kg),
            "finding": ("not_empty" if empty else "concealment") if truth.concealed else "",
        }
        if truth.concealed and not empty:
            c0, r0, c1, r1 = truth.concealed[0].bbox_px
            row.update(col0=c0, row0=r0, col1=c1, row1=r1)
        rows.append(row)
    return rows


def test_evaluate_a_labelled_folder(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    rows = write_set(folder)
    rows.append({"file": "missing.tif", "outcome": "as_declared"})
    rows.append({"file": "s0.tif", "outcome": "maybe"})
    (folder / "broken.tif").write_bytes(b"II*\x00" + b"\x00" * 64)
    rows.append({"file": "broken.tif", "outcome": "irregular"})
    labels = tmp_path / "labels.csv"
    columns = ["file", "outcome", "hs_code", "declared_empty", "goods_gross_kg",
               "weighed_net_kg", "finding", "col0", "row0", "col1", "row1"]  # fmt: skip
    with labels.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    report = tmp_path / "figures.json"
    result = invoke(
        ["scans", "evaluate", str(folder), "--labels", str(labels), "--output", str(report)]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "5 scans analysed of 8 labelled" in text
    assert "unreadable: line 7: missing.tif: file not found" in text
    assert "line 8, outcome: 'maybe': want as_declared or irregular" in text
    assert "line 9:" in text and "broken.tif" in text
    summary = json.loads(report.read_text())
    loaded, empty = summary["loaded"], summary["declared_empty"]
    assert (loaded["irregular"], loaded["as_declared"]) == (2, 2)
    assert loaded["detection"]["count"] == 2 and loaded["false_alarms"]["count"] == 0
    assert loaded["located_detection"] == {**loaded["located_detection"], "count": 2, "of": 2}
    assert (empty["irregular"], empty["detection"]["count"]) == (1, 1)
    assert summary["by_finding"]["concealment"]["of"] == 2
    assert [p["threshold"] for p in summary["curve"]][:2] == [0.5, 0.6]
    # Mass against the weighed load: the empty container is left out, and the scan whose
    # dense block makes the imaged mass a lower bound is counted apart.
    assert summary["mass"]["weighed_scans"] == 3
    assert summary["mass"]["lower_bound_excluded"] == 1
    assert summary["mass"]["within_10pct"]["count"] == summary["mass"]["within_10pct"]["of"]
    assert summary["seconds_per_scan"]["median"] > 0


def test_evaluate_refuses_an_unusable_labels_file(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("name,result\na.tif,irregular\n")
    result = invoke(["scans", "evaluate", str(tmp_path), "--labels", str(labels)])
    assert result.exit_code == 2
    assert "the header row lacks file, outcome" in " ".join(result.output.split())
    help_text = " ".join(invoke(["scans", "evaluate", "--help"]).output.split())
    assert "weighed_net_kg" in help_text and "export-labels" in help_text
