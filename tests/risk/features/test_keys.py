from __future__ import annotations

import numpy as np

from smartcustoms.risk.features.groups import GROUPS, KEY_BITS
from smartcustoms.risk.features.keys import Vocabulary, group_keys


def test_codes_are_stable_and_unknown_is_minus_one() -> None:
    vocab = Vocabulary("origin", ["CN", "VN"])
    assert vocab.codes(np.array(["VN", "XX"], dtype=object)).tolist() == [1, -1]
    assert vocab.extend(np.array(["XX", "CN"], dtype=object)).tolist() == [2, 0]
    assert vocab.values == ["CN", "VN", "XX"]


def test_group_keys_are_distinct_per_combination_and_unknown_propagates() -> None:
    group = next(g for g in GROUPS if g.name == "hs6_route_preference")
    rng = np.random.default_rng(0)
    codes = {f: rng.integers(0, 50, 1000) for f in group.fields}
    codes["tax_type"][0] = -1
    keys = group_keys(codes, group)
    assert keys[0] == -1
    combos = {tuple(int(codes[f][i]) for f in group.fields) for i in range(1, 1000)}
    assert len(set(keys[1:].tolist())) == len(combos)
    assert (keys[1:] >= 0).all()


def test_every_group_fits_in_63_bits() -> None:
    assert all(sum(KEY_BITS[f] for f in g.fields) <= 63 for g in GROUPS)
