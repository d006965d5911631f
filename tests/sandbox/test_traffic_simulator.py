"""The simulator: what it sends decodes, in every protocol, to what it meant; trucks drive the
corridors and misbehave when told."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smartcustoms.sandbox.traffic_simulator import packaged_routes
from smartcustoms.sandbox.traffic_simulator.encoders import (
    ENCODERS,
    EVENTS_SUPPORTED,
    device_id_for,
)
from smartcustoms.sandbox.traffic_simulator.fleet import make_trucks
from smartcustoms.tracking.geometry import line_shape
from smartcustoms.tracking.packaged import packaged_geojson
from smartcustoms.tracking.protocols import Context, get_protocol
from smartcustoms.tracking.records import Position, SealEvent

NOW = datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC)


def sample(device: str, events: tuple[SealEvent, ...] = ()) -> Position:
    return Position(
        device_id=device,
        time=NOW,
        latitude=-3.396051,
        longitude=38.556091,
        speed_kmh=61.0,
        course=297.0,
        satellites=9,
        valid=True,
        events=events,
        attributes={"battery_level": 77},
    )


def decode_stream(protocol: str, data: bytes, device: str) -> list[Position]:
    p = get_protocol(protocol)
    framing = p.frame(data)
    assert not framing.errors and framing.consumed == len(data)
    context = Context(device_id=device, received_at=NOW)
    records: list[Position] = []
    for frame in framing.frames:
        records.extend(p.decode(frame.data, context).records)
    return records


@pytest.mark.parametrize("protocol", ["teltonika", "jt808", "gt06", "eseal", "osmand"])
def test_reports_decode_to_what_was_sent(protocol: str) -> None:
    encoder = ENCODERS[protocol]
    device = device_id_for(protocol, 5)
    for event in (None, *sorted(EVENTS_SUPPORTED[protocol])):
        sent = sample(device, (event,) if event else ())
        data = (encoder.login(device) or b"") + encoder.report(device, [sent], 12)
        if protocol == "osmand":
            (got,) = [get_protocol("osmand").decode(data, Context(received_at=NOW)).records[0]]
        else:
            records = decode_stream(protocol, data, device)
            (got,) = records
        assert got.time == NOW
        assert got.latitude == pytest.approx(sent.latitude, abs=1e-5)
        assert got.longitude == pytest.approx(sent.longitude, abs=1e-5)
        assert got.speed_kmh == pytest.approx(61.0, abs=0.1)
        assert got.valid
        if event is not None:
            assert event in got.events, (protocol, event, got.events)


def test_teltonika_batches() -> None:
    device = device_id_for("teltonika", 1)
    batch = [sample(device) for _ in range(20)]
    data = ENCODERS["teltonika"].report(device, batch, 1)
    assert len(decode_stream("teltonika", data, device)) == 20


def test_trucks_stay_in_their_corridor_until_they_deviate() -> None:
    routes = packaged_routes()
    shapes = {
        f["properties"]["code"]: line_shape(f["geometry"], f["properties"]["buffer_m"])
        for f in packaged_geojson()["features"]
        if f["geometry"]["type"] == "MultiLineString"
    }
    trucks = make_trucks(6, "jt808", list(routes.values()), seed=3)
    codes = list(routes)
    for n, truck in enumerate(trucks):
        shape = shapes[codes[n % len(codes)]]
        for _ in range(20):
            truck.advance(600, speedup=1)  # ten minutes at a time
            p = truck.report(NOW)
            assert shape.contains(p.longitude, p.latitude)  # type: ignore[arg-type]
        truck.start_incident("deviation", 600)
        p = truck.report(NOW)
        assert not shape.contains(p.longitude, p.latitude)  # type: ignore[arg-type]
        truck.start_incident("opening", 0)
        assert SealEvent.OPENED in truck.report(NOW).events
        assert not truck.report(NOW).events or truck.battery <= 15


def test_stops_and_silence() -> None:
    (truck,) = make_trucks(1, "eseal", list(packaged_routes().values()))
    truck.start_incident("long_stop", 60)
    before = truck.along_m
    truck.advance(30, speedup=10)
    assert truck.along_m == before and truck.report(NOW).speed_kmh == 0
    truck.advance(31, speedup=1)
    assert truck.incident is None
    truck.start_incident("signal_loss", 10)
    assert truck.silent
    with pytest.raises(ValueError, match="unknown incident"):
        truck.start_incident("alien abduction", 1)


def test_the_cli_names_the_simulators_protocols() -> None:
    # The CLI spells them out so that loading it does not load the sandbox.
    from smartcustoms.cli.tracking_run import SIMULATED_PROTOCOLS
    from smartcustoms.sandbox.traffic_simulator.encoders import ENCODERS

    assert tuple(ENCODERS) == SIMULATED_PROTOCOLS
