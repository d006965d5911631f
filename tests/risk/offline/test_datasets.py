from __future__ import annotations

import pytest

from smartcustoms.core.errors import NotFound
from smartcustoms.risk import prepare_items
from smartcustoms.risk.offline.datasets import kcs_table, load_kcs


def test_packaged_kcs_splits_have_the_published_shape() -> None:
    train, y_train = load_kcs("train")
    valid, y_valid = load_kcs("valid")
    assert (len(train), len(valid)) == (37385, 8134)
    assert 0.20 < y_train.mean() < 0.23 and 0.19 < y_valid.mean() < 0.23
    assert train["date"].max() < valid["date"].min()  # a time split: valid is the future


def test_codes_keep_their_text_form() -> None:
    table = kcs_table("train")
    # "NA" is Namibia, not a missing value; IDs are text with their leading zeros.
    assert table["Country of Origin"].notna().all()
    assert table["HS6 Code"].str.fullmatch(r"\d{6}").all()
    assert table["Seller ID"].isna().sum() == 3715


def test_every_packaged_row_prepares() -> None:
    items, _ = load_kcs("valid")
    assert len(prepare_items(items)) == 8134


def test_unknown_split() -> None:
    with pytest.raises(NotFound):
        kcs_table("test")  # type: ignore[arg-type]
