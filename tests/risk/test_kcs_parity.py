"""The two routes from KCS columns to the risk engine's item table agree: the offline one
(:func:`~smartcustoms.risk.schema.from_kcs` on the published table, as evaluation and the
benchmarks read it) and the one a lodged declaration takes (:func:`kcs_row` → validated and
stored → :func:`~smartcustoms.risk.items.items_frame` on the stored document)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment
import pytest
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.items import items_frame
from smartcustoms.risk.offline.datasets import kcs_table
from smartcustoms.risk.schema import ITEM_FIELDS, from_kcs, prepare_items
from tests.risk.history import load_history

SAMPLE = 400  # rows, spread evenly over the whole training file


def both_routes(ctx: AppContext, tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The prepared items of the same sampled KCS rows by each route, in the same order."""
    table = kcs_table("train")
    rows = [int(i) for i in np.linspace(0, len(table) - 1, SAMPLE)]
    offline = prepare_items(from_kcs(table.iloc[rows])).frame

    source = resources.files("smartcustoms.risk") / "data" / "kcs" / "train.csv"
    lines = source.read_text().splitlines()
    path = tmp_path / "sample.csv"
    path.write_text("\n".join([lines[0], *(lines[1 + i] for i in rows)]) + "\n")
    # A few synthetic rows fail the declaration checks (and are skipped, as intake does);
    # the items of the others must agree.
    assert load_history(ctx, path) >= SAMPLE * 0.98
    with ctx.db.session() as session:
        stored = session.execute(
            select(
                DeclarationRow.id,
                DeclarationRow.lrn,
                DeclarationRow.document,
                DeclarationRow.received_at,
            ).order_by(DeclarationRow.id)
        ).all()
    lodged = items_frame((r.id, r.document, r.received_at) for r in stored)
    # The engine names a stored declaration by its row id; KCS by its Declaration ID (the LRN).
    lodged["declaration_id"] = lodged["declaration_id"].map({str(r.id): r.lrn for r in stored})
    lodged = prepare_items(lodged).frame

    offline = offline[offline["declaration_id"].isin(lodged["declaration_id"])]
    assert len(offline) == len(lodged)
    assert list(lodged.columns) == list(offline.columns)
    key = ["declaration_id"]
    return (
        offline.sort_values(key).reset_index(drop=True),
        lodged.sort_values(key).reset_index(drop=True),
    )


def test_from_kcs_and_the_stored_declaration_give_the_same_items(
    ctx: AppContext, tmp_path: Path
) -> None:
    offline, lodged = both_routes(ctx, tmp_path)
    for field in ITEM_FIELDS:
        if field.name == "date":
            continue  # see the next test
        a, b = offline[field.name], lodged[field.name]
        if field.kind == "number":
            # The lodged route rounds KCS float noise (86125.20000000001) to cents and grams.
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-3, err_msg=field.name)
        else:
            pd.testing.assert_series_equal(b, a, check_names=False, obj=field.name)


@pytest.mark.xfail(
    strict=True,
    reason="known divergence: kcs_row lodges Date as 00:00+09:00 and risk.items._day takes its "
    "UTC calendar day, one day before the KCS Date that from_kcs keeps (schema.day_value counts "
    "a datetime on its own calendar day)",
)
def test_both_routes_date_an_item_on_the_same_day(ctx: AppContext, tmp_path: Path) -> None:
    offline, lodged = both_routes(ctx, tmp_path)
    pd.testing.assert_series_equal(lodged["date"], offline["date"], check_names=False)
