"""UN/EDIFACT CUSDEC in: the packaged example, the mapping, and every problem naming the
segment, its position, the element and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats import FORMATS
from smartcustoms.declarations.formats.cusdec import parse_cusdec, read_cusdec
from smartcustoms.declarations.formats.wco_xml import read_wco_xml
from smartcustoms.declarations.validate import parse_declaration

HEAD = "UNA:+.? '\nUNB+UNOC:3+BRK001:ZZ+KRA:ZZ+261120:0531+R1'\n"


def message(ref: str, body: list[str]) -> str:
    segments = ["UNH+" + ref + "+CUSDEC:D:96B:UN'", *body]
    return "\n".join([*segments, f"UNT+{len(segments) + 1}+{ref}'"]) + "\n"


BODY = [
    "BGM+929+LRN-7+9'",
    "DTM+137:202611200830:203'",
    "LOC+22+KEMBA'",
    "NAD+DT+BRK001'",
    "NAD+IM+IMP042'",
    "TDT+20++1'",
    "UNS+D'",
    "CST+1+850440'",
    "LOC+27+CN'",
    "MEA+WT+AAF+KGM:840,5'",
    "MOA+40:12500:USD'",
    "UNS+S'",
]


def interchange(*messages: str, head: str = HEAD) -> bytes:
    return (head + "".join(messages) + "UNZ+1+R1'\n").encode("latin-1")


def test_the_packaged_example_is_the_xml_example(cusdec_example: Path, wco_example: Path) -> None:
    [record] = list(read_cusdec(cusdec_example))
    assert record.where == "message 1 (line 3)"
    assert record.problems == []
    assert record.data is not None
    declaration = parse_declaration(record.data)
    assert declaration.lrn == "MSA-2026-000417"
    assert declaration.items[0].national_tariff_code == "85044090"
    assert declaration.items[0].hs_code == "850440"
    assert declaration.national_fields == {"import_regime": "C4"}
    [xml] = list(read_wco_xml(wco_example))
    assert xml.data is not None
    assert declaration == parse_declaration(xml.data)  # one goods declaration, two formats
    assert FORMATS["cusdec"] is read_cusdec


def test_a_decimal_comma_and_other_service_characters() -> None:
    [record] = list(parse_cusdec(interchange(message("1", BODY), head="UNA:+,? '\n")))
    assert record.data is not None
    assert record.data["items"][0]["net_mass_kg"] == "840.5"  # the UNA's decimal mark
    # Other separators altogether: component *, element |, release #, terminator ~.
    text = (HEAD + message("1", BODY) + "UNZ+1+R1'\n").replace("840,5", "840.5")
    text = text.replace("+", "|").replace(":", "*").replace("'", "~")
    text = text.replace("UNA*|.? ~", "UNA*|.# ~")
    [again] = list(parse_cusdec(text.encode()))
    assert again.problems == []
    assert again.data is not None
    assert again.data["items"][0]["customs_value"] == {"value": "12500", "currency": "USD"}


def test_a_model_error_names_segment_position_element_and_line() -> None:
    body = [s.replace("CST+1+850440", "CST+1+770000") for s in BODY]
    body[9] = "MEA+WT+AAF+KGM:840.5'"
    [record] = list(parse_cusdec(interchange(message("7", body))))
    assert record.data is None
    [problem] = record.problems
    assert problem["field"] == "items[0].hs_code"
    assert (problem["segment"], problem["position"], problem["element"]) == ("CST", 9, "C246/7361")
    assert problem["line"] == 11
    assert "HS chapter 77 does not exist" in problem["problem"]
    assert "segment CST at position 9, element C246/7361, line 11" in problem["problem"]


def test_each_bad_message_is_refused_on_its_own() -> None:
    bad_unit = [s.replace("KGM:840,5", "LBR:840.5") for s in BODY]
    good = [s.replace("LRN-7", "LRN-8").replace("840,5", "840.5") for s in BODY]
    records = list(parse_cusdec(interchange(message("1", bad_unit), message("2", good))))
    assert [r.where for r in records] == ["message 1 (line 3)", "message 2 (line 17)"]
    assert records[0].problems[0]["segment"] == "MEA"
    assert records[0].problems[0]["element"] == "C174/6411"
    assert "unit 'LBR'" in records[0].problems[0]["problem"]
    assert records[1].problems == []


def test_unt_count_and_reference_are_checked() -> None:
    text = message("1", BODY).replace("UNT+14+1'", "UNT+9+2'")
    [record] = list(parse_cusdec(interchange(text)))
    problems = [p["problem"] for p in record.problems]
    assert problems == [
        "UNT element 0074 says '9' segments, the message has 14",
        "UNT element 0062 '2' is not UNH's '1'",
    ]
    assert record.problems[0]["position"] == 14


def test_not_a_cusdec_message() -> None:
    text = message("1", BODY).replace("CUSDEC:D:96B", "CUSCAR:D:96B")
    [record] = list(parse_cusdec(interchange(text)))
    assert record.problems[0]["element"] == "S009/0065"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (HEAD + "UNH+1+CUSDEC:D:96B:UN'\nBGM+929+X+9", "segment without a terminator at line 4"),
        (HEAD + "UNH+1+CUSDEC:D:96B:UN'\nUNH+2+CUSDEC:D:96B:UN'\n", "UNH at line 4 inside"),
        (HEAD + "UNH+1+CUSDEC:D:96B:UN'\nBGM+929+X+9'\n", "has no UNT"),
        (HEAD + "BGM+929+X+9'\n", "segment BGM at line 3 outside a message"),
        (HEAD + "UNT+2+1'\n", "UNT at line 3 without a UNH"),
        ("UNA:+", "UNA is cut short"),
    ],
)
def test_a_malformed_interchange_names_the_line(data: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        list(parse_cusdec(data.encode()))
    assert words in caught.value.message


def test_bytes_outside_the_character_set_are_named_by_offset() -> None:
    data = b"UNB+UNOW:4+A+B+261120:0531+R1'\nUNH+1+CUSDEC:D:96B:UN'\nBGM+929+\xff'"
    with pytest.raises(ValidationFailed) as caught:
        list(parse_cusdec(data))
    assert caught.value.details == [{"offset": data.index(b"\xff"), "problem": "not UTF-8"}]


def test_a_large_interchange_is_read_a_message_at_a_time(tmp_path: Path) -> None:
    body = [s.replace("840,5", "840.5") for s in BODY]
    path = tmp_path / "many.edi"
    with path.open("w", encoding="latin-1") as fh:
        fh.write(HEAD)
        for n in range(2000):
            fh.write(message(str(n), [s.replace("LRN-7", f"LRN-{n}") for s in body]))
        fh.write("UNZ+2000+R1'\n")
    records = read_cusdec(path)
    first = next(records)
    assert first.data is not None and first.data["lrn"] == "LRN-0"
    rest = list(records)
    assert len(rest) == 1999
    assert rest[-1].where == f"message 1999 (line {3 + 1999 * 14})"
