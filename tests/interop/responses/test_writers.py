"""CUSRES and the WCO DM Response carry the lane, every reason in each language, and the
control instructions; read back by our own EDIFACT reader and checked against the schema."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from importlib.resources import as_file, files

import xmlschema
from lxml import etree

from smartcustoms.declarations.formats.edifact import read_messages
from smartcustoms.interop.responses import cusres
from smartcustoms.interop.responses.answer import LaneAnswer, Statement
from smartcustoms.interop.responses.wco_xml import NAMESPACE, write_wco_response

LONG = "Examine every carton; weigh the pallet. " * 5  # longer than one 70-character component
ANSWER = LaneAnswer(
    declaration_id=17,
    lrn="MSA-2026-000417",
    mrn="26KEMBA0000417",
    declarant_id="BRK001",
    lane="red",
    decided_at=datetime(2026, 11, 20, 5, 31, 12, tzinfo=UTC),
    reasons=[
        Statement("solar-undervalued", {"en": "Inverters under 40 USD/kg", "fr": "Onduleurs"}),
        Statement("score", {"en": "Risk score 0.91 ≥ threshold 0.70", "fr": "Score 0,91"}),
    ],
    instructions=[LONG.strip(), "Photograph the marks: 'SUNPOWER 1+40'?"],
)


def test_cusres_carries_lane_reasons_and_instructions() -> None:
    data = cusres.write_cusres(ANSWER, prepared=datetime(2026, 11, 20, 5, 32, tzinfo=UTC))
    assert data.startswith(b"UNA:+.? '\nUNB+UNOW:4+SMARTCUSTOMS+BRK001+261120:0532+SC17'")
    [message] = list(read_messages(io.BytesIO(data), "cusres"))
    assert (message.type, message.version, message.problems) == ("CUSRES", "D:96B", [])
    tags = {(s.tag, s.get(1, 0)): s for s in message.segments}
    assert tags[("BGM", "962")].get(2) == "SC17"
    assert tags[("RFF", "ABE")].get(1, 1) == "MSA-2026-000417"
    assert tags[("RFF", "ABT")].get(1, 1) == "26KEMBA0000417"
    assert tags[("GIS", "R")].get(1, 1) == "LNE"
    reasons = [(s.get(3), "".join(s.elements[3]) if isinstance(s.elements[3], tuple)
                else s.get(4), s.get(5)) for s in message.segments
               if s.tag == "FTX" and s.get(1) == "ACB"]  # fmt: skip
    assert reasons == [
        ("solar-undervalued", "Inverters under 40 USD/kg", "EN"),
        ("solar-undervalued", "Onduleurs", "FR"),
        ("score", "Risk score 0.91 ≥ threshold 0.70", "EN"),
        ("score", "Score 0,91", "FR"),
    ]
    instructions = [s for s in message.segments if s.tag == "FTX" and s.get(1) == "CUS"]
    texts = ["".join(s.elements[3]) if isinstance(s.elements[3], tuple) else s.get(4)
             for s in instructions]  # fmt: skip
    assert texts == ANSWER.instructions  # cut in pieces and escaped, read back whole


def test_a_latin1_answer_is_written_in_unoc() -> None:
    plain = LaneAnswer(17, "L1", None, "BRK001", "green", ANSWER.decided_at)
    data = cusres.write_cusres(plain)
    assert b"UNB+UNOC:3+" in data
    [message] = list(read_messages(io.BytesIO(data), "cusres"))
    assert [s.get(1, 0) for s in message.segments if s.tag == "GIS"] == ["G"]
    assert not any(s.tag == "RFF" and s.get(1, 0) == "ABT" for s in message.segments)


def test_the_wco_response_is_valid_against_its_schema() -> None:
    data = write_wco_response(ANSWER)
    resource = files("smartcustoms.declarations") / "data" / "wco" / "smartcustoms_wco_res.xsd"
    with as_file(resource) as path:
        schema = xmlschema.XMLSchema(str(path))
    document = etree.fromstring(data)
    schema.validate(document)
    ns = {"r": NAMESPACE}
    assert document.findtext("r:Status/r:NameCode", namespaces=ns) == "red"
    assert document.findtext("r:Declaration/r:FunctionalReferenceID", namespaces=ns) == (
        "MSA-2026-000417"
    )
    reasons = document.xpath("r:AdditionalInformation[r:StatementTypeCode='RSN']", namespaces=ns)
    assert [r.findtext("r:StatementCode", namespaces=ns) for r in reasons] == [
        "solar-undervalued",
        "score",
    ]
    french = reasons[1].xpath("r:StatementDescription[@languageID='fr']", namespaces=ns)
    assert french[0].text == "Score 0,91"
    instructions = document.xpath(
        "r:AdditionalInformation[r:StatementTypeCode='INS']/r:StatementDescription/text()",
        namespaces=ns,
    )
    assert instructions == ANSWER.instructions
