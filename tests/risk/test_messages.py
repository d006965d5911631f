"""Every reason the risk engine can give reads in English and French, from the catalogues."""

from __future__ import annotations

import re

import pytest

from smartcustoms.core.errors import NotFound
from smartcustoms.core.messages import catalogue_translations, placeholders
from smartcustoms.risk.messages import CATALOGUE, LANGUAGES, MESSAGES, VERBATIM, render_message

SAMPLE = {
    "importer_id": "QLRUBN9", "declarant_id": "ZZR1LT6", "seller_id": "0VKY2BR", "courier_id": "C1",
    "office": "30", "hs6": "850440", "hs4": "8504", "hs2": "85", "origin": "CN", "departure": "HK",
    "tax_type": "A", "origin_indicator": "Y", "rate": 0.78, "n": 212, "seen": 3, "value": 12.5,
    "ratio": 0.25, "median": 50.0, "price": 12345.6, "revenue": 987.65, "mass": 1500.0,
    "probability": 0.31, "threshold": 0.27, "rule": "wood@1", "reason": "Timber from CN",
}  # fmt: skip


def _translation(code: str) -> str:
    template = MESSAGES[code]
    return catalogue_translations("fr").gettext(template.text)


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_renders_in_every_language_with_every_parameter(code: str) -> None:
    template = MESSAGES[code]
    french = _translation(code)
    assert french != template.text or code in VERBATIM, f"{code} has no French"
    # The translation keeps every placeholder with its format: no parameter is dropped.
    assert placeholders(french) == placeholders(template.text)
    for lang in LANGUAGES:
        text = render_message(code, SAMPLE, lang)
        assert "{" not in text and text.strip() == text
    for name in placeholders(template.text):
        if name in template.nested:
            continue
        # Changing any parameter changes the sentence: each one is used.
        changed = dict(SAMPLE, **{name: _other(SAMPLE[name])})
        for lang in LANGUAGES:
            assert render_message(code, changed, lang) != render_message(code, SAMPLE, lang)


def test_a_rules_reason_reads_as_the_analyst_wrote_it() -> None:
    params = {"rule": "wood@1", "reason": "Bois tropical : sous-évaluation"}
    for lang in ("en", "fr", "ar"):
        assert render_message("rule.fired", params, lang) == "Bois tropical : sous-évaluation"


def _other(value: object) -> object:
    if isinstance(value, str):
        return value + "X"
    assert isinstance(value, int | float)
    return value * 7 + 3


def test_the_issue_example_reads_as_written() -> None:
    params = {"hs6": "850440", "origin": "CN", "rate": 0.78, "n": 212}
    assert render_message("history.hs6_origin", params) == (
        "HS 850440 from CN: 78% of 212 past inspections found an irregularity"
    )
    # Babel's French: no-break space before the colon and the percent sign.
    assert render_message("history.hs6_origin", params, "fr") == (
        "SH 850440 originaire de CN\u00a0: 78\u00a0% des 212 contrôles passés "
        "ont relevé une irrégularité"
    )


def test_numbers_follow_the_language() -> None:
    params = {"value": 1234567.891, "ratio": 0.055, "hs6": "850440", "median": 0.012345, "n": 12000}
    assert render_message("unit_value.low", params, "en") == (
        "Unit value 1,234,568 per kg is 6% of the HS 850440 median "
        "(0.012 per kg over 12,000 earlier declarations)"
    )
    assert render_message("unit_value.low", params, "fr") == (
        "Valeur unitaire de 1\u202f234\u202f568 par kg, soit 6\u00a0% de la médiane du SH 850440 "
        "(0,012 par kg sur 12\u202f000 déclarations antérieures)"
    )
    assert render_message("quantity.declared", {"mass": 7773.4, "price": 3.5}, "fr") == (
        "Masse nette déclarée de 7\u202f773\u202fkg pour une valeur de 3,5"
    )
    assert "?" in render_message("quantity.declared", {"mass": float("nan"), "price": 1})


def test_unknown_code() -> None:
    with pytest.raises(NotFound):
        render_message("history.nothing", {})


def test_a_language_without_a_catalogue_reads_english() -> None:
    # A language not packaged yet falls back to the English template, with its own numbers.
    text = render_message("history.hs6", {"hs6": "850440", "rate": 0.5, "n": 1200}, "de")
    assert text == "HS 850440: 50\u00a0% of 1.200 past inspections found an irregularity"


def test_french_colons_have_a_no_break_space() -> None:
    for code in MESSAGES:
        prose = re.sub(r"\{[^}]*\}", "X", _translation(code))  # placeholders carry ":pct" etc.
        assert not re.search(r"[^\u00a0]:", prose), code


def test_a_reason_stored_before_messages_still_renders() -> None:
    # Rows lodged before reasons were code + params: text by language, perhaps a code this
    # version no longer has. They are shown as written, never rewritten.
    old = {
        "kind": "history.retired",
        "code": "history.retired",
        "params": {"hs6": "850440"},
        "weight": 0.4,
        "text": {"en": "HS 850440: an old sentence", "fr": "SH 850440 : une ancienne phrase"},
    }
    fr = catalogue_translations("fr")
    assert CATALOGUE.render_stored(old, "fr", fr) == "SH 850440 : une ancienne phrase"
    assert CATALOGUE.render_stored(old, "ar", fr) == "HS 850440: an old sentence"
    rule = {"kind": "rule", "rule": "r@1", "text": {"en": "Timber", "fr": "Timber"}}
    assert CATALOGUE.render_stored(rule, "fr", fr) == "Timber"
    # An old row whose code is still known is worded afresh (so new languages get it too).
    known = {"code": "random_control", "params": {}, "text": {"en": "x", "fr": "x"}}
    assert CATALOGUE.render_stored(known, "fr", fr) == "Sélectionnée au hasard pour contrôle"
