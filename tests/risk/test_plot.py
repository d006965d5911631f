"""Charts are PNG files, written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.evaluation_report import CurvePoint
from smartcustoms.risk.exploration import Selection
from smartcustoms.risk.plot import check_writable, plot_evaluation, plot_simulation
from smartcustoms.risk.simulate import RunTrace, SimulationReport, SimulationSettings

PNG = b"\x89PNG\r\n\x1a\n"


def test_evaluation_plot_is_a_png(tmp_path: Path) -> None:
    curve = [CurvePoint(r / 100, 1 - r / 200, 0.01, r / 100, 0.02) for r in range(1, 101)]
    path = tmp_path / "curve.png"
    plot_evaluation(curve, path, title="test")
    assert path.read_bytes().startswith(PNG)
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]  # no temporary left behind


def test_simulation_plot_is_a_png(tmp_path: Path) -> None:
    traces: dict[str, list[RunTrace]] = {}
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    for name in ("exploration", "no_exploration", "oracle"):
        traces[name] = []
        for seed in range(2):
            trace = RunTrace()
            for week in range(4):
                chosen = np.zeros(10, bool)
                chosen[(week + seed + (name == "oracle") * 3) % 10] = True
                trace.add(Selection(chosen, np.zeros(10, bool)), y, np.arange(10.0))
            traces[name].append(trace)
    report = SimulationReport(
        SimulationSettings(seeds=2),
        {"history": 10, "stream": 40, "weeks": 4},
        ("2020-01-06", "2020-01-13", "2020-01-20", "2020-01-27"),
        (10, 10, 10, 10),
        traces,
    )
    path = tmp_path / "loop.png"
    plot_simulation(report, path)
    assert path.read_bytes().startswith(PNG)


def test_plot_path_must_be_writable(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match=r"folder .* does not exist"):
        check_writable(tmp_path / "absent" / "x.png")
    with pytest.raises(ValidationFailed, match="is a folder"):
        check_writable(tmp_path)
