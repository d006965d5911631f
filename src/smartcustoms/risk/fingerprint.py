"""What a model was trained on: row count, dates, irregularity rate and a content fingerprint.

The fingerprint is the SHA-256 of the training items written as CSV in a fixed column order with
their outcomes, so the same data gives the same fingerprint whatever the row index or extra
columns, and anyone holding the file can check a stored model against it.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.risk.schema import ITEM_FIELDS, PreparedItems

__all__ = ["TrainingSummary", "fingerprint_items", "summarise_training"]


@dataclass(frozen=True)
class TrainingSummary:
    rows: int
    irregular: int
    date_from: str
    date_to: str
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingSummary:
        return cls(
            rows=int(data["rows"]),
            irregular=int(data["irregular"]),
            date_from=str(data["date_from"]),
            date_to=str(data["date_to"]),
            fingerprint=str(data["fingerprint"]),
        )


def fingerprint_items(items: PreparedItems, outcomes: np.ndarray) -> str:
    """``sha256:`` and the hex digest of the canonical CSV of items and outcomes."""
    frame = items.frame[[f.name for f in ITEM_FIELDS]].copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
    frame["outcome"] = outcomes
    text = frame.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def summarise_training(items: PreparedItems, outcomes: np.ndarray) -> TrainingSummary:
    days = items.frame["day"].to_numpy()
    epoch = np.datetime64("1970-01-01")
    return TrainingSummary(
        rows=len(items),
        irregular=int(np.nansum(outcomes)),
        date_from=str(epoch + np.timedelta64(int(days.min()), "D")),
        date_to=str(epoch + np.timedelta64(int(days.max()), "D")),
        fingerprint=fingerprint_items(items, outcomes),
    )
