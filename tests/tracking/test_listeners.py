"""The listeners over real TCP, UDP and HTTP sockets: captured device frames in, the protocol's
acknowledgement out only after the records are committed; bad frames counted and survived."""

from __future__ import annotations

import gc
import logging
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from smartcustoms.core.context import AppContext
from smartcustoms.sandbox.traffic_simulator.encoders import ENCODERS
from smartcustoms.tracking.listeners import server
from smartcustoms.tracking.protocols import get_protocol
from smartcustoms.tracking.tables import DeviceRow, PositionRow
from tests.waiting import wait_for

from .helpers import position
from .listening import Harness, connect, receive, receive_until
from .vectorfiles import load

SPECS = (
    "teltonika:tcp:0",
    "teltonika:udp:0",
    "jt808:tcp:0",
    "gt06:tcp:0",
    "eseal:tcp:0",
    "osmand:http:0",
    "jt701:tcp:0",
)


def vector(name: str, vector_id: str) -> bytes:
    return next(v.message for v in load(name) if v.id == vector_id)


def ack_of(protocol: str, frame: bytes, device: str | None = None) -> bytes:
    from smartcustoms.tracking.protocols import Context

    ack = get_protocol(protocol).decode(frame, Context(device_id=device)).ack
    assert ack is not None
    return ack


@pytest.fixture
def harness(ctx: AppContext) -> Iterator[Harness]:
    with Harness(ctx, SPECS) as running:
        yield running


def stored_for(ctx: AppContext, device: str) -> int:
    with ctx.db.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(PositionRow).where(PositionRow.device_id == device)
            ).scalar_one()
        )


def test_teltonika_tcp_login_then_avl(ctx: AppContext, harness: Harness) -> None:
    login = vector("teltonika_codec8", "tel-imei-login")
    avl = vector("teltonika_codec8", "tel-wiki-c8-1")
    with connect(harness.port("teltonika:tcp:0")) as sock:
        sock.sendall(login)
        assert receive(sock, 1) == b"\x01"
        sock.sendall(avl)
        assert receive(sock, 4) == (1).to_bytes(4, "big")
        # The answer came after the commit: the record is there for anyone to read now.
        assert stored_for(ctx, "123456789012345") == 1


