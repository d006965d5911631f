"""A listener and ``tracking decode`` read the same bytes the same way: same devices, same times.

Both run one :class:`~smartcustoms.tracking.protocols.Link`; these tests hold them to it on the
state a link carries between frames (a login's identity and its clock offset), where the two
once differed: the CLI forgot an announced offset at the next login without one, and the
listener kept an old offset when a new login announced UTC itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from smartcustoms.cli.tracking import app
from smartcustoms.core.context import AppContext
from smartcustoms.tracking.tables import PositionRow
from tests.waiting import wait_for

from .listening import Harness, connect, receive
from .protocols.test_link import LOCAL_TIME, LOCATION, gt06_login
from .vectorfiles import load

SPECS = ("gt06:tcp:0", "teltonika:tcp:0")
TELTONIKA = {v.id: v.message for v in load("teltonika_codec8")}
GT06_LOGIN_ACK = 10  # 7878 05 01 serial crc 0d0a


def _gt06(imei: str, *zones: int | None) -> bytes:
    logins = b"".join(gt06_login(imei, zone, serial) for serial, zone in enumerate(zones, 1))
    return logins + LOCATION.message


# (name, protocol, stream, device, the UTC time the record must have)
CASES = [
    ("gt06-zone-east", "gt06", _gt06("860000000000001", 180), "860000000000001", -180),
    ("gt06-zone-west", "gt06", _gt06("860000000000002", -330), "860000000000002", 330),
    (
        "gt06-relogin-without-zone-keeps-offset",
        "gt06",
        _gt06("860000000000003", 180, None),
        "860000000000003",
        -180,
    ),
    (
        "gt06-relogin-announcing-utc",
        "gt06",
        _gt06("860000000000004", 180, 0),
        "860000000000004",
        0,
    ),
    ("gt06-no-zone", "gt06", _gt06("860000000000005", None), "860000000000005", 0),
]


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def harness(ctx: AppContext) -> Iterator[Harness]:
    with Harness(ctx, SPECS) as running:
        yield running


def stored(ctx: AppContext, device: str) -> list[tuple[str, datetime]]:
    with ctx.db.engine.connect() as conn:
        rows = conn.execute(
            select(PositionRow.device_id, PositionRow.time)
            .where(PositionRow.device_id == device)
            .order_by(PositionRow.time)
        ).all()
    return [(row.device_id, row.time) for row in rows]


def decoded_by_cli(runner: CliRunner, protocol: str, stream: bytes) -> list[tuple[str, datetime]]:
    result = runner.invoke(app, ["decode", "-p", protocol, "--hex", stream.hex()])
    assert result.exit_code == 0, result.stderr
    return [
        (r["device_id"], datetime.fromisoformat(r["time"].replace("Z", "+00:00")))
        for r in json.loads(result.stdout)
    ]


def listened(
    harness: Harness, ctx: AppContext, protocol: str, stream: bytes, device: str, acks: int
) -> list[tuple[str, datetime]]:
    with connect(harness.port(f"{protocol}:tcp:0")) as sock:
        # Byte by byte at first: the link must carry its state across reads, not within one.
        for byte in stream[:40]:
            sock.sendall(bytes((byte,)))
        sock.sendall(stream[40:])
        assert len(receive(sock, acks)) == acks
        wait_for(lambda: stored(ctx, device), message=f"no record stored for {device}")
    return stored(ctx, device)


@pytest.mark.parametrize(
    ("name", "protocol", "stream", "device", "shift"), CASES, ids=[c[0] for c in CASES]
)
def test_listener_and_cli_agree_on_the_device_and_its_clock(
    ctx: AppContext,
    harness: Harness,
    runner: CliRunner,
    name: str,
    protocol: str,
    stream: bytes,
    device: str,
    shift: int,
) -> None:
    logins = stream.count(b"\x78\x78") - 1
    from_listener = listened(harness, ctx, protocol, stream, device, GT06_LOGIN_ACK * logins)
    from_cli = decoded_by_cli(runner, protocol, stream)
    assert from_listener == from_cli == [(device, LOCAL_TIME + timedelta(minutes=shift))]


def test_teltonika_login_names_the_packet_on_both_paths(
    ctx: AppContext, harness: Harness, runner: CliRunner
) -> None:
    stream = TELTONIKA["tel-imei-login"] + TELTONIKA["tel-traccar-c8-a"]
    from_listener = listened(harness, ctx, "teltonika", stream, "123456789012345", 1 + 4)
    from_cli = decoded_by_cli(runner, "teltonika", stream)
    assert from_listener == from_cli
    assert [device for device, _ in from_cli] == ["123456789012345"]
