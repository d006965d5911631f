"""Every check and finding the scan analyses can word reads in English and French."""

from __future__ import annotations

import pytest

from smartcustoms.core.messages import catalogue_translations, placeholders
from smartcustoms.scans.analyses.goods import goods_profile
from smartcustoms.scans.messages import CATALOGUE, MESSAGES, WORDS, english

SAMPLE = {
    "tilt": 1.234, "sag": 12.0, "confidence": 0.8, "share": 0.55, "rows": 6.2, "seen": 2.1,
    "expected": 2.39, "limit": 2.0,
    "reasons": [{"code": "scans.frame.tilted", "params": {"tilt": 2.6, "limit": 2.0}},
                {"code": "scans.frame.edges_disagree", "params": {"rows": 6}}],
    "imaged": 7773.2, "declared": 4813.0, "difference": 2960.2, "z": 5.31, "threshold": 50.0,
    "inspected": 0.93, "n": 3, "heaviest": 41.26, "mass": 41.26, "material": "organic",
    "reason": "too little load to compare regions", "goods": "textiles and clothing",
    "detail": {"code": "scans.mass.compared",
               "params": {"imaged": 7773.2, "declared": 4813.0, "difference": 2960.2, "z": 5.31}},
}  # fmt: skip


def _fr(code: str, params: dict[str, object]) -> str:
    return CATALOGUE.render(code, params, "fr", catalogue_translations("fr"))


def _en(code: str, params: dict[str, object]) -> str:
    return CATALOGUE.render(code, params, "en", catalogue_translations("en"))


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_reads_in_both_languages_with_all_its_parameters(code: str) -> None:
    template = MESSAGES[code]
    french = catalogue_translations("fr").gettext(template)
    assert french != template, f"{code} has no French"
    assert placeholders(french) == placeholders(template)
    en, fr = _en(code, SAMPLE), _fr(code, SAMPLE)
    assert "{" not in en + fr and en != fr
    for name, spec in placeholders(template).items():
        value = SAMPLE[name]
        if isinstance(value, dict | list):
            changed = dict(SAMPLE, **{name: {"code": "scans.mass.alone", "params": {"imaged": 1}}})
        elif isinstance(value, str):
            # Words (":t") must stay in the catalogue to translate: pick another one.
            changed = dict(SAMPLE, **{name: "metal" if spec == "t" else value + "X"})
        else:
            changed = dict(SAMPLE, **{name: value * 7 + 3})
        assert _en(code, changed) != en and _fr(code, changed) != fr, (code, name)


def test_words_that_fill_placeholders_are_translated() -> None:
    fr = catalogue_translations("fr")
    for word in WORDS:
        assert fr.gettext(word) != word
    for chapter in ("0101", "2501", "2801", "3901", "4101", "4401", "4701", "5001", "6401",
                    "6801", "7201", "8401", "8601", "9001", "9301", "9401", "9701"):  # fmt: skip
        description = goods_profile(chapter).description
        assert fr.gettext(description) != description, description


def test_the_issue_example_in_french() -> None:
    text, said = english("scans.mass.heavier", detail=SAMPLE["detail"])
    assert text == (
        "load heavier than declared: imaged load 7,773 kg against 4,813 kg declared "
        "(goods' gross mass): +2,960 kg, +5.3σ"
    )
    assert _fr(said["code"], said["params"]) == (
        "chargement plus lourd que déclaré\u00a0: chargement imagé de 7\u202f773\u202fkg pour "
        "4\u202f813\u202fkg déclarés (masse brute des marchandises)\u00a0: +2\u202f960\u202fkg, "
        "+5,3σ"
    )
    text, said = english("scans.concealment.fail", n=1)
    assert _fr(said["code"], said["params"]) == (
        "1 zone(s) incompatible(s) avec les marchandises déclarées"
    )
    _, said = english("scans.frame.unsure", tilt=2.61, sag=12, confidence=0.4,
                      reasons=SAMPLE["reasons"])  # fmt: skip
    assert _fr(said["code"], said["params"]).endswith(
        "incertain\u00a0: incliné de +2,6°, au-delà des 2° que les analyses admettent; "
        "le toit et le plancher divergent de 6 lignes sur la longueur"
    )
    _, said = english("scans.concealment.metal", goods="textiles and clothing")
    assert _fr(said["code"], said["params"]) == "bloc métallique parmi textiles et vêtements"
