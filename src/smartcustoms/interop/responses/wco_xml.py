"""The answer to a declaration as WCO Data Model XML: a ``Response`` in the structure of the
WCO DM 3.6 response message, valid against the packaged
``declarations/data/wco/smartcustoms_wco_res.xsd`` (this project's own schema, see the README
beside it). The lane is ``Status/NameCode``; each reason an ``AdditionalInformation`` of type
``RSN`` with one ``StatementDescription`` per language; each control instruction one of type
``INS``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lxml import etree

from smartcustoms.interop.responses.answer import LaneAnswer

__all__ = ["MEDIA_TYPE", "NAMESPACE", "write_wco_response"]

NAMESPACE = "urn:smartcustoms:wco:datamodel:RES:3.6"
MEDIA_TYPE = "application/xml"


def _child(parent: Any, name: str, text: str | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}", attributes)
    if text is not None:
        element.text = text
    return element


def write_wco_response(answer: LaneAnswer, *, prepared: datetime | None = None) -> bytes:
    """The response document, UTF-8 with an XML declaration."""
    now = (prepared or datetime.now(UTC)).astimezone(UTC)
    root = etree.Element(f"{{{NAMESPACE}}}Response", nsmap={None: NAMESPACE})
    _child(root, "FunctionCode", "9")
    _child(root, "FunctionalReferenceID", f"SC{answer.declaration_id}")
    issued = _child(root, "IssueDateTime")
    _child(issued, "DateTimeString", f"{now:%Y%m%d%H%M%S}Z", formatCode="304")
    for reason in answer.reasons:
        info = _child(root, "AdditionalInformation")
        if reason.code:
            _child(info, "StatementCode", reason.code[:35])
        for language in sorted(reason.texts):
            _child(info, "StatementDescription", reason.texts[language], languageID=language)
        _child(info, "StatementTypeCode", "RSN")
    for instruction in answer.instructions:
        info = _child(root, "AdditionalInformation")
        _child(info, "StatementDescription", instruction)
        _child(info, "StatementTypeCode", "INS")
    declaration = _child(root, "Declaration")
    _child(declaration, "FunctionalReferenceID", answer.lrn)
    if answer.mrn:
        _child(declaration, "ID", answer.mrn)
    declarant = _child(declaration, "Declarant")
    _child(declarant, "ID", answer.declarant_id)
    status = _child(root, "Status")
    _child(status, "EffectiveDateTime", answer.decided_at.astimezone(UTC).isoformat())
    _child(status, "NameCode", answer.lane)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out
