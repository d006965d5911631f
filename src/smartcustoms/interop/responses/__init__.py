"""Answers to declarations in the formats customs systems read, built from one
:class:`~smartcustoms.interop.responses.answer.LaneAnswer` (the lane, the reasons, the control
instructions):

=========  ====================  ==============================================================
format     media type            module
=========  ====================  ==============================================================
cusres     application/edifact   :mod:`.cusres`: UN/EDIFACT CUSRES D.96B
wcoxml     application/xml       :mod:`.wco_xml`: WCO Data Model 3.6 ``Response``
=========  ====================  ==============================================================

``GET /api/declarations/{id}/response?format=`` and ``smartcustoms declarations response``
serve them (:func:`render`). Layering: web/cli → interop → declarations, risk.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from smartcustoms.interop.responses import cusres, wco_xml
from smartcustoms.interop.responses.answer import LaneAnswer, Statement, answer_for

__all__ = ["RESPONSE_FORMATS", "LaneAnswer", "Statement", "answer_for", "render"]

#: format → (media type, writer)
RESPONSE_FORMATS: dict[str, tuple[str, Callable[[LaneAnswer], bytes]]] = {
    "cusres": (cusres.MEDIA_TYPE, lambda answer: cusres.write_cusres(answer)),
    "wcoxml": (wco_xml.MEDIA_TYPE, lambda answer: wco_xml.write_wco_response(answer)),
}


def render(session: Session, declaration_id: int, fmt: str) -> tuple[str, bytes]:
    """``(media type, bytes)`` of the answer to a declaration in format ``fmt``."""
    media_type, write = RESPONSE_FORMATS[fmt]
    return media_type, write(answer_for(session, declaration_id))
