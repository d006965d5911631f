"""The simulated loop on a few weeks of KCS: capacity spent, labels hidden, references right."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.offline.kcs_files import LabelledTable
from smartcustoms.risk.offline.replay import (
    RUNS,
    SimulationReport,
    SimulationSettings,
    simulate,
    week_of,
)
from tests.risk.conftest import SMALL_MODEL

FAST = {**SMALL_MODEL, "n_estimators": 30}


@pytest.fixture(scope="module")
def tables(
    kcs_train: tuple[pd.DataFrame, np.ndarray],
) -> tuple[LabelledTable, LabelledTable]:
    """History: 1-15 January 2020; stream: the three weeks that follow."""
    items, y = kcs_train
    dates = items["date"]
    early = (dates < "2020-01-13").to_numpy()
    later = ((dates >= "2020-01-13") & (dates < "2020-02-03")).to_numpy()
    return (
        LabelledTable("history", items[early].reset_index(drop=True), y[early], None),
        LabelledTable("stream", items[later].reset_index(drop=True), y[later], None),
    )


@pytest.fixture(scope="module")
def report(tables: tuple[LabelledTable, LabelledTable]) -> SimulationReport:
    settings = SimulationSettings(inspect_rate=0.1, explore=0.2, seeds=2, params=FAST)
    return simulate(*tables, settings)


def test_weeks_start_on_monday() -> None:
    # Sunday 12, Monday 13, Sunday 19, Monday 20 January 2020.
    days = np.array([18273, 18274, 18280, 18281])
    first = int(week_of(days)[0])
    assert week_of(days).tolist() == [first, first + 1, first + 1, first + 2]


def test_capacity_is_spent_each_week_and_oracle_bounds_the_runs(report: SimulationReport) -> None:
    assert report.rows["weeks"] == 3 and report.week_starts[0] == "2020-01-13"
    for name in RUNS:
        for trace in report.traces[name]:
            assert trace.inspected == [max(1, n // 10) for n in report.week_rows]
    for trace in report.traces["exploration"]:
        assert trace.explored == [round(0.2 * max(1, n // 10)) for n in report.week_rows]
    assert all(sum(t.explored) == 0 for t in report.traces["no_exploration"])
    oracle = report.traces["oracle"][0].figures()
    assert oracle["precision"] == 1.0  # far more irregular items (~21%) than capacity (10%)
    for name in ("exploration", "no_exploration"):
        for trace in report.traces[name]:
            figures = trace.figures()
            assert figures["recall"] <= oracle["recall"]
            assert 0.5 < figures["weekly_auc"] <= 1.0


def test_summary_is_json_with_means_gains_and_weekly_curves(report: SimulationReport) -> None:
    summary = json.loads(json.dumps(report.summary(), allow_nan=False))
    assert set(summary) == {"settings", "rows", "seeds", "runs", "exploration_gain", "weeks"}
    assert summary["seeds"] == 2 and summary["settings"]["strategy"] == "band"
    assert set(summary["runs"]) == set(RUNS)
    assert summary["runs"]["oracle"]["precision"] == {"mean": 1.0, "std": 0.0}
    assert summary["runs"]["no_exploration"]["exploration_hit_rate"]["mean"] is None
    gain = summary["exploration_gain"]["recall"]["mean"]
    runs = summary["runs"]
    assert gain == pytest.approx(
        runs["exploration"]["recall"]["mean"] - runs["no_exploration"]["recall"]["mean"]
    )
    assert len(summary["weeks"]) == 3 and summary["weeks"][-1]["oracle"]["precision"] == 1.0


def test_full_feedback_reference_learns_every_outcome(
    tables: tuple[LabelledTable, LabelledTable],
) -> None:
    settings = SimulationSettings(weeks=2, full_feedback=True, params=FAST)
    result = simulate(*tables, settings)
    assert result.runs == ("exploration", "no_exploration", "oracle", "full_feedback")
    full = result.traces["full_feedback"][0]
    assert full.inspected == result.traces["no_exploration"][0].inspected
    assert sum(full.explored) == 0
    summary = result.summary()
    assert summary["runs"]["full_feedback"]["exploration_hit_rate"]["mean"] is None
    assert set(summary["weeks"][0]) == {"week", "rows", *result.runs}


def test_without_exploration_both_runs_are_the_same(
    tables: tuple[LabelledTable, LabelledTable],
) -> None:
    settings = SimulationSettings(explore=0.0, weeks=2, params=FAST)
    result = simulate(*tables, settings)
    assert result.traces["exploration"][0].hits == result.traces["no_exploration"][0].hits
    assert result.summary()["exploration_gain"]["precision"]["mean"] == 0.0


def test_bad_settings_and_histories_are_refused(
    tables: tuple[LabelledTable, LabelledTable],
) -> None:
    history, stream = tables
    one_class = LabelledTable("h.csv", history.items, np.zeros(len(history), np.int64), None)
    with pytest.raises(ValidationFailed, match=r"h\.csv: the history needs both outcomes"):
        simulate(one_class, stream, SimulationSettings())
    for settings, message in (
        (SimulationSettings(inspect_rate=1.5), "inspection rate"),
        (SimulationSettings(explore=-0.1), "exploration share"),
        (SimulationSettings(seeds=0), "seeds"),
        (SimulationSettings(weeks=0), "weeks"),
    ):
        with pytest.raises(ValidationFailed, match=message):
            simulate(history, stream, settings)
