"""The MQTT subscriber: gateways and modern devices publish to a broker (the topic scheme is in
:mod:`smartcustoms.tracking.mqtt_scheme`), ingest workers share the subscription.

MQTT 5, a persistent session (``clean_start`` false, a day's session expiry) under a stable
client ID, and manual acknowledgement: the PUBACK of a QoS 1 message goes to the broker only
after the writer committed its records. A worker killed before that gets the message again when
it reconnects; one that cannot store leaves it unacknowledged (the broker then stops sending
once its in-flight window is full, which is the backpressure we want).

Several workers split the load with a shared subscription (``$share/<group>/…``); each message
goes to one of them. A worker that stops unsubscribes first and finishes what it was sent: the
broker keeps a stopped worker's persistent session in the group and goes on giving it its share
of new messages, queued until a client with its ID returns — for a day, or for ever if the
number of workers went down.

A worker that cannot unsubscribe (killed with SIGKILL, crashed, its machine cut off) leaves
that share queued too. So each worker in a group leaves a will, delayed by
``tracking_mqtt_reap_after_s``: if it does not come back in time, the broker announces it
gone, one surviving worker (a share group of its own) connects under the vanished one's ID,
unsubscribes it, stores and acknowledges what was queued, and ends the session. Should the
vanished worker come back meanwhile, it takes its session over and the reaper steps aside;
nothing is acknowledged before it is stored, so nothing is lost either way.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from smartcustoms.core import clock
from smartcustoms.core.errors import ConfigurationError
from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.listeners.spec import ListenerStats
from smartcustoms.tracking.mqtt_scheme import (
    decode_message,
    is_worker_gone,
    subscription,
    worker_gone_subscription,
    worker_gone_topic,
)

__all__ = ["MqttConfig", "MqttSubscriber", "parse_mqtt_url"]

log = logging.getLogger("smartcustoms.tracking.listeners")

_SESSION_EXPIRY_S = 24 * 3600
#: On stop, how long to wait for the broker's UNSUBACK and then for the messages it had already
#: sent to be stored and acknowledged; and how long without a new one counts as drained.
_DRAIN_S = 3.0
_QUIET_S = 0.3


@dataclass(frozen=True)
class MqttConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    prefix: str
    share_group: str | None
    client_id: str
    #: A vanished worker's will waits this long for it to come back (setting
    #: ``tracking_mqtt_reap_after_s``).
    reap_after_s: int = 15
    keepalive_s: int = 30


def parse_mqtt_url(url: str) -> tuple[str, int, str | None, str | None]:
    """``mqtt://[user[:password]@]host[:port]`` → host, port, user, password."""
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise ConfigurationError(
            f"MQTT broker {url!r}: expected mqtt://[user[:password]@]host[:port]",
            details=[{"setting": "SMARTCUSTOMS_TRACKING_MQTT_URL", "value": "(hidden)"}],
        )
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.hostname, parts.port or 1883, user, password


