"""Showing numbers, dates and stored messages in the reader's language (Babel).

Registered in each language's Jinja environment (:mod:`smartcustoms.web.ui.render`):

* ``{{ x|num }}``, ``{{ x|num(1) }}`` a number (a stored ``Decimal`` keeps its digits),
  ``{{ share|pct }}``, ``{{ mass|kg }}``: as the locale writes them ("7 773 kg" in French, with
  the narrow no-break space CLDR gives);
* ``{{ when|datetime }}``, ``{{ when|date }}``: a ``datetime`` or ISO string shown in the
  instance's time zone (``SMARTCUSTOMS_TIME_ZONE``) or the one given (an office's), to the
  second;
* ``{{ decision.final_lane|lane }}`` a lane's name ("Rouge");
* ``{{ reason|message }}``: a stored message (code + params) rendered through the catalogue;
  a row written before (``{"text": {"en": ..., "fr": ...}}``) as it was written.

:data:`CATALOGUE` gathers every code the product emits; the API renders the same codes in
English with :func:`english_text`.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from smartcustoms.core.messages import Catalogue, catalogue_translations
from smartcustoms.risk.lanes import LANE_NAMES
from smartcustoms.risk.messages import MESSAGES as RISK_MESSAGES
from smartcustoms.scans.messages import MESSAGES as SCAN_MESSAGES

__all__ = [
    "CATALOGUE",
    "english_text",
    "filters",
    "format_when",
    "with_texts",
]

CATALOGUE = Catalogue(RISK_MESSAGES, SCAN_MESSAGES)


def _locale(language: str) -> str:
    return language.replace("-", "_")


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _number(value: Any, language: str, digits: int | None = None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        # A stored decimal shows its significant digits (20979.000000 -> 20979), no padding.
        value = value.normalize()
        if digits is None:
            return format_decimal(value, locale=_locale(language), decimal_quantization=False)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if digits is None:
        return format_decimal(number, locale=_locale(language), decimal_quantization=False)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(number, format=pattern, locale=_locale(language))


def _when(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the database keeps UTC
    return moment.replace(microsecond=0)


def format_when(
    value: Any, language: str, zone: str | None = None, *, date_only: bool = False
) -> str:
    """``value`` (a datetime or ISO text) in ``zone`` as ``language`` writes it, to the second."""
    moment = _when(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    local = moment.astimezone(_zone(zone))
    if date_only:
        return format_date(local, format="medium", locale=_locale(language))
    return format_datetime(local, format="medium", locale=_locale(language))


def filters(language: str, translations: gettext.NullTranslations) -> dict[str, Callable[..., str]]:
    """The filters of one language's environment. Dates take the zone given, else the page's
    ``time_zone`` (the instance's, set by ``render``)."""

    def num(value: Any, digits: int | None = None) -> str:
        return _number(value, language, digits)

    def pct(value: Any, digits: int = 0) -> str:
        if value is None or value == "":
            return ""
        # The locale's own pattern (French spaces the sign), rounded to ``digits`` decimals.
        share = Decimal(str(round(float(value) * 100, digits))).scaleb(-2)
        return format_percent(share, locale=_locale(language), decimal_quantization=False)

    def kg(value: Any, digits: int = 0) -> str:
        if value is None or value == "":
            return ""
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_unit(
            float(value), "mass-kilogram", length="short", format=pattern, locale=_locale(language)
        )

    @jinja2.pass_context
    def when(page: jinja2.runtime.Context, value: Any, time_zone: str | None = None) -> str:
        return format_when(value, language, time_zone or page.get("time_zone"))

    @jinja2.pass_context
    def day(page: jinja2.runtime.Context, value: Any, time_zone: str | None = None) -> str:
        return format_when(value, language, time_zone or page.get("time_zone"), date_only=True)

    def message(stored: Any) -> str:
        return CATALOGUE.render_stored(stored, language, translations)

    def lane(value: Any) -> str:
        name = LANE_NAMES.get(str(value))  # type: ignore[call-overload]
        return translations.gettext(name) if name else str(value)

    return {
        "lane": lane,
        "num": num,
        "pct": pct,
        "kg": kg,
        "datetime": when,
        "date": day,
        "message": message,
    }


def english_text(stored: Any) -> str:
    """A stored message in English: what API answers carry beside the code and params."""
    return CATALOGUE.render_stored(stored, "en", catalogue_translations("en"))


def with_texts(stored: Any, languages: tuple[str, ...] = ("en", "fr")) -> Any:
    """A stored reason as the API returns it: its machine form (code + params) and, for the
    consumers that read it, ``text`` by language, rendered now from the catalogues (old rows
    keep the text they were written with)."""
    if not isinstance(stored, Mapping):
        return stored
    out = dict(stored)
    out["text"] = {
        lang: CATALOGUE.render_stored(stored, lang, catalogue_translations(lang))
        for lang in languages
    }
    return out
