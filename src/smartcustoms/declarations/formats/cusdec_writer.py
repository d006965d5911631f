"""Our declarations out as UN/EDIFACT CUSDEC (D.96B), in the profile :mod:`.cusdec` reads.

For a customs management system or a partner that takes CUSDEC, and for the round trip that
keeps reader and writer honest (ours → CUSDEC → ours gives the same declaration). Times are
written in UTC (DTM format 204); amounts and masses exactly as stored (decimals, a full stop).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from smartcustoms.declarations.formats.cusdec import (
    CONTAINER,
    CONTAINERISED,
    CUSTOMS_VALUE,
    DATE,
    GROSS,
    HEADER_LOCATIONS,
    INVOICE_TOTAL,
    MRN,
    NATIONAL_AGENCY,
    NET,
    ORIGIN,
    PARTIES,
    STATISTICAL_VALUE,
    SUPPLEMENTARY,
    TAX_ASSESSED,
    TAX_BASE,
    TRANSPORT_STAGE,
    TYPE_CODES,
    VALUATION,
)
from smartcustoms.declarations.formats.edifact import Element, pieces, write_interchange
from smartcustoms.declarations.model import Amount, Declaration, Item, Party

__all__ = ["MESSAGE_TYPE", "cusdec_segments", "write_cusdec"]

MESSAGE_TYPE = "CUSDEC:D:96B:UN"
_DOCUMENT_CODES = {code: name for name, code in TYPE_CODES.items()}
Segments = list[tuple[str, list[Element]]]


def _number(value: Decimal) -> str:
    """Plain notation (never 1E+3), as EDIFACT numbers are written."""
    return format(value, "f")


def _party(qualifier: str, party: Party) -> tuple[str, list[Element]]:
    address = party.address
    return (
        "NAD",
        [
            qualifier,
            [party.id],
            "",
            pieces(party.name) if party.name else "",
            pieces(address.line, 35) if address and address.line else "",
            (address.city or "") if address else "",
            "",
            (address.postcode or "") if address else "",
            (address.country or "") if address else "",
        ],
    )


def _amount(qualifier: str, amount: Amount) -> tuple[str, list[Element]]:
    return ("MOA", [[qualifier, _number(amount.value), amount.currency]])


def _header(d: Declaration) -> Segments:
    code = _DOCUMENT_CODES.get(d.type_code, "")
    out: Segments = [("BGM", [[code, "", "", d.type_code], d.lrn, d.function_code])]
    if d.issue_datetime is not None:
        when = d.issue_datetime.astimezone(UTC)
        out.append(("DTM", [[DATE, f"{when:%Y%m%d%H%M%S}", "204"]]))
    if d.mrn:
        out.append(("RFF", [[MRN, d.mrn]]))
    for document in d.previous_documents:
        line = str(document.line) if document.line is not None else ""
        out.append(("RFF", [[document.type, document.id, line]]))
    for qualifier, name in HEADER_LOCATIONS.items():
        value = getattr(d, name)
        if value:
            out.append(("LOC", [qualifier, [value]]))
    for qualifier, name in PARTIES.items():
        party = getattr(d, name)
        if party is not None:
            out.append(_party(qualifier, party))
    for key, value in d.national_fields.items():
        out.append(("GIS", [[value, key, NATIONAL_AGENCY]]))
    if d.containerised is not None:
        out.append(("GIS", [["1" if d.containerised else "0", CONTAINERISED]]))
    if d.incoterm:
        out.append(("TOD", ["", "", [d.incoterm]]))
    out.append(("TDT", [TRANSPORT_STAGE, d.border_transport_id or "", [d.border_transport_mode]]))
    for equipment in d.transport_equipment:
        out.append(("EQD", [CONTAINER, [equipment.container_id]]))
        out += [("SEL", [seal]) for seal in equipment.seals]
    if d.exchange_rate is not None:
        rate = d.exchange_rate
        out.append(("CUX", [["2", rate.currency], "", _number(rate.rate)]))
    if d.invoice_total is not None:
        out.append(_amount(INVOICE_TOTAL, d.invoice_total))
    if d.total_gross_mass_kg is not None:
        out.append(("MEA", ["WT", [GROSS], ["KGM", _number(d.total_gross_mass_kg)]]))
    if d.total_packages is not None:
        out.append(("PAC", [str(d.total_packages)]))
    return out


def _item(item: Item) -> Segments:
    code = item.national_tariff_code or item.hs_code
    cst: list[Element] = [str(item.sequence), [code]]
    if item.procedure is not None:
        cst.append([item.procedure.current])
        if item.procedure.previous:
            cst.append([item.procedure.previous])
    out: Segments = [("CST", cst)]
    if item.description:
        out.append(("FTX", ["AAA", "", "", pieces(item.description)]))
    origin: list[Element] = [ORIGIN, [item.origin_country]]
    if item.origin_type:
        origin.append([item.origin_type])
    out.append(("LOC", origin))
    if item.gross_mass_kg is not None:
        out.append(("MEA", ["WT", [GROSS], ["KGM", _number(item.gross_mass_kg)]]))
    out.append(("MEA", ["WT", [NET], ["KGM", _number(item.net_mass_kg)]]))
    if item.supplementary_quantity is not None:
        unit = item.supplementary_unit or ""
        out.append(("MEA", ["AAE", [SUPPLEMENTARY], [unit, _number(item.supplementary_quantity)]]))
    out.append(_amount(CUSTOMS_VALUE, item.customs_value))
    if item.statistical_value is not None:
        out.append(_amount(STATISTICAL_VALUE, item.statistical_value))
    if item.valuation_method:
        out.append(("GIS", [[item.valuation_method, VALUATION]]))
    for package in item.packages:
        out.append(("PAC", [str(package.count), "", [package.kind or ""]]))
        if package.marks:
            out.append(("PCI", ["", pieces(package.marks, 35)]))
    for document in item.documents:
        out.append(("DOC", [[document.type], [document.id]]))
    for duty in item.duties:
        rate = _number(duty.rate) if duty.rate is not None else ""
        out.append(("TAX", ["7", [duty.type], "", "", ["", "", "", rate], duty.regime or ""]))
        if duty.base_amount is not None:
            out.append(("MOA", [[TAX_BASE, _number(duty.base_amount)]]))
        if duty.assessed_amount is not None:
            out.append(("MOA", [[TAX_ASSESSED, _number(duty.assessed_amount)]]))
    return out


def cusdec_segments(declaration: Declaration) -> Segments:
    """The segments of one CUSDEC message (between UNH and UNT)."""
    out = _header(declaration)
    out.append(("UNS", ["D"]))
    for item in declaration.items:
        out += _item(item)
    out.append(("UNS", ["S"]))
    out.append(("CNT", [["5", str(len(declaration.items))]]))  # 5: number of line items
    return out


def write_cusdec(
    declarations: Sequence[Declaration],
    *,
    sender: Element,
    recipient: Element,
    reference: str,
    prepared: datetime | None = None,
) -> bytes:
    """An interchange with one CUSDEC message per declaration (references 1, 2 …); sender and
    recipient are UNB's S002/S003 (an ID, or ``[id, code qualifier]``)."""
    messages = [
        (str(i), MESSAGE_TYPE, cusdec_segments(d)) for i, d in enumerate(declarations, start=1)
    ]
    return write_interchange(
        messages,
        sender=sender,
        recipient=recipient,
        reference=reference,
        prepared=prepared or datetime.now(UTC),
    )
