"""Charts show what they say — the curves, their labels and values — and are PNG files, written
whole or not at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import imread

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.exploration import Selection
from smartcustoms.risk.offline import plot
from smartcustoms.risk.offline.evaluation import RATES
from smartcustoms.risk.offline.evaluation_report import CurvePoint
from smartcustoms.risk.offline.plot import check_writable, plot_evaluation, plot_simulation
from smartcustoms.risk.offline.replay import RunTrace, SimulationReport, SimulationSettings

PNG = b"\x89PNG\r\n\x1a\n"
RUNS = ("exploration", "no_exploration", "oracle")


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the plot functions save, kept for the test to look at."""
    figures: list[Figure] = []
    save = plot._save

    def keep(figure: Figure, path: Path) -> None:
        figures.append(figure)
        save(figure, path)

    monkeypatch.setattr(plot, "_save", keep)
    return figures


def lines(ax: Axes, *, labelled: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The curves of an axes by label: labelled ones, or the rate markers (matplotlib names
    unlabelled lines ``_child…``)."""
    found = {}
    for line in ax.get_lines():
        label = str(line.get_label())
        if label.startswith("_") != labelled:
            found[label] = (np.asarray(line.get_xdata()), np.asarray(line.get_ydata()))
    return found


def legend(ax: Axes) -> list[str]:
    box = ax.get_legend()
    assert box is not None, "no legend"
    return [t.get_text() for t in box.get_texts()]


def pixels(path: Path) -> np.ndarray:
    assert path.read_bytes().startswith(PNG)
    return imread(path)


def test_evaluation_plot_shows_precision_and_recall(tmp_path: Path, drawn: list[Figure]) -> None:
    curve = [CurvePoint(r / 100, 1 - r / 200, 0.01, r / 100, 0.02) for r in range(1, 101)]
    path = tmp_path / "curve.png"
    plot_evaluation(curve, path, title="KCS test split")
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]  # no temporary left behind

    (figure,) = drawn
    (ax,) = figure.axes
    assert ax.get_title() == "KCS test split"
    assert ax.get_xlabel() == "share of items inspected (top scores first)"
    assert ax.get_ylabel() == "precision (hit rate) / recall"
    assert ax.get_xscale() == "log"
    assert ax.get_ylim() == (0, 1.02)
    assert legend(ax) == ["precision", "recall"]
    curves = lines(ax)
    assert list(curves) == ["precision", "recall"]
    rate = np.arange(1, 101, dtype=float)  # percent of items inspected
    x, y = curves["precision"]
    np.testing.assert_allclose(x, rate)
    np.testing.assert_allclose(y, 1 - rate / 200)
    x, y = curves["recall"]
    np.testing.assert_allclose(x, rate)
    np.testing.assert_allclose(y, rate / 100)
    assert len(ax.collections) == 2  # a ± std band around each curve
    markers = sorted(float(x[0]) for x, _ in lines(ax, labelled=False).values())
    assert markers == pytest.approx(sorted(r * 100 for r in RATES))  # a rule at each rate
    assert [t.get_text() for t in ax.get_xticklabels()][: len(RATES)] == [
        f"{r * 100:g}%" for r in RATES
    ]

    image = pixels(path)
    assert image.shape[:2] == (540, 840)  # 7 × 4.5 inches at 120 dpi
    assert image[..., :3].std() > 0.05  # something is drawn on the white page


def simulation_report(seeds: int = 2, weeks: int = 4) -> SimulationReport:
    traces: dict[str, list[RunTrace]] = {}
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    for name in RUNS:
        traces[name] = []
        for seed in range(seeds):
            trace = RunTrace()
            for week in range(weeks):
                chosen = np.zeros(10, bool)
                chosen[(week + seed + (name == "oracle") * 3) % 10] = True
                trace.add(Selection(chosen, np.zeros(10, bool)), y, np.arange(10.0))
            traces[name].append(trace)
    starts = ("2020-01-06", "2020-01-13", "2020-01-20", "2020-01-27")[:weeks]
    return SimulationReport(
        SimulationSettings(seeds=seeds),
        {"history": 10, "stream": 10 * weeks, "weeks": weeks},
        starts,
        (10,) * weeks,
        traces,
    )


def test_simulation_plot_shows_each_run_week_by_week(tmp_path: Path, drawn: list[Figure]) -> None:
    report = simulation_report()
    path = tmp_path / "loop.png"
    plot_simulation(report, path)

    (figure,) = drawn
    left, right = figure.axes
    assert left.get_ylabel() == "cumulative precision (hit rate)"
    assert right.get_ylabel() == "cumulative recall (irregular items caught)"
    s = report.settings
    assert figure.get_suptitle() == (
        f"Inspecting {s.inspect_rate:.0%} a week, {s.explore:.0%} of it exploring "
        f"({s.strategy}); 2 seed(s)"
    )
    labels = ["with exploration", "no exploration", "oracle"]
    assert legend(left) == labels
    for panel, ax in enumerate((left, right)):
        assert ax.get_xlabel() == "week of the stream (from 2020-01-06)"
        curves = lines(ax)
        assert list(curves) == labels
        for name, label in zip(RUNS, labels, strict=True):
            # The mean over seeds of each run's cumulative rate, one point a week.
            expected = np.mean([t.cumulative()[panel] for t in report.traces[name]], axis=0)
            x, y = curves[label]
            np.testing.assert_array_equal(x, [1, 2, 3, 4])
            np.testing.assert_allclose(y, expected)
        assert len(ax.collections) == 3  # the range over the two seeds, one band per run
    # Week 1 with exploration: seed 0 inspected item 0 (irregular), seed 1 item 1 (not).
    assert lines(left)["with exploration"][1][0] == 0.5
    assert lines(right)["with exploration"][1][0] == 0.25  # of two irregular items

    image = pixels(path)
    assert image.shape[:2] == (504, 1200)  # 10 × 4.2 inches at 120 dpi
    assert image[..., :3].std() > 0.05


def test_one_seed_draws_no_range(tmp_path: Path, drawn: list[Figure]) -> None:
    plot_simulation(simulation_report(seeds=1), tmp_path / "loop.png")
    (figure,) = drawn
    assert [len(ax.collections) for ax in figure.axes] == [0, 0]
    assert [len(lines(ax)) for ax in figure.axes] == [3, 3]


def test_plot_path_must_be_writable(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match=r"folder .* does not exist"):
        check_writable(tmp_path / "absent" / "x.png")
    with pytest.raises(ValidationFailed, match="is a folder"):
        check_writable(tmp_path)
