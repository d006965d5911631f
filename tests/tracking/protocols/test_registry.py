from __future__ import annotations

import pytest

from smartcustoms.cli.tracking import ProtocolName
from smartcustoms.core.errors import NotFound
from smartcustoms.tracking import PROTOCOLS, get_protocol
from smartcustoms.tracking.protocols import base

from ..vectorfiles import PROTOCOL_OF_FILE


def test_every_protocol_the_issue_names_is_registered() -> None:
    assert set(PROTOCOLS) == {"teltonika", "jt808", "jt701", "gt06", "osmand", "eseal"}
    assert set(PROTOCOL_OF_FILE.values()) == set(PROTOCOLS)


def test_the_cli_offers_exactly_the_registered_protocols() -> None:
    assert {p.value for p in ProtocolName} == set(PROTOCOLS)


def test_unknown_protocol_names_the_known_ones() -> None:
    with pytest.raises(NotFound, match="known: teltonika, jt808"):
        get_protocol("tk103")


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_each_protocol_has_the_shared_shape(name: str) -> None:
    protocol = get_protocol(name)
    assert protocol.name == name
    assert protocol.max_frame > 0
    assert 1024 < protocol.default_port < 65536
    framing = protocol.frame(b"")
    assert framing == base.Framing()
