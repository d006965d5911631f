"""A stored history for risk-engine tests: KCS declarations with their inspection results."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from smartcustoms.core.context import AppContext
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.declarations.intake import import_records
from smartcustoms.risk.inspections import record_history


def kcs_slice(tmp_path: Path, first: int, count: int, *, labels: bool = True) -> Path:
    """Rows ``first`` to ``first + count`` of the packaged KCS training file."""
    source = resources.files("smartcustoms.risk") / "data" / "kcs" / "train.csv"
    lines = source.read_text().splitlines()
    chosen = [lines[0], *lines[1 + first : 1 + first + count]]
    if not labels:
        chosen = [",".join(line.split(",")[:20]) for line in chosen]
    path = tmp_path / f"kcs-{first}-{count}-{labels}.csv"
    path.write_text("\n".join(chosen) + "\n")
    return path


def load_history(ctx: AppContext, path: Path) -> int:
    with ctx.unit() as unit:
        report = import_records(
            unit.session, read_kcs(path), source="import:kcs", submitted_by="t", skip_invalid=True
        )
        record_history(unit.session, report.outcomes, source="import:kcs", actor="t")
    return report.created
