"""What simulated devices send: reports encoded in the real device protocols, and how each
protocol's device waits for its answer.

Each encoder turns :class:`~smartcustoms.tracking.records.Position` records into the bytes a
device of that kind would send, so that the simulator exercises the same framing, decoding and
acknowledgement paths as real devices. Only what the protocol can say is encoded: a Teltonika
tracker has no seal to open, so its "opening" is not sent (see :data:`EVENTS_SUPPORTED`).
"""

from __future__ import annotations

import asyncio
import json
import struct
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Final
from urllib.parse import urlencode

from smartcustoms.tracking.protocols import gt06, jt808
from smartcustoms.tracking.protocols.checksums import crc16_ibm
from smartcustoms.tracking.records import Position, SealEvent

__all__ = [
    "ENCODERS",
    "EVENTS_SUPPORTED",
    "Encoder",
    "device_id_for",
    "multi_record",
]

_KNOTS: Final = 1.852


def device_id_for(protocol: str, n: int) -> str:
    """The ``n``-th simulated device's ID, in the form the protocol carries it."""
    if protocol in ("teltonika", "gt06"):
        return f"{359_000_000_000_000 + n:015d}"  # an IMEI
    if protocol == "jt808":
        return f"{13_800_000_000 + n:012d}"  # a terminal phone number
    return f"SIM{n:06d}"


class Encoder(ABC):
    """One protocol's device side: every protocol frames reports and reads their answers."""

    name = ""
    login_ack = False  # the device waits for an answer to its login
    data_ack = True  # the device waits for an answer to each report

    def login(self, device_id: str) -> bytes | None:
        return None

    @abstractmethod
    def report(self, device_id: str, positions: Sequence[Position], serial: int) -> bytes:
        """The frame that carries ``positions``."""

    def acked(self, positions: Sequence[Position]) -> bool:
        return self.data_ack

    @abstractmethod
    async def read_ack(self, reader: asyncio.StreamReader) -> bytes:
        """Read the server's answer to one frame from a stream connection."""


class Teltonika(Encoder):
    """Codec 8 over TCP: IMEI login answered 0x01, AVL packets answered with the count."""

    name = "teltonika"
    login_ack = True

    def login(self, device_id: str) -> bytes:
        return b"\x00\x0f" + device_id.encode("ascii")

    def report(self, device_id: str, positions: Sequence[Position], serial: int) -> bytes:
        records = b"".join(self._record(p) for p in positions)
        data = bytes((0x08, len(positions))) + records + bytes((len(positions),))
        crc = crc16_ibm(data)
        return b"\x00\x00\x00\x00" + struct.pack(">I", len(data)) + data + struct.pack(">I", crc)

    @staticmethod
    def _record(p: Position) -> bytes:
        assert p.latitude is not None and p.longitude is not None
        head = struct.pack(
            ">QBiihHBH",
            int(p.time.timestamp() * 1000),  # timestamp, ms
            0,  # priority
            round(p.longitude * 10_000_000),
            round(p.latitude * 10_000_000),
            round(p.altitude or 0),
            round(p.course or 0) % 360,
            p.satellites or 0,
            round(p.speed_kmh or 0),
        )
        one = [(239, 1)]  # ignition on
        if SealEvent.GPS_JAMMING in p.events:
            one.append((249, 1))  # jamming
        if SealEvent.POWER_CUT in p.events:
            one.append((252, 1))  # unplug
        two = [(66, 12_600), (67, 4_000)]  # external and battery voltage, mV
        io = struct.pack(">BB", 0, len(one) + len(two))  # event IO, total
        io += bytes((len(one),)) + b"".join(struct.pack(">BB", k, v) for k, v in one)
        io += bytes((len(two),)) + b"".join(struct.pack(">BH", k, v) for k, v in two)
        io += b"\x00\x00"  # no 4- or 8-byte elements
        return head + io

    async def read_ack(self, reader: asyncio.StreamReader) -> bytes:
        return await reader.readexactly(4)