class MqttSubscriber:
    def __init__(
        self, config: MqttConfig, ingestor: Ingestor, *, parent: MqttSubscriber | None = None
    ) -> None:
        self.config = config
        self.ingestor = ingestor
        #: Set for a reaper: it takes over a vanished worker's session for ``parent``.
        self.parent = parent
        self.reapers: dict[str, MqttSubscriber] = {}
        self.reaped = threading.Event()  # a reaper's work is over
        self.stats = ListenerStats()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._unsubscribed = threading.Event()
        self._topic = subscription(config.prefix, config.share_group)
        self._lock = threading.Lock()
        self._in_flight = 0  # messages received and not yet acknowledged or given up
        self._last_message = 0.0  # time.monotonic() of the latest one
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=paho.MQTTv5,
            manual_ack=True,
        )
        if config.username:
            client.username_pw_set(config.username, config.password)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = self._on_unsubscribe
        client.on_message = self._on_message
        client.reconnect_delay_set(1, 30)
        if config.share_group:
            # Announced by the broker only if this connection ends without a DISCONNECT and
            # does not come back within the delay (MQTT 5 Will Delay Interval).
            will = Properties(PacketTypes.WILLMESSAGE)  # type: ignore[no-untyped-call]
            will.WillDelayInterval = config.reap_after_s
            client.will_set(
                worker_gone_topic(config.prefix, config.client_id),
                config.client_id.encode(),
                qos=1,
                properties=will,
            )
        self.client = client
        # Announcements of vanished workers come on a connection of their own, with no session
        # kept: a dead worker must leave that share group at once, or the broker would queue
        # for it the news of its own death.
        self._watcher: paho.Client | None = None
        if config.share_group and parent is None:
            watcher = paho.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=f"{config.client_id}.watch",
                protocol=paho.MQTTv5,
            )
            if config.username:
                watcher.username_pw_set(config.username, config.password)
            watcher.on_connect = self._on_watcher_connect
            watcher.on_message = self._on_watcher_message
            watcher.reconnect_delay_set(1, 30)
            self._watcher = watcher

    @property
    def name(self) -> str:
        return f"mqtt:{self.config.host}:{self.config.port}"

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = _SESSION_EXPIRY_S
        self.client.connect_async(
            self.config.host,
            self.config.port,
            keepalive=self.config.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self.client.loop_start()
        if self._watcher is not None:
            self._watcher.connect_async(
                self.config.host, self.config.port, keepalive=self.config.keepalive_s,
                clean_start=True,
            )  # fmt: skip
            self._watcher.loop_start()

    def stop(self) -> None:
        """Leave the share group, finish what the broker already sent, then disconnect (the
        session stays, with no subscription, for a restart under the same ID). Blocks for up
        to about twice ``_DRAIN_S``: call it off the event loop."""
        if self._watcher is not None:
            self._watcher.disconnect()
            self._watcher.loop_stop()
        for reaper in list(self.reapers.values()):
            reaper.reaped.wait(_DRAIN_S)
            reaper.client.disconnect()
            reaper.client.loop_stop()
        if self.subscribed.is_set():
            self._unsubscribed.clear()
            result, _ = self.client.unsubscribe(self._topic)
            if result == paho.MQTT_ERR_SUCCESS and self._unsubscribed.wait(_DRAIN_S):
                self._drain(time.monotonic() + _DRAIN_S)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_watcher_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.error("%s: the broker refused the watcher: %s", self.name, reason)
            return
        assert self.config.share_group is not None
        topic = worker_gone_subscription(self.config.prefix, self.config.share_group)
        client.subscribe(topic, options=SubscribeOptions(qos=1))

    def _on_watcher_message(
        self, client: paho.Client, userdata: Any, message: paho.MQTTMessage
    ) -> None:
        if is_worker_gone(message.topic, self.config.prefix):
            self._reap(bytes(message.payload).decode("utf-8", "replace"))

    def _reap(self, client_id: str) -> None:
        """Take over the session of ``client_id``, announced gone (see the module's notes)."""
        owner = self.parent or self
        if client_id == owner.config.client_id:
            return  # our own will from before a restart: we already have our session back
        with owner._lock:
            if client_id in owner.reapers and not owner.reapers[client_id].reaped.is_set():
                return
            reaper = MqttSubscriber(replace(owner.config, client_id=client_id), owner.ingestor,
                                    parent=owner)  # fmt: skip
            owner.reapers[client_id] = reaper
        log.warning("%s: worker %s vanished; storing what was queued for it", self.name, client_id)
        reaper.start()
        threading.Thread(target=reaper._finish_reaping, name="mqtt-reaper", daemon=True).start()

    def _finish_reaping(self) -> None:
        """A reaper: once unsubscribed and drained, end the vanished worker's session."""
        if self._unsubscribed.wait(_DRAIN_S * 10) and not self.reaped.is_set():
            self._drain(time.monotonic() + 600)
            properties = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 0  # the session ends with this connection
            self.client.disconnect(properties=properties)
            log.info("%s: session of vanished worker %s ended", self.name, self.config.client_id)
        self.reaped.set()
        self.client.loop_stop()

    def _drain(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            with self._lock:
                idle = self._in_flight == 0 and time.monotonic() - self._last_message >= _QUIET_S
            if idle:
                return
            time.sleep(0.02)
        log.warning("%s: %d messages not stored before stopping", self.name, self._in_flight)

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.error("%s: the broker refused the connection: %s", self.name, reason)
            return
        self.stats.connections += 1
        self.connected.set()
        if self.parent is not None:
            # A reaper: no new messages for the vanished worker's session, only those queued
            # (the broker sends them after the CONNACK, whatever we do now).
            self._unsubscribed.clear()
            client.unsubscribe(self._topic)
            return
        client.subscribe(self._topic, options=SubscribeOptions(qos=1))
        log.info("%s: connected, subscribing to %s", self.name, self._topic)

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        if all(not r.is_failure for r in reasons):
            self.subscribed.set()
        else:
            log.error("%s: subscription refused: %s", self.name, reasons)

    def _on_unsubscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        self.subscribed.clear()
        self._unsubscribed.set()

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if self.parent is not None:
            # A reaper never reconnects: the worker came back and took its session over, or
            # the reaper's work is done.
            self.reaped.set()
            self._unsubscribed.set()
            client.disconnect()
            return
        if reason.is_failure:
            log.warning("%s: disconnected (%s); reconnecting", self.name, reason)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        received_at = clock.now()
        mid, qos = message.mid, message.qos
        with self._lock:
            self._in_flight += 1
            self._last_message = time.monotonic()
        try:
            parsed = decode_message(
                message.topic,
                bytes(message.payload),
                prefix=self.config.prefix,
                received_at=received_at,
            )
        except FrameError as error:
            self.stats.bad_frames += 1
            log.warning(
                "%s: bad message on %s at byte %d: %s",
                self.name,
                message.topic,
                error.offset,
                error.message,
            )
            self._ack(mid, qos)  # a bad message never gets better: do not have it redelivered
            return
        if parsed is None:
            self._ack(mid, qos)
            return
        self.stats.frames += 1
        if not parsed.records:
            self._ack(mid, qos)
            return
        if not self.ingestor.allows(parsed.device_id):
            self.stats.refused += 1
            log.warning("%s: unknown device %s refused", self.name, parsed.device_id)
            self._ack(mid, qos)
            return
        self.stats.records += len(parsed.records)

        def done(stored: bool) -> None:
            if stored:
                self._ack(mid, qos)
            else:
                self.stats.store_failures += 1
                self._settled()  # left unacknowledged: the broker sends it again

        self.ingestor.submit_records(
            parsed.records, received_at, parsed.protocol, parsed.device_id, done
        )

    def _ack(self, mid: int, qos: int) -> None:
        if qos > 0:
            self.client.ack(mid, qos)
            self.stats.acks += 1
        self._settled()

    def _settled(self) -> None:
        with self._lock:
            self._in_flight -= 1
