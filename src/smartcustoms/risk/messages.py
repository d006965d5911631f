"""The sentences reasons are written in, in English and French, and how numbers are shown.

A reason travels as a message id and parameters (:class:`~smartcustoms.risk.explain.Reason`);
only the page or report that shows it picks the language. The English template is the gettext
message id, so the web layer can extract :data:`MESSAGES` into its catalogue and translate into
more languages with the same placeholders. Placeholders carry a format: ``{rate:pct}`` (a share
shown as a percentage), ``{n:int}``, ``{value:num}``.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from typing import Any, Literal

from smartcustoms.core.errors import NotFound

__all__ = ["LANGUAGES", "MESSAGES", "Language", "render_message", "render_template"]

Language = Literal["en", "fr"]
LANGUAGES: tuple[Language, ...] = ("en", "fr")

_NNBSP = "\u202f"  # narrow no-break space: French thousands separator and before "%"

# Subject of each history group's sentence: (English, French).
_SUBJECTS: dict[str, tuple[str, str]] = {
    "importer": ("Importer {importer_id}", "Importateur {importer_id}"),
    "declarant": ("Declarant {declarant_id}", "Déclarant {declarant_id}"),
    "seller": ("Seller {seller_id}", "Vendeur {seller_id}"),
    "courier": ("Courier {courier_id}", "Messagerie express {courier_id}"),
    "office": ("Office {office}", "Bureau {office}"),
    "hs6": ("HS {hs6}", "SH {hs6}"),
    "hs4": ("HS heading {hs4}", "Position SH {hs4}"),
    "hs2": ("HS chapter {hs2}", "Chapitre SH {hs2}"),
    "origin": ("Goods from {origin}", "Marchandises originaires de {origin}"),
    "departure": ("Shipments from {departure}", "Expéditions depuis {departure}"),
    "tax_type": ("Tariff treatment {tax_type}", "Régime tarifaire {tax_type}"),
    "hs6_origin": ("HS {hs6} from {origin}", "SH {hs6} originaire de {origin}"),
    "hs4_origin": ("HS heading {hs4} from {origin}", "Position SH {hs4} originaire de {origin}"),
    "hs2_origin": ("HS chapter {hs2} from {origin}", "Chapitre SH {hs2} originaire de {origin}"),
    "hs6_departure": ("HS {hs6} shipped from {departure}", "SH {hs6} expédié depuis {departure}"),
    "hs6_tax_type": (
        "HS {hs6} under tariff treatment {tax_type}",
        "SH {hs6} sous régime tarifaire {tax_type}",
    ),
    "hs6_office": ("HS {hs6} at office {office}", "SH {hs6} au bureau {office}"),
    "hs6_origin_indicator": (
        "HS {hs6} from {origin} with origin indicator {origin_indicator}",
        "SH {hs6} originaire de {origin} avec l'indicateur d'origine {origin_indicator}",
    ),
    "hs6_route": (
        "HS {hs6} from {origin} shipped via {departure}",
        "SH {hs6} originaire de {origin} expédié depuis {departure}",
    ),
    "hs6_preference": (
        "HS {hs6} from {origin} under tariff treatment {tax_type}",
        "SH {hs6} originaire de {origin} sous régime tarifaire {tax_type}",
    ),
    "hs6_route_preference": (
        "HS {hs6} from {origin} via {departure} under tariff treatment {tax_type}",
        "SH {hs6} originaire de {origin}, expédié depuis {departure}, "
        "sous régime tarifaire {tax_type}",
    ),
    "importer_hs6": (
        "Importer {importer_id} with HS {hs6}",
        "Importateur {importer_id} pour le SH {hs6}",
    ),
    "declarant_hs6": (
        "Declarant {declarant_id} with HS {hs6}",
        "Déclarant {declarant_id} pour le SH {hs6}",
    ),
    "seller_hs6": ("Seller {seller_id} with HS {hs6}", "Vendeur {seller_id} pour le SH {hs6}"),
    "importer_origin": (
        "Importer {importer_id} with goods from {origin}",
        "Importateur {importer_id} pour des marchandises originaires de {origin}",
    ),
    "declarant_importer": (
        "Declarant {declarant_id} for importer {importer_id}",
        "Déclarant {declarant_id} pour l'importateur {importer_id}",
    ),
}

_HISTORY_TAILS: dict[str, tuple[str, str]] = {
    "": (
        ": {rate:pct} of {n:int} past inspections found an irregularity",
        " : {rate:pct} des {n:int} contrôles passés ont relevé une irrégularité",
    ),
    ".uninspected": (
        ": {seen:int} past declarations, none inspected",
        " : {seen:int} déclarations passées, aucune contrôlée",
    ),
    ".new": (": first declaration on record", " : première déclaration enregistrée"),
}

_OTHER: dict[str, tuple[str, str]] = {
    "unit_value.low": (
        "Unit value {value:num} per kg is {ratio:pct} of the HS {hs6} median "
        "({median:num} per kg over {n:int} earlier declarations)",
        "Valeur unitaire de {value:num} par kg, soit {ratio:pct} de la médiane du SH {hs6} "
        "({median:num} par kg sur {n:int} déclarations antérieures)",
    ),
    "unit_value.high": (
        "Unit value {value:num} per kg is {ratio:num} times the HS {hs6} median "
        "({median:num} per kg over {n:int} earlier declarations)",
        "Valeur unitaire de {value:num} par kg, soit {ratio:num} fois la médiane du SH {hs6} "
        "({median:num} par kg sur {n:int} déclarations antérieures)",
    ),
    "unit_value.few_peers": (
        "Unit value {value:num} per kg: only {n:int} earlier HS {hs6} declarations to compare with",
        "Valeur unitaire de {value:num} par kg : seulement {n:int} déclarations antérieures "
        "du SH {hs6} pour comparer",
    ),
    "unit_value.unknown": (
        "Net mass or value is zero or missing, so the unit value cannot be checked",
        "Masse nette ou valeur nulle ou absente : la valeur unitaire ne peut pas être contrôlée",
    ),
    "tax.revenue": (
        "Duty rate {rate:num}% on a value of {price:num}: {revenue:num} of duty at stake",
        f"Taux de droit de {{rate:num}}{_NNBSP}% sur une valeur de {{price:num}} : "
        "{revenue:num} de droits en jeu",
    ),
    "quantity.declared": (
        "Declared net mass {mass:num} kg for a value of {price:num}",
        "Masse nette déclarée de {mass:num} kg pour une valeur de {price:num}",
    ),
}


def _catalogue() -> dict[str, dict[Language, str]]:
    out: dict[str, dict[Language, str]] = {}
    for group, (subject_en, subject_fr) in _SUBJECTS.items():
        for suffix, (tail_en, tail_fr) in _HISTORY_TAILS.items():
            out[f"history.{group}{suffix}"] = {
                "en": subject_en + tail_en,
                "fr": subject_fr + tail_fr,
            }
    for code, (en, fr) in _OTHER.items():
        out[code] = {"en": en, "fr": fr}
    for templates in out.values():
        # French sets a no-break space before a colon.
        templates["fr"] = templates["fr"].replace(" : ", "\u00a0: ")
    return out


MESSAGES: dict[str, dict[Language, str]] = _catalogue()
"""Every reason's template by message id and language."""


