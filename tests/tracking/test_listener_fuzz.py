"""Random and mutated bytes thrown at live listeners over sockets: whatever arrives, the
listener survives (no exception escapes into the event loop), and the next device is served."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcustoms.core.context import AppContext
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.tracking.protocols import Context, get_protocol

from .listening import Harness, connect, receive
from .vectorfiles import load

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
VALID = {
    "jt808": next(v.message for v in load("jt808_elock") if v.id == "jt808-53"),
    "eseal": next(v.message for v in load("eseal_text") if v.id == "eseal-0"),
    "teltonika": next(v.message for v in load("teltonika_codec8") if v.id == "tel-imei-login"),
    "gt06": next(v.message for v in load("gt06") if v.id == "gt06-01-1"),
    "osmand": next(v.message for v in load("osmand_http") if v.id == "osmand-9")
    + b" HTTP/1.1\r\nHost: t\r\n\r\n",
    "jt701": next(v.message for v in load("jointech_jt701_elock") if v.id == "jt600-2"),
}
SPECS = {
    "jt808": "jt808:tcp:0",
    "eseal": "eseal:tcp:0",
    "teltonika": "teltonika:tcp:0",
    "gt06": "gt06:tcp:0",
    "osmand": "osmand:http:0",
    "jt701": "jt701:tcp:0",
}
ENDS = {
    "jt808": (b"\x7e", 2),
    "eseal": (b"\r\n", 1),
    "gt06": (b"\r\n", 1),
    "osmand": (b"\r\n\r\n", 1),
}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Harness, list[Any]]]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    settings_ = load_settings(
        None, data_dir=folder, database_url=f"sqlite:///{folder / 'fuzz.db'}", secret_key="k" * 40
    )
    ctx = AppContext.from_settings(settings_)
    upgrade(ctx.db)
    errors: list[Any] = []
    with Harness(ctx, list(SPECS.values())) as harness:
        harness.loop.call_soon_threadsafe(
            harness.loop.set_exception_handler, lambda loop, context: errors.append(context)
        )
        yield harness, errors
    ctx.close()


def mutations(data: bytes) -> st.SearchStrategy[bytes]:
    flips = st.lists(
        st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), min_size=1, max_size=6
    )

    def apply(changes: list[tuple[int, int]]) -> bytes:
        out = bytearray(data)
        for at, value in changes:
            out[at] = value
        return bytes(out)

    cuts = st.integers(0, len(data)).map(lambda n: data[:n])
    return st.one_of(flips.map(apply), cuts, st.binary(max_size=600))


def served(harness: Harness, name: str) -> None:
    """A well-behaved device still gets its answer."""
    frame = VALID[name]
    ack = get_protocol(name).decode(frame, Context()).ack
    assert ack is not None
    with connect(harness.port(SPECS[name])) as sock:
        sock.sendall(frame)
        assert receive(sock, len(ack)) == ack


@pytest.mark.parametrize("name", sorted(SPECS))
def test_listener_survives_fuzz(running: tuple[Harness, list[Any]], name: str) -> None:
    harness, errors = running

    @FUZZ
    @given(data=st.data())
    def throw(data: st.DataObject) -> None:
        payload = data.draw(mutations(VALID[name]))
        with connect(harness.port(SPECS[name])) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(5)
            try:  # whatever it answers, it answers or closes; it never hangs or crashes
                while sock.recv(4096):
                    pass
            except (ConnectionResetError, TimeoutError):
                pass

    throw()
    served(harness, name)
    assert errors == []
    stats = harness.stats(SPECS[name])
    assert stats["bad_frames"] > 0  # the garbage was seen, counted, and survived
