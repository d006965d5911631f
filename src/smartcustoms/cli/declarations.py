"""``smartcustoms declarations``: import goods declarations from files (JSON, flat CSV, KCS,
UN/EDIFACT CUSDEC, WCO DM XML), and write the answer to one (CUSRES or WCO DM XML).

Declarations that come with a past inspection result (the KCS labels) are history: the result is
stored and no lane is given. The others are assessed like declarations lodged through the API.

A file of any size is imported in bounded memory: it is read, checked, stored and assessed a
chunk at a time (:func:`~smartcustoms.risk.lodging.lodge_stream`) in one transaction,
and the rejects are written to the rejects file as they are found. Each chunk's lane decisions
go into the ledger's outbox in that same transaction as the chunk is assessed (not held until
the commit: a file's worth of events would be): the ledger stores them once the import
commits, and nothing of them if it does not. They are not written to the log one by one; the
import's own ``admin.action`` event is.
"""

from __future__ import annotations

import csv
import os
import sys
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Self

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from smartcustoms.cli.common import actor, console, fail, open_context
from smartcustoms.cli.lazy import lazy_module

if TYPE_CHECKING:
    from smartcustoms.declarations import formats, intake
    from smartcustoms.interop import responses
    from smartcustoms.risk import lodging as risk_lodging
else:  # loaded when a command runs, not for `--help`
    formats = lazy_module("smartcustoms.declarations.formats")
    intake = lazy_module("smartcustoms.declarations.intake")
    responses = lazy_module("smartcustoms.interop.responses")
    risk_lodging = lazy_module("smartcustoms.risk.lodging")

app = typer.Typer(
    help="Import goods declarations (JSON, flat CSV, KCS, CUSDEC, WCO DM XML); write answers."
)


class Format(StrEnum):
    json = "json"
    csv = "csv"
    kcs = "kcs"
    cusdec = "cusdec"
    wcoxml = "wcoxml"


class ResponseFormat(StrEnum):
    cusres = "cusres"
    wcoxml = "wcoxml"


def _count_rows(path: Path, fmt: Format) -> int | None:
    if fmt in (Format.cusdec, Format.wcoxml):
        return None  # messages, not lines
    if fmt == Format.json and path.suffix.lower() not in (".jsonl", ".ndjson"):
        return None
    with path.open("rb") as fh:
        lines = sum(1 for _ in fh)
    return max(lines - (0 if fmt == Format.json else 1), 0)


class RejectsFile:
    """The rejects file, written as rejections come (one line per problem: where in the file,
    which field, and why) to a temporary name beside it; :meth:`keep` gives it its name,
    otherwise it is removed when closed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".part")
        self._fh = self.partial.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._fh)
        self._writer.writerow(["where", "field", "problem"])
        self.count = 0

    def write(self, rejection: intake.Rejection) -> None:
        self.count += 1
        for problem in rejection.problems or [{"field": "", "problem": "unreadable"}]:
            self._writer.writerow(
                [rejection.where, problem.get("field", ""), problem.get("problem")]
            )

    def keep(self) -> None:
        self._fh.close()
        os.replace(self.partial, self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._fh.close()
        self.partial.unlink(missing_ok=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The file to import.", exists=True, dir_okay=False)],
    format: Annotated[
        Format,
        typer.Option(
            "--format", "-f", help="json (also .jsonl), csv, kcs, cusdec (UN/EDIFACT) or wcoxml."
        ),
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
    reader = formats.FORMATS[format.value]
    source = f"import:{format.value}"
    target = rejects or file.with_name(file.name + ".rejects.csv")
    with open_context(ctx) as app_ctx:
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with (
            Progress(*columns, console=console, transient=True) as progress,
            RejectsFile(target) as rejected,
        ):
            task = progress.add_task(f"importing {file.name}", total=total)
            with app_ctx.unit() as unit:
                lodging = risk_lodging.lodge_stream(
                    app_ctx,
                    unit,
                    reader(file),
                    source=source,
                    submitted_by=actor(),
                    actor=actor(),
                    skip_invalid=skip_invalid,
                    progress=lambda n: progress.advance(task, n),
                    on_rejected=rejected.write,
                    file_name=file.name,
                )
            report = lodging.report
            if report.rejected_count:
                rejected.keep()
    console.print(
        f"{file.name}: {report.read} read, {report.created} imported, "
        f"{report.existing} already present, {report.rejected_count} rejected"
    )
    if lodging.history:
        console.print(f"{lodging.history} past inspection results stored as history")
    if lodging.lanes:
        lanes = sorted(lodging.lanes.items())
        console.print("lanes: " + ", ".join(f"{lane} {n}" for lane, n in lanes))
    if report.rejected_count:
        console.print(f"reasons for each rejected declaration: {target}")
    if report.read == 0:
        fail("the file holds no declarations", 1)


@app.command("response")
def response(
    ctx: typer.Context,
    declaration_id: Annotated[int, typer.Argument(help="The declaration's id.", min=1)],
    format: Annotated[
        ResponseFormat,
        typer.Option("--format", "-f", help="cusres (UN/EDIFACT) or wcoxml (WCO DM XML)."),
    ] = ResponseFormat.cusres,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: standard output).")
    ] = None,
) -> None:
    """Write the answer to declaration DECLARATION_ID: its lane, the reasons and the control
    instructions, as CUSRES or a WCO DM Response."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        _, content = responses.render(unit.session, declaration_id, format.value)
    if output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(content)
