"""Measuring the analyses on an administration's own labelled scans.

Given a folder of scans and the labels file of their examination results (:mod:`.labels`),
every scan is read and analysed as ``POST /api/scans`` would (without history), and compared
with what the examination found:

- **detection rate**: share of irregular scans the machine alarmed on (and, where the label
  says where the irregularity was, share where an alarm region overlaps it);
- **false-alarm rate**: share of scans found as declared that it alarmed on;
- both apart for containers declared empty and loaded ones, per finding, and along the
  detection / false-alarm curve of the findings' scores;
- **mass**: imaged load against the weighed load, where the label gives one (loads of
  300 kg or more; loads too dense to weigh in the image are counted apart);
- **time** per scan (reading and analysis).

Rates come with 95 % Wilson intervals: with 40 irregular scans a measured 90 % may be 77–96 %.
A scan that cannot be read is counted and named, and the others carry on.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.scans.analyses.pipeline import analyze
from smartcustoms.scans.declared import analysis_masses
from smartcustoms.scans.labels import Label, LabelProblem
from smartcustoms.scans.readers import read_scan

__all__ = ["CURVE_THRESHOLDS", "Evaluation", "Outcome", "evaluate", "evaluate_one", "wilson"]

CURVE_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
MIN_WEIGHED_KG = 300.0  # the analyses' own line between loaded and (nearly) empty


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (0–1)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Outcome:
    """One labelled scan and what the machine said about it."""

    label: Label
    decision: str | None = None  # ALARM, CLEAR, UNKNOWN; None if the scan could not be read
    max_score: float = 0.0  # highest score among THREAT findings
    regions: tuple[tuple[int, int, int, int], ...] = ()  # alarm regions (pixels)
    imaged_net_kg: float | None = None
    lower_bound: bool = False
    seconds: float = 0.0
    error: str | None = None

    @property
    def alarm(self) -> bool:
        return self.decision == "ALARM"

    @property
    def located(self) -> bool | None:
        """Did an alarm region overlap the labelled one? None without a labelled region."""
        if self.label.region is None:
            return None
        c0, r0, c1, r1 = self.label.region
        return any(a < c1 and c0 < b and r < r1 and r0 < s for a, r, b, s in self.regions)


def evaluate_one(folder: Path, label: Label) -> Outcome:
    """Read and analyse one labelled scan (errors become the outcome's ``error``)."""
    started = time.perf_counter()
    path = folder / label.file
    try:
        if not path.resolve().is_relative_to(folder.resolve()):
            raise SmartCustomsError(f"{label.file}: outside the folder")
        scan = read_scan(path)
        declared, tare = analysis_masses(label.goods_gross_kg, label.tare_kg)
        report = analyze(
            scan,
            declared_gross_kg=declared,
            hs_code=label.hs_code,
            tare_kg=tare,
            declared_empty=label.declared_empty,
        )
    except SmartCustomsError as exc:
        return Outcome(label, error=exc.message, seconds=time.perf_counter() - started)
    except ValueError as exc:  # a file the readers let through but a scan cannot be built from
        return Outcome(label, error=f"{label.file}: {exc}", seconds=time.perf_counter() - started)
    threats = [f for f in report.findings if f.flag == "THREAT"]
    mass = report.check("mass")
    figures = mass.figures if mass else {}
    return Outcome(
        label,
        decision=report.alarm_decision,
        max_score=max((f.probability for f in threats), default=0.0),
        regions=tuple(f.region.bbox_px for f in threats if f.region is not None),
        imaged_net_kg=figures.get("imaged_net_kg"),
        lower_bound=bool(figures.get("lower_bound")),
        seconds=time.perf_counter() - started,
    )


def _rate(hits: int, n: int) -> dict[str, Any]:
    lo, hi = wilson(hits, n)
    return {"count": hits, "of": n, "rate": hits / n if n else None, "ci95": [lo, hi]}


@dataclass
class Evaluation:
    folder: Path
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[LabelProblem] = field(default_factory=list)

    @property
    def analysed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is None]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    def _group(self, outcomes: list[Outcome]) -> dict[str, Any]:
        irregular = [o for o in outcomes if o.label.irregular]
        clean = [o for o in outcomes if not o.label.irregular]
        with_region = [o for o in irregular if o.label.region is not None]
        return {
            "scans": len(outcomes),
            "irregular": len(irregular),
            "as_declared": len(clean),
            "detection": _rate(sum(o.alarm for o in irregular), len(irregular)),
            "located_detection": _rate(
                sum(bool(o.alarm and o.located) for o in with_region), len(with_region)
            ),
            "false_alarms": _rate(sum(o.alarm for o in clean), len(clean)),
            "undecided": _rate(sum(o.decision == "UNKNOWN" for o in outcomes), len(outcomes)),
        }

    def summary(self) -> dict[str, Any]:
        """Every figure, as JSON-ready data."""
        done = self.analysed
        empty = [o for o in done if o.label.declared_empty]
        loaded = [o for o in done if not o.label.declared_empty]
        findings = sorted({o.label.finding for o in done if o.label.finding})
        curve = []
        irregular = [o for o in done if o.label.irregular]
        clean = [o for o in done if not o.label.irregular]
        for t in CURVE_THRESHOLDS:
            curve.append(
                {
                    "threshold": t,
                    "detection": _rate(
                        sum(o.alarm and o.max_score >= t for o in irregular), len(irregular)
                    ),
                    "false_alarms": _rate(
                        sum(o.alarm and o.max_score >= t for o in clean), len(clean)
                    ),
                }
            )
        # A relative error means nothing on a near-empty container: loads from MIN_WEIGHED_KG.
        weighable = [
            o
            for o in done
            if (o.label.weighed_net_kg or 0) >= MIN_WEIGHED_KG and not o.label.declared_empty
        ]
        weighed = [o for o in weighable if o.imaged_net_kg is not None and not o.lower_bound]
        errors = [
            100.0 * (o.imaged_net_kg - o.label.weighed_net_kg) / o.label.weighed_net_kg
            for o in weighed
            if o.imaged_net_kg is not None and o.label.weighed_net_kg
        ]
        seconds = [o.seconds for o in done]
        return {
            "folder": str(self.folder),
            "labelled_rows": len(self.outcomes) + len(self.problems),
            "analysed": len(done),
            "unreadable": [
                {"file": o.label.file, "line": o.label.line, "error": o.error} for o in self.failed
            ],
            "label_problems": [asdict(p) for p in self.problems],
            "all": self._group(done),
            "declared_empty": self._group(empty),
            "loaded": self._group(loaded),
            "by_finding": {
                name: _rate(
                    sum(o.alarm for o in irregular if o.label.finding == name),
                    sum(o.label.finding == name for o in irregular),
                )
                for name in findings
            },
            "curve": curve,
            "mass": {
                "weighed_scans": len(weighed),
                "lower_bound_excluded": sum(o.lower_bound for o in weighable),
                "median_abs_error_pct": statistics.median(abs(e) for e in errors)
                if errors
                else None,
                "mean_error_pct": statistics.fmean(errors) if errors else None,
                "within_5pct": _rate(sum(abs(e) <= 5 for e in errors), len(errors)),
                "within_10pct": _rate(sum(abs(e) <= 10 for e in errors), len(errors)),
            },
            "seconds_per_scan": {
                "median": statistics.median(seconds) if seconds else None,
                "max": max(seconds, default=None),
            },
        }


def _evaluate_job(job: tuple[Path, Label]) -> Outcome:
    return evaluate_one(*job)


def evaluate(
    folder: Path,
    labels: Iterable[Label],
    *,
    problems: Iterable[LabelProblem] = (),
    workers: int = 1,
    progress: Callable[[Outcome], None] | None = None,
) -> Evaluation:
    """Analyse every labelled scan in ``folder`` (``workers`` processes) and compare."""
    result = Evaluation(folder, problems=list(problems))
    jobs = [(folder, label) for label in labels]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for outcome in pool.map(_evaluate_job, jobs, chunksize=2):
                result.outcomes.append(outcome)
                if progress:
                    progress(outcome)
    else:
        for job in jobs:
            outcome = _evaluate_job(job)
            result.outcomes.append(outcome)
            if progress:
                progress(outcome)
    return result
