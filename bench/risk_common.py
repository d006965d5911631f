"""Shared pieces of the risk benchmarks: the machine line and the same-run baseline.

The baseline is the one the issue names: LightGBM with its default settings on the KCS columns,
each text column label-encoded (codes learnt on the training rows; unseen values get -1), the
date and the declaration ID left out, no history features. It runs with RiskModel's thread
policy (see ``LabelEncodedBaseline.fit``).
"""

from __future__ import annotations

import os
import platform
import time

import lightgbm as lgb
import numpy as np
import pandas as pd
import sklearn

import smartcustoms

LABELS = ("Fraud", "Critical Fraud")
DROPPED = ("Declaration ID", "Date")


def machine() -> str:
    load = os.getloadavg()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.node()} · {os.cpu_count()} cores · {mem:.0f} GiB RAM · load "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} · Python {platform.python_version()} · "
        f"LightGBM {lgb.__version__} · scikit-learn {sklearn.__version__} · "
        f"smartcustoms {smartcustoms.__version__} · {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


class LabelEncodedBaseline:
    """LightGBM defaults on label-encoded raw columns (the issue's reference baseline)."""

    def __init__(self, seed: int = 0, n_jobs: int | None = None) -> None:
        self.seed = seed
        self.n_jobs = n_jobs
        self.codes: dict[str, pd.Index] = {}

    def encode(self, table: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for col in table.columns:
            if col in LABELS or col in DROPPED:
                continue
            values = table[col]
            if values.dtype.kind in "iuf" and col in ("Tax Rate", "Net Mass", "Item Price"):
                out[col] = values.to_numpy(dtype=np.float64)
            else:
                text = values.astype(object).where(values.notna(), "").astype(str)
                if col not in self.codes:
                    self.codes[col] = pd.Index(pd.unique(text.to_numpy()))
                out[col] = self.codes[col].get_indexer(text.to_numpy()).astype(np.float64)
        return pd.DataFrame(out)

    def fit(self, table: pd.DataFrame) -> LabelEncodedBaseline:
        # The same thread policy as RiskModel, so the comparison is about the work done: one
        # thread to train unless told otherwise, all cores to score large batches.
        self.codes = {}
        X = self.encode(table)
        self.model = lgb.LGBMClassifier(
            random_state=self.seed, verbose=-1, n_jobs=self.n_jobs or 1
        ).fit(X, table["Fraud"].to_numpy())
        return self

    def score(self, table: pd.DataFrame) -> np.ndarray:
        X = self.encode(table)
        threads = self.n_jobs or (1 if len(X) < 20_000 else os.cpu_count() or 1)
        return np.asarray(self.model.predict_proba(X, num_threads=threads)[:, 1])
