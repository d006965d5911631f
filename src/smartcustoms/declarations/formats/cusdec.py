"""UN/EDIFACT CUSDEC (directory D.96B or later) in: one declaration per UNH … UNT message.

The interchange is read by :mod:`.edifact` (pydifact's tokenizer, segments with their line and
position); each message is mapped onto our model (WCO field names) by the table below — this
project's profile of CUSDEC, modelled on the national implementation guides published for
D.96B (codes an administration's own guide names differently are changed in the constants
here, and in :mod:`.cusdec_writer`, which writes the same profile):

=================================  =============================================================
segment (element)                  field
=================================  =============================================================
BGM C002/1001, C002/1000           ``type_code`` (929 IM, 830 EX; or the code in 1000)
BGM 1004, 1225                     ``lrn``, ``function_code``
DTM+137 (2379: 102, 203, 204,      ``issue_datetime`` (no zone given: UTC)
303, 304)
RFF+ABT                            ``mrn``
RFF+<type>:<id>:<line>             ``previous_documents`` (1153 is the document type, D019)
LOC+22 / 9 / 14 / 35 / 28          office of declaration, place of loading, goods location,
                                   export country, destination country
NAD+DT/AG/IM/EX/CZ/SE/BY           declarant, agent, importer, exporter, consignor, seller,
                                   buyer (C082 id, C080 name, C059 street, 3164 city, 3251
                                   postcode, 3207 country)
GIS+<value>:<name>:ZZZ             ``national_fields[name]``
GIS+<1|0>:096                      ``containerised`` (WCO ID 096)
TOD C100/4053                      ``incoterm``
TDT+20 8028, C220/8067             border transport means: ID, mode
EQD+CN C237/8260, then SEL 9308    containers and their seals
CUX C504/6345, 5402                exchange rate
MOA+39                             invoice total (5004 amount, 6345 currency)
MEA+WT+G+KGM, PAC 7224             total gross mass, total packages
UNS+D                              items follow
CST 1496, C246/7361 (×3)           item: number, HS code (6 digits, or a national tariff
                                   line whose first 6 digits are the HS code), procedure
                                   (current, previous)
FTX+AAA C108                       goods description
LOC+27 C517/3225, C519/3223        origin country, origin type
MEA+WT+G / AAF+KGM, MEA+AAE+SQ     gross, net mass; supplementary quantity and unit
MOA+40 / 123                       customs value, statistical value
GIS+<method>:122                   valuation method (WCO ID 122)
PAC 7224, C202/7065; PCI C210      packages: count, kind; marks
DOC C002/1001, C503/1004           additional documents
TAX+7 C241/5153, C243/5278, 5305   duty: type, rate, regime; MOA+125 base, MOA+161 assessed
UNS+S                              items end
=================================  =============================================================

Segments not in the table (CNT, AUT, CTA, COM …) are read and passed over. Every problem names
the segment, its position in the message, the element and the line; a message that does not
map or validate is rejected on its own and the rest of the interchange carries on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from smartcustoms.declarations.formats.adapter import Places, checked
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.formats.edifact import (
    EdifactMessage,
    Segment,
    read_bytes_messages,
    read_file_messages,
)

__all__ = [
    "HEADER_LOCATIONS",
    "PARTIES",
    "TYPE_CODES",
    "map_message",
    "parse_cusdec",
    "read_cusdec",
]

TYPE_CODES = {"929": "IM", "830": "EX"}  # BGM C002/1001 → Declaration/TypeCode
PARTIES = {
    "DT": "declarant",
    "AG": "agent",
    "IM": "importer",
    "EX": "exporter",
    "CZ": "consignor",
    "SE": "seller",
    "BY": "buyer",
}
HEADER_LOCATIONS = {
    "22": "office_of_declaration",
    "9": "place_of_loading",
    "14": "goods_location",
    "35": "export_country",
    "28": "destination_country",
}
ORIGIN = "27"
DATE = "137"
MRN = "ABT"
NATIONAL_AGENCY = "ZZZ"
CONTAINERISED = "096"
VALUATION = "122"
INVOICE_TOTAL = "39"
CUSTOMS_VALUE = "40"
STATISTICAL_VALUE = "123"
TAX_BASE = "125"
TAX_ASSESSED = "161"
GROSS, NET, SUPPLEMENTARY = "G", "AAF", "SQ"
KILOGRAMS = ("KGM", "KG")
TRANSPORT_STAGE = "20"
CONTAINER = "CN"


def _text(segment: Segment, element: int) -> str:
    """A composite's components joined (long texts are written in 70-character pieces)."""
    value = segment.elements[element - 1] if element <= len(segment.elements) else ""
    return value if isinstance(value, str) else "".join(value)


