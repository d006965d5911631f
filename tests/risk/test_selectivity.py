"""Lane decisions: rules, model threshold, random control and exploration."""

from __future__ import annotations

import numpy as np

from smartcustoms.risk.lanes import Lane, most_severe
from smartcustoms.risk.messages import render_message
from smartcustoms.risk.selectivity import Policy, decide, draw

POLICY = Policy(inspection_share=0.05, random_share=0.0, exploration_share=0.0)


def test_lane_order() -> None:
    assert most_severe([Lane.GREEN, Lane.YELLOW, Lane.SCAN]) == Lane.SCAN
    assert most_severe([Lane.BLUE, Lane.RED]) == Lane.RED
    assert most_severe([]) == Lane.GREEN


def test_draws_are_reproducible_uniform_and_secret() -> None:
    values = [draw("k", i, "random") for i in range(20_000)]
    assert values == [draw("k", i, "random") for i in range(20_000)]
    assert 0.48 < float(np.mean(values)) < 0.52
    assert draw("other key", 7, "random") != draw("k", 7, "random")
    assert draw("k", 7, "exploration") != draw("k", 7, "random")


def test_no_model_no_rules_is_green_with_a_reason() -> None:
    (decision,) = decide(
        [1], [1], policy=POLICY, secret="s", rules=[], rule_hits={}, probabilities=None,
        explanations=None, active=None, cut=None, lower_cut=None,
    )  # fmt: skip
    assert decision.lane == Lane.GREEN
    assert decision.reasons[0]["code"] == "no_model"


def test_random_control_share() -> None:
    policy = Policy(0.05, random_share=0.02, exploration_share=0.0)
    ids = list(range(1, 20_001))
    decisions = decide(
        ids, ids, policy=policy, secret="s", rules=[], rule_hits={}, probabilities=None,
        explanations=None, active=None, cut=None, lower_cut=None,
    )  # fmt: skip
    chosen = [d for d in decisions if d.random_control]
    assert 0.015 < len(chosen) / len(ids) < 0.025
    assert all(d.lane == Lane.RED for d in chosen)
    reason = chosen[0].reasons[-1]
    assert reason == {"kind": "random_control", "code": "random_control", "params": {}}
    assert render_message(reason["code"], reason["params"], "fr") == (
        "Sélectionnée au hasard pour contrôle"
    )
