"""``smartcustoms declarations``: import goods declarations from files.

Declarations that come with a past inspection result (the KCS labels) are history: the result is
stored and no lane is given. The others are assessed like declarations lodged through the API.
"""

from __future__ import annotations

import csv
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from smartcustoms.cli.common import actor, console, fail, open_context
from smartcustoms.core.events import AdminAction
from smartcustoms.declarations.formats import FORMATS
from smartcustoms.declarations.intake import ImportReport, Rejection, import_records
from smartcustoms.risk.assess import assess
from smartcustoms.risk.inspections import record_history

app = typer.Typer(help="Import goods declarations (JSON, flat CSV, or the KCS columns).")


class Format(StrEnum):
    json = "json"
    csv = "csv"
    kcs = "kcs"


def _count_rows(path: Path, fmt: Format) -> int | None:
    if fmt == Format.json and path.suffix.lower() not in (".jsonl", ".ndjson"):
        return None
    with path.open("rb") as fh:
        lines = sum(1 for _ in fh)
    return max(lines - (0 if fmt == Format.json else 1), 0)


def write_rejects(path: Path, rejected: list[Rejection]) -> None:
    """One line per problem: where in the file, which field, and why."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["where", "field", "problem"])
        for rejection in rejected:
            for problem in rejection.problems or [{"field": "", "problem": "unreadable"}]:
                writer.writerow([rejection.where, problem.get("field", ""), problem.get("problem")])


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The file to import.", exists=True, dir_okay=False)],
    format: Annotated[
        Format, typer.Option("--format", "-f", help="json (also .jsonl), csv or kcs.")
    ] = Format.json,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Import the valid declarations and write the others to a rejects file, "
            "instead of importing nothing when one is invalid.",
        ),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where to write rejects (default: FILE.rejects.csv)."),
    ] = None,
) -> None:
    """Import declarations from FILE, all or nothing (or --skip-invalid).

    A declaration whose declarant and LRN are already stored is not stored again, so importing
    the same file twice is safe. Each invalid declaration is reported with the row and field.
    """
    total = _count_rows(file, format)
    reader = FORMATS[format.value]
    with open_context(ctx) as app_ctx:
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"checking {file.name}", total=total)
            with app_ctx.unit() as unit:
                report: ImportReport = import_records(
                    unit.session,
                    reader(file),
                    source=f"import:{format.value}",
                    submitted_by=actor(),
                    skip_invalid=skip_invalid,
                    progress=lambda n: progress.advance(task, n),
                )
                progress.update(task, description="assessing")
                history = record_history(
                    unit.session, report.outcomes, source=f"import:{format.value}", actor=actor()
                )
                with_outcome = {declaration_id for declaration_id, _ in report.outcomes}
                fresh = [s for s in report.stored if s.id not in with_outcome]
                decisions = assess(app_ctx, unit, fresh, actor=actor())
                unit.emit(
                    AdminAction(
                        actor=actor(),
                        action="declarations_import",
                        target=f"{file.name}: {report.created} new, {report.existing} known, "
                        f"{len(report.rejected)} rejected",
                    )
                )
    console.print(
        f"{file.name}: {report.read} read, {report.created} imported, "
        f"{report.existing} already present, {len(report.rejected)} rejected"
    )
    if history:
        console.print(f"{history} past inspection results stored as history")
    lanes = Counter(d.lane for d in decisions)
    if lanes:
        console.print("lanes: " + ", ".join(f"{lane} {n}" for lane, n in sorted(lanes.items())))
    if report.rejected:
        target = rejects or file.with_name(file.name + ".rejects.csv")
        write_rejects(target, report.rejected)
        console.print(f"reasons for each rejected declaration: {target}")
    if report.read == 0:
        fail("the file holds no declarations", 1)
