"""``smartcustoms scans``: analyse container X-ray scans, and make simulated ones to try it on."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer

from smartcustoms.cli import scans_calibrate, scans_calibrations, scans_evaluate, scans_store
from smartcustoms.cli.common import console, error_line, settings_of
from smartcustoms.cli.scans_batch import (
    analyse_files,
    check_output,
    scan_candidates,
)

if TYPE_CHECKING:
    from smartcustoms.scans.findings import Report
    from smartcustoms.scans.physics.calibration import Calibration

# Nothing of `smartcustoms.scans` at module level: it loads the analyses (NumPy, SciPy,
# LightGBM), which `scans --help` or `scans import` must not wait for. Each command imports
# what it runs.

__all__ = ["app"]

app = typer.Typer(
    help=(
        "Container X-ray scans: the machine's first look before an image analyst's.\n\n"
        "`analyze` reads a scan (16-bit TIFF with its JSON sidecar, or DICOS) and checks it "
        "against the declaration: is an empty container empty, does the imaged mass match the "
        "declared mass, is there anything unlike the declared goods. `simulate` writes a "
        "realistic simulated scan, with known contents, to try it on."
    ),
    no_args_is_help=True,
)
# The review workflow's commands: into the queue, and labelled data out and measured.
app.command("import", help=scans_store.IMPORT_HELP)(scans_store.import_scan)
app.command("export-labels", help=scans_store.EXPORT_HELP)(scans_store.export_labels)
app.command("evaluate", help=scans_evaluate.EVALUATE_HELP)(scans_evaluate.evaluate_command)
# A site fits the model to its own scanner from a scan of step wedges.
app.command("calibrate", help=scans_calibrate.CALIBRATE_HELP)(scans_calibrate.calibrate_command)
# …and installs it for the scanner, so that every scan from it is analysed with it.
app.add_typer(scans_calibrations.app, name="calibration")


def _fail(message: str, code: int = 2) -> NoReturn:
    error_line(message)
    raise typer.Exit(code)


_ANALYZE_HELP = "\n\n".join(
    (
        "Analyse one scan file and print what the analyses found.",
        "FILE is a 16-bit TIFF (one page per energy channel) with its sidecar scan.json next to "
        "it (or inside the TIFF), or a DICOS DX file. Give what the declaration says to compare "
        "against: the gross mass with --declared-gross-kg and the goods with --hs-code; a "
        "container declared empty is checked for any object heavier than 0.7 kg.",
        "  smartcustoms scans analyze scan.tif \\\n"
        "      --declared-gross-kg 24300 --hs-code 6309.00",
        "A scan that carries no calibration of its own is analysed with the one installed for "
        "its scanner (`scans calibration install`); --calibration FILE uses FILE instead, for "
        "every scan, over theirs too. The report's scan.calibration names the one used.",
        "The decision is ALARM (something needs an analyst's look), CLEAR, or UNKNOWN (the scan "
        "cannot settle it, e.g. goods too dense to weigh). --json prints the full report in the "
        "shape of a DICOS threat detection report; --output PATH writes it to PATH instead, "
        "never over the scan or its sidecar (scan.json beside scan.tif is the scanner's own "
        "metadata).",
        "FILE may be a folder: every scan in it is analysed in turn, in one process, with the "
        "same declared values; --json-lines prints one JSON object per file, a file that fails "
        "as one with its error, and the batch goes on.",
        "  smartcustoms scans analyze scans/ --json-lines --output reports.jsonl",
        "A file that cannot be read, one larger than the scan_max_* settings allow (checked "
        "before decoding), or a malformed argument, exits with status 2 and says what is "
        "wrong; in a folder, after every other file is analysed.",
    )
)


def _print_report(report: Report) -> None:
    from rich.table import Table

    colour = {"ALARM": "bold red", "CLEAR": "bold green"}.get(report.alarm_decision, "bold yellow")
    scan = report.scan
    console.print(
        f"[{colour}]{report.alarm_decision}[/]  {scan.get('file') or ''}  container "
        f"{scan.get('container_number') or '?'} ({scan.get('container_type') or 'type unknown'}), "
        f"scanner {scan.get('scanner_id')}, {report.total_processing_time_ms:.0f} ms",
        highlight=False,
    )
    table = Table("check", "result", "summary", show_edge=False)
    for check in report.checks:
        table.add_row(check.analysis, check.status, check.summary)
    console.print(table)
    for f in report.findings:
        where = ""
        if f.region is not None:
            c0, r0, c1, r1 = f.region.bbox_px
            where = f" at columns {c0}–{c1}, rows {r0}–{r1}"
        console.print(
            f"  #{f.id} [{f.flag}] {f.description}{where} (score {f.probability:.2f})",
            highlight=False,
        )


@app.command("analyze", help=_ANALYZE_HELP)
def analyze_command(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="The scan: a .tif/.tiff (with its .json sidecar) or a DICOS .dcm file; or a "
            "folder of them.",
            show_default=False,
        ),
    ],
    declared_gross_kg: Annotated[
        float | None,
        typer.Option(
            "--declared-gross-kg",
            help=(
                "Declared gross mass of the goods in the container, kg: the goods with their "
                "packaging, without the container (its tare is never part of it). Compared "
                "with the imaged load directly."
            ),
            show_default=False,
        ),
    ] = None,
    hs_code: Annotated[
        str | None,
        typer.Option(
            "--hs-code",
            help="HS code of the declared goods, e.g. 6309.00 (4 to 10 digits).",
            show_default=False,
        ),
    ] = None,
    tare_kg: Annotated[
        float | None,
        typer.Option(
            "--tare-kg",
            help=(
                "The container's tare from its CSC plate, kg (default: typical for its type). "
                "Only reported beside the imaged load as the container's gross; never part of "
                "the mass compared."
            ),
            show_default=False,
        ),
    ] = None,
    empty: Annotated[
        bool, typer.Option("--empty", help="The container is declared empty.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    json_lines: Annotated[
        bool,
        typer.Option(
            "--json-lines",
            help="One JSON object per file, on one line: {file, alarm_decision, report} or "
            "{file, error}. For a folder.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the JSON report (JSON Lines for a folder) to this file, not to standard "
            "output. Never the scan or its sidecar.",
            show_default=False,
        ),
    ] = None,
    calibration: Annotated[
        Path | None,
        typer.Option(
            "--calibration",
            help="A calibration JSON (`scans calibrate --output`) to analyse with, over the "
            "scan's own and its scanner's installed one.",
            show_default=False,
        ),
    ] = None,
) -> None:
    from smartcustoms.scans import ScanLimits
    from smartcustoms.scans.calibrations import calibrations_for
    from smartcustoms.scans.storage import store_for

    if as_json and json_lines:
        _fail("--json and --json-lines: choose one")
    folder = file.is_dir()
    if folder and as_json:
        _fail(f"{file}: a folder gives one report per file: use --json-lines")
    if output is not None and output.is_dir():
        _fail(f"{output}: is a folder; --output names a file")
    scans = scan_candidates(file, exclude=output) if folder else [file]
    if folder and not scans:
        _fail(f"{file}: no file in it to analyse")
    if output is not None:
        refused = check_output(output, scans)
        if refused:
            _fail(refused)
    settings = settings_of(ctx)
    outcomes = analyse_files(
        scans,
        skip_non_scans=folder,
        limits=ScanLimits.from_settings(settings),
        calibration=_calibration_file(calibration) if calibration is not None else None,
        installed=calibrations_for(store_for(settings).root),
        declared_gross_kg=declared_gross_kg,
        hs_code=hs_code,
        tare_kg=tare_kg,
        declared_empty=True if empty else None,
    )
    lines = json_lines or folder
    failed = analysed = skipped = 0
    with _Sink(output) as sink:
        for outcome in outcomes:
            if outcome.skipped:
                skipped += 1
                continue
            analysed += 1
            failed += outcome.error is not None
            # Standard output gets the JSON unless --output takes it, the summary otherwise;
            # a failure not said in a JSON line there is said on standard error.
            if json_lines and output is None:
                typer.echo(json.dumps(outcome.as_line(), ensure_ascii=False))
            elif outcome.error is not None:
                error_line(outcome.error["message"])
            elif as_json and output is None:
                assert outcome.report is not None
                typer.echo(json.dumps(outcome.report.to_dict(), indent=2, ensure_ascii=False))
            elif not (as_json or json_lines):
                assert outcome.report is not None
                _print_report(outcome.report)
            if sink.file is not None:
                if lines:
                    sink.file.write(json.dumps(outcome.as_line(), ensure_ascii=False) + "\n")
                elif outcome.report is not None:
                    sink.file.write(
                        json.dumps(outcome.report.to_dict(), indent=2, ensure_ascii=False) + "\n"
                    )
    if folder:
        print(
            f"{analysed} files analysed, {failed} failed"
            + (f", {skipped} skipped (not scans)" if skipped else "")
            + (f"; reports in {output}" if output is not None else ""),
            file=sys.stderr,
        )
        if not analysed:
            _fail(f"{file}: no scan file in it")
    if failed:
        raise typer.Exit(2)


def _calibration_file(path: Path) -> Calibration:
    from smartcustoms.scans import ScanInputError
    from smartcustoms.scans.calibrations import calibration_from_json

    try:
        return calibration_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"--calibration {path}: not a readable JSON file ({exc})")
    except ScanInputError as exc:
        _fail(f"--calibration {path}: {exc.message}")


class _Sink:
    """The --output file, written beside its final name and put in place when the batch is
    done: a run that fails half-way leaves the previous file as it was."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.file: TextIO | None = None

    def __enter__(self) -> _Sink:
        if self.path is not None:
            self.tmp = self.path.with_name(f".{self.path.name}.part")
            self.file = self.tmp.open("w", encoding="utf-8")
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        if self.file is None:
            return
        self.file.close()
        if kind is None and self.path is not None:
            self.tmp.replace(self.path)
        else:
            self.tmp.unlink(missing_ok=True)


