from __future__ import annotations

import re
import string

import pytest

from smartcustoms.core.errors import NotFound
from smartcustoms.risk.messages import LANGUAGES, MESSAGES, render_message, render_template

SAMPLE = {
    "importer_id": "QLRUBN9", "declarant_id": "ZZR1LT6", "seller_id": "0VKY2BR", "courier_id": "C1",
    "office": "30", "hs6": "850440", "hs4": "8504", "hs2": "85", "origin": "CN", "departure": "HK",
    "tax_type": "A", "origin_indicator": "Y", "rate": 0.78, "n": 212, "seen": 3, "value": 12.5,
    "ratio": 0.25, "median": 50.0, "price": 12345.6, "revenue": 987.65, "mass": 1500.0,
}  # fmt: skip


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_renders_in_every_language_with_the_same_placeholders(code: str) -> None:
    names = {
        lang: {f for _, f, _, _ in string.Formatter().parse(MESSAGES[code][lang]) if f}
        for lang in LANGUAGES
    }
    assert names["en"] == names["fr"]
    for lang in LANGUAGES:
        text = render_message(code, SAMPLE, lang)
        assert "{" not in text and text.strip() == text


def test_the_issue_example_reads_as_written() -> None:
    params = {"hs6": "850440", "origin": "CN", "rate": 0.78, "n": 212}
    assert render_message("history.hs6_origin", params) == (
        "HS 850440 from CN: 78% of 212 past inspections found an irregularity"
    )
    assert render_message("history.hs6_origin", params, "fr") == (
        "SH 850440 originaire de CN\u00a0: 78\u202f% des 212 contrôles passés "
        "ont relevé une irrégularité"
    )


def test_numbers_follow_the_language() -> None:
    template = "{a:num} {b:num} {c:int} {d:pct} {e:num}"
    params = {"a": 1234567.891, "b": 3.14159, "c": 12000, "d": 0.055, "e": 0.012345}
    assert render_template(template, params, "en") == "1,234,568 3.14 12,000 6% 0.0123"
    assert (
        render_template(template, params, "fr")
        == "1\u202f234\u202f568 3,14 12\u202f000 6\u202f% 0,0123"
    )
    assert render_template("{x:num}", {"x": float("nan")}) == "?"


def test_unknown_code_or_language() -> None:
    with pytest.raises(NotFound):
        render_message("history.nothing", {})
    with pytest.raises(NotFound):
        render_message("history.hs6", SAMPLE, "de")  # type: ignore[arg-type]


def test_french_colons_have_a_no_break_space() -> None:
    for templates in MESSAGES.values():
        prose = re.sub(r"\{[^}]*\}", "X", templates["fr"])  # placeholders carry ":pct" etc.
        assert not re.search(r"[^\u00a0]:", prose)