def test_teltonika_udp(ctx: AppContext, harness: Harness) -> None:
    datagram = vector("teltonika_codec8", "tel-wiki-c8-udp-1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(10)
        sock.sendto(datagram, ("127.0.0.1", harness.port("teltonika:udp:0")))
        reply, _ = sock.recvfrom(64)
    assert reply == ack_of("teltonika", datagram)
    assert harness.stored() >= 1


def test_jt808_eseal_and_jt701_frames(ctx: AppContext, harness: Harness) -> None:
    cases = [
        ("jt808:tcp:0", "jt808", vector("jt808_elock", "jt808-53"), b"\x7e", 2),
        ("eseal:tcp:0", "eseal", vector("eseal_text", "eseal-0"), b"\r\n", 1),
    ]
    for spec, protocol, frame, end, count in cases:
        with connect(harness.port(spec)) as sock:
            sock.sendall(frame)
            assert receive_until(sock, end, count) == ack_of(protocol, frame)
    assert stored_for(ctx, "200002604323") == 1
    assert stored_for(ctx, "1000821") == 1


def test_gt06_login_location_and_alarm(ctx: AppContext, harness: Harness) -> None:
    device = "359000000000042"
    encoder = ENCODERS["gt06"]
    with connect(harness.port("gt06:tcp:0")) as sock:
        login = encoder.login(device)
        assert login is not None
        sock.sendall(login)
        assert receive_until(sock, b"\r\n") == ack_of("gt06", login)
        sock.sendall(encoder.report(device, [position(device)], 2))  # 0x22: never answered
        from smartcustoms.tracking.records import SealEvent

        alarm = encoder.report(device, [position(device, events=(SealEvent.OPENED,))], 3)
        sock.sendall(alarm)
        assert receive_until(sock, b"\r\n") == ack_of("gt06", alarm, device)
    wait_for(lambda: stored_for(ctx, device) == 2)


def test_osmand_http_keep_alive_and_bad_requests(ctx: AppContext, harness: Harness) -> None:
    good = vector("osmand_http", "osmand-9") + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    no_id = vector("osmand_http", "osmand-5") + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    with connect(harness.port("osmand:http:0")) as sock:
        sock.sendall(good + no_id + good)
        answers = receive_until(sock, b"\r\n\r\n", 3)
    assert answers.split(b"\r\n\r\n")[:3] == [
        b"HTTP/1.1 200 OK\r\nContent-Length: 0",
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0",
    ]
    assert stored_for(ctx, "123456") == 1  # the same report twice is stored once
    with connect(harness.port("osmand:http:0")) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        assert receive_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 400")
        assert sock.recv(10) == b""  # a stream it cannot follow: closed


def test_bad_frames_are_counted_logged_and_survived(
    ctx: AppContext, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    frame = vector("jt808_elock", "jt808-53")
    corrupt = bytearray(frame)
    corrupt[30] ^= 0x55  # the check code no longer matches
    with (
        caplog.at_level(logging.WARNING, "smartcustoms.tracking.listeners"),
        connect(harness.port("jt808:tcp:0")) as sock,
    ):
        sock.sendall(b"garbage!" + bytes(corrupt) + frame)
        assert receive_until(sock, b"\x7e", 2) == ack_of("jt808", frame)
    wait_for(lambda: harness.stats("jt808:tcp:0")["acks"] == 1)
    assert harness.stats("jt808:tcp:0")["bad_frames"] == 2
    messages = [r.getMessage() for r in caplog.records]
    assert any("at stream byte 0:" in m and "garbage" in m for m in messages), messages
    # The check code sits at the corrupt frame's end: 8 bytes of garbage, then the frame.
    check_at = 8 + len(frame) - 2
    assert any(f"at stream byte {check_at}: " in m and "check code" in m for m in messages)
    assert stored_for(ctx, "200002604323") == 1


def test_acknowledgements_keep_their_order(ctx: AppContext, harness: Harness) -> None:
    encoder = ENCODERS["eseal"]
    frames = [encoder.report("ORDER1", [position("ORDER1")], n) for n in range(1, 41)]
    with connect(harness.port("eseal:tcp:0")) as sock:
        sock.sendall(b"".join(frames))
        answers = receive_until(sock, b"\r\n", 40).split(b"\r\n")[:40]
    assert [a.split(b"ACK,")[1].split(b",")[0] for a in answers] == [
        str(n).encode() for n in range(1, 41)
    ]


def test_nothing_is_acknowledged_when_the_store_fails(ctx: AppContext, harness: Harness) -> None:
    frame = vector("eseal_text", "eseal-0")
    with ctx.db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE tracking_positions RENAME TO tracking_positions_away"))
    try:
        with connect(harness.port("eseal:tcp:0")) as sock:
            sock.sendall(frame)
            assert sock.recv(100) == b""  # closed without an answer: the device sends again
    finally:
        with ctx.db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE tracking_positions_away RENAME TO tracking_positions"))
    wait_for(lambda: harness.stats("eseal:tcp:0")["store_failures"] == 1)
    with connect(harness.port("eseal:tcp:0")) as sock:  # the retransmission is stored
        sock.sendall(frame)
        assert receive_until(sock, b"\r\n") == ack_of("eseal", frame)


def test_unknown_devices_can_be_refused(ctx: AppContext) -> None:
    with ctx.unit() as unit:
        unit.session.add(
            DeviceRow(
                device_id="123456789012345",
                kind="tracker",
                registered_at=position("x").time,
                registered_by="admin",
                disabled=False,
            )
        )
    with Harness(ctx, ["teltonika:tcp:0"], accept_unknown_devices=False) as harness:
        wait_for(lambda: "123456789012345" in harness.ingestor._known_devices)
        with connect(harness.port("teltonika:tcp:0")) as sock:
            sock.sendall(b"\x00\x0f" + b"999999999999999")
            assert receive(sock, 1) == b"\x00"  # refused
            assert sock.recv(10) == b""
        with connect(harness.port("teltonika:tcp:0")) as sock:
            sock.sendall(vector("teltonika_codec8", "tel-imei-login"))
            assert receive(sock, 1) == b"\x01"
        wait_for(lambda: harness.stats("teltonika:tcp:0")["refused"] == 1)


def test_a_slow_writer_pauses_reading_and_loses_nothing(ctx: AppContext) -> None:
    encoder = ENCODERS["eseal"]
    with Harness(ctx, ["eseal:tcp:0"], high_water=3) as harness:
        frames = [encoder.report("SLOW1", [position("SLOW1")], n) for n in range(1, 201)]
        with connect(harness.port("eseal:tcp:0")) as sock:
            sock.sendall(b"".join(frames))
            answers = receive_until(sock, b"\r\n", 200)
        assert answers.count(b"ACK") == 200
        assert stored_for(ctx, "SLOW1") >= 1


def test_a_listener_process_collects_young_objects_rarely() -> None:
    # The records in flight between two commits must not be walked by dozens of collections
    # (server._freeze_heap); the collector still runs, on a larger allowance.
    before = gc.get_threshold()
    try:
        server._freeze_heap()
        threshold = gc.get_threshold()
        assert threshold == server.LISTENER_GC_THRESHOLDS
        assert threshold[0] >= 20_000 > before[0]
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
