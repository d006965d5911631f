"""Showing numbers, dates and stored messages in the reader's language (Babel).

Registered in each language's Jinja environment (:mod:`smartcustoms.web.ui.render`):

* ``{{ x|num }}``, ``{{ x|num(1) }}`` a number (a stored ``Decimal`` keeps its digits),
  ``{{ share|pct }}``, ``{{ mass|kg }}``: as the locale writes them ("7 773 kg" in French, with
  the narrow no-break space CLDR gives);
* ``{{ when|datetime }}``, ``{{ when|date }}``: a ``datetime`` or ISO string shown in the
  instance's time zone (``SMARTCUSTOMS_TIME_ZONE``) or the one given, to the second (no
  microseconds); ``{{ when|datetime(office=code) }}`` in that office's own time zone (the
  instance's when the office has none registered);
* ``{{ code|office }}`` an office's name from its UN/LOCODE: the registered office's
  (:mod:`smartcustoms.reference.offices`), else the packaged UN/LOCODE point's, else the code.
  The offices are read once per request, whatever the number of rows on the page;
* ``{{ decision.final_lane|lane }}`` a lane's name ("Rouge");
* ``{{ reason|message }}``: a stored message (code + params) rendered through the catalogue;
  a row written before (``{"text": {"en": ..., "fr": ...}}``) as it was written.

:data:`CATALOGUE` gathers every code the product emits; the API renders the same codes in
English with :func:`english_text`.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from smartcustoms.core.messages import Catalogue, catalogue_translations
from smartcustoms.reference.offices import list_offices
from smartcustoms.reference.unlocode import location
from smartcustoms.risk.lanes import LANE_NAMES
from smartcustoms.risk.messages import MESSAGES as RISK_MESSAGES
from smartcustoms.scans.messages import MESSAGES as SCAN_MESSAGES
from smartcustoms.web.auth import context

__all__ = [
    "CATALOGUE",
    "OfficeDirectory",
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


@dataclass(frozen=True)
class OfficeDirectory:
    """This administration's registered offices, as one page shows them."""

    names: Mapping[str, str] = field(default_factory=dict)
    time_zones: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def key(code: str) -> str:
        return code.replace(" ", "").upper()

    def name(self, code: str | None) -> str:
        if not code:
            return ""
        key = self.key(code)
        packaged = location(key)
        return self.names.get(key) or (packaged.name if packaged else code)

    def time_zone(self, code: str | None) -> str | None:
        return self.time_zones.get(self.key(code)) if code else None


def _directory(page: jinja2.runtime.Context) -> OfficeDirectory:
    """The offices, read once per request (kept on ``request.state``); a page rendered outside
    a request (an exported report) gets the packaged UN/LOCODE names only."""
    request = page.get("request")
    if request is None:
        return OfficeDirectory()
    cached = getattr(request.state, "office_directory", None)
    if isinstance(cached, OfficeDirectory):
        return cached
    with context(request).db.read_session() as session:
        rows = list_offices(session)
        directory = OfficeDirectory(
            names={r.code: r.name for r in rows}, time_zones={r.code: r.time_zone for r in rows}
        )
    request.state.office_directory = directory
    return directory


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

    def zone_of(page: jinja2.runtime.Context, time_zone: str | None, office: str | None) -> Any:
        if time_zone is None and office:
            time_zone = _directory(page).time_zone(office)
        return time_zone or page.get("time_zone")

    @jinja2.pass_context
    def when(
        page: jinja2.runtime.Context,
        value: Any,
        time_zone: str | None = None,
        office: str | None = None,
    ) -> str:
        return format_when(value, language, zone_of(page, time_zone, office))

    @jinja2.pass_context
    def day(
        page: jinja2.runtime.Context,
        value: Any,
        time_zone: str | None = None,
        office: str | None = None,
    ) -> str:
        return format_when(value, language, zone_of(page, time_zone, office), date_only=True)

    @jinja2.pass_context
    def office(page: jinja2.runtime.Context, code: Any) -> str:
        return _directory(page).name(str(code) if code else None)

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
        "office": office,
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
