"""The ``ledger_witnesses`` setting: 'URL VKEY' and an optional interval of the witness's own."""

from __future__ import annotations

import pytest

from smartcustoms.core.errors import ConfigurationError
from smartcustoms.ledger.cosigning import parse_witness_peers
from smartcustoms.ledger.tlog.cosignature import generate_witness_key

URL = "https://partner.example/ledger/witness"


@pytest.fixture(scope="module")
def vkey() -> str:
    return generate_witness_key("partner.example/witness")[1]


def test_an_entry_without_interval_is_asked_at_every_checkpoint(vkey: str) -> None:
    (peer,) = parse_witness_peers([f"{URL}/ {vkey}"])
    assert (peer.url, peer.interval) == (URL, 0.0)


def test_an_interval_is_seconds_of_the_witness_own(vkey: str) -> None:
    (peer,) = parse_witness_peers([f"{URL} {vkey} interval=600"])
    assert peer.interval == 600.0


@pytest.mark.parametrize(
    "option",
    ["interval=-1", "interval=nan", "interval=inf", "interval=86401", "every=5", "interval="],
)
def test_a_bad_interval_is_refused_naming_the_entry(vkey: str, option: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_witness_peers([f"{URL} {vkey} {option}"])
    assert "SMARTCUSTOMS_LEDGER_WITNESSES" in caught.value.message
    assert option in caught.value.message
