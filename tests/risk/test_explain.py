from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from smartcustoms.risk import RiskModel
from smartcustoms.risk.explain import FAMILIES, family_contributions
from smartcustoms.risk.features.matrix import FEATURE_NAMES
from smartcustoms.risk.messages import render_message
from tests.risk.conftest import item, items_frame


@pytest.fixture(scope="module")
def top_items(fitted: RiskModel, kcs_test: tuple[pd.DataFrame, np.ndarray]) -> pd.DataFrame:
    items, _ = kcs_test
    order = np.argsort(-fitted.decision_function(items), kind="stable")
    return items.iloc[order[:20]]


def test_top_reasons_are_positive_sorted_and_bounded(
    fitted: RiskModel, top_items: pd.DataFrame
) -> None:
    explanations = fitted.explain(top_items, top=3)
    assert len(explanations) == len(top_items)
    for e in explanations:
        weights = [r.weight for r in e.reasons]
        assert 1 <= len(weights) <= 3
        assert all(w > 0 for w in weights) and weights == sorted(weights, reverse=True)
        assert 0.0 <= e.probability <= 1.0


def test_explanations_agree_with_the_scores(fitted: RiskModel, top_items: pd.DataFrame) -> None:
    explanations = fitted.explain(top_items)
    assert np.allclose([e.probability for e in explanations], fitted.predict_proba(top_items)[:, 1])
    assert np.allclose([e.score for e in explanations], fitted.decision_function(top_items))


def test_scoring_and_explaining_chosen_rows_at_once_matches_doing_both(
    fitted: RiskModel, top_items: pd.DataFrame
) -> None:
    chosen = [3, 0, 17]
    probabilities, explained = fitted.score_and_explain(top_items, lambda p: chosen, top=3)
    assert np.allclose(probabilities, fitted.predict_proba(top_items)[:, 1])
    assert list(explained) == chosen
    alone = fitted.explain(top_items.iloc[chosen], top=3)
    for row, expected in zip(chosen, alone, strict=True):
        assert explained[row].to_dict() == expected.to_dict()


def test_history_reasons_quote_the_history_counts(
    fitted: RiskModel, top_items: pd.DataFrame
) -> None:
    checked = 0
    for e in fitted.explain(top_items, top=5):
        for r in e.reasons:
            if r.code.startswith("history.") and r.code.count(".") == 1:
                group = r.code.split(".")[1]
                keys = {
                    k: str(v) for k, v in r.params.items() if k not in ("n", "rate", "irregular")
                }
                counts = fitted.history_.counts(group, keys)
                assert r.params["n"] == counts.inspected[0]
                assert r.params["rate"] == pytest.approx(counts.irregular[0] / counts.inspected[0])
                checked += 1
    assert checked > 10


def test_reasons_read_in_both_languages_and_serialise(
    fitted: RiskModel, top_items: pd.DataFrame
) -> None:
    reason = fitted.explain(top_items.iloc[:1])[0].reasons[0]
    en, fr = reason.render("en"), reason.render("fr")
    assert en != fr and "{" not in en + fr
    payload = json.loads(json.dumps(fitted.explain(top_items.iloc[:3])[0].to_dict()))
    stored = payload["reasons"][0]
    # Stored as code + params only: the words are chosen when shown, from the catalogue.
    assert "text" not in stored and stored["code"] == reason.code
    assert render_message(stored["code"], stored["params"], "fr") == fr


def test_a_pair_with_a_bad_record_is_named_in_plain_words(fitted: RiskModel) -> None:
    model = copy.deepcopy(fitted)
    past = items_frame(
        *(item(hs6="850440", origin="KP", importer_id=f"I{i}", tax_type="Q") for i in range(9))
    )
    model.observe(past)
    model.record(past, [1, 1, 1, 1, 1, 1, 1, 0, 1])
    new = items_frame(item(hs6="850440", origin="KP", importer_id="NEW", tax_type="Q"))
    top = model.explain(new, top=3)[0].reasons[0]
    assert top.render("en").startswith("HS 850440 from KP")
    assert top.render("en").endswith(": 89% of 9 past inspections found an irregularity")
    assert top.render("fr").startswith("SH 850440 originaire de KP")
    assert top.render("fr").endswith(
        "\u00a0: 89\u00a0% des 9 contrôles passés ont relevé une irrégularité"
    )


def test_the_same_evidence_is_not_repeated(fitted: RiskModel) -> None:
    model = copy.deepcopy(fitted)
    past = items_frame(
        *(item(hs6="850440", origin="KP", importer_id=f"I{i}", tax_type="Q") for i in range(9))
    )
    model.observe(past)
    model.record(past, [1, 1, 1, 1, 1, 1, 1, 0, 1])
    new = items_frame(item(hs6="850440", origin="KP", importer_id="NEW", tax_type="Q"))
    reasons = model.explain(new, top=10)[0].reasons
    kp = [r for r in reasons if r.params.get("origin") == "KP" and r.params.get("hs6") == "850440"]
    # hs6 x origin, its route and its preference all rest on the same 9 inspections: one reason.
    assert len(kp) == 1


def test_missing_values_never_make_a_reason() -> None:
    n = len(FEATURE_NAMES)
    contributions = np.zeros((1, n + 1))
    contributions[0, FEATURE_NAMES.index("courier_rate")] = 5.0  # courier is missing below
    contributions[0, FEATURE_NAMES.index("hs6_rate")] = 1.0
    from smartcustoms.risk.explain import explain_rows
    from smartcustoms.risk.features.history import HistoryState
    from smartcustoms.risk.schema import prepare_items

    items = prepare_items(items_frame(item(courier_id=None)))
    stats = HistoryState().stats(items)
    (reasons,) = explain_rows(items, stats, contributions, top=3)
    assert [r.code for r in reasons] == ["history.hs6.new"]


def test_family_sums_keep_the_total() -> None:
    rng = np.random.default_rng(0)
    contributions = rng.normal(size=(4, len(FEATURE_NAMES) + 1))
    by_family = family_contributions(contributions)
    assert by_family.shape == (4, len(FAMILIES))
    assert np.allclose(by_family.sum(axis=1), contributions[:, :-1].sum(axis=1))


@pytest.mark.parametrize("rows", [2, 7, 64, 513])
def test_a_rows_family_sums_do_not_depend_on_the_batch_beside_it(rows: int) -> None:
    # A matrix product's BLAS kernel (and order of additions) depends on the matrix's shape:
    # the same declaration explained alone or among others must get the very same weights.
    rng = np.random.default_rng(rows)
    contributions = rng.normal(scale=rng.uniform(1e-3, 10.0), size=(rows, len(FEATURE_NAMES) + 1))
    together = family_contributions(contributions)
    for row in range(rows):
        alone = family_contributions(contributions[row : row + 1])
        assert np.array_equal(alone[0], together[row])
    assert together.shape == (rows, len(FAMILIES))
    # and they are the sums of each family's features
    assert np.allclose(together.sum(axis=1), contributions[:, : len(FEATURE_NAMES)].sum(axis=1))
