"""What the administration pages share: a refused change told in the reader's language, naming
the field, so the page can mark that field and keep everything the administrator typed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.i18n import N_
from smartcustoms.ledger.tlog.errors import TlogError
from smartcustoms.web.i18n import translations
from smartcustoms.web.ui.render import language_of

__all__ = ["FormError", "form_error"]

# (error code, field) → the sentence shown; %(name)s placeholders come from the error's details.
_MESSAGES: Mapping[tuple[str, str], str] = {
    ("validation_failed", "code"): N_(
        "UN/LOCODE: not one of the packaged customs points (five characters, e.g. KEMBA)."
    ),
    ("validation_failed", "name"): N_("Name: 1 to 120 characters."),
    ("validation_failed", "time_zone"): N_("Time zone: an IANA time zone, e.g. Africa/Nairobi."),
    ("validation_failed", "examination_capacity"): N_(
        "Examinations a day: a whole number from 0 to 100000."
    ),
    ("validation_failed", "kind"): N_("Kind: e-seal, e-lock or tracker."),
    ("validation_failed", "protocol"): N_("Protocol: one the listeners speak, or none."),
    ("validation_failed", "device_id"): N_("Device ID: 1 to 32 characters."),
    ("validation_failed", "label"): N_("Label: at most 120 characters."),
    ("validation_failed", "transit_id"): N_("Transit: choose a transit that exists."),
    ("validation_failed", "reason"): N_("Reason: say why, in 1 to 500 characters."),
    ("validation_failed", "password"): N_("Password: at least %(min)s characters."),
    ("validation_failed", "declarant_ids"): N_(
        "Declarant IDs: 1 to 17 characters each, no blanks."
    ),
    ("conflict", "device_id"): N_(
        "This device already seals transit %(transit)s, which is not over."
    ),
    ("conflict", "device_id:retired"): N_("This device is retired."),
    ("conflict", "transit_id"): N_(
        "This transit is armed already: only a transit not armed yet takes another device."
    ),
    ("conflict", "username"): N_("A user with this username exists already."),
    ("validation_failed", "confirm"): N_("Tick the box to confirm the rotation."),
    ("last_administrator", "roles"): N_(
        "The last enabled administrator keeps the administrator role."
    ),
    ("last_administrator", "disabled"): N_("The last enabled administrator cannot be disabled."),
    ("self_demotion", "roles"): N_(
        "This would remove your own administrator role: another administrator must do it."
    ),
    ("self_demotion", "disabled"): N_(
        "This would disable your own account: another administrator must do it."
    ),
    ("not_found", "declarant_ids"): N_("The user is not bound to declarant %(value)s."),
}


@dataclass(frozen=True)
class FormError:
    field: str  # the form field to mark; "" when the refusal is about the whole form
    text: str  # in the reader's language
    code: str  # the error's stable code, for tests and scripts


def _field(details: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    for detail in details:
        field = detail.get("field")
        if isinstance(field, str):
            return field, detail
    return "", {}


def form_error(request: Request, error: SmartCustomsError | TlogError, **params: Any) -> FormError:
    """``error`` as the page shows it: a sentence in the reader's language naming the field.

    A field the pages know has its own sentence; any other refusal is shown with the field's
    path and the error's own message (the domain's words), so nothing is lost."""
    gettext = translations(language_of(request)).gettext
    field, detail = _field(list(error.details))
    base = field.split("[", 1)[0]
    key = f"{base}:{detail['problem']}" if detail.get("problem") == "retired" else base
    message = _MESSAGES.get((error.code, key)) or _MESSAGES.get((error.code, base))
    if message is not None:
        values = {k: v for k, v in detail.items() if isinstance(v, str | int)} | params
        try:
            text = gettext(message) % values if "%(" in message else gettext(message)
        except (KeyError, TypeError, ValueError):
            text = gettext(message)
        return FormError(field=base, text=text, code=error.code)
    where = field or "—"
    text = gettext("Refused (%(field)s): %(message)s") % {"field": where, "message": error.message}
    return FormError(field=base, text=text, code=error.code)
