"""Messages stored as a code and parameters, put into words only when someone reads them.

A reason, a scan finding or a check is recorded as ``{"code": ..., "params": {...}}``: the
machine form, stable across releases and languages. Each code has an English template, marked
with :func:`~smartcustoms.core.i18n.N_` next to the code that emits it, which is also the
gettext message id; a translation is a catalogue entry with the same placeholders, so a new
language is a ``.po`` file, not a code change and not a data migration.

Placeholders name a parameter and how to show it, in the reader's locale through Babel:

* ``{n}`` the value as it is (codes, references);
* ``{x:t}`` a word translated through the catalogue ("organic");
* ``{n:int}``, ``{x:num}``, ``{x:dec1}``, ``{x:dec2}``: whole, a sensible number of decimals,
  one or two decimals; ``{x:signed0}``, ``{x:signed1}``, ``{x:signed2}`` with their sign;
* ``{x:pct}`` a share (0.78) shown as a percentage;
* ``{x:kg}``, ``{x:kg1}``, ``{x:signed_kg}``, ``{x:mm}``: with the unit, as the locale writes it.

A parameter that is itself a message (a dict with a ``code``), or a list of messages (joined
with "; "), is rendered first, in the same language. Rows written before messages existed hold
``{"text": {"en": ..., "fr": ...}}``; they are shown as they were written (in the reader's
language when they have it, else English) unless their code is still known.
"""

from __future__ import annotations

import gettext
import io
import math
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from babel.units import format_unit

from smartcustoms.core.errors import NotFound

__all__ = [
    "FORMATS",
    "Catalogue",
    "Template",
    "catalogue_translations",
    "message",
    "placeholders",
    "render_stored",
]


def message(code: str, **params: Any) -> dict[str, Any]:
    """The machine form of a message: what is stored, recorded and returned by the API."""
    return {"code": code, "params": params}


@dataclass(frozen=True)
class Template:
    """A code's English template (the gettext id), with its context where one English word
    has two meanings, and placeholders filled by other messages built from the same params."""

    text: str
    context: str | None = None
    nested: Mapping[str, str] = field(default_factory=dict)


def _number_pattern(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        return "#,##0"
    if magnitude >= 1:
        return "#,##0.##"
    return "#,##0.###"


def _plain(pattern: str) -> Callable[[float, str], str]:
    return lambda v, loc: format_decimal(v, format=pattern, locale=loc)


def _kg(pattern: str) -> Callable[[float, str], str]:
    return lambda v, loc: format_unit(
        v, "mass-kilogram", length="short", format=pattern, locale=loc
    )


#: Formats a placeholder may name, each a function of (number, Babel locale).
FORMATS: dict[str, Callable[[float, str], str]] = {
    "int": lambda v, loc: format_decimal(round(v), format="#,##0", locale=loc),
    "num": lambda v, loc: format_decimal(v, format=_number_pattern(v), locale=loc),
    "dec1": _plain("#,##0.0"),
    "dec2": _plain("#,##0.00"),
    "signed0": _plain("+#,##0;-#,##0"),
    "signed1": _plain("+#,##0.0;-#,##0.0"),
    "signed2": _plain("+#,##0.00;-#,##0.00"),
    "pct": lambda v, loc: format_percent(v, locale=loc),
    "kg": _kg("#,##0"),
    "kg1": _kg("#,##0.0"),
    "signed_kg": _kg("+#,##0;-#,##0"),
    "mm": lambda v, loc: format_unit(
        v, "length-millimeter", length="short", format="#,##0", locale=loc
    ),
}


def placeholders(template: str) -> dict[str, str]:
    """The placeholders of ``template``: name → format ('' when shown as it is)."""
    return {name: spec or "" for _, name, spec, _ in string.Formatter().parse(template) if name}


def _babel_locale(language: str) -> str:
    return language.replace("-", "_")


class _Formatter(string.Formatter):
    def __init__(self, locale: str, gettext_: Callable[[str], str], nest: Callable[[Any], str]):
        self.locale = locale
        self.gettext = gettext_
        self.nest = nest

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Mapping) and "code" in value:
            return self.nest(value)
        if isinstance(value, list | tuple) and all(
            isinstance(v, Mapping) and "code" in v for v in value
        ):
            return "; ".join(self.nest(v) for v in value)  # several messages, one sentence each
        if format_spec == "t":
            return self.gettext(str(value)) if value else ""
        if format_spec in FORMATS:
            if value is None or isinstance(value, bool):
                return "?"
            number = float(value)
            if not math.isfinite(number):
                return "?"
            return FORMATS[format_spec](number, self.locale)
        if format_spec:
            raise ValueError(f"unknown message format {format_spec!r}")
        return "" if value is None else str(value)


