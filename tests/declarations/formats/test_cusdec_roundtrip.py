"""Ours → CUSDEC → ours gives the same declaration; and no input makes the readers fail in any
way but a ValidationFailed or a rejected record (hypothesis)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.formats.cusdec import parse_cusdec
from smartcustoms.declarations.formats.cusdec_writer import write_cusdec
from smartcustoms.declarations.formats.edifact import default_characters, tokenised
from smartcustoms.declarations.formats.wco_xml import parse_wco_xml
from smartcustoms.declarations.model import Declaration
from smartcustoms.declarations.validate import parse_declaration
from tests.declarations.helpers import declaration

PREPARED = datetime(2026, 11, 20, 5, 31, tzinfo=UTC)
SETTINGS = settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip

# Text as traders write it: any character but controls and surrogates (no EDIFACT character
# set has them), the service characters ' + : ? included, so escaping is exercised.
_CHAR = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(_CHAR, min_size=1, max_size=max_size).map(str.strip).filter(bool)


def amount(places: int = 2) -> st.SearchStrategy[str]:
    return st.decimals(
        min_value=Decimal("0.01"), max_value=Decimal("99999999"), places=places,
        allow_nan=False, allow_infinity=False,
    ).map(str)  # fmt: skip


COUNTRIES = st.sampled_from(["CN", "KE", "BD", "DE", "US", "TZ", "UG"])
CURRENCIES = st.sampled_from(["USD", "EUR", "KES", "CNY"])
HS = st.sampled_from(["850440", "610910", "870323", "300490", "090111"])


@st.composite
def parties(draw: st.DrawFn, optional: bool = False) -> dict[str, Any] | None:
    if optional and draw(st.booleans()):
        return None
    party: dict[str, Any] = {"id": draw(text(17))}
    if draw(st.booleans()):
        party["name"] = draw(text(70))
    if draw(st.booleans()):
        party["address"] = {"country": draw(COUNTRIES), "city": draw(text(35)),
                            "line": draw(text(70)), "postcode": draw(text(9))}  # fmt: skip
    return party


@st.composite
def items(draw: st.DrawFn, sequence: int) -> dict[str, Any]:
    hs = draw(HS)
    item: dict[str, Any] = {
        "sequence": sequence,
        "hs_code": hs,
        "origin_country": draw(COUNTRIES),
        "customs_value": {"value": draw(amount()), "currency": draw(CURRENCIES)},
        "net_mass_kg": draw(amount(3)),
    }
    if draw(st.booleans()):
        item["national_tariff_code"] = hs + draw(st.from_regex(r"[0-9]{2,4}", fullmatch=True))
    if draw(st.booleans()):
        item["description"] = draw(text(512))
    if draw(st.booleans()):
        item["procedure"] = {"current": "40", "previous": draw(st.sampled_from(["00", "71"]))}
    if draw(st.booleans()):
        item["statistical_value"] = {"value": draw(amount()), "currency": "USD"}
        item["valuation_method"] = draw(st.sampled_from("123456"))
        item["origin_type"] = draw(st.sampled_from(["1", "PREF"]))
    if draw(st.booleans()):
        item["supplementary_quantity"] = draw(amount(0))
        item["supplementary_unit"] = draw(st.sampled_from(["NAR", "LTR", "MTK"]))
    item["packages"] = draw(st.lists(
        st.fixed_dictionaries({"count": st.integers(1, 10**9)},
                              optional={"kind": st.sampled_from(["CT", "PK"]),
                                        "marks": text(512)}),
        max_size=2,
    ))  # fmt: skip
    item["documents"] = draw(st.lists(
        st.fixed_dictionaries({"type": st.sampled_from(["C041", "N935"]), "id": text(70)}),
        max_size=2,
    ))  # fmt: skip
    item["duties"] = draw(st.lists(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["A00", "B00", "VAT"])},
            optional={"rate": st.sampled_from(["0", "10", "25.5"]),
                      "regime": st.sampled_from(["100", "PREF"]),
                      "base_amount": amount(), "assessed_amount": amount()},
        ),
        max_size=2,
    ))  # fmt: skip
    return item


@st.composite
def declarations(draw: st.DrawFn) -> Declaration:
    zone = timezone(timedelta(minutes=draw(st.sampled_from([0, 180, -300, 330]))))
    when = draw(st.datetimes(min_value=datetime(2022, 1, 1), max_value=datetime(2027, 12, 31)))
    data: dict[str, Any] = {
        "lrn": draw(text(35)),
        "function_code": draw(st.sampled_from(["9", "5", "1"])),
        "type_code": draw(st.sampled_from(["IM", "EX", "IMA", "CO"])),
        "issue_datetime": when.replace(microsecond=0, tzinfo=zone).isoformat(),
        "office_of_declaration": draw(text(17)),
        "declarant": draw(parties()),
        "importer": draw(parties()),
        "border_transport_mode": draw(st.sampled_from("134")),
        "items": [draw(items(n)) for n in range(1, draw(st.integers(1, 3)) + 1)],
        "national_fields": draw(st.dictionaries(text(35), text(70), max_size=3)),
        "previous_documents": draw(st.lists(
            st.fixed_dictionaries({"type": st.sampled_from(["705", "704", "740"]),
                                   "id": text(70)},
                                  optional={"line": st.integers(1, 999)}),
            max_size=2,
        )),
        "transport_equipment": draw(st.lists(
            st.fixed_dictionaries({"container_id": st.sampled_from(["CSQU3054383",
                                                                     "MSCU1234566"]),
                                   "seals": st.lists(text(20), max_size=2)}),
            max_size=2, unique_by=lambda e: e["container_id"],
        )),
    }  # fmt: skip
    for name in ("agent", "exporter", "consignor", "seller", "buyer"):
        party = draw(parties(optional=True))
        if party is not None:
            data[name] = party
    optional = {
        "mrn": text(70),
        "border_transport_id": text(35),
        "incoterm": st.sampled_from(["CIF", "FOB", "EXW"]),
        "export_country": COUNTRIES,
        "destination_country": COUNTRIES,
        "place_of_loading": text(17),
        "goods_location": text(17),
        "containerised": st.booleans(),
        "total_packages": st.integers(1, 10**6),
        "total_gross_mass_kg": amount(3),
        "invoice_total": st.fixed_dictionaries({"value": amount(), "currency": CURRENCIES}),
        "exchange_rate": st.fixed_dictionaries({"currency": CURRENCIES, "rate": amount(4)}),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            data[name] = draw(strategy)
    return parse_declaration(data)


def roundtrip(batch: list[Declaration]) -> list[Declaration]:
    interchange = write_cusdec(batch, sender="BRK001", recipient="KRA", reference="R1",
                               prepared=PREPARED)  # fmt: skip
    records = list(parse_cusdec(interchange))
    assert [r.problems for r in records] == [[] for _ in batch], interchange
    return [parse_declaration(r.data) for r in records]


def read_or_refuse(
    reader: Callable[[bytes], Iterator[SourceRecord]], data: bytes
) -> list[SourceRecord] | ValidationFailed:
    """What a reader makes of ``data``: its records, or the refusal (any other exception
    fails the test)."""
    try:
        return list(reader(data))
    except ValidationFailed as exc:
        return exc


def assert_read_or_refused(outcome: list[SourceRecord] | ValidationFailed) -> None:
    if isinstance(outcome, ValidationFailed):
        assert outcome.message
    else:
        assert all(r.data is not None or r.problems for r in outcome)


def test_the_test_declaration_round_trips() -> None:
    ours = parse_declaration(declaration(mrn="26KE0001", containerised=False, incoterm="CIF"))
    assert roundtrip([ours]) == [ours]


@SETTINGS
@given(st.lists(declarations(), min_size=1, max_size=3))
def test_any_declaration_round_trips(batch: list[Declaration]) -> None:
    assert roundtrip(batch) == batch


@SETTINGS
@given(st.binary(max_size=400) | st.text(st.sampled_from("UNAHBTGMCST+:'?.\n 0129"), max_size=300)
       .map(str.encode))  # fmt: skip
def test_no_input_breaks_the_cusdec_reader(data: bytes) -> None:
    assert_read_or_refused(read_or_refuse(parse_cusdec, b"UNA:+.? '" + data))


@SETTINGS
@given(st.binary(max_size=400) | st.text(st.sampled_from("<>/=\"' DeclarationxmlnsID&;!"),
                                         max_size=200).map(str.encode))  # fmt: skip
def test_no_input_breaks_the_wco_xml_reader(data: bytes) -> None:
    assert_read_or_refused(read_or_refuse(parse_wco_xml, data))


@SETTINGS
@given(st.text(st.sampled_from("AB1 +:\n?"), max_size=40))
def test_the_fast_split_agrees_with_pydifact(body: str) -> None:
    characters = default_characters()
    text = body.replace("?", "") + "'"  # without a release character: the fast path
    fast = tokenised(text, characters)
    slow = tokenised("?" + "?" + text, characters)  # "??" is a released "?": pydifact's path
    assert slow[0] == ("?" + fast[0] if isinstance(fast[0], str) else slow[0])
    assert slow[1:] == fast[1:]
