"""The MQTT subscriber against a real Mosquitto broker (127.0.0.1:1883): the topic scheme,
acknowledgement only after the commit, and workers sharing a subscription."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select, text

from smartcustoms.core.context import AppContext
from smartcustoms.tracking.listeners.mqtt import MqttConfig
from smartcustoms.tracking.mqtt_scheme import frames_topic, positions_topic
from smartcustoms.tracking.tables import PositionRow
from tests.services import reachable, unavailable
from tests.waiting import wait_for

from .listening import Harness
from .vectorfiles import load

BROKER = ("127.0.0.1", 1883)


@pytest.fixture
def broker() -> None:
    if not reachable(*BROKER):
        unavailable("MQTT broker", f"{BROKER[0]}:{BROKER[1]}")


@pytest.fixture
def prefix() -> str:
    """A topic prefix of the test's own, so runs and tests never see each other's messages."""
    return f"sctest{secrets.token_hex(4)}"


def config(prefix: str, client_id: str, group: str | None = "ingest") -> MqttConfig:
    return MqttConfig(
        host=BROKER[0],
        port=BROKER[1],
        username=None,
        password=None,
        prefix=prefix,
        share_group=group,
        client_id=client_id,
    )


@pytest.fixture
def publisher(broker: None) -> Iterator[paho.Client]:
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"sctest-pub-{secrets.token_hex(4)}",
        protocol=paho.MQTTv5,
    )
    client.connect(*BROKER)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def publish(client: paho.Client, topic: str, payload: bytes, qos: int = 1) -> None:
    client.publish(topic, payload, qos=qos).wait_for_publish(10)


def stored(ctx: AppContext, device: str | None = None) -> int:
    query = select(func.count()).select_from(PositionRow)
    if device:
        query = query.where(PositionRow.device_id == device)
    with ctx.db.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def subscribed(harness: Harness) -> None:
    assert harness.listeners.mqtt is not None
    assert harness.listeners.mqtt.subscribed.wait(10), "no subscription"


def record(minutes: int = 0, **extra: object) -> dict[str, object]:
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return {"time": at.isoformat().replace("+00:00", "Z"), "latitude": -3.4, "longitude": 38.55,
            "speed_kmh": 55.5, **extra}  # fmt: skip


def test_json_positions_and_raw_frames(
    ctx: AppContext, publisher: paho.Client, prefix: str
) -> None:
    with Harness(ctx, [], mqtt=config(prefix, f"sctest-{prefix}")) as harness:
        subscribed(harness)
        payload = json.dumps(
            [record(0), record(1, events=["opened"], attributes={"locked": False})]
        )
        publish(publisher, positions_topic(prefix, "MQ1"), payload.encode())
        frame = next(v.message for v in load("jt808_elock") if v.id == "jt808-53")
        publish(publisher, frames_topic(prefix, "GW-LOCK-7", "jt808"), frame)
        publish(publisher, positions_topic(prefix, "MQ2"), b"{not json")
        publish(
            publisher, positions_topic(prefix, "MQ3"), json.dumps({"records": [record(2)]}).encode()
        )
        wait_for(lambda: stored(ctx) == 4)
        assert stored(ctx, "MQ1") == 2 and stored(ctx, "GW-LOCK-7") == 1 and stored(ctx, "MQ3") == 1
        mqtt = harness.listeners.mqtt
        assert mqtt is not None
        wait_for(lambda: mqtt.stats.bad_frames == 1 and mqtt.stats.acks == 4)
    with ctx.db.engine.connect() as conn:
        events = conn.execute(
            select(PositionRow.events, PositionRow.protocol).where(PositionRow.device_id == "MQ1")
        ).all()
    assert sorted((e or "", p) for e, p in events) == [("", "mqtt"), ("opened", "mqtt")]


def test_a_message_is_acknowledged_only_once_stored(
    ctx: AppContext, publisher: paho.Client, prefix: str
) -> None:
    client_id = f"sctest-{prefix}"
    with Harness(ctx, [], mqtt=config(prefix, client_id, group=None)) as harness:
        subscribed(harness)
        with ctx.db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE tracking_positions RENAME TO tracking_positions_away"))
        try:
            publish(publisher, positions_topic(prefix, "MQ9"), json.dumps(record()).encode())
            mqtt = harness.listeners.mqtt
            assert mqtt is not None
            wait_for(lambda: mqtt.stats.store_failures == 1)
            assert mqtt.stats.acks == 0
        finally:
            with ctx.db.engine.begin() as conn:
                conn.execute(
                    text("ALTER TABLE tracking_positions_away RENAME TO tracking_positions")
                )
    assert stored(ctx) == 0
    # The broker kept the unacknowledged message in the worker's session: it comes back.
    with Harness(ctx, [], mqtt=config(prefix, client_id, group=None)) as harness:
        wait_for(lambda: stored(ctx, "MQ9") == 1)


def test_workers_share_the_load(ctx: AppContext, publisher: paho.Client, prefix: str) -> None:
    with (
        Harness(ctx, [], mqtt=config(prefix, f"sctest-{prefix}-a")) as first,
        Harness(ctx, [], mqtt=config(prefix, f"sctest-{prefix}-b")) as second,
    ):
        subscribed(first)
        subscribed(second)
        for n in range(40):
            publish(
                publisher, positions_topic(prefix, f"SH{n % 4}"), json.dumps(record(n)).encode()
            )
        wait_for(lambda: stored(ctx) == 40)
        assert first.listeners.mqtt is not None and second.listeners.mqtt is not None
        a, b = first.listeners.mqtt.stats.records, second.listeners.mqtt.stats.records
    assert a + b == 40 and a > 0 and b > 0  # each message to one worker, both worked


def test_a_stopped_worker_leaves_the_share_group(
    ctx: AppContext, publisher: paho.Client, prefix: str
) -> None:
    """Fewer workers than before: the one stopped gets no more messages. Its persistent session
    outlives it at the broker; were it still subscribed, the broker would queue its share of new
    messages for it (Mosquitto does) and they would wait for a client of its ID to return."""
    with Harness(ctx, [], mqtt=config(prefix, f"sctest-{prefix}-stays")) as staying:
        with Harness(ctx, [], mqtt=config(prefix, f"sctest-{prefix}-goes")) as going:
            subscribed(staying)
            subscribed(going)
            publish(publisher, positions_topic(prefix, "SG0"), json.dumps(record(0)).encode())
            wait_for(lambda: stored(ctx) == 1)
        assert going.listeners.mqtt is not None and not going.listeners.mqtt.subscribed.is_set()
        for n in range(1, 31):
            topic = positions_topic(prefix, f"SG{n % 3}")
            publish(publisher, topic, json.dumps(record(n)).encode())
        wait_for(lambda: stored(ctx) == 31, timeout=20, message="messages went to the stopped one")
        assert staying.listeners.mqtt is not None
        assert staying.listeners.mqtt.stats.records >= 30


def test_a_killed_worker_s_queued_share_is_stored_by_another(
    ctx: AppContext, publisher: paho.Client, prefix: str, tmp_path: Path
) -> None:
    """SIGKILL leaves no time to leave the share group: the broker goes on queueing the dead
    worker's share for its session. Its will, after ``tracking_mqtt_reap_after_s``, has a
    surviving worker take that session over and store every queued message, once."""
    dying_id = f"sctest-{prefix}-dies"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")}
    assert ctx.settings.secret_key is not None
    env |= {
        "SMARTCUSTOMS_DATABASE_URL": ctx.settings.sqlalchemy_url,
        "SMARTCUSTOMS_DATA_DIR": str(tmp_path / "dying"),
        "SMARTCUSTOMS_SECRET_KEY": ctx.settings.secret_key.get_secret_value(),
        "SMARTCUSTOMS_TRACKING_MQTT_TOPIC_PREFIX": prefix,
        "SMARTCUSTOMS_TRACKING_MQTT_SHARE_GROUP": "ingest",
        "SMARTCUSTOMS_TRACKING_MQTT_REAP_AFTER_S": "1",
    }
    ready = tmp_path / "ready.json"
    dying = subprocess.Popen(
        [sys.executable, "-m", "smartcustoms", "tracking", "listen", "--listener",
         "jt808:tcp:0", "--host", "127.0.0.1", "--mqtt", f"mqtt://{BROKER[0]}:{BROKER[1]}",
         "--mqtt-client-id", dying_id, "--ready-file", str(ready)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(ready.exists, timeout=60, message="the worker to be killed did not start")
        with Harness(ctx, [], mqtt=config(prefix, f"sctest-{prefix}-lives")) as living:
            subscribed(living)
            # Both in the group: messages go to each in turn, the dying one stores its share.
            sent = 0

            def send(count: int) -> None:
                nonlocal sent
                for _ in range(count):
                    topic = positions_topic(prefix, f"KW{sent % 4}")
                    publish(publisher, topic, json.dumps(record(sent)).encode())
                    sent += 1

            send(10)
            wait_for(lambda: stored(ctx) == 10, timeout=20, message="not shared by both")
            assert living.listeners.mqtt is not None
            assert living.listeners.mqtt.stats.records < 10  # the dying one took a share
            os.kill(dying.pid, signal.SIGKILL)
            dying.wait(10)
            send(30)  # some of these are queued for the dead one's session
            wait_for(lambda: stored(ctx) == 40, timeout=30, message="the dead one's share waits")
            reaper = living.listeners.mqtt.reapers.get(dying_id)
            assert reaper is not None and reaper.stats.records > 0  # it was taken over
            wait_for(reaper.reaped.is_set, timeout=15, message="the session was not ended")
            send(10)  # the group is one worker again: nothing more is queued for the dead one
            wait_for(lambda: stored(ctx) == 50, timeout=20, message="the group did not heal")
        assert stored(ctx) == 50  # each message once
    finally:
        if dying.poll() is None:
            dying.kill()
            dying.wait(10)
