"""The real loop, simulated: select by capacity, learn only from what was inspected, retrain.

Offline evaluation scores a test period with every label known. A deployed model never has
that: it learns only from the declarations it had inspected, which it chose itself. This module
replays a labelled stream week by week as a deployment lives it:

1. score the week's declarations with the current model (history as of the week before);
2. inspect ``capacity`` of them (:func:`~smartcustoms.risk.exploration.select`: the top scores,
   ``explore`` of the capacity spent on exploration);
3. reveal the outcome of the inspected ones only: every declaration is observed
   (:meth:`RiskModel.observe`), the inspected ones recorded (:meth:`RiskModel.record`);
4. every ``retrain_every`` weeks, retrain on everything labelled so far (the history and the
   inspected stream rows) and observe the uninspected ones, as
   :func:`~smartcustoms.risk.training.train_from_store` does with stored history.

Two references run on the same weeks: the same loop without exploration, and an oracle that
knows the labels and inspects the irregular declarations first. A third is optional
(``full_feedback``): the loop without exploration that learns every declaration's outcome, as
if everything were inspected (KCS was). It bounds what any exploration could recover: the gap
between it and ``no_exploration`` is all that partial feedback costs, selection bias and the
scarcity of labels together. Cumulative precision (hits per
inspection) and recall (share of the stream's irregular declarations caught) of each are
reported, with the weekly AUC of the model's scores over *all* the week's declarations — a
measure the simulator can take because it knows every label, and the model does not.

Rows are declaration items; KCS has one item per declaration, so here they are the same.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment
from sklearn.metrics import roc_auc_score

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.exploration import Selection, Strategy, capacity, select, select_oracle
from smartcustoms.risk.metrics import summarise_runs
from smartcustoms.risk.model import RiskModel
from smartcustoms.risk.offline.kcs_files import LabelledTable
from smartcustoms.risk.schema import PreparedItems, prepare_items

__all__ = [
    "FULL_FEEDBACK",
    "RUNS",
    "SIMULATION_MODEL",
    "Progress",
    "RunTrace",
    "SimulationReport",
    "SimulationSettings",
    "simulate",
    "week_of",
]

RUNS = ("exploration", "no_exploration", "oracle")
FULL_FEEDBACK = "full_feedback"
# RiskModel's defaults but two calibration folds instead of three: the loop retrains every week,
# and two folds train three boosters per fit instead of four. Ranking (what the loop measures)
# does not depend on the calibration; only the "uncertain" strategy reads probabilities.
SIMULATION_MODEL: Mapping[str, Any] = {"calibration_folds": 2}
_EPOCH = dt.date(1970, 1, 1)

Progress = Callable[[int, str, int, int], None]
"""Called as ``progress(seed, run, week_done, weeks)`` after each simulated week."""


def week_of(day: np.ndarray) -> np.ndarray:
    """Week number (weeks start on Monday) of days counted from 1970-01-01, a Thursday."""
    return (np.asarray(day, dtype=np.int64) + 3) // 7


def _monday(week: int) -> str:
    return (_EPOCH + dt.timedelta(days=int(week) * 7 - 3)).isoformat()


@dataclass(frozen=True)
class SimulationSettings:
    """How the loop runs. ``explore`` is a share of the capacity, not of all declarations."""

    inspect_rate: float = 0.1
    explore: float = 0.1
    strategy: Strategy = "band"  # see smartcustoms.risk.exploration for why
    seeds: int = 1
    retrain_every: int = 1
    weeks: int | None = None
    full_feedback: bool = False
    params: Mapping[str, Any] = field(default_factory=lambda: dict(SIMULATION_MODEL))

    def to_dict(self) -> dict[str, Any]:
        return {
            "inspect_rate": self.inspect_rate,
            "explore": self.explore,
            "strategy": self.strategy,
            "retrain_every_weeks": self.retrain_every,
            "weeks": self.weeks,
            "full_feedback": self.full_feedback,
            "model": dict(self.params),
        }


@dataclass
class RunTrace:
    """Week-by-week counts of one run with one seed."""

    inspected: list[int] = field(default_factory=list)
    hits: list[int] = field(default_factory=list)
    explored: list[int] = field(default_factory=list)
    explored_hits: list[int] = field(default_factory=list)
    irregular: list[int] = field(default_factory=list)
    auc: list[float] = field(default_factory=list)

    def add(self, selection: Selection, labels: np.ndarray, scores: np.ndarray | None) -> None:
        self.inspected.append(int(selection.inspected.sum()))
        self.hits.append(int(labels[selection.inspected].sum()))
        self.explored.append(int(selection.explored.sum()))
        self.explored_hits.append(int(labels[selection.explored].sum()))
        self.irregular.append(int(labels.sum()))
        both = 0 < labels.sum() < len(labels)
        self.auc.append(
            float(roc_auc_score(labels, scores)) if scores is not None and both else math.nan
        )

    def cumulative(self) -> tuple[np.ndarray, np.ndarray]:
        """Cumulative precision and recall after each week."""
        hits = np.cumsum(self.hits, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = hits / np.cumsum(self.inspected, dtype=np.float64)
            recall = hits / np.cumsum(self.irregular, dtype=np.float64)
        return precision, recall

    def figures(self) -> dict[str, float]:
        """End-of-stream figures of this run."""
        precision, recall = self.cumulative()
        explored = sum(self.explored)
        auc = np.array(self.auc)
        return {
            "precision": float(precision[-1]),
            "recall": float(recall[-1]),
            "irregular_found": float(sum(self.hits)),
            "exploration_hit_rate": sum(self.explored_hits) / explored if explored else math.nan,
            "weekly_auc": float(np.nanmean(auc)) if np.isfinite(auc).any() else math.nan,
        }


@dataclass(frozen=True)
class SimulationReport:
    settings: SimulationSettings
    rows: dict[str, int]
    week_starts: tuple[str, ...]
    week_rows: tuple[int, ...]
    traces: dict[str, list[RunTrace]]

    @property
    def runs(self) -> tuple[str, ...]:
        """The runs made: :data:`RUNS`, then ``full_feedback`` if it was asked for."""
        return tuple(self.traces)

    def summary(self) -> dict[str, Any]:
        """Mean and standard deviation over seeds of each run's end figures, the paired gain of
        exploration over no exploration, and the cumulative curves week by week (means)."""
        runs = {name: _summary([t.figures() for t in self.traces[name]]) for name in self.runs}
        gains = [
            {k: e.figures()[k] - n.figures()[k] for k in ("precision", "recall", "weekly_auc")}
            for e, n in zip(self.traces["exploration"], self.traces["no_exploration"], strict=True)
        ]
        curves = {name: [t.cumulative() for t in self.traces[name]] for name in self.runs}
        weeks = []
        for i, (start, rows) in enumerate(zip(self.week_starts, self.week_rows, strict=True)):
            week: dict[str, Any] = {"week": start, "rows": rows}
            for name in self.runs:
                week[name] = {
                    "precision": _number(float(np.mean([c[0][i] for c in curves[name]]))),
                    "recall": _number(float(np.mean([c[1][i] for c in curves[name]]))),
                }
            weeks.append(week)
        return {
            "settings": self.settings.to_dict(),
            "rows": dict(self.rows),
            "seeds": self.settings.seeds,
            "runs": runs,
            "exploration_gain": _summary(gains),
            "weeks": weeks,
        }


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no NaN


def _summary(runs: list[dict[str, float]]) -> dict[str, dict[str, float | None]]:
    summary = summarise_runs(runs)
    return {name: {k: _number(v) for k, v in stats.items()} for name, stats in summary.items()}


def _check(history: LabelledTable, stream: LabelledTable, settings: SimulationSettings) -> None:
    positives = int(history.labels.sum())
    if positives == 0 or positives == len(history):
        raise ValidationFailed(
            f"{history.source}: the history needs both outcomes (0 and 1) in column 'Fraud' "
            "to train the first model",
            details=[{"file": history.source, "column": "Fraud", "reason": "a single class"}],
        )
    if not len(stream):
        raise ValidationFailed(
            "the stream has no declarations", details=[{"field": "stream", "reason": "empty"}]
        )
    for name, value in (("seeds", settings.seeds), ("retrain_every", settings.retrain_every)):
        if value < 1:
            raise ValidationFailed(
                f"{name} must be at least 1, not {value}",
                details=[{"field": name, "reason": "< 1"}],
            )
    if settings.weeks is not None and settings.weeks < 1:
        raise ValidationFailed(
            f"weeks must be at least 1, not {settings.weeks}",
            details=[{"field": "weeks", "reason": "< 1"}],
        )
    capacity(1, settings.inspect_rate)  # raises on a rate outside (0, 1]
    if not 0 <= settings.explore <= 1:
        raise ValidationFailed(
            f"exploration share {settings.explore} outside [0, 1]",
            details=[{"field": "explore", "reason": "out of range"}],
        )


@dataclass(frozen=True)
class _Data:
    """History and stream as one prepared table: positions ``[0, history)`` are the history."""

    items: PreparedItems
    labels: np.ndarray
    history: int
    weeks: list[np.ndarray]  # stream positions of each week, in time order
    week_ids: list[int]


def _data(history: LabelledTable, stream: LabelledTable, weeks: int | None) -> _Data:
    items = prepare_items(pd.concat([history.items, stream.items], ignore_index=True))
    labels = np.concatenate([history.labels, stream.labels]).astype(np.int64)
    h = len(history)
    week = week_of(items.frame["day"].to_numpy()[h:])
    ids = np.unique(week)[:weeks]
    positions = [h + np.flatnonzero(week == w) for w in ids]
    return _Data(items, labels, h, positions, [int(w) for w in ids])


def _fit(
    data: _Data, labelled: np.ndarray, unlabelled: np.ndarray, params: Mapping[str, Any], seed: int
) -> RiskModel:
    model = RiskModel(**{**dict(params), "random_state": seed})
    model.fit(data.items.take(labelled), data.labels[labelled])
    if len(unlabelled):
        # Declarations never inspected still count (how often a trader or an HS code is seen).
        model.observe(data.items.take(unlabelled))
    return model


def _run(
    data: _Data,
    model: RiskModel,
    *,
    explore: float,
    reveal_all: bool,
    settings: SimulationSettings,
    seed: int,
    name: str,
    progress: Progress | None,
) -> RunTrace:
    rng = np.random.default_rng(seed)
    trace = RunTrace()
    labelled = [np.arange(data.history)]
    unlabelled: list[np.ndarray] = []
    for i, rows in enumerate(data.weeks):
        batch = data.items.take(rows)
        scores = model.decision_function(batch)
        chosen = select(
            scores,
            rate=settings.inspect_rate,
            explore=explore,
            strategy=settings.strategy,
            rng=rng,
        )
        y = data.labels[rows]
        trace.add(chosen, y, scores)
        model.observe(batch)
        model.record(batch, y if reveal_all else np.where(chosen.inspected, y, np.nan))
        revealed = np.ones(len(rows), bool) if reveal_all else chosen.inspected
        labelled.append(rows[revealed])
        unlabelled.append(rows[~revealed])
        last = i + 1 == len(data.weeks)
        if not last and (i + 1) % settings.retrain_every == 0:
            model = _fit(
                data, np.concatenate(labelled), np.concatenate(unlabelled), settings.params, seed
            )
        if progress is not None:
            progress(seed, name, i + 1, len(data.weeks))
    return trace


def _oracle(data: _Data, rate: float) -> RunTrace:
    trace = RunTrace()
    for rows in data.weeks:
        y = data.labels[rows]
        trace.add(select_oracle(y, rate=rate), y, None)
    return trace


def simulate(
    history: LabelledTable,
    stream: LabelledTable,
    settings: SimulationSettings,
    *,
    progress: Progress | None = None,
) -> SimulationReport:
    """Replay ``stream`` week by week after ``history`` (see the module docstring).

    Each seed trains its own first model on the history and draws its own exploration; the
    no-exploration run starts from a copy of the same first model, so the pair differs only by
    exploration. The oracle does not depend on the seed.
    """
    _check(history, stream, settings)
    data = _data(history, stream, settings.weeks)
    names = (*RUNS, FULL_FEEDBACK) if settings.full_feedback else RUNS
    traces: dict[str, list[RunTrace]] = {name: [] for name in names}
    oracle = _oracle(data, settings.inspect_rate)
    learning = [("exploration", settings.explore, False), ("no_exploration", 0.0, False)]
    if settings.full_feedback:
        learning.append((FULL_FEEDBACK, 0.0, True))
    for seed in range(settings.seeds):
        first = _fit(data, np.arange(data.history), np.empty(0, np.int64), settings.params, seed)
        for name, explore, reveal_all in learning:
            traces[name].append(
                _run(
                    data,
                    copy.deepcopy(first),
                    explore=explore,
                    reveal_all=reveal_all,
                    settings=settings,
                    seed=seed,
                    name=name,
                    progress=progress,
                )
            )
        traces["oracle"].append(oracle)
    return SimulationReport(
        settings,
        {
            "history": data.history,
            "stream": int(sum(len(w) for w in data.weeks)),
            "weeks": len(data.weeks),
        },
        tuple(_monday(w) for w in data.week_ids),
        tuple(len(w) for w in data.weeks),
        traces,
    )