def _datetime(value: str, fmt: str) -> str:
    """An ISO 8601 time from a DTM value; the raw value when it does not fit (the model then
    says why)."""
    digits = value[:14]
    zone = "+00:00"
    if fmt in ("303", "304"):
        size = 12 if fmt == "303" else 14
        digits, rest = value[:size], value[size:]
        if rest and rest != "Z":
            sign, hours, minutes = rest[0], rest[1:3], rest[3:5] or "00"
            zone = f"{sign}{hours}:{minutes}"
    sizes = {"102": 8, "203": 12, "204": 14, "303": 12, "304": 14}
    if fmt not in sizes or len(digits) != sizes[fmt] or not digits.isdigit():
        return value
    digits = digits.ljust(14, "0")
    return (
        f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}T{digits[8:10]}:{digits[10:12]}:"
        f"{digits[12:14]}{zone}"
    )


class _Mapper:
    """Maps one message's segments onto the model's plain data, noting where each came from."""

    def __init__(self, message: EdifactMessage, decimal: str) -> None:
        self.message = message
        self.decimal = decimal
        self.data: dict[str, Any] = {"items": []}
        self.places = Places(message={"segment": "UNH", "position": 1, "line": message.line})
        self.problems: list[dict[str, Any]] = []
        self.item: dict[str, Any] | None = None
        self.item_path = ""
        self.in_items = False
        self.equipment: dict[str, Any] | None = None

    def at(self, path: str, segment: Segment, element: str = "") -> None:
        self.places.at(
            path,
            segment=segment.tag,
            position=segment.position,
            element=element,
            line=segment.line,
        )

    def problem(self, segment: Segment, element: str, why: str) -> None:
        self.problems.append(
            {
                "field": "",
                "segment": segment.tag,
                "position": segment.position,
                "element": element,
                "line": segment.line,
                "problem": f"{why} (segment {segment.tag} at position {segment.position}, "
                f"element {element}, line {segment.line})",
            }
        )

    def number(self, text: str) -> str:
        return text.replace(self.decimal, ".") if self.decimal != "." else text

    def run(self) -> None:
        for segment in self.message.segments:
            handler = getattr(self, f"_{segment.tag.lower()}", None)
            if handler is not None:
                handler(segment)

    # -- header ---------------------------------------------------------------------------------

    def _bgm(self, s: Segment) -> None:
        named, coded = s.get(1, 3), s.get(1, 0)
        type_code = named or TYPE_CODES.get(coded)
        if type_code is None:
            self.problem(
                s,
                "C002/1001",
                f"document name code {coded!r} is not one of "
                f"{', '.join(sorted(TYPE_CODES))} and C002/1000 gives no type",
            )
        else:
            self.data["type_code"] = type_code
            self.at("type_code", s, "C002")
        if s.get(2):
            self.data["lrn"] = s.get(2)
        self.at("lrn", s, "1004")
        if s.get(3):
            self.data["function_code"] = s.get(3)
            self.at("function_code", s, "1225")

    def _dtm(self, s: Segment) -> None:
        if s.get(1, 0) == DATE and not self.in_items:
            self.data["issue_datetime"] = _datetime(s.get(1, 1), s.get(1, 2) or "102")
            self.at("issue_datetime", s, "C507/2380")

    def _rff(self, s: Segment) -> None:
        if self.in_items:
            return
        qualifier, value = s.get(1, 0), s.get(1, 1)
        if qualifier == MRN:
            self.data["mrn"] = value
            self.at("mrn", s, "C506/1154")
            return
        documents = self.data.setdefault("previous_documents", [])
        path = f"previous_documents[{len(documents)}]"
        document: dict[str, Any] = {"type": qualifier, "id": value}
        if s.get(1, 2):
            document["line"] = s.get(1, 2)
        documents.append(document)
        self.at(path, s, "C506")

    def _loc(self, s: Segment) -> None:
        qualifier, place = s.get(1), s.get(2, 0)
        if self.in_items and self.item is not None:
            if qualifier == ORIGIN:
                self.item["origin_country"] = place
                self.at(f"{self.item_path}.origin_country", s, "C517/3225")
                if s.get(3, 0):
                    self.item["origin_type"] = s.get(3, 0)
                    self.at(f"{self.item_path}.origin_type", s, "C519/3223")
            return
        name = HEADER_LOCATIONS.get(qualifier)
        if name is not None:
            self.data[name] = place
            self.at(name, s, "C517/3225")

    def _nad(self, s: Segment) -> None:
        name = PARTIES.get(s.get(1))
        if name is None or self.in_items:
            return
        party: dict[str, Any] = {"id": s.get(2, 0)}
        self.at(name, s, "C082/3039")
        self.at(f"{name}.id", s, "C082/3039")
        if _text(s, 4):
            party["name"] = _text(s, 4)
            self.at(f"{name}.name", s, "C080/3036")
        address = {
            key: value
            for key, value in (
                ("line", _text(s, 5)),
                ("city", s.get(6)),
                ("postcode", s.get(8)),
                ("country", s.get(9)),
            )
            if value
        }
        if address:
            party["address"] = address
            for key, element in (
                ("line", "C059/3042"),
                ("city", "3164"),
                ("postcode", "3251"),
                ("country", "3207"),
            ):
                self.at(f"{name}.address.{key}", s, element)
        self.data[name] = party

    def _gis(self, s: Segment) -> None:
        value, code_list, agency = s.get(1, 0), s.get(1, 1), s.get(1, 2)
        if agency == NATIONAL_AGENCY and code_list and not self.in_items:
            self.data.setdefault("national_fields", {})[code_list] = value
            self.at("national_fields", s, "C529")
        elif code_list == CONTAINERISED and not self.in_items:
            if value not in ("0", "1"):
                self.problem(s, "C529/7365", f"container indicator {value!r} is not 0 or 1")
                return
            self.data["containerised"] = value == "1"
            self.at("containerised", s, "C529/7365")
        elif code_list == VALUATION and self.item is not None:
            self.item["valuation_method"] = value
            self.at(f"{self.item_path}.valuation_method", s, "C529/7365")

    def _tod(self, s: Segment) -> None:
        self.data["incoterm"] = s.get(3, 0)
        self.at("incoterm", s, "C100/4053")

    def _tdt(self, s: Segment) -> None:
        if s.get(1) != TRANSPORT_STAGE:
            return
        if s.get(2):
            self.data["border_transport_id"] = s.get(2)
            self.at("border_transport_id", s, "8028")
        self.data["border_transport_mode"] = s.get(3, 0)
        self.at("border_transport_mode", s, "C220/8067")

    def _eqd(self, s: Segment) -> None:
        if s.get(1) != CONTAINER:
            self.equipment = None
            return
        equipment = self.data.setdefault("transport_equipment", [])
        path = f"transport_equipment[{len(equipment)}]"
        self.equipment = {"container_id": s.get(2, 0), "seals": []}
        equipment.append(self.equipment)
        self.at(path, s, "C237/8260")

    def _sel(self, s: Segment) -> None:
        if self.equipment is None:
            self.problem(s, "9308", "seal number without a container (EQD+CN) before it")
            return
        self.equipment["seals"].append(s.get(1))

    def _cux(self, s: Segment) -> None:
        rate = {"currency": s.get(1, 1), "rate": self.number(s.get(3))}
        self.data["exchange_rate"] = rate
        self.at("exchange_rate", s, "C504/6345")
        self.at("exchange_rate.rate", s, "5402")

    # -- header and items -----------------------------------------------------------------------

    def _moa(self, s: Segment) -> None:
        qualifier = s.get(1, 0)
        amount = {"value": self.number(s.get(1, 1)), "currency": s.get(1, 2)}
        if not self.in_items:
            if qualifier == INVOICE_TOTAL:
                self.data["invoice_total"] = amount
                self.at("invoice_total", s, "C516/5004")
            return
        if self.item is None:
            return
        if qualifier in (CUSTOMS_VALUE, STATISTICAL_VALUE):
            name = "customs_value" if qualifier == CUSTOMS_VALUE else "statistical_value"
            self.item[name] = amount
            self.at(f"{self.item_path}.{name}", s, "C516/5004")
            self.at(f"{self.item_path}.{name}.currency", s, "C516/6345")
        elif qualifier in (TAX_BASE, TAX_ASSESSED) and self.item.get("duties"):
            duties = self.item["duties"]
            name = "base_amount" if qualifier == TAX_BASE else "assessed_amount"
            duties[-1][name] = amount["value"]
            self.at(f"{self.item_path}.duties[{len(duties) - 1}].{name}", s, "C516/5004")

    def _mea(self, s: Segment) -> None:
        what, unit, value = s.get(2, 0), s.get(3, 0), self.number(s.get(3, 1))
        target = self.item if self.in_items else self.data
        if target is None:
            return
        prefix = f"{self.item_path}." if self.in_items else ""
        if what == SUPPLEMENTARY and self.in_items:
            target["supplementary_quantity"] = value
            if unit:
                target["supplementary_unit"] = unit
            self.at(f"{prefix}supplementary_quantity", s, "C174/6314")
            return
        names = {GROSS: "gross_mass_kg", NET: "net_mass_kg"}
        if not self.in_items:
            names = {GROSS: "total_gross_mass_kg"}
        if what not in names:
            return
        if unit not in KILOGRAMS:
            self.problem(s, "C174/6411", f"unit {unit!r}: masses are given in KGM")
            return
        target[names[what]] = value
        self.at(f"{prefix}{names[what]}", s, "C174/6314")

    def _pac(self, s: Segment) -> None:
        count = s.get(1)
        if not self.in_items:
            self.data["total_packages"] = count
            self.at("total_packages", s, "7224")
            return
        if self.item is None:
            return
        packages = self.item.setdefault("packages", [])
        package: dict[str, Any] = {"count": count}
        if s.get(3, 0):
            package["kind"] = s.get(3, 0)
        packages.append(package)
        self.at(f"{self.item_path}.packages[{len(packages) - 1}]", s, "7224")

    def _pci(self, s: Segment) -> None:
        if self.item is None or not self.item.get("packages"):
            return
        self.item["packages"][-1]["marks"] = _text(s, 2)

    def _uns(self, s: Segment) -> None:
        self.in_items = s.get(1) == "D"
        self.item = None

    # -- items ----------------------------------------------------------------------------------

    def _cst(self, s: Segment) -> None:
        if not self.in_items:
            return  # the header's customs status of goods: not mapped
        items = self.data["items"]
        self.item_path = f"items[{len(items)}]"
        code = s.get(2, 0)
        self.item = {"sequence": s.get(1).lstrip("0") or s.get(1)}
        if len(code) > 6:
            self.item["national_tariff_code"] = code
            self.at(f"{self.item_path}.national_tariff_code", s, "C246/7361")
        self.item["hs_code"] = code[:6]
        if s.get(3, 0):
            self.item["procedure"] = {"current": s.get(3, 0)}
            if s.get(4, 0):
                self.item["procedure"]["previous"] = s.get(4, 0)
            self.at(f"{self.item_path}.procedure", s, "C246/7361")
        items.append(self.item)
        self.at(self.item_path, s, "1496")
        self.at(f"{self.item_path}.sequence", s, "1496")
        self.at(f"{self.item_path}.hs_code", s, "C246/7361")

    def _ftx(self, s: Segment) -> None:
        if self.item is not None and s.get(1) == "AAA":
            self.item["description"] = _text(s, 4)
            self.at(f"{self.item_path}.description", s, "C108/4440")

    def _doc(self, s: Segment) -> None:
        if self.item is None:
            return
        documents = self.item.setdefault("documents", [])
        documents.append({"type": s.get(1, 0), "id": s.get(2, 0)})
        self.at(f"{self.item_path}.documents[{len(documents) - 1}]", s, "C002/1001")

    def _tax(self, s: Segment) -> None:
        if self.item is None:
            return
        duties = self.item.setdefault("duties", [])
        duty: dict[str, Any] = {"type": s.get(2, 0)}
        if s.get(5, 3):
            duty["rate"] = self.number(s.get(5, 3))
        if s.get(6):
            duty["regime"] = s.get(6)
        duties.append(duty)
        path = f"{self.item_path}.duties[{len(duties) - 1}]"
        self.at(path, s, "C241/5153")
        self.at(f"{path}.rate", s, "C243/5278")


