"""WCO Data Model XML in: a goods declaration in the WCO DM 3.6 message structure, one
``Declaration`` per document, checked against the schema this project packages
(``declarations/data/wco/smartcustoms_wco_dec.xsd``, see the README beside it) and mapped onto
our model.

The document is parsed by lxml with no network, no DTD and no entity expansion (a DOCTYPE is
refused: nothing in a declaration needs one, and it is how entity bombs and external entities
come in). Malformed XML raises ValidationFailed naming the line and column; a document that
does not follow the schema, or whose declaration does not validate, comes back as one record
whose problems name the XPath and line of each fault (``/Declaration/GoodsShipment/
GovernmentAgencyGoodsItem[2]/Commodity/Classification[1]/ID, line 41``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path
from typing import IO, Any

import xmlschema
from lxml import etree

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats.adapter import Places, checked
from smartcustoms.declarations.formats.base import SourceRecord

__all__ = ["NAMESPACE", "SCHEMA_FILE", "declaration_schema", "parse_wco_xml", "read_wco_xml"]

NAMESPACE = "urn:smartcustoms:wco:datamodel:DEC:3.6"
SCHEMA_FILE = "smartcustoms_wco_dec.xsd"
MAX_BYTES = 16 << 20  # one declaration; larger is not a declaration
_NS = {"d": NAMESPACE}
Element = Any  # lxml's _Element (its stubs are not installed)


@cache
def declaration_schema() -> xmlschema.XMLSchema:
    """The packaged declaration schema, loaded once."""
    resource = files("smartcustoms.declarations").joinpath("data", "wco", SCHEMA_FILE)
    with as_file(resource) as path:
        return xmlschema.XMLSchema(str(path))


def _parser() -> Any:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _tree(source: IO[bytes], name: str) -> Any:
    try:
        tree = etree.parse(source, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise ValidationFailed(
            f"{name}: malformed XML at line {line}, column {column}: {exc.msg}",
            details=[{"line": line, "column": column, "problem": str(exc.msg)}],
        ) from None
    if tree.docinfo.doctype:
        raise ValidationFailed(
            f"{name}: a DOCTYPE is not allowed (line 1)",
            details=[{"line": 1, "problem": "DOCTYPE not allowed"}],
        )
    return tree


def xpath_of(element: Element) -> str:
    """``/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/…``: local names, with the
    position among same-named siblings where there are several."""
    parts = []
    while element is not None:
        name = etree.QName(element).localname
        parent = element.getparent()
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and c.tag == element.tag]
            if len(same) > 1:
                name += f"[{same.index(element) + 1}]"
        parts.append(name)
        element = parent
    return "/" + "/".join(reversed(parts))


class _Mapper:
    def __init__(self) -> None:
        self.places = Places()

    def note(self, path: str, element: Element) -> None:
        self.places.at(path, xpath=xpath_of(element), line=element.sourceline)

    def text(self, parent: Element, child: str, path: str, out: dict[str, Any], key: str) -> Any:
        """Put ``child``'s text (if present) at ``out[key]``; return the element."""
        element = parent.find(child, _NS)
        if element is not None:
            out[key] = (element.text or "").strip()
            self.note(path, element)
        return element

    def party(self, parent: Element, child: str, path: str, out: dict[str, Any]) -> None:
        element = parent.find(child, _NS)
        if element is None:
            return
        party: dict[str, Any] = {}
        self.note(path, element)
        self.text(element, "d:ID", f"{path}.id", party, "id")
        self.text(element, "d:Name", f"{path}.name", party, "name")
        address_element = element.find("d:Address", _NS)
        if address_element is not None:
            address: dict[str, Any] = {}
            for tag, key in (
                ("Line", "line"),
                ("CityName", "city"),
                ("PostcodeID", "postcode"),
                ("CountryCode", "country"),
            ):
                self.text(address_element, f"d:{tag}", f"{path}.address.{key}", address, key)
            party["address"] = address
        out[path.rsplit(".", 1)[-1]] = party

    def declaration(self, root: Element) -> dict[str, Any]:
        data: dict[str, Any] = {}
        self.places.message = {"xpath": "/Declaration", "line": root.sourceline}
        for tag, key in (
            ("FunctionCode", "function_code"),
            ("FunctionalReferenceID", "lrn"),
            ("ID", "mrn"),
            ("TypeCode", "type_code"),
            ("DeclarationOfficeID", "office_of_declaration"),
            ("TotalPackageQuantity", "total_packages"),
        ):
            self.text(root, f"d:{tag}", key, data, key)
        when = root.find("d:IssueDateTime/d:DateTimeString", _NS)
        if when is not None:
            data["issue_datetime"] = _datetime(when.text or "", when.get("formatCode", ""))
            self.note("issue_datetime", when)
        self.amount(root, "d:InvoiceAmount", "invoice_total", data)
        self.text(
            root, "d:TotalGrossMassMeasure", "total_gross_mass_kg", data, "total_gross_mass_kg"
        )
        for info in root.findall("d:AdditionalInformation", _NS):
            code = info.findtext("d:StatementCode", "", _NS).strip()
            data.setdefault("national_fields", {})[code] = info.findtext(
                "d:StatementDescription", "", _NS
            ).strip()
            self.note("national_fields", info)
        self.party(root, "d:Agent", "agent", data)
        transport = root.find("d:BorderTransportMeans", _NS)
        if transport is not None:
            self.text(transport, "d:ID", "border_transport_id", data, "border_transport_id")
            self.text(
                transport, "d:ModeCode", "border_transport_mode", data, "border_transport_mode"
            )
        exchange = root.find("d:CurrencyExchange", _NS)
        if exchange is not None:
            rate: dict[str, Any] = {}
            self.text(exchange, "d:CurrencyTypeCode", "exchange_rate.currency", rate, "currency")
            self.text(exchange, "d:RateNumeric", "exchange_rate.rate", rate, "rate")
            data["exchange_rate"] = rate
        self.party(root, "d:Declarant", "declarant", data)
        self.party(root, "d:Exporter", "exporter", data)
        shipment = root.find("d:GoodsShipment", _NS)
        if shipment is not None:
            self.shipment(shipment, data)
        return data

    def amount(self, parent: Element, child: str, path: str, out: dict[str, Any]) -> None:
        element = parent.find(child, _NS)
        if element is not None:
            out[path.rsplit(".", 1)[-1]] = {
                "value": (element.text or "").strip(),
                "currency": element.get("currencyID", ""),
            }
            self.note(path, element)

    def shipment(self, shipment: Element, data: dict[str, Any]) -> None:
        self.party(shipment, "d:Buyer", "buyer", data)
        consignment = shipment.find("d:Consignment", _NS)
        if consignment is not None:
            container = consignment.find("d:ContainerCode", _NS)
            if container is not None:
                data["containerised"] = (container.text or "").strip() == "1"
                self.note("containerised", container)
            self.text(consignment, "d:GoodsLocation/d:ID", "goods_location", data, "goods_location")
            self.text(
                consignment, "d:LoadingLocation/d:ID", "place_of_loading", data, "place_of_loading"
            )
            for i, equipment in enumerate(consignment.findall("d:TransportEquipment", _NS)):
                path = f"transport_equipment[{i}]"
                seals = [
                    s.findtext("d:ID", "", _NS).strip() for s in equipment.findall("d:Seal", _NS)
                ]
                equipment_data: dict[str, Any] = {"seals": seals}
                self.note(path, equipment)
                self.text(equipment, "d:ID", f"{path}.container_id", equipment_data, "container_id")
                data.setdefault("transport_equipment", []).append(equipment_data)
        self.party(shipment, "d:Consignor", "consignor", data)
        self.text(
            shipment,
            "d:Destination/d:CountryCode",
            "destination_country",
            data,
            "destination_country",
        )
        self.text(shipment, "d:ExportCountry/d:ID", "export_country", data, "export_country")
        data["items"] = [
            self.item(element, f"items[{i}]")
            for i, element in enumerate(shipment.findall("d:GovernmentAgencyGoodsItem", _NS))
        ]
        self.party(shipment, "d:Importer", "importer", data)
        for i, document in enumerate(shipment.findall("d:PreviousDocument", _NS)):
            entry: dict[str, Any] = {}
            path = f"previous_documents[{i}]"
            self.note(path, document)
            self.text(document, "d:TypeCode", f"{path}.type", entry, "type")
            self.text(document, "d:ID", f"{path}.id", entry, "id")
            self.text(document, "d:LineNumeric", f"{path}.line", entry, "line")
            data.setdefault("previous_documents", []).append(entry)
        self.party(shipment, "d:Seller", "seller", data)
        self.text(shipment, "d:TradeTerms/d:ConditionCode", "incoterm", data, "incoterm")

    def item(self, element: Element, path: str) -> dict[str, Any]:
        item: dict[str, Any] = {}
        self.note(path, element)
        self.text(element, "d:SequenceNumeric", f"{path}.sequence", item, "sequence")
        self.amount(element, "d:CustomsValueAmount", f"{path}.customs_value", item)
        self.amount(element, "d:StatisticalValueAmount", f"{path}.statistical_value", item)
        for i, document in enumerate(element.findall("d:AdditionalDocument", _NS)):
            entry: dict[str, Any] = {}
            self.note(f"{path}.documents[{i}]", document)
            self.text(document, "d:TypeCode", f"{path}.documents[{i}].type", entry, "type")
            self.text(document, "d:ID", f"{path}.documents[{i}].id", entry, "id")
            item.setdefault("documents", []).append(entry)
        commodity = element.find("d:Commodity", _NS)
        if commodity is not None:
            self.commodity(commodity, path, item)
        self.text(
            element,
            "d:CustomsValuation/d:MethodCode",
            f"{path}.valuation_method",
            item,
            "valuation_method",
        )
        procedure = element.find("d:GovernmentProcedure", _NS)
        if procedure is not None:
            codes: dict[str, Any] = {}
            self.text(procedure, "d:CurrentCode", f"{path}.procedure.current", codes, "current")
            self.text(procedure, "d:PreviousCode", f"{path}.procedure.previous", codes, "previous")
            item["procedure"] = codes
        self.text(
            element, "d:Origin/d:CountryCode", f"{path}.origin_country", item, "origin_country"
        )
        self.text(element, "d:Origin/d:TypeCode", f"{path}.origin_type", item, "origin_type")
        for i, package in enumerate(element.findall("d:Packaging", _NS)):
            entry = {}
            where = f"{path}.packages[{i}]"
            self.note(where, package)
            self.text(package, "d:QuantityQuantity", f"{where}.count", entry, "count")
            self.text(package, "d:TypeCode", f"{where}.kind", entry, "kind")
            self.text(package, "d:MarksNumbersID", f"{where}.marks", entry, "marks")
            item.setdefault("packages", []).append(entry)
        return item

    def commodity(self, commodity: Element, path: str, item: dict[str, Any]) -> None:
        self.text(commodity, "d:Description", f"{path}.description", item, "description")
        for classification in commodity.findall("d:Classification", _NS):
            kind = classification.findtext("d:IdentificationTypeCode", "", _NS).strip()
            key = "hs_code" if kind == "HS" else "national_tariff_code"
            self.text(classification, "d:ID", f"{path}.{key}", item, key)
        for i, fee in enumerate(commodity.findall("d:DutyTaxFee", _NS)):
            duty: dict[str, Any] = {}
            where = f"{path}.duties[{i}]"
            self.note(where, fee)
            for tag, key in (
                ("TypeCode", "type"),
                ("DutyRegimeCode", "regime"),
                ("TaxRateNumeric", "rate"),
                ("AdValoremTaxBaseAmount", "base_amount"),
                ("Payment/d:TaxAssessedAmount", "assessed_amount"),
            ):
                self.text(fee, f"d:{tag}", f"{where}.{key}", duty, key)
            item.setdefault("duties", []).append(duty)
        measure = commodity.find("d:GoodsMeasure", _NS)
        if measure is not None:
            for tag, key in (
                ("GrossMassMeasure", "gross_mass_kg"),
                ("NetNetWeightMeasure", "net_mass_kg"),
                ("TariffQuantity", "supplementary_quantity"),
            ):
                self.text(measure, f"d:{tag}", f"{path}.{key}", item, key)
            tariff = measure.find("d:TariffQuantity", _NS)
            if tariff is not None and tariff.get("unitCode"):
                item["supplementary_unit"] = tariff.get("unitCode")


