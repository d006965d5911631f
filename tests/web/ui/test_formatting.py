"""The pages' number, date and message filters, in English and French (Babel)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import jinja2
import pytest

from smartcustoms.core.messages import catalogue_translations
from smartcustoms.web.ui.formatting import CATALOGUE, english_text, filters, with_texts

NNBSP, NBSP = "\u202f", "\u00a0"


def render(language: str, source: str, **values: object) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters.update(filters(language, catalogue_translations(language)))
    return env.from_string(source).render(**values)


@pytest.mark.parametrize(
    ("source", "value", "en", "fr"),
    [
        ("{{ x|num }}", 7773, "7,773", f"7{NNBSP}773"),
        ("{{ x|num }}", Decimal("20979.000000"), "20,979", f"20{NNBSP}979"),
        ("{{ x|num }}", Decimal("12.500000"), "12.5", "12,5"),
        ("{{ x|num(2) }}", 0.5, "0.50", "0,50"),
        ("{{ x|pct }}", 0.78, "78%", f"78{NBSP}%"),
        ("{{ x|pct(1) }}", 0.1234, "12.3%", f"12,3{NBSP}%"),
        ("{{ x|kg }}", 7773.4, "7,773 kg", f"7{NNBSP}773{NNBSP}kg"),
        ("{{ x|lane }}", "red", "Red", "Rouge"),
        ("{{ x|num }}", None, "", ""),
    ],
)
def test_numbers_and_lanes(source: str, value: object, en: str, fr: str) -> None:
    assert render("en", source, x=value) == en
    assert render("fr", source, x=value) == fr


def test_times_in_the_zone_to_the_second() -> None:
    moment = datetime(2026, 11, 20, 5, 30, 7, 123456, tzinfo=UTC)
    assert (
        render("en", "{{ t|datetime }}", t=moment, time_zone="UTC")
        == f"Nov 20, 2026, 5:30:07{NNBSP}AM"
    )
    # The page's zone (the instance's), or an office's given to the filter.
    assert render("fr", "{{ t|datetime }}", t=moment, time_zone="Africa/Nairobi") == (
        "20 nov. 2026, 08:30:07"
    )
    assert render("fr", "{{ t|datetime('Africa/Kigali') }}", t=moment, time_zone="UTC") == (
        "20 nov. 2026, 07:30:07"
    )
    # ISO text as the API and JSON columns hold it; naive means UTC (the database's).
    assert render("en", "{{ t|datetime }}", t="2026-11-20T05:30:07.5", time_zone="UTC") == (
        f"Nov 20, 2026, 5:30:07{NNBSP}AM"
    )
    assert render("fr", "{{ t|date }}", t=moment, time_zone="UTC") == "20 nov. 2026"
    assert render("en", "{{ t|datetime }}", t="not a time", time_zone="UTC") == "not a time"


def test_stored_messages_new_and_old() -> None:
    new = {"code": "random_control", "params": {}}
    assert render("fr", "{{ m|message }}", m=new) == "Sélectionnée au hasard pour contrôle"
    old = {"kind": "rule", "rule": "r@1", "text": {"en": "Timber <b>", "fr": "Bois <b>"}}
    assert render("fr", "{{ m|message }}", m=old) == "Bois &lt;b&gt;"  # escaped like any text
    assert render("en", "{{ m|message }}", m="a summary written before") == (
        "a summary written before"
    )
    # A code from a newer version: its name, not an error page.
    assert render("fr", "{{ m|message }}", m={"code": "x.future", "params": {}}) == "x.future"
    assert "scans.mass.heavier" in CATALOGUE and "history.hs6_origin" in CATALOGUE


def test_the_api_form_keeps_code_params_and_gives_text() -> None:
    stored = {"kind": "score", "code": "score", "params": {"probability": 0.31, "threshold": 0.2}}
    out = with_texts(stored)
    assert out["code"] == "score" and out["params"] == stored["params"]
    assert out["text"]["en"] == "Risk score 31% is at or above today's threshold 20%"
    assert out["text"]["fr"] == (
        f"Score de risque 31{NBSP}% supérieur ou égal au seuil du jour 20{NBSP}%"
    )
    assert english_text(stored) == out["text"]["en"]
    assert "text" not in stored  # the stored row is left as it is
