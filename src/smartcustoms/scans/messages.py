"""What the analyses say about a scan, as message codes with English templates.

Checks and findings carry ``message`` (code + parameters, :mod:`smartcustoms.core.messages`)
beside their English ``summary``/``description`` (the DICOS ThreatCategoryDescription and what
API consumers read). The review station renders the message in the analyst's language; the
templates here are the gettext message ids, marked with :func:`N_` for ``scripts/i18n.sh``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartcustoms.core.i18n import N_
from smartcustoms.core.messages import Catalogue, catalogue_translations

__all__ = ["CATALOGUE", "MESSAGES", "WORDS", "english"]

MESSAGES: dict[str, str] = {
    "scans.frame.found": N_(
        "container frame found: tilt {tilt:signed2}°, sag {sag:mm}, confidence {confidence:dec2}"
    ),
    "scans.frame.unsure": N_(
        "container frame found: tilt {tilt:signed2}°, sag {sag:mm}, confidence "
        "{confidence:dec2}; unsure: {reasons}"
    ),
    "scans.frame.low_agreement": N_(
        "only {share:pct} of the container's length agrees with the fitted edges"
    ),
    "scans.frame.edges_disagree": N_("roof and floor disagree by {rows:int} rows over the length"),
    "scans.frame.height": N_("roof to floor {seen:dec2} m where the type has {expected:dec2} m"),
    "scans.frame.tilted": N_("tilted {tilt:signed1}°, beyond the {limit:int}° the analyses allow"),
    "scans.mass.alone": N_("imaged load {imaged:kg}; no declared mass to compare"),
    "scans.mass.alone_lower_bound": N_(
        "imaged load {imaged:kg} (a lower bound: dense regions hide mass); "
        "no declared mass to compare"
    ),
    "scans.mass.compared": N_(
        "imaged load {imaged:kg} against {declared:kg} declared (goods' gross mass): "
        "{difference:signed_kg}, {z:signed1}σ"
    ),
    "scans.mass.compared_lower_bound": N_(
        "imaged load {imaged:kg} (a lower bound: dense regions hide mass) against "
        "{declared:kg} declared (goods' gross mass): {difference:signed_kg}, {z:signed1}σ"
    ),
    "scans.mass.heavier": N_("load heavier than declared: {detail}"),
    "scans.mass.lighter": N_("load lighter than declared: {detail}"),
    "scans.empty.pass": N_("no object above {threshold:kg} in {inspected:pct} of the load space"),
    "scans.empty.objects": N_("{n:int} object(s) found, the heaviest ≈{heaviest:kg1}"),
    "scans.empty.object_declared_empty": N_(
        "object of ≈{mass:kg1} ({material:t}) in a container declared empty"
    ),
    "scans.empty.object_light_load": N_(
        "object of ≈{mass:kg1} ({material:t}) in a container with under 300 kg of load"
    ),
    "scans.concealment.fail": N_("{n:int} region(s) inconsistent with the declared goods"),
    "scans.concealment.pass": N_("no region inconsistent with the declared goods"),
    "scans.concealment.not_applicable": N_("regions not compared: {reason:t}"),
    "scans.concealment.mixed_goods": N_(
        "regions not compared: {goods:t}: mixed goods, no single material to compare against"
    ),
    "scans.concealment.too_dense": N_(
        "regions not compared: {goods:t}: {share:pct} of the load is too dense to see through"
    ),
    "scans.concealment.metal": N_("metal block among {goods:t}"),
    "scans.concealment.organic": N_(
        "organic material among {goods:t} (lower Z_eff than the load around it)"
    ),
    "scans.concealment.composition": N_("material unlike the surrounding {goods:t} (higher Z_eff)"),
    "scans.concealment.denser": N_("denser block among {goods:t}"),
    "scans.concealment.lighter": N_("lighter block among {goods:t}"),
    "scans.concealment.learned": N_("packed unlike the surrounding {goods:t} (learned model)"),
}

#: Words that fill ``{…:t}`` placeholders, for extraction into the catalogue.
WORDS = (
    N_("the goods"),
    N_("material unknown"),
    # Why the concealment analysis did not compare regions (scans.analyses.concealment).
    N_("single-energy scan: materials cannot be told apart"),
    N_("too little load to compare regions"),
)

CATALOGUE = Catalogue(MESSAGES)


def english(code: str, **params: Any) -> tuple[str, dict[str, Any]]:
    """The English text (what the report's text fields hold) and the message (what is shown,
    in the reader's language)."""
    stored: Mapping[str, Any] = {"code": code, "params": params}
    text = CATALOGUE.render(code, params, "en", catalogue_translations("en"))
    return text, dict(stored)