_SIMULATE_HELP = "\n\n".join(
    (
        "Write a simulated dual-energy scan – as a 9/6 MeV linac scanner would – with known "
        "contents, and print what is in it.",
        "Choose the container, the cargo and, if you like, a concealment; the same --seed always "
        "gives the same file. OUTPUT ending in .dcm is written as DICOS, anything else as a "
        "16-bit TIFF with its sidecar (OUTPUT with .json in place of its suffix).",
        "  smartcustoms scans simulate scan.tif --cargo textile-cartons \\\n"
        "      --concealment cigarettes-in-textiles --seed 7",
        "Then analyse it with the declared gross mass and HS code it printed:",
        "  smartcustoms scans analyze scan.tif \\\n"
        "      --declared-gross-kg 10620 --hs-code 6204.62",
    )
)


class ContainerChoice(StrEnum):
    """``scans.container_types.ContainerType``, named here so that loading the CLI does not
    load the scans package (tests/cli/test_cli_startup.py keeps them equal)."""

    DRY_20 = "20ft"
    DRY_40 = "40ft"
    HIGH_CUBE_40 = "40ft-hc"
    REEFER_40 = "40ft-reefer"


#: The simulator's cargo and concealment kinds (its enums, named here so that loading the CLI does
#: not load the sandbox; tests/sandbox/scan_simulator/test_simulator.py keeps them equal).
CARGO_KINDS = (
    "empty",
    "pallets",
    "textile-bales",
    "textile-cartons",
    "bulk-bags",
    "drums",
    "vehicles",
    "machinery",
)
CONCEALMENT_KINDS = (
    "none",
    "dense-block",
    "false-wall",
    "cigarettes-in-textiles",
    "metal-in-organics",
    "small-organic",
    "small-steel",
)