class Catalogue:
    """Every code some part of the product can emit, with its template.

    Built from the per-package catalogues (``risk.messages``, ``scans.messages`` …); rendering
    takes the reader's translations (``gettext``/``pgettext`` of a gettext catalogue).
    """

    def __init__(self, *sources: Mapping[str, Template | str]) -> None:
        self.templates: dict[str, Template] = {}
        for source in sources:
            for code, template in source.items():
                if code in self.templates:
                    raise ValueError(f"message code {code!r} defined twice")
                self.templates[code] = (
                    template if isinstance(template, Template) else Template(template)
                )

    def __contains__(self, code: object) -> bool:
        return code in self.templates

    def codes(self) -> Iterable[str]:
        return self.templates.keys()

    def template(self, code: str) -> Template:
        try:
            return self.templates[code]
        except KeyError:
            raise NotFound(
                f"no message {code!r}",
                details=[{"field": "code", "reason": "unknown message code"}],
            ) from None

    def render(
        self,
        code: str,
        params: Mapping[str, Any],
        language: str,
        translations: gettext.NullTranslations,
    ) -> str:
        """The sentence for ``code`` with ``params`` in ``language`` (Babel locale code)."""
        template = self.template(code)
        if template.context:
            text = translations.pgettext(template.context, template.text)
        else:
            text = translations.gettext(template.text)
        values: dict[str, Any] = dict(params)
        for name, nested in template.nested.items():
            values[name] = self.render(nested, params, language, translations)

        def nest(value: Any) -> str:
            return self.render(
                str(value["code"]), value.get("params") or {}, language, translations
            )

        formatter = _Formatter(_babel_locale(language), translations.gettext, nest)
        try:
            return formatter.vformat(text, (), values)
        except (KeyError, ValueError, IndexError):
            if text == template.text:
                raise
            # A translation with a wrong placeholder must not hide the message: show English.
            return formatter.vformat(template.text, (), values)

    def render_stored(
        self, stored: Any, language: str, translations: gettext.NullTranslations
    ) -> str:
        """A stored message in ``language``: the new form (code + params) through the
        catalogue, the old form (``text`` by language) as it was written."""
        return render_stored(
            stored, language, lambda c, p: self.render(c, p, language, translations)
        )


def render_stored(
    stored: Any, language: str, render: Callable[[str, Mapping[str, Any]], str]
) -> str:
    """Words for ``stored``: a message (code + params, given to ``render``), a row written
    before messages (``{"text": {"en": ..., "fr": ...}}``, perhaps with a code), or a string.

    An old row whose code is still in the catalogue with all its parameters is rendered afresh
    (so it reads in every language, new ones included); otherwise its stored text is shown, in
    the reader's language when it has it, else in English.
    """
    if isinstance(stored, str):
        return stored
    if not isinstance(stored, Mapping):
        return "" if stored is None else str(stored)
    code, params, texts = stored.get("code"), stored.get("params"), stored.get("text")
    if isinstance(code, str) and isinstance(params, Mapping):
        try:
            return render(code, params)
        except (NotFound, KeyError, ValueError, TypeError, IndexError):
            if texts is None:
                return code  # a code this version does not know: its name beats an error page
    if isinstance(texts, Mapping) and texts:
        chosen = texts.get(language) or texts.get("en") or next(iter(texts.values()))
        return str(chosen)
    if isinstance(texts, str):
        return texts
    return str(code or stored.get("kind") or "")


@cache
def catalogue_translations(language: str) -> gettext.NullTranslations:
    """The packaged gettext catalogue of ``language`` (English: the templates themselves).

    For rendering outside a page (the API's English text, interop answers, the CLI); pages use
    the web layer's catalogues, which are the same files.
    """
    if language == "en":
        return gettext.NullTranslations()
    po = resources.files("smartcustoms") / "locale" / language / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)
