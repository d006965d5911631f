"""Languages of the web interface: English (the source strings), French and Arabic.

Catalogues are gettext ``.po`` files under ``smartcustoms/locale``; they are compiled in memory
at start-up, so the repository holds only the text that translators edit. Refresh them with
``scripts/i18n.sh`` (Babel extract + update). A new language is a catalogue and a line in
:data:`LANGUAGES` (and in :data:`RTL_LANGUAGES` if it is written right to left): no code change.

Numbers follow the reader's locale through Babel, with Latin digits in every language: Babel's
default numbering system (``latn``) is also CLDR's default for ``ar``, and it is what the
administrations of North Africa write; Arabic-Indic digits would be ``numbering_system=
"arab"``, a choice to make in one place if an administration asks for it.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request

__all__ = ["LANGUAGES", "RTL_LANGUAGES", "choose_language", "direction", "translations"]

#: Code → name of the language in that language (shown in the switch).
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "ar": "العربية"}
#: Languages written right to left: their pages are ``dir="rtl"`` and the layout mirrors (the
#: stylesheets use logical properties: ``margin-inline-start``, not ``margin-left``).
RTL_LANGUAGES: frozenset[str] = frozenset({"ar"})


def direction(language: str) -> str:
    """``rtl`` or ``ltr``, the value of ``<html dir>`` for ``language``."""
    return "rtl" if language in RTL_LANGUAGES else "ltr"


@cache
def translations(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    po = resources.files("smartcustoms") / "locale" / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def choose_language(request: Request, user_language: str | None, default: str) -> str:
    """The cookie set by the switch, then the user's preference, then the browser's."""
    from smartcustoms.web.auth import LANGUAGE_COOKIE

    for candidate in (request.cookies.get(LANGUAGE_COOKIE), user_language):
        if candidate in LANGUAGES:
            return candidate
    header = request.headers.get("accept-language", "")
    ranked = []
    for part in header.split(",")[:20]:
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        ranked.append((weight, tag.split("-")[0].lower()))
    for _, lang in sorted(ranked, key=lambda t: -t[0]):
        if lang in LANGUAGES:
            return lang
    return default
