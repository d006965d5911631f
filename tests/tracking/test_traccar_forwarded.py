"""Reading Traccar's forwarded JSON (tests/tracking/data/traccar/, from Traccar's own source)
into our records: units, alarms, events, and refusals that name the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smartcustoms.tracking.records import SealEvent
from smartcustoms.tracking.store import attributes_json, position_digest
from smartcustoms.tracking.traccar import (
    ALARMS,
    TraccarFieldError,
    read_event,
    read_position,
)

DATA = Path(__file__).parent / "data" / "traccar"
NOW = datetime(2024, 5, 1, 10, 1, tzinfo=UTC)


def sample(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((DATA / name).read_text())
    return body


def test_a_position_forward_reads_to_our_record() -> None:
    forwarded = read_position(sample("position.json"), NOW)
    record = forwarded.record
    assert forwarded.device_id == "860000000000001" and record is not None
    assert record.device_id == "860000000000001"
    assert record.time == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert (record.latitude, record.longitude, record.altitude) == (-3.39605, 38.55609, 560.0)
    assert record.speed_kmh == pytest.approx(60.0)  # 32.397 knots
    assert (record.course, record.satellites, record.valid) == (300.0, 9, True)
    assert record.events == () and record.implausible == ()
    attributes = record.attributes
    assert attributes["battery_level"] == 87 and attributes["ignition"] is True
    assert attributes["battery_voltage"] == 4.02 and attributes["power_voltage"] == 24.3
    assert attributes["odometer_m"] == 1287410
    traccar = attributes["traccar"]
    assert isinstance(traccar, dict)
    assert traccar["protocol"] == "gt06" and traccar["positionId"] == 394607
    assert traccar["attributes"]["totalDistance"] == 5873410.88  # Traccar's own, as sent


def test_an_alarm_forwarded_twice_reads_to_one_record() -> None:
    """Both forwards on: the alarm comes in the position and as an ``alarm`` event. Same
    record, same digest: the store keeps one (as it does for Traccar's retries)."""
    by_position = read_position(sample("position_tampering.json"), NOW).record
    by_event = read_event(sample("event_alarm_tampering.json"), NOW).record
    assert by_position is not None and by_event is not None
    assert by_position.events == (SealEvent.TAMPER,)
    assert by_event == by_position
    digest = position_digest(
        "860000000000001", by_position, attributes_json(by_position.attributes)
    )
    assert digest == position_digest(
        "860000000000001", by_event, attributes_json(by_event.attributes)
    )


def test_status_events_are_acknowledged_not_stored() -> None:
    offline = read_event(sample("event_device_offline.json"), NOW)
    assert offline.record is None and offline.ignored == "deviceOffline"
    assert offline.device_id == "868618052108909"


def test_an_older_server_s_empty_attributes_list_is_an_empty_map() -> None:
    exit_ = read_event(sample("event_geofence_exit_old.json"), NOW)
    assert exit_.record is not None and exit_.record.events == (SealEvent.GEOFENCE_EXIT,)


@pytest.mark.parametrize(
    ("alarm", "expected"),
    [
        ("tampering", (SealEvent.TAMPER,)),
        ("powerCut", (SealEvent.POWER_CUT,)),
        ("door", (SealEvent.OPENED,)),
        ("lowBattery,jamming", (SealEvent.LOW_BATTERY, SealEvent.GPS_JAMMING)),
        ("hardBraking", ()),  # kept in the attributes, no seal event
    ],
)
def test_alarms_map_to_seal_events(alarm: str, expected: tuple[SealEvent, ...]) -> None:
    body = sample("position.json")
    body["position"]["attributes"]["alarm"] = alarm
    record = read_position(body, NOW).record
    assert record is not None and record.events == expected


def test_every_mapped_alarm_is_a_traccar_alarm_value() -> None:
    # The ALARM_* values of org.traccar.model.Position that we map (a typo would never match).
    traccar = {
        "general", "sos", "vibration", "movement", "lowspeed", "overspeed", "fallDown",
        "lowPower", "lowBattery", "fault", "powerOff", "powerOn", "door", "lock", "unlock",
        "geofence", "geofenceEnter", "geofenceExit", "gpsAntennaCut", "accident", "tow", "idle",
        "highRpm", "hardAcceleration", "hardBraking", "hardCornering", "laneChange",
        "fatigueDriving", "powerCut", "powerRestored", "jamming", "temperature", "parking",
        "shock", "bonnet", "footBrake", "fuelLeak", "tampering", "removing",
    }  # fmt: skip
    assert set(ALARMS) <= traccar


def test_an_alarm_event_without_a_position_keeps_its_time() -> None:
    body = sample("event_device_offline.json")
    body["event"].update(type="alarm", attributes={"alarm": "removing"})
    record = read_event(body, NOW).record
    assert record is not None and record.events == (SealEvent.TAMPER,)
    assert record.latitude is None and not record.valid
    assert record.time == datetime(2024, 5, 10, 10, 45, 34, 984000, tzinfo=UTC)


def test_an_outdated_position_is_not_a_fix() -> None:
    body = sample("position.json")
    body["position"]["outdated"] = True
    record = read_position(body, NOW).record
    assert record is not None and record.valid is False and record.latitude == -3.39605


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("position", "latitude"), 91.0, "position.latitude"),
        (("position", "latitude"), "north", "position.latitude"),
        (("position", "speed"), True, "position.speed"),
        (("position", "fixTime"), "yesterday", "position.fixTime"),
        (("position", "fixTime"), "2024-05-01T10:00:00", "position.fixTime"),  # no offset
        (("position", "valid"), "yes", "position.valid"),
        (("position", "attributes"), "x", "position.attributes"),
        (("position", "attributes", "alarm"), 7, "position.attributes.alarm"),
        (("position", "id"), -1, "position.id"),
        (("position",), [1], "position"),
        (("device", "uniqueId"), 860000000000001, "device.uniqueId"),
        (("device", "uniqueId"), "a b", "device.uniqueId"),
        (("device", "uniqueId"), "x" * 33, "device.uniqueId"),
        (("device",), None, "device"),
    ],
)
def test_a_bad_field_is_named(path: tuple[str, ...], value: Any, field: str) -> None:
    body = sample("position.json")
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(TraccarFieldError) as caught:
        read_position(body, NOW)
    assert caught.value.details[0]["field"] == field
    assert caught.value.status_code == 422


def test_an_event_needs_its_type_and_a_time() -> None:
    body = sample("event_device_offline.json")
    del body["event"]["type"]
    with pytest.raises(TraccarFieldError, match=r"event\.type"):
        read_event(body, NOW)
    body = sample("event_device_offline.json")
    body["event"].update(type="alarm", attributes={"alarm": "tampering"})
    del body["event"]["eventTime"]
    with pytest.raises(TraccarFieldError, match=r"event\.eventTime"):
        read_event(body, NOW)


def test_a_time_far_ahead_is_kept_and_flagged() -> None:
    body = sample("position.json")
    body["position"]["fixTime"] = "2030-01-01T00:00:00.000+03:00"
    record = read_position(body, NOW).record
    assert record is not None and record.implausible == ("time",)
    assert record.time == datetime(2029, 12, 31, 21, 0, tzinfo=UTC)
