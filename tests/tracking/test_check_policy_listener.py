"""A listener that chose ``jt808.bad_check=flag``: a report with a broken escape and check code
is answered and stored, flagged, with nothing a seal rule reads; the default still refuses."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import Settings
from smartcustoms.tracking.listeners.process import read_ready, start_listeners, stop_process
from smartcustoms.tracking.listeners.server import ListenConfig, ListenerSet
from smartcustoms.tracking.listeners.spec import parse_spec
from smartcustoms.tracking.tables import PositionRow
from tests.waiting import wait_for

from .listening import Harness, connect, receive_until
from .protocols.test_check_policy import FLAG, SEAL_STATE, broken_jt808


def stored(ctx: AppContext) -> list[tuple[str | None, str]]:
    with ctx.db.engine.connect() as conn:
        query = select(PositionRow.implausible, PositionRow.attributes)
        return [(row.implausible, row.attributes) for row in conn.execute(query)]


def test_a_flagging_listener_stores_the_report_without_its_seal_state(ctx: AppContext) -> None:
    harness = Harness(ctx, ["jt808:tcp:0"])
    config = ListenConfig(specs=[parse_spec("jt808:tcp:0")], host="127.0.0.1", options=FLAG)
    harness.listeners = ListenerSet(config, harness.ingestor)
    with harness, connect(harness.port("jt808:tcp:0")) as sock:
        sock.sendall(broken_jt808("jt808-62"))
        assert receive_until(sock, b"\x7e", 2).startswith(b"\x7e\x80\x01")  # answered
        wait_for(lambda: harness.stored() == 1)
        assert harness.stats("jt808:tcp:0")["bad_frames"] == 0
    ((implausible, text),) = stored(ctx)
    assert implausible == "check_code"
    attributes = json.loads(text)
    assert set(attributes) == {"unverified", "integrity"}
    assert SEAL_STATE.isdisjoint(attributes) and "tamper" in attributes["unverified"]["events"]


def test_by_default_the_listener_refuses_and_counts_it(ctx: AppContext) -> None:
    with Harness(ctx, ["jt808:tcp:0"]) as harness, connect(harness.port("jt808:tcp:0")) as sock:
        sock.sendall(broken_jt808("jt808-62"))
        wait_for(lambda: harness.stats("jt808:tcp:0")["bad_frames"] == 1)
        assert harness.stats("jt808:tcp:0")["acks"] == 0
    assert harness.stored() == 0


def test_the_setting_reaches_the_listen_command(settings: Settings, tmp_path: Path) -> None:
    # What an operator sets: SMARTCUSTOMS_TRACKING_PROTOCOL_OPTIONS, read by `tracking listen`
    # (and so by the listeners `serve` starts).
    from smartcustoms.core.db import Database
    from smartcustoms.core.schema import upgrade

    db = Database(settings.sqlalchemy_url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    ready = tmp_path / "ready.json"
    env = {
        "SMARTCUSTOMS_DATA_DIR": str(settings.data_dir),
        "SMARTCUSTOMS_DATABASE_URL": settings.sqlalchemy_url,
        "SMARTCUSTOMS_TRACKING_MQTT_URL": "",
        "SMARTCUSTOMS_TRACKING_PROTOCOL_OPTIONS": '["jt808.bad_check=flag"]',
    }
    args = ["--host", "127.0.0.1", "--listener", "jt808:tcp:0"]
    process = start_listeners(args=args, ready_file=ready, env=env, log=tmp_path / "listen.log")
    try:
        port = read_ready(ready)["listeners"]["jt808:tcp:0"]["port"]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(broken_jt808("jt808-62"))
            assert receive_until(sock, b"\x7e", 2).startswith(b"\x7e\x80\x01")  # answered
    finally:
        assert stop_process(process) == 0
    ((implausible, _),) = stored_in(settings)
    assert implausible == "check_code"


def test_a_malformed_option_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match=r"protocol\.option=value"):
        Settings(tracking_protocol_options=["bad_check=flag"])


def stored_in(settings: Settings) -> list[tuple[str | None, str]]:
    from smartcustoms.core.db import Database

    db = Database(settings.sqlalchemy_url)
    try:
        with db.engine.connect() as conn:
            query = select(PositionRow.implausible, PositionRow.attributes)
            return [(row.implausible, row.attributes) for row in conn.execute(query)]
    finally:
        db.dispose()