def map_message(message: EdifactMessage, decimal: str = ".") -> SourceRecord:
    """One CUSDEC message as a record: the declaration's data, or every problem with its
    segment, position, element and line."""
    where = f"message {message.reference} (line {message.line})"
    if message.type != "CUSDEC":
        return SourceRecord(
            where,
            problems=[
                {
                    "field": "",
                    "segment": "UNH",
                    "position": 1,
                    "element": "S009/0065",
                    "line": message.line,
                    "problem": f"message type {message.type!r} is not CUSDEC",
                }
            ],
        )
    mapper = _Mapper(message, decimal)
    mapper.run()
    problems = message.problems + mapper.problems
    if problems:
        return SourceRecord(where, problems=problems)
    return checked(where, mapper.data, mapper.places)


def _records(messages: Iterator[EdifactMessage]) -> Iterator[SourceRecord]:
    for message in messages:
        yield map_message(message, message.decimal)


def read_cusdec(path: Path) -> Iterator[SourceRecord]:
    """Every CUSDEC message of the interchange in ``path``, read a message at a time."""
    yield from _records(read_file_messages(path))


def parse_cusdec(data: bytes, name: str = "body") -> Iterator[SourceRecord]:
    """The same, from a request body."""
    yield from _records(read_bytes_messages(data, name))