class Jt808(Encoder):
    """JT/T 808 location reports (0x0200) with the e-lock alarm bits, answered with 0x8001."""

    name = "jt808"
    _BEIJING = timedelta(hours=8)  # the standard's clock

    @staticmethod
    def _phone(device_id: str) -> bytes:
        return bytes.fromhex(device_id.rjust(12, "0")[-12:])

    def report(self, device_id: str, positions: Sequence[Position], serial: int) -> bytes:
        (p,) = positions
        assert p.latitude is not None and p.longitude is not None
        alarm = 0
        if SealEvent.OPENED in p.events or SealEvent.UNLOCKED in p.events:
            alarm |= 1 << 31  # illegal door opening
        if SealEvent.TAMPER in p.events:
            alarm |= 1 << 16
        if SealEvent.LOW_BATTERY in p.events:
            alarm |= 1 << 18
        if SealEvent.POWER_CUT in p.events:
            alarm |= 1 << 8
        status = 0x01 | (0x02 if p.valid else 0)
        if p.latitude < 0:
            status |= 0x04
        if p.longitude < 0:
            status |= 0x08
        local = (p.time.astimezone(UTC) + self._BEIJING).strftime("%y%m%d%H%M%S")
        body = struct.pack(
            ">IIIIhHH",
            alarm,
            status,
            round(abs(p.latitude) * 1_000_000),
            round(abs(p.longitude) * 1_000_000),
            round(p.altitude or 0),
            round((p.speed_kmh or 0) * 10),
            round(p.course or 0) % 360,
        )
        body += bytes.fromhex(local)
        body += bytes((0x31, 1, p.satellites or 0))  # satellites in use
        level = p.attributes.get("battery_level")
        if isinstance(level, int | float):
            body += bytes((0x06, 1, max(0, min(100, round(level)))))  # battery %
        return jt808.encode_frame(0x0200, self._phone(device_id), serial & 0xFFFF, body)

    async def read_ack(self, reader: asyncio.StreamReader) -> bytes:
        first = await reader.readuntil(b"\x7e")
        if first != b"\x7e":  # resynchronise on a flag
            return first
        return first + await reader.readuntil(b"\x7e")


class Gt06(Encoder):
    """Concox GT06: login (answered), locations 0x22 (not answered), alarms 0x26 (answered)."""

    name = "gt06"
    login_ack = True
    _ALARMS: Final = {
        SealEvent.OPENED: 0x14,
        SealEvent.UNLOCKED: 0x34,
        SealEvent.TAMPER: 0x13,
        SealEvent.LOW_BATTERY: 0x0E,
        SealEvent.POWER_CUT: 0x02,
    }

    def login(self, device_id: str) -> bytes:
        return gt06.encode_reply(0x01, 1, bytes.fromhex("0" + device_id))

    def _alarm(self, p: Position) -> int | None:
        for event in p.events:
            if event in self._ALARMS:
                return self._ALARMS[event]
        return None

    def acked(self, positions: Sequence[Position]) -> bool:
        return self._alarm(positions[0]) is not None

    def report(self, device_id: str, positions: Sequence[Position], serial: int) -> bytes:
        (p,) = positions
        assert p.latitude is not None and p.longitude is not None
        t = p.time.astimezone(UTC)
        flags = (round(p.course or 0) % 360) | (0x1000 if p.valid else 0)
        if p.latitude >= 0:
            flags |= 0x0400
        if p.longitude < 0:
            flags |= 0x0800
        gps = struct.pack(
            ">7BIIBH",
            t.year - 2000,
            t.month,
            t.day,
            t.hour,
            t.minute,
            t.second,
            0xC0 | min(15, p.satellites or 0),
            round(abs(p.latitude) * 1_800_000),
            round(abs(p.longitude) * 1_800_000),
            min(255, round(p.speed_kmh or 0)),
            flags,
        )
        lbs = struct.pack(">HBH", 639, 2, 0x1234) + (0x00ABCD).to_bytes(3, "big")
        serial &= 0xFFFF
        alarm = self._alarm(p)
        if alarm is None:
            return gt06.encode_reply(0x22, serial, gps + lbs + b"\x01\x00\x00")
        status = struct.pack(">BBBBB", 0x03, 6, 4, alarm, 2)
        return gt06.encode_reply(0x26, serial, gps + bytes((len(lbs) + 1,)) + lbs + status)

    async def read_ack(self, reader: asyncio.StreamReader) -> bytes:
        return await reader.readuntil(b"\r\n")


