"""Jointech's own location reports over JT/T 808 framing (JT709A, JT701D): 0x5501 live, 0x5502
re-sent from memory ("blind area"). Their header carries a 1-byte serial number.

Body: the Jointech location block (see ``jointech_location``), GSM signal 1B, satellites 1B,
odometer 4B km, battery 1B (%, 0xAA/0xAB charging), cell ID 4B, LAC 2B, product type 1B,
status 2B, alarm 2B, then items (ID 1B, length 1B, value): 0x02 altitude, 0x0B lock command
and result, 0x0C tilt, 0xFC geofence. Alarm bits by product type follow traccar's decoder.
When body-attribute bit 15 is set the device wants the short response 0x4401.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from smartcustoms.tracking.protocols.jointech_location import read_fix
from smartcustoms.tracking.protocols.reader import Reader
from smartcustoms.tracking.records import AttrValue, Position, SealEvent

__all__ = ["JOINTECH_BLIND", "JOINTECH_LOCATION", "decode_jointech_location"]

JOINTECH_LOCATION: Final = 0x5501
JOINTECH_BLIND: Final = 0x5502
_LOCK_PRODUCT_ALARMS: Final = (  # product type 3
    (0, SealEvent.OVERSPEED),
    (1, SealEvent.LOW_BATTERY),  # low power
    (2, SealEvent.VIBRATION),
    (3, SealEvent.LOW_BATTERY),
    (5, SealEvent.GEOFENCE_ENTER),
    (6, SealEvent.GEOFENCE_EXIT),
)


def decode_jointech_location(
    r: Reader, device_id: str, message_id: int, received_at: datetime
) -> Position:
    fix = read_fix(r)
    r.need(19, "signal, satellites, odometer, battery, cell, product, status and alarm")
    attributes: dict[str, AttrValue] = {"rssi": r.u8()}  # GSM signal
    satellites = r.u8()  # satellites
    attributes["odometer_m"] = r.u32() * 1000  # odometer, km
    battery = r.u8()  # battery %, 0xAA/0xAB charging
    if battery <= 100:
        attributes["battery_level"] = battery
    elif battery in (0xAA, 0xAB):
        attributes["charging"] = True
    attributes["cell_id"] = r.u32()  # cell ID
    attributes["lac"] = r.u16()  # location area code
    product = r.u8()  # product type
    status = r.u16()  # status bits
    alarm = r.u16()  # alarm bits
    attributes.update(product=product, status=status, alarm=alarm)
    if message_id == JOINTECH_BLIND:
        attributes["archive"] = True  # stored while out of coverage, sent later
    found: list[SealEvent] = []
    if product in (1, 2) and alarm & 0x01:
        found.append(SealEvent.LOW_BATTERY)
    elif product == 3:
        attributes["blocked"] = bool(status & 0x20)
        found.extend(event for bit, event in _LOCK_PRODUCT_ALARMS if alarm >> bit & 1)
    _items(r, attributes)
    return fix.position(
        device_id, received_at, satellites=satellites, attributes=attributes, found=found
    )


def _items(r: Reader, attributes: dict[str, AttrValue]) -> None:
    while r.remaining >= 2:
        item = r.u8()  # item ID
        value = r.take(min(r.u8(), r.remaining))  # item length, value
        if item == 0x02 and len(value) == 2:
            attributes["altitude_m"] = int.from_bytes(value, "big", signed=True)
        elif item == 0x0B and value:
            attributes["lock_command"] = value[0]
            if 5 <= len(value) <= 6:
                attributes["lock_card"] = int.from_bytes(value[1:5], "big")
            elif len(value) >= 7:
                attributes["lock_password"] = value[1:7].decode("ascii", "replace")
            if len(value) % 2 == 0:
                attributes["unlock_result"] = value[-1]
        elif item == 0x0C and len(value) == 6:
            attributes["tilt"] = [
                int.from_bytes(value[i : i + 2], "big", signed=True) for i in (0, 2, 4)
            ]
        elif item == 0x10 and len(value) == 1:
            attributes["wake_source"] = value[0]
        elif item == 0xFC and len(value) == 1:
            attributes["geofence_id"] = value[0]
        else:
            attributes[f"item_{item:02x}"] = value.hex()