@app.command("simulate", help=_SIMULATE_HELP)
def simulate_command(
    output: Annotated[
        Path, typer.Argument(help="File to write (.tif, .tiff or .dcm).", show_default=False)
    ],
    container: Annotated[
        ContainerChoice, typer.Option(help="Container type.", case_sensitive=False)
    ] = ContainerChoice.DRY_40,
    cargo: Annotated[
        str, typer.Option(help=f"What it carries: {', '.join(CARGO_KINDS)}.")
    ] = "pallets",
    concealment: Annotated[
        str, typer.Option(help=f"What is hidden in it: {', '.join(CONCEALMENT_KINDS)}.")
    ] = "none",
    concealment_kg: Annotated[
        float | None,
        typer.Option(
            "--concealment-kg",
            help=(
                "Mass of the concealment, kg (default: 200 for cigarettes, 2 for small "
                "organic, 1 for small steel …)."
            ),
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same scan.", min=0)
    ] = 0,
    declared_gross_kg: Annotated[
        float | None,
        typer.Option(
            "--declared-gross-kg",
            help="Gross mass of the goods to record as declared (default: the true one).",
            show_default=False,
        ),
    ] = None,
) -> None:
    if concealment_kg is not None and concealment_kg <= 0:
        _fail("--concealment-kg must be positive")
    if output.suffix.lower() not in (".tif", ".tiff", ".dcm"):
        _fail(f"{output.name}: OUTPUT must end in .tif, .tiff or .dcm")
    if not output.parent.is_dir():
        _fail(f"{output.parent}: no such directory")
    # The simulator lives in the sandbox, which the service never loads: import it only here.
    from smartcustoms.sandbox.scan_simulator import (
        CargoKind,
        ConcealmentKind,
        SimulationSpec,
        simulate_scan,
    )

    if cargo.lower() not in CARGO_KINDS:
        _fail(f"--cargo: one of {', '.join(CARGO_KINDS)}")
    if concealment.lower() not in CONCEALMENT_KINDS:
        _fail(f"--concealment: one of {', '.join(CONCEALMENT_KINDS)}")
    from smartcustoms.scans import write_dicos, write_tiff
    from smartcustoms.scans.container_types import ContainerType

    spec = SimulationSpec(
        container=ContainerType(container.value),
        cargo=CargoKind(cargo.lower()),
        concealment=ConcealmentKind(concealment.lower()),
        concealment_kg=concealment_kg,
        seed=seed,
        declared_gross_kg=declared_gross_kg,
    )
    try:
        sim = simulate_scan(spec)
    except ValueError as exc:
        _fail(str(exc))
    if output.suffix.lower() == ".dcm":
        write_dicos(sim.scan, output)
    else:
        write_tiff(sim.scan, output)
    t = sim.truth
    meta = sim.scan.metadata
    console.print(
        f"wrote {output} ({sim.scan.shape[0]} × {sim.scan.shape[1]}, dual energy)", highlight=False
    )
    console.print(
        f"  container {meta.container_number} {t.container.value}, tare {t.tare_kg:,.0f} kg; "
        f"cargo {t.cargo_description} ({t.hs_code or 'no HS code'}), {t.cargo_kg:,.0f} kg; "
        f"declared gross of goods {meta.extra.get('declared_gross_kg')} kg",
        highlight=False,
    )
    for o in t.concealed:
        c0, r0, c1, r1 = o.bbox_px
        console.print(
            f"  hidden: {o.description}, {o.mass_kg:,.1f} kg at columns {c0}–{c1}, rows {r0}–{r1}",
            highlight=False,
        )
