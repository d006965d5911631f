"""``smartcustoms tracking decode`` through Typer's runner, on the sub-application itself."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from smartcustoms.cli.tracking import app
from tests.tracking.vectorfiles import ALL_FILES, PROTOCOL_OF_FILE, load

KEYS = [
    "device_id",
    "time",
    "latitude",
    "longitude",
    "speed_kmh",
    "course",
    "satellites",
    "valid",
    "events",
    "attributes",
]
runner = CliRunner()


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _decode(protocol: str, vector, *extra: str) -> list[dict[str, Any]]:
    option = "--text" if vector.is_text else "--hex"
    value = vector.message.decode() if vector.is_text else vector.message.hex()
    result = _run("decode", "--protocol", protocol, option, value, *extra)
    assert result.exit_code == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    for record in records:
        assert list(record) == KEYS
        assert record["time"].endswith("Z")
    return records


def _expected_records(vector) -> list[dict[str, Any]]:
    expected = vector.expected
    if "records" in expected:
        return list(expected["records"])
    if expected.get("decoded_position") is None and "decoded_position" in expected:
        return []
    if "imei" in expected and "records" not in expected and "time_utc" not in expected:
        return []  # a login
    return [expected]


CASES = [
    (PROTOCOL_OF_FILE[file], vector)
    for file in ALL_FILES
    for vector in load(file)
    if not vector.expected.get("rejected")
]


@pytest.mark.parametrize(("protocol", "vector"), CASES, ids=lambda c: getattr(c, "id", c))
def test_every_vector_through_the_cli(protocol: str, vector) -> None:
    records = _decode(protocol, vector, "--device-id", "cli-device")
    wanted = _expected_records(vector)
    assert len(records) == len(wanted)
    for record, want in zip(records, wanted, strict=True):
        time = want.get("time_utc") or want.get("timestamp_utc") or want["time_utc_assuming_gmt8"]
        assert record["time"] == time.replace(".000Z", "Z")
        if "latitude" in want:
            assert record["latitude"] == pytest.approx(want["latitude"], abs=1e-6)
            assert record["longitude"] == pytest.approx(want["longitude"], abs=1e-6)
        else:
            assert record["latitude"] is None and record["longitude"] is None
        for key in ("valid", "satellites"):
            if key in want:
                assert record[key] == want[key]
        if "device_id" in want or "imei" in vector.expected or "terminal_phone" in want:
            device = want.get("device_id") or vector.expected.get("imei") or want["terminal_phone"]
            assert record["device_id"] == device
        elif "device_id" in vector.expected:
            assert record["device_id"] == vector.expected["device_id"]
        else:
            assert record["device_id"] == "cli-device"  # Teltonika TCP: from --device-id


def test_a_login_followed_by_its_packet_names_the_device() -> None:
    teltonika = load("teltonika_codec8")
    login = next(v for v in teltonika if v.id == "tel-imei-login").message
    packet = next(v for v in teltonika if v.id == "tel-traccar-c8-a").message
    result = _run("decode", "-p", "teltonika", "--hex", (login + packet).hex())
    assert result.exit_code == 0
    (record,) = json.loads(result.stdout)
    assert record["device_id"] == "123456789012345"
    assert record["speed_kmh"] == 83.0
    assert record["attributes"]["altitude_m"] == 190.0
    assert record["attributes"]["io"]["66"] == 14233


def test_without_a_device_id_a_teltonika_packet_has_none() -> None:
    packet = next(v for v in load("teltonika_codec8") if v.id == "tel-wiki-c8-2").message
    result = _run("decode", "-p", "teltonika", "--hex", packet.hex())
    assert json.loads(result.stdout)[0]["device_id"] is None


def test_events_print_by_name() -> None:
    vector = next(v for v in load("jt808_elock") if v.id == "jt808-62")
    (record,) = _decode("jt808", vector)
    assert record["events"] == ["tamper"]


def test_implausible_values_are_marked() -> None:
    vector = next(v for v in load("jointech_jt701_elock") if v.id == "jt600-13")
    (record,) = _decode("jt701", vector)
    assert record["attributes"]["implausible"] == ["time"]


def test_hex_may_have_spaces_colons_and_0x() -> None:
    vector = load("gt06")[3]
    spaced = " ".join(f"0x{b:02x}" for b in vector.message[:10]) + ":" + vector.message[10:].hex()
    result = _run("decode", "-p", "gt06", "--hex", spaced)
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 1


def test_a_bad_crc_exits_2_naming_the_byte() -> None:
    packet = bytearray(
        next(v for v in load("teltonika_codec8") if v.id == "tel-traccar-c8-a").message
    )
    packet[-1] ^= 0x01
    result = _run("decode", "-p", "teltonika", "--hex", packet.hex())
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "byte 84: expected CRC 0xee8d, found 0xee8c" in result.stderr


def test_an_unfinished_frame_exits_2() -> None:
    packet = load("gt06")[3].message
    result = _run("decode", "-p", "gt06", "--hex", packet[:-2].hex())
    assert result.exit_code == 2
    assert f"byte {len(packet) - 2}: expected the rest of the frame that starts at byte 0" in (
        result.stderr
    )


def test_garbage_exits_2() -> None:
    result = _run("decode", "-p", "jt808", "--hex", "0102037e")
    assert result.exit_code == 2
    assert "byte 0: expected a 7e flag" in result.stderr


def test_a_second_frame_error_is_offset_in_the_input() -> None:
    first, second = load("gt06")[3].message, bytearray(load("gt06")[4].message)
    second[-4] ^= 0xFF  # its CRC
    result = _run("decode", "-p", "gt06", "--hex", (first + bytes(second)).hex())
    assert result.exit_code == 2
    assert f"byte {len(first) + len(second) - 4}: expected CRC" in result.stderr


def test_osmand_without_id_exits_2() -> None:
    result = _run(
        "decode", "-p", "osmand", "--text", "GET /?timestamp=1377177267&lat=60.0&lon=30.0"
    )
    assert result.exit_code == 2
    assert "byte 6: expected an id or deviceid parameter" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "exactly one of --hex or --text"),
        (("--hex", "00", "--text", "x"), "exactly one of --hex or --text"),
        (("--hex", "0g"), "character 1 is not hexadecimal"),
        (("--hex", "abc"), "odd number"),
    ],
)
def test_input_mistakes_exit_2(args: tuple[str, ...], message: str) -> None:
    result = _run("decode", "-p", "gt06", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_unknown_protocol_is_a_usage_error() -> None:
    result = _run("decode", "-p", "tk103", "--hex", "00")
    assert result.exit_code == 2


def test_protocols_lists_each_protocol() -> None:
    result = _run("protocols")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "teltonika",
        "jt808",
        "jt701",
        "gt06",
        "osmand",
        "eseal",
    ]


def test_help_explains_the_output() -> None:
    result = runner.invoke(app, ["decode", "--help"], terminal_width=120)
    assert result.exit_code == 0
    for word in ("--hex", "--text", "--device-id", "speed_kmh", "status 2"):
        assert word in result.stdout


def test_a_listener_option_reaches_the_decoder() -> None:
    from tests.tracking.protocols.test_check_policy import broken_jt808

    frame = broken_jt808("jt808-62").hex()
    refused = _run("decode", "-p", "jt808", "--hex", frame)
    assert refused.exit_code == 2
    assert "byte 20: expected escape 7d01 or 7d02" in refused.stderr
    flagged = _run("decode", "-p", "jt808", "--hex", frame, "--option", "jt808.bad_check=flag")
    assert flagged.exit_code == 0, flagged.stderr
    (record,) = json.loads(flagged.stdout)
    assert record["events"] == []
    assert record["attributes"]["implausible"] == ["check_code"]
    assert record["attributes"]["unverified"]["events"] == ["tamper"]


def test_an_option_without_a_value_exits_2() -> None:
    result = _run("decode", "-p", "jt808", "--hex", "7e7e", "--option", "jt808.bad_check")
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.stderr
