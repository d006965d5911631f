"""Shared fixtures: small, time-ordered slices of the packaged KCS data and a model fitted on them.

Tests train on January-February 2020 (about 5,600 rows) with few trees so the whole suite stays
fast on two cores; the benchmark scripts measure the full data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smartcustoms.risk import RiskModel, prepare_items
from smartcustoms.risk.offline.datasets import load_kcs
from smartcustoms.risk.schema import PreparedItems

SMALL_MODEL = {"n_estimators": 60, "learning_rate": 0.1, "calibration_folds": 2, "n_jobs": 1}


@pytest.fixture(scope="session")
def kcs_train() -> tuple[pd.DataFrame, np.ndarray]:
    items, y = load_kcs("train")
    keep = (items["date"] < "2020-03-01").to_numpy()
    return items[keep].reset_index(drop=True), y[keep]


@pytest.fixture(scope="session")
def kcs_test() -> tuple[pd.DataFrame, np.ndarray]:
    """March 2020: the month after the training slice."""
    items, y = load_kcs("train")
    keep = ((items["date"] >= "2020-03-01") & (items["date"] < "2020-04-01")).to_numpy()
    return items[keep].reset_index(drop=True), y[keep]


@pytest.fixture(scope="session")
def prepared_train(kcs_train: tuple[pd.DataFrame, np.ndarray]) -> PreparedItems:
    return prepare_items(kcs_train[0])


@pytest.fixture(scope="session")
def fitted(kcs_train: tuple[pd.DataFrame, np.ndarray]) -> RiskModel:
    """A model fitted once for the session. Tests must not change it (copy it first)."""
    items, y = kcs_train
    return RiskModel(random_state=0, **SMALL_MODEL).fit(items, y)


def item(**fields: object) -> dict[str, object]:
    """One valid declaration item; keyword arguments override fields."""
    base: dict[str, object] = {
        "declaration_id": "D1",
        "date": "2024-01-10",
        "office": "30",
        "process_type": "B",
        "import_type": "11",
        "import_use": "21",
        "payment_type": "11",
        "transport_mode": "10",
        "declarant_id": "DEC1",
        "importer_id": "IMP1",
        "seller_id": "SEL1",
        "courier_id": None,
        "hs6": "850440",
        "origin": "CN",
        "departure": "CN",
        "tax_rate": 8.0,
        "tax_type": "A",
        "origin_indicator": "Y",
        "net_mass": 100.0,
        "item_price": 5000.0,
    }
    base.update(fields)
    return base


def items_frame(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))
