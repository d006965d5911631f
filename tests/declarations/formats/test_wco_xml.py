"""WCO Data Model XML in: the packaged schema and example, and every problem naming the XPath
and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats import FORMATS, adapter_for
from smartcustoms.declarations.formats.wco_xml import (
    MAX_BYTES,
    declaration_schema,
    parse_wco_xml,
    read_wco_xml,
)
from smartcustoms.declarations.validate import parse_declaration


def test_the_example_is_valid_against_the_packaged_schema(wco_example: Path) -> None:
    assert declaration_schema().is_valid(str(wco_example))
    [record] = list(read_wco_xml(wco_example))
    assert record.problems == []
    assert record.data is not None
    declaration = parse_declaration(record.data)
    assert declaration.declarant.id == "BRK001"
    assert declaration.issue_datetime is not None
    assert declaration.issue_datetime.isoformat() == "2026-11-20T08:30:00+03:00"
    assert [i.hs_code for i in declaration.items] == ["850440", "610910"]
    assert declaration.items[0].supplementary_unit == "NAR"
    assert declaration.transport_equipment[0].seals == ["KE123456"]
    assert FORMATS["wcoxml"] is read_wco_xml
    assert adapter_for("application/xml; charset=utf-8") is adapter_for("text/xml")


def test_a_schema_error_names_the_xpath_and_line(wco_example: Path) -> None:
    text = wco_example.read_text().replace("<ModeCode>1</ModeCode>", "<ModeCode>sea</ModeCode>")
    [record] = list(parse_wco_xml(text.encode()))
    [problem] = record.problems
    assert problem["xpath"] == "/Declaration/BorderTransportMeans/ModeCode"
    line = 1 + text[: text.index("<ModeCode>")].count("\n")
    assert problem["line"] == line
    assert f"line {line}" in problem["problem"]


def test_a_model_error_names_the_xpath_and_line(wco_example: Path) -> None:
    text = wco_example.read_text().replace("<ID>610910</ID>", "<ID>770000</ID>")
    [record] = list(parse_wco_xml(text.encode()))
    [problem] = record.problems
    assert problem["field"] == "items[1].hs_code"
    assert problem["xpath"] == (
        "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID"
    )
    assert problem["line"] == 1 + text[: text.index("<ID>770000")].count("\n")
    assert problem["problem"].startswith("HS chapter 77 does not exist (/Declaration/")


def test_malformed_xml_names_line_and_column() -> None:
    with pytest.raises(ValidationFailed) as caught:
        list(parse_wco_xml(b"<?xml version='1.0'?>\n<Declaration>\n  <FunctionCode>9</Func"))
    assert caught.value.message.startswith("body: malformed XML at line 3, column")


def test_entities_and_doctypes_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<Declaration xmlns="urn:smartcustoms:wco:datamodel:DEC:3.6">'
        "<FunctionCode>&x;</FunctionCode></Declaration>"
    )
    with pytest.raises(ValidationFailed) as caught:
        list(parse_wco_xml(xxe.encode()))
    assert "DOCTYPE is not allowed" in caught.value.message
    assert "do not read" not in str(caught.value.to_dict())


def test_another_root_or_namespace_is_a_schema_error() -> None:
    [record] = list(parse_wco_xml(b"<Declaration><FunctionCode>9</FunctionCode></Declaration>"))
    assert record.data is None
    assert record.problems[0]["xpath"] == "/Declaration"


def test_a_document_larger_than_a_declaration_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        list(parse_wco_xml(b" " * (MAX_BYTES + 1)))
    assert caught.value.details[0]["problem"] == "too large"
