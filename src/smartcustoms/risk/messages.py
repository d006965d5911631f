"""The sentences lane reasons are written in: one English template per message code.

A reason is stored as a code and its parameters (:class:`~smartcustoms.risk.explain.Reason`,
the selectivity's own reasons); the page, report or API answer that shows it renders it in its
reader's language through the gettext catalogues (:mod:`smartcustoms.core.messages`). The
English template is the message id, marked with :func:`N_` so that ``scripts/i18n.sh`` extracts
it; translations keep the placeholders, which carry their format: ``{rate:pct}`` (a share shown
as a percentage), ``{n:int}``, ``{value:num}``.

History reasons read "<subject>: <what the history says>": the subject (which group of past
declarations) and the tail are two templates, so 23 groups and 3 tails are 26 sentences to
translate, not 69.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from smartcustoms.core.i18n import N_
from smartcustoms.core.messages import Catalogue, Template, catalogue_translations

__all__ = ["CATALOGUE", "LANGUAGES", "MESSAGES", "VERBATIM", "Language", "render_message"]

Language = Literal["en", "fr"]
LANGUAGES: tuple[Language, ...] = ("en", "fr")

# Subject of each history group's sentence (a message of its own: "history.subject.<group>").
_SUBJECTS: dict[str, str] = {
    "importer": N_("Importer {importer_id}"),
    "declarant": N_("Declarant {declarant_id}"),
    "seller": N_("Seller {seller_id}"),
    "courier": N_("Courier {courier_id}"),
    "office": N_("Office {office}"),
    "hs6": N_("HS {hs6}"),
    "hs4": N_("HS heading {hs4}"),
    "hs2": N_("HS chapter {hs2}"),
    "origin": N_("Goods from {origin}"),
    "departure": N_("Shipments from {departure}"),
    "tax_type": N_("Tariff treatment {tax_type}"),
    "hs6_origin": N_("HS {hs6} from {origin}"),
    "hs4_origin": N_("HS heading {hs4} from {origin}"),
    "hs2_origin": N_("HS chapter {hs2} from {origin}"),
    "hs6_departure": N_("HS {hs6} shipped from {departure}"),
    "hs6_tax_type": N_("HS {hs6} under tariff treatment {tax_type}"),
    "hs6_office": N_("HS {hs6} at office {office}"),
    "hs6_origin_indicator": N_("HS {hs6} from {origin} with origin indicator {origin_indicator}"),
    "hs6_route": N_("HS {hs6} from {origin} shipped via {departure}"),
    "hs6_preference": N_("HS {hs6} from {origin} under tariff treatment {tax_type}"),
    "hs6_route_preference": N_(
        "HS {hs6} from {origin} via {departure} under tariff treatment {tax_type}"
    ),
    "importer_hs6": N_("Importer {importer_id} with HS {hs6}"),
    "declarant_hs6": N_("Declarant {declarant_id} with HS {hs6}"),
    "seller_hs6": N_("Seller {seller_id} with HS {hs6}"),
    "importer_origin": N_("Importer {importer_id} with goods from {origin}"),
    "declarant_importer": N_("Declarant {declarant_id} for importer {importer_id}"),
}

_HISTORY_TAILS: dict[str, str] = {
    "": N_("{subject}: {rate:pct} of {n:int} past inspections found an irregularity"),
    ".uninspected": N_("{subject}: {seen:int} past declarations, none inspected"),
    ".new": N_("{subject}: first declaration on record"),
}

_OTHER: dict[str, str] = {
    "unit_value.low": N_(
        "Unit value {value:num} per kg is {ratio:pct} of the HS {hs6} median "
        "({median:num} per kg over {n:int} earlier declarations)"
    ),
    "unit_value.high": N_(
        "Unit value {value:num} per kg is {ratio:num} times the HS {hs6} median "
        "({median:num} per kg over {n:int} earlier declarations)"
    ),
    "unit_value.few_peers": N_(
        "Unit value {value:num} per kg: only {n:int} earlier HS {hs6} declarations to compare with"
    ),
    "unit_value.unknown": N_(
        "Net mass or value is zero or missing, so the unit value cannot be checked"
    ),
    "tax.revenue": N_(
        "Duty rate {rate:num}% on a value of {price:num}: {revenue:num} of duty at stake"
    ),
    "quantity.declared": N_("Declared net mass {mass:kg} for a value of {price:num}"),
    # The selectivity's own reasons (risk.selectivity).
    "score": N_("Risk score {probability:pct} is at or above today's threshold {threshold:pct}"),
    "exploration": N_(
        "Selected because the model is unsure (score {probability:pct}, threshold {threshold:pct})"
    ),
    "random_control": N_("Selected at random for control"),
    "no_model": N_("No risk model is active: only rules and random control apply"),
}

#: Codes whose text is someone's own words, shown as written in every language: a targeting
#: rule's reason is the analyst's (partners' answers carry it verbatim too).
VERBATIM: dict[str, str] = {"rule.fired": "{reason}"}


def _templates() -> dict[str, Template]:
    out: dict[str, Template] = {}
    for group, subject in _SUBJECTS.items():
        out[f"history.subject.{group}"] = Template(subject)
        for suffix, tail in _HISTORY_TAILS.items():
            out[f"history.{group}{suffix}"] = Template(
                tail, nested={"subject": f"history.subject.{group}"}
            )
    out.update({code: Template(text) for code, text in (_OTHER | VERBATIM).items()})
    return out


MESSAGES: dict[str, Template] = _templates()
"""Every reason's template by message code."""

CATALOGUE = Catalogue(MESSAGES)


def render_message(code: str, params: Mapping[str, Any], lang: str = "en") -> str:
    """The sentence for message ``code`` in ``lang``, from the packaged catalogue (pages
    render through the web layer's catalogues, the same files)."""
    return CATALOGUE.render(code, params, lang, catalogue_translations(lang))