def _datetime(text: str, fmt: str) -> str:
    """ISO 8601 from a DateTimeString (102 or 304); the raw text when it does not fit."""
    text = text.strip()
    if fmt == "102" and len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:8]}T00:00:00+00:00"
    if fmt == "304" and len(text) >= 15 and text[:14].isdigit():
        zone = text[14:]
        zone = "+00:00" if zone == "Z" else f"{zone[:3]}:{zone[3:5] or '00'}"
        return f"{text[:4]}-{text[4:6]}-{text[6:8]}T{text[8:10]}:{text[10:12]}:{text[12:14]}{zone}"
    return text


def _records(source: IO[bytes], name: str) -> Iterator[SourceRecord]:
    tree = _tree(source, name)
    root = tree.getroot()
    where = "Declaration"
    errors = [
        {
            "field": "",
            "xpath": error.path or "/",
            "line": getattr(error.elem, "sourceline", None),
            "problem": f"{error.reason} ({error.path}, line "
            f"{getattr(error.elem, 'sourceline', '?')})",
        }
        for error in declaration_schema().iter_errors(tree)
    ]
    if errors:
        yield SourceRecord(where, problems=errors)
        return
    mapper = _Mapper()
    yield checked(where, mapper.declaration(root), mapper.places)


def _too_large(name: str, size: int) -> ValidationFailed:
    return ValidationFailed(
        f"{name}: {size:,} bytes; one declaration's XML is at most {MAX_BYTES:,}",
        details=[{"problem": "too large", "offset": MAX_BYTES}],
    )


def read_wco_xml(path: Path) -> Iterator[SourceRecord]:
    """The declaration in the WCO DM XML file ``path``."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise _too_large(path.name, size)
    with path.open("rb") as fh:
        yield from _records(fh, path.name)


def parse_wco_xml(data: bytes, name: str = "body") -> Iterator[SourceRecord]:
    """The same, from a request body."""
    if len(data) > MAX_BYTES:
        raise _too_large(name, len(data))
    yield from _records(io.BytesIO(data), name)
