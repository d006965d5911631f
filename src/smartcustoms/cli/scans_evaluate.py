"""``smartcustoms scans evaluate``: how well the analyses do on your own labelled scans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smartcustoms.cli.common import console, err_console, fail
from smartcustoms.cli.scans_batch import check_output, write_atomically

if TYPE_CHECKING:
    from smartcustoms.scans.evaluation import Outcome

__all__ = ["EVALUATE_HELP", "evaluate_command"]

EVALUATE_HELP = "\n\n".join(
    (
        "Measure detection, false alarms, mass error and speed on your own scans, against "
        "what examinations found.",
        "FOLDER holds the scans (TIFF with their sidecars, or DICOS); --labels is a CSV with a "
        "header row and one row per scan: file (relative to FOLDER) and outcome (as_declared "
        "or irregular) are required; goods_gross_kg, hs_code, tare_kg and declared_empty say "
        "what was declared; weighed_net_kg (the load, weighed) gives the mass error; finding "
        "and col0,row0,col1,row1 say what was found and where. `smartcustoms scans "
        "export-labels` writes both from the review station's examination results.",
        "  smartcustoms scans evaluate labelled/ --labels labelled/labels.csv --workers 2",
        "Each rate is printed with its 95 % interval. Unreadable scans and bad label rows are "
        "listed and skipped. --json prints every figure, --output writes them to a file.",
    )
)


def _pct(rate: dict[str, Any]) -> str:
    if not rate["of"]:
        return "—"
    lo, hi = rate["ci95"]
    return (
        f"{rate['count']}/{rate['of']} = {100 * rate['rate']:.1f} % "
        f"(95 % CI {100 * lo:.1f}–{100 * hi:.1f})"
    )


def _print(summary: dict[str, Any]) -> None:
    from rich.table import Table

    console.print(
        f"{summary['analysed']} scans analysed of {summary['labelled_rows']} labelled "
        f"in {summary['folder']}",
        highlight=False,
    )
    table = Table("scans", "irregular / as declared", "detection", "false alarms", "undecided")
    for name in ("all", "loaded", "declared_empty"):
        g = summary[name]
        if not g["scans"]:
            continue
        table.add_row(
            f"{name.replace('_', ' ')} ({g['scans']})",
            f"{g['irregular']} / {g['as_declared']}",
            _pct(g["detection"]),
            _pct(g["false_alarms"]),
            _pct(g["undecided"]),
        )
    console.print(table)
    located = summary["all"]["located_detection"]
    if located["of"]:
        console.print(f"alarm at the right place: {_pct(located)}", highlight=False)
    for finding, rate in summary["by_finding"].items():
        console.print(f"detection of {finding}: {_pct(rate)}", highlight=False)
    curve = Table("score ≥", "detection", "false alarms", title="detection / false-alarm curve")
    for point in summary["curve"]:
        curve.add_row(
            f"{point['threshold']:.2f}", _pct(point["detection"]), _pct(point["false_alarms"])
        )
    console.print(curve)
    mass = summary["mass"]
    if mass["weighed_scans"]:
        console.print(
            f"mass against the weighed load ({mass['weighed_scans']} scans): median |error| "
            f"{mass['median_abs_error_pct']:.1f} %, mean {mass['mean_error_pct']:+.1f} %; "
            f"within ±5 %: {_pct(mass['within_5pct'])}; within ±10 %: "
            f"{_pct(mass['within_10pct'])}"
            + (
                f" ({mass['lower_bound_excluded']} too dense to weigh, left out)"
                if mass["lower_bound_excluded"]
                else ""
            ),
            highlight=False,
        )
    speed = summary["seconds_per_scan"]
    if speed["median"] is not None:
        console.print(
            f"time per scan: median {speed['median']:.2f} s, max {speed['max']:.2f} s",
            highlight=False,
        )
    for bad in summary["unreadable"]:
        console.print(f"[yellow]unreadable:[/] line {bad['line']}: {bad['error']}", highlight=False)
    for problem in summary["label_problems"]:
        console.print(
            f"[yellow]label skipped:[/] line {problem['line']}, {problem['column']}: "
            f"{problem['problem']}",
            highlight=False,
        )


def evaluate_command(
    folder: Annotated[
        Path,
        typer.Argument(help="Folder of scans.", exists=True, file_okay=False, show_default=False),
    ],
    labels: Annotated[
        Path,
        typer.Option("--labels", help="CSV of examination results.", exists=True, dir_okay=False),
    ],
    workers: Annotated[
        int, typer.Option(help="Processes analysing in parallel.", min=1, max=64)
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print every figure as JSON.")] = False,
    output: Annotated[
        Path | None, typer.Option(help="Also write the figures as JSON here.", show_default=False)
    ] = None,
) -> None:
    from smartcustoms.core.errors import SmartCustomsError
    from smartcustoms.scans.evaluation import evaluate
    from smartcustoms.scans.labels import read_labels

    try:
        rows, problems = read_labels(labels)
    except SmartCustomsError as exc:
        fail(exc.message, 2)
    if not rows:
        fail(f"{labels.name}: no usable row" + (f" ({problems[0]})" if problems else ""), 2)
    if output is not None:
        # The figures go where they are told, never over a scan, its sidecar or the labels.
        if output.resolve() == labels.resolve():
            fail(f"{output}: is the labels file; give another --output", 2)
        refused = check_output(output, [folder / row.file for row in rows])
        if refused:
            fail(refused, 2)
    done = 0

    def progress(outcome: Outcome) -> None:
        nonlocal done
        done += 1
        if not as_json and (done % 25 == 0 or done == len(rows)):
            err_console.print(f"{done}/{len(rows)} scans", highlight=False)

    result = evaluate(
        folder, rows, problems=problems, workers=workers,
        progress=progress,
    )  # fmt: skip
    summary = result.summary()
    if output is not None:
        write_atomically(output, json.dumps(summary, indent=2) + "\n")
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        _print(summary)
    if not result.analysed:
        raise typer.Exit(1)
