"""``smartcustoms tracking``: look inside what e-seals and trackers send."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smartcustoms.cli import tracking_manage, tracking_run, tracking_traccar
from smartcustoms.cli.common import fail
from smartcustoms.cli.lazy import lazy_module

if TYPE_CHECKING:
    from smartcustoms import tracking as tracking_api
    from smartcustoms.tracking import protocols
    from smartcustoms.tracking import replay as replaying
else:  # loaded when a command runs, not for `--help`
    tracking_api = lazy_module("smartcustoms.tracking")
    protocols = lazy_module("smartcustoms.tracking.protocols")
    replaying = lazy_module("smartcustoms.tracking.replay")

__all__ = ["ProtocolName", "app", "record_json"]

app = typer.Typer(
    help=(
        "Electronic cargo tracking: the e-seals, e-locks and trackers on transit trucks.\n\n"
        "`decode` shows what a device message says, e.g. one copied from a listener's log; "
        "`listen` runs the device listeners; `simulate` drives simulated trucks against them; "
        "`corridors`, `transits` and `alerts` manage the rest."
    ),
    no_args_is_help=True,
)
app.command("listen", help=tracking_run.LISTEN_HELP)(tracking_run.listen)
app.command("simulate")(tracking_run.simulate)
tracking_traccar.register(app)
app.add_typer(tracking_manage.corridors_app, name="corridors")
app.add_typer(tracking_manage.transits_app, name="transits")
app.add_typer(tracking_manage.alerts_app, name="alerts")


class ProtocolName(StrEnum):
    """The protocols ``decode`` knows: the registry's (``tracking.protocols.PROTOCOLS``), in its
    order, named here so that `tracking --help` does not load the protocols (and NumPy);
    tests/tracking/protocols/test_registry.py keeps them equal."""

    teltonika = "teltonika"
    jt808 = "jt808"
    jt701 = "jt701"
    gt06 = "gt06"
    osmand = "osmand"
    eseal = "eseal"


_HEX_NOISE = re.compile(r"[\s:]|0x", re.IGNORECASE)


# Help paragraphs are single strings: the CLI keeps a docstring's line breaks, so a wrapped
# docstring would print as ragged lines.
_DECODE_HELP = "\n\n".join(
    (
        "Decode device frames and print the records they carry as a JSON array.",
        "Give the bytes exactly as the device sent them: one frame, or several in a row "
        "(a Teltonika IMEI login followed by its AVL packet, say). Binary protocols take "
        "--hex, text protocols --text:",
        "  smartcustoms tracking decode -p gt06 --hex 78781f12...0d0a\n"
        "  smartcustoms tracking decode -p eseal --text '##S,eSeal,1000821,...,E##'",
        "Each record prints as an object with device_id, time (UTC, ending in Z), latitude, "
        "longitude, speed_kmh, course, satellites, valid, events (seal events such as opened, "
        "cable_cut, low_battery) and attributes (everything else the device sent; also "
        "altitude_m, and implausible when a value fails the plausibility checks). Frames that "
        "carry no record, such as logins and heartbeats, print nothing.",
        "If the input does not fit the protocol, the command exits with status 2 and says at "
        "which byte, and what the protocol expected there.",
    )
)


@app.command("decode", help=_DECODE_HELP)
def decode_command(
    protocol: Annotated[
        ProtocolName,
        typer.Option(
            "--protocol",
            "-p",
            help="The device's protocol (`smartcustoms tracking protocols` lists them).",
            case_sensitive=False,
            show_default=False,
        ),
    ],
    hex_input: Annotated[
        str | None,
        typer.Option(
            "--hex",
            help="The bytes the device sent, in hexadecimal (spaces and colons are ignored).",
            show_default=False,
        ),
    ] = None,
    text_input: Annotated[
        str | None,
        typer.Option(
            "--text",
            help="The message as text, for text protocols (eseal, jt701 sentences, osmand).",
            show_default=False,
        ),
    ] = None,
    device_id: Annotated[
        str | None,
        typer.Option(
            "--device-id",
            help=(
                "Device ID for frames that do not carry one: a Teltonika AVL packet or a GT06 "
                "location sent after a login you did not include."
            ),
            show_default=False,
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            help=(
                "A listener option, KEY=VALUE, as a listener would run with it; may be "
                "repeated. jt808.bad_check=flag decodes a JT/T 808 frame whose check code or "
                "escaping is wrong, its records flagged and their seal state set aside."
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    """Decode device frames and print their records as JSON (help text: ``_DECODE_HELP``)."""
    options = _parse_options(option or [])
    if (hex_input is None) == (text_input is None):
        fail("give the message with exactly one of --hex or --text", code=2)
    if hex_input is not None:
        data = _parse_hex(hex_input)
    else:
        assert text_input is not None  # one of the two, checked above
        data = text_input.encode("utf-8")
    try:
        messages = replaying.replay(
            tracking_api.get_protocol(protocol.value), data, device_id, options
        )
    except tracking_api.FrameError as error:
        fail(f"{protocol.value}: {error.message}", code=2)
    records = [record_json(r) for m in messages for r in m.records]
    typer.echo(json.dumps(records, indent=2, ensure_ascii=False))


@app.command("protocols")
def protocols_command() -> None:
    """List the device protocols with their transports and traccar's default ports."""
    for p in protocols.PROTOCOLS.values():
        transports = "/".join(p.transports)
        typer.echo(f"{p.name:<10} {transports:<8} port {p.default_port:<5} {p.title}")


def _parse_options(given: list[str]) -> dict[str, str]:
    options = {}
    for item in given:
        key, equals, value = item.partition("=")
        if not equals or not key:
            fail(f"--option {item!r}: expected KEY=VALUE, e.g. jt808.bad_check=flag", code=2)
        options[key] = value
    return options


def _parse_hex(text: str) -> bytes:
    cleaned = _HEX_NOISE.sub("", text)
    bad = re.search(r"[^0-9a-fA-F]", cleaned)
    if bad:
        fail(f"--hex: character {bad.start()} is not hexadecimal: {bad.group()!r}", code=2)
    if len(cleaned) % 2:
        fail(f"--hex: {len(cleaned)} hex digits is an odd number; bytes need two each", code=2)
    return bytes.fromhex(cleaned)


def _iso_utc(record: tracking_api.Position) -> str:
    time = record.time
    spec = "milliseconds" if time.microsecond else "seconds"
    return time.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def record_json(record: tracking_api.Position) -> dict[str, Any]:
    """One record in the shape ``decode`` prints."""
    attributes: dict[str, Any] = dict(record.attributes)
    if record.altitude is not None:
        attributes["altitude_m"] = record.altitude
    if record.implausible:
        attributes["implausible"] = list(record.implausible)
    return {
        "device_id": record.device_id,
        "time": _iso_utc(record),
        "latitude": record.latitude,
        "longitude": record.longitude,
        "speed_kmh": record.speed_kmh,
        "course": record.course,
        "satellites": record.satellites,
        "valid": record.valid,
        "events": [event.value for event in record.events],
        "attributes": attributes,
    }