class Eseal(Encoder):
    """The text e-seal: one ``##S,…,E##`` sentence per report, answered ``… ACK,<index>``."""

    name = "eseal"
    _EVENTS: Final = {
        SealEvent.OPENED: "Event-Door",
        SealEvent.UNLOCKED: "Event-RC-Unlock",
        SealEvent.TAMPER: "Event-Drop",
        SealEvent.LOCKED: "Event-Lock",
    }

    def report(self, device_id: str, positions: Sequence[Position], serial: int) -> bytes:
        (p,) = positions
        assert p.latitude is not None and p.longitude is not None
        kind = next((self._EVENTS[e] for e in p.events if e in self._EVENTS), "Normal")
        door = "Open" if SealEvent.OPENED in p.events else "Close"
        t = p.time.astimezone(UTC)
        lat = f"{abs(p.latitude):.6f}{'N' if p.latitude >= 0 else 'S'}"
        lon = f"{abs(p.longitude):.6f}{'E' if p.longitude >= 0 else 'W'}"
        volts = 3.0 if SealEvent.LOW_BATTERY in p.events else 4.1
        fields = [
            "eSeal",
            device_id,
            "1",
            "1.0.6",
            kind,
            str(serial % 65536),
            t.strftime("%Y-%m-%d"),
            t.strftime("%H:%M:%S"),
            "10",
            "A" if p.valid else "V",
            f"{lat} {lon}",
            str(round(p.course or 0) % 360),
            str(round(p.speed_kmh or 0)),
            door,
            "0.0",
            "0",
            f"{volts:.1f}",
            "-75",
        ]
        return ("##S," + ",".join(fields) + ",E##\r\n").encode("ascii")

    async def read_ack(self, reader: asyncio.StreamReader) -> bytes:
        return await reader.readuntil(b"\r\n")


class Osmand(Encoder):
    """OsmAnd / Traccar Client: an HTTP/1.1 GET per report on a kept-alive connection."""

    name = "osmand"

    def report(self, device_id: str, positions: Sequence[Position], serial: int) -> bytes:
        (p,) = positions
        params: dict[str, str | float | int] = {
            "id": device_id,
            "timestamp": int(p.time.timestamp()),
            "lat": f"{p.latitude:.6f}",
            "lon": f"{p.longitude:.6f}",
            "speed": round((p.speed_kmh or 0) / _KNOTS, 2),
            "bearing": round(p.course or 0),
        }
        level = p.attributes.get("battery_level")
        if isinstance(level, int | float):
            params["batt"] = level
        target = "/?" + urlencode(params)
        return f"GET {target} HTTP/1.1\r\nHost: smartcustoms\r\n\r\n".encode("ascii")

    async def read_ack(self, reader: asyncio.StreamReader) -> bytes:
        return await reader.readuntil(b"\r\n\r\n")


class MqttJson(Encoder):
    """The MQTT topic scheme's JSON records (sent by the simulator's MQTT publisher)."""

    name = "mqtt"

    def report(self, device_id: str, positions: Sequence[Position], serial: int) -> bytes:
        records = [
            {
                "time": p.time.isoformat().replace("+00:00", "Z"),
                "latitude": p.latitude,
                "longitude": p.longitude,
                "speed_kmh": p.speed_kmh,
                "course": p.course,
                "satellites": p.satellites,
                "events": [e.value for e in p.events],
                "attributes": dict(p.attributes),
            }
            for p in positions
        ]
        return json.dumps(records, separators=(",", ":")).encode("utf-8")

    async def read_ack(self, reader: asyncio.StreamReader) -> bytes:
        # Reports go through the MQTT client, whose acknowledgement is the broker's PUBACK:
        # there is no stream to read an answer from.
        return b""


ENCODERS: Final[dict[str, Encoder]] = {
    e.name: e for e in (Teltonika(), Jt808(), Gt06(), Eseal(), Osmand(), MqttJson())
}

#: Which seal events each simulated protocol can carry (others are left out of its reports).
EVENTS_SUPPORTED: Final[dict[str, frozenset[SealEvent]]] = {
    "teltonika": frozenset({SealEvent.GPS_JAMMING, SealEvent.POWER_CUT}),
    "jt808": frozenset(
        {SealEvent.OPENED, SealEvent.TAMPER, SealEvent.LOW_BATTERY, SealEvent.POWER_CUT}
    ),
    "gt06": frozenset(Gt06._ALARMS),
    "eseal": frozenset({SealEvent.OPENED, SealEvent.UNLOCKED, SealEvent.TAMPER}),
    "osmand": frozenset(),
    "mqtt": frozenset(SealEvent),
}


def multi_record(protocol: str) -> bool:
    """Whether one frame of ``protocol`` may carry several records (devices flushing memory)."""
    return protocol in ("teltonika", "mqtt")
