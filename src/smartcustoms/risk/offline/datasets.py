"""The packaged KCS declarations: a labelled history to train, test and demonstrate with.

45,519 synthetic import declarations (CTGAN, trained on Korea Customs Service data), every one
inspected: ``Fraud`` is 1 when the inspection found an irregularity (about 21%). ``train`` runs
from 2020-01-01 to 2020-12-31, ``valid`` from 2021-01-01 to 2021-03-31. Source and licence are
in ``data/kcs/README.md`` beside the files.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.core.errors import NotFound
from smartcustoms.risk.schema import from_kcs

__all__ = ["KcsSplit", "kcs_table", "load_kcs"]

KcsSplit = Literal["train", "valid"]


def kcs_table(split: KcsSplit) -> pd.DataFrame:
    """The KCS file as published (original column names, labels included)."""
    if split not in ("train", "valid"):
        raise NotFound(
            f"no KCS split {split!r}; there are 'train' and 'valid'",
            details=[{"field": "split", "reason": "unknown"}],
        )
    path = resources.files("smartcustoms.risk") / "data" / "kcs" / f"{split}.csv"
    with resources.as_file(path) as file:
        # IDs are codes, not numbers: keep leading zeros and read blanks as missing.
        return pd.read_csv(
            file,
            dtype={"Declaration ID": str, "Office ID": str, "HS6 Code": str, "Import Type": str},
            keep_default_na=False,
            na_values={"Seller ID": [""], "Courier ID": [""]},
        )


def load_kcs(split: KcsSplit) -> tuple[pd.DataFrame, np.ndarray]:
    """Items in the risk engine's column names, and the inspection outcomes (``Fraud``)."""
    table = kcs_table(split)
    return from_kcs(table), table["Fraud"].to_numpy(dtype=np.int64)
