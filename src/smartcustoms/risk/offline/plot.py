"""PNG charts of the evaluation and the simulation, drawn without a display.

Figures are built with matplotlib's object API on the Agg canvas, never through ``pyplot``: no
global backend to set, nothing kept between calls, safe in a server thread. A chart is written
to a temporary file beside the target and renamed into place, so a failed draw leaves no
half-written PNG.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.offline.evaluation import RATES
from smartcustoms.risk.offline.evaluation_report import CurvePoint
from smartcustoms.risk.offline.replay import SimulationReport

__all__ = ["check_writable", "plot_evaluation", "plot_simulation"]

_LABELS = {
    "exploration": "with exploration",
    "no_exploration": "no exploration",
    "full_feedback": "every outcome known",
    "oracle": "oracle",
}
_COLOURS = {
    "exploration": "tab:blue",
    "no_exploration": "tab:orange",
    "oracle": "tab:gray",
    "full_feedback": "tab:green",
}


def check_writable(path: Path) -> None:
    """Refuse, before any long computation, a plot path whose folder does not exist."""
    folder = path.parent
    if not folder.is_dir():
        raise ValidationFailed(
            f"{path}: cannot write the plot, folder {folder} does not exist",
            details=[{"field": "plot", "reason": "no such folder"}],
        )
    if path.is_dir():
        raise ValidationFailed(
            f"{path}: is a folder, expected a PNG file name",
            details=[{"field": "plot", "reason": "is a folder"}],
        )


def _save(figure: Figure, path: Path) -> None:
    check_writable(path)
    FigureCanvasAgg(figure)
    handle, temporary = tempfile.mkstemp(prefix=".plot-", suffix=".png", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            figure.savefig(out, format="png", dpi=120)
        os.replace(temporary, path)
    except OSError as exc:
        raise ValidationFailed(
            f"{path}: cannot write the plot: {exc.strerror or exc}",
            details=[{"field": "plot", "reason": "unwritable"}],
        ) from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def plot_evaluation(curve: Sequence[CurvePoint], path: Path, *, title: str) -> None:
    """Precision and recall (mean ± std over seeds) against the share of items inspected."""
    rate = np.array([p.rate for p in curve]) * 100
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.subplots()
    for name, mean, std, colour in (
        ("precision", [p.precision for p in curve], [p.precision_std for p in curve], "tab:blue"),
        ("recall", [p.recall for p in curve], [p.recall_std for p in curve], "tab:green"),
    ):
        m, s = np.array(mean, dtype=float), np.array(std, dtype=float)
        ax.plot(rate, m, label=name, color=colour)
        ax.fill_between(rate, m - s, m + s, color=colour, alpha=0.2, linewidth=0)
    for r in RATES:
        ax.axvline(r * 100, color="0.8", linewidth=0.8, zorder=0)
    ax.set_xscale("log")
    ax.set_xticks([r * 100 for r in (*RATES, 0.2, 0.5, 1.0)])
    ax.set_xticklabels([f"{r * 100:g}%" for r in (*RATES, 0.2, 0.5, 1.0)])
    ax.set_xlabel("share of items inspected (top scores first)")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("precision (hit rate) / recall")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="center left")
    ax.grid(axis="y", alpha=0.3)
    _save(figure, path)


def plot_simulation(report: SimulationReport, path: Path) -> None:
    """Cumulative precision and recall week by week for each run (mean and range over seeds)."""
    weeks = np.arange(1, len(report.week_starts) + 1)
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    axes = figure.subplots(1, 2, sharex=True)
    for name in report.runs:
        curves = [trace.cumulative() for trace in report.traces[name]]
        for panel, ax in enumerate(axes):
            values = np.array([c[panel] for c in curves], dtype=float)
            ax.plot(weeks, values.mean(axis=0), label=_LABELS[name], color=_COLOURS[name])
            if len(values) > 1:
                ax.fill_between(
                    weeks,
                    values.min(axis=0),
                    values.max(axis=0),
                    color=_COLOURS[name],
                    alpha=0.2,
                    linewidth=0,
                )
    s = report.settings
    axes[0].set_ylabel("cumulative precision (hit rate)")
    axes[1].set_ylabel("cumulative recall (irregular items caught)")
    for ax in axes:
        ax.set_xlabel(f"week of the stream (from {report.week_starts[0]})")
        ax.set_ylim(0, 1.02)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right")
    figure.suptitle(
        f"Inspecting {s.inspect_rate:.0%} a week, {s.explore:.0%} of it exploring ({s.strategy}); "
        f"{report.settings.seeds} seed(s)",
        fontsize=10,
    )
    _save(figure, path)