def _number(value: float, lang: Language) -> str:
    if not math.isfinite(value):
        return "?"
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        text = f"{value:,.0f}"
    elif magnitude >= 1:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:.3g}"
    if lang == "fr":
        text = text.replace(",", _NNBSP).replace(".", ",")
    return text


class _Formatter(string.Formatter):
    def __init__(self, lang: Language) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "pct":
            pct = _number(round(float(value) * 100), self.lang)
            return f"{pct}{_NNBSP}%" if self.lang == "fr" else f"{pct}%"
        if format_spec == "int":
            return _number(round(float(value)), self.lang)
        if format_spec == "num":
            return _number(float(value), self.lang)
        return str(super().format_field(value, format_spec))


def render_template(template: str, params: Mapping[str, Any], lang: Language = "en") -> str:
    """Fill ``template`` (one of ours or a translation of it) with ``params`` for ``lang``."""
    return _Formatter(lang).vformat(template, (), dict(params))


def render_message(code: str, params: Mapping[str, Any], lang: Language = "en") -> str:
    """The sentence for message ``code`` in ``lang``."""
    try:
        template = MESSAGES[code][lang]
    except KeyError:
        raise NotFound(
            f"no message {code!r} in language {lang!r}",
            details=[{"field": "code", "reason": "unknown message or language"}],
        ) from None
    return render_template(template, params, lang)
