"""What a notification says, in the recipient's language (English or French).

Texts are written once, when the notification is queued, so every retry sends the same words.
The catalogue is the web interface's (``locale/fr``), compiled in memory once; this module
does not import ``web`` (domain packages never do).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from smartcustoms.core.i18n import N_

__all__ = ["LANGUAGES", "TRIGGER_LABELS", "compose", "translate"]

LANGUAGES = ("en", "fr", "ar")

#: What each trigger is called on pages and in the CLI.
TRIGGER_LABELS = {
    "alert_critical": N_("Critical alert not acknowledged"),
    "alert_escalated": N_("Alert escalated to a response team"),
    "rule_approval": N_("Targeting rule waiting for approval"),
    "scan_recheck": N_("Scan waiting for a re-check"),
    "test": N_("Test notification"),
}

_TITLES = {
    "alert_critical": N_("Critical alert {alert_type} on transit {reference}"),
    "alert_escalated": N_("Alert {alert_id} on transit {reference} escalated to {team}"),
    "rule_approval": N_("Targeting rule {target} waits for approval"),
    "scan_recheck": N_("Scan {scan_id} waits for a re-check"),
    "test": N_("Test notification from {administration}"),
}
_BODIES = {
    "alert_critical": N_(
        "Alert {alert_id} ({alert_type}, severity {severity}) on transit {reference}, device "
        "{device_id}, at {occurred_at}. Acknowledge it in the command centre."
    ),
    "alert_escalated": N_(
        "{actor} escalated alert {alert_id} on transit {reference} to the response team {team}."
    ),
    "rule_approval": N_(
        "{actor} proposed targeting rule {target}. A supervisor other than its author must "
        "approve or reject it."
    ),
    "scan_recheck": N_(
        "{actor} decided '{decision}' on scan {scan_id}. A supervisor must re-check it."
    ),
    "test": N_("If you read this, {channel} notifications reach you."),
}
_ESCALATION = N_("Still waiting after {minutes} min: {title}")


@cache
def _translations(language: str) -> gettext.NullTranslations:
    if language not in LANGUAGES or language == "en":
        return gettext.NullTranslations()
    po = resources.files("smartcustoms") / "locale" / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def translate(message: str, language: str) -> str:
    return _translations(language).gettext(message)


class _Missing(dict[str, Any]):
    """Formatting never fails on a record that lacks a field: the gap shows as '?'."""

    def __missing__(self, key: str) -> str:
        return "?"


def compose(
    trigger: str, params: Mapping[str, Any], language: str, *, after_minutes: int = 0
) -> tuple[str, str]:
    """The title and body of a ``trigger`` notification in ``language``; an escalation step
    (``after_minutes`` > 0) says how long the matter has waited."""
    values = _Missing(params)
    title = translate(_TITLES[trigger], language).format_map(values)
    body = translate(_BODIES[trigger], language).format_map(values)
    if after_minutes:
        title = translate(_ESCALATION, language).format_map(
            _Missing(minutes=after_minutes, title=title)
        )
    return title[:200], body
