"""What past scans of the same HS heading looked like: the reference for "unusual for these goods".

A :class:`HeadingProfile` summarises the concealment analysis of past scans of one heading that
were cleared (or examined and found as declared): the spread of their load's Z_eff and areal
density, of their highest anomaly scores and – where the learned detector ran – of its score,
from which the alarm thresholds for a wanted false-alarm rate follow. The API layer keeps one
per heading and passes it to :func:`analyze`; this package does not store anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["HeadingProfile", "LoadSummary"]

MIN_HISTORY = 20  # scans before a heading's own threshold replaces the default


@dataclass(frozen=True)
class LoadSummary:
    """A scan's load in four (or five) numbers, as history keeps it."""

    median_z: float
    median_areal_density: float
    composition_score: float  # highest composition region score
    density_score: float  # highest density region score
    learned_score: float | None = None  # the learned detector's scan score, where it ran


@dataclass(frozen=True)
class HeadingProfile:
    """Past cleared scans of one HS heading (4 digits)."""

    heading: str
    loads: tuple[LoadSummary, ...] = field(default_factory=tuple)

    @property
    def n_scans(self) -> int:
        return len(self.loads)

    def with_load(self, load: LoadSummary) -> HeadingProfile:
        return HeadingProfile(self.heading, (*self.loads, load))

    @classmethod
    def from_loads(cls, heading: str, loads: Iterable[LoadSummary]) -> HeadingProfile:
        return cls(heading, tuple(loads))

    def thresholds(self, false_alarm_rate: float) -> tuple[float, float] | None:
        """(composition, density) scores above which past cleared scans would have alarmed at
        ``false_alarm_rate`` in all (split evenly between the two kinds of region)."""
        if self.n_scans < MIN_HISTORY:
            return None
        q = 1.0 - false_alarm_rate / 2.0
        comp = np.array([s.composition_score for s in self.loads])
        dens = np.array([s.density_score for s in self.loads])
        # A little above the highest quantile seen, so a tie with a past clean scan does not alarm.
        return float(np.quantile(comp, q)) + 1e-6, float(np.quantile(dens, q)) + 1e-6

    def learned_threshold(self, false_alarm_rate: float) -> float | None:
        """The learned detector's score above which past cleared scans would have alarmed at
        ``false_alarm_rate`` (None until :data:`MIN_HISTORY` of them have a learned score)."""
        scores = np.array([s.learned_score for s in self.loads if s.learned_score is not None])
        if scores.size < MIN_HISTORY:
            return None
        return float(np.quantile(scores, 1.0 - false_alarm_rate)) + 1e-6

    def load_z_scores(self, load: LoadSummary) -> tuple[float, float] | None:
        """How unusual this load's Z_eff and areal density are for the heading (robust z)."""
        if self.n_scans < MIN_HISTORY:
            return None
        out = []
        for values, x in (
            ([s.median_z for s in self.loads], load.median_z),
            ([s.median_areal_density for s in self.loads], load.median_areal_density),
        ):
            v = np.asarray(values)
            med = float(np.median(v))
            sigma = max(1.4826 * float(np.median(np.abs(v - med))), 1e-6)
            out.append((x - med) / sigma)
        return out[0], out[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "heading": self.heading,
            "loads": [
                [s.median_z, s.median_areal_density, s.composition_score, s.density_score]
                + ([] if s.learned_score is None else [s.learned_score])
                for s in self.loads
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HeadingProfile:
        return cls(
            str(data["heading"]),
            tuple(
                LoadSummary(*(float(v) for v in values[:4]), *(float(v) for v in values[4:5]))
                for values in data.get("loads", [])
            ),
        )
