"""What a protocol does with a frame whose check code (CRC, XOR) or byte escaping is wrong.

Each protocol declares its policy in the registry (``Protocol.bad_check``):

``refuse``  the frame is a :class:`FrameError`: counted as a bad frame and logged by the
            listener, never acknowledged (the device sends it again), nothing stored.
``flag``    the frame is decoded as far as it goes and acknowledged (over TCP the bytes arrive
            as the device sent them, so a resend would repeat the same mistake). Its records
            are kept with ``implausible`` naming ``check_code``, and everything the device said
            about the seal — its events and its attributes — is set aside under
            ``attributes["unverified"]``: no rule reads it there, so such a frame never opens,
            locks or alarms a seal. The position and time stay, for the map and the history.
``none``    the protocol has no check code to fail (text sentences, HTTP, JT701 binary).

A protocol whose policy is ``refuse`` but which can do better may let a listener choose
``flag`` with the option ``<protocol>.bad_check=flag`` (JT/T 808 does: traccar and other
servers decode its frames without checking the code).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Final

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols.base import Context
from smartcustoms.tracking.records import AttrValue, Position, trusted_position

__all__ = ["CHECK_CODE", "UNVERIFIED", "CheckPolicy", "chosen_policy", "set_aside"]

CHECK_CODE: Final = "check_code"  # the name a flagged record carries in ``implausible``
UNVERIFIED: Final = "unverified"  # the attribute holding what a flagged record set aside


class CheckPolicy(StrEnum):
    REFUSE = "refuse"
    FLAG = "flag"
    NONE = "none"


def chosen_policy(context: Context, option: str, default: CheckPolicy) -> CheckPolicy:
    """The policy a listener chose with ``option`` (``<protocol>.bad_check``), else
    ``default``, the protocol's own. A value other than refuse or flag chooses nothing."""
    chosen = context.options.get(option)
    return CheckPolicy(chosen) if chosen in (CheckPolicy.REFUSE, CheckPolicy.FLAG) else default


def set_aside(record: Position, errors: Sequence[FrameError]) -> Position:
    """``record`` kept but untrusted: its seal events and attributes moved under
    ``unverified``, ``check_code`` added to ``implausible``, each failed check described in
    ``integrity`` (byte offsets in the frame as received)."""
    unverified: dict[str, AttrValue] = dict(record.attributes)
    if record.events:
        unverified["events"] = [event.value for event in record.events]
    attributes: dict[str, AttrValue] = {
        UNVERIFIED: unverified,
        "integrity": [error.message for error in errors],
    }
    return trusted_position(
        record.device_id,
        record.time,
        record.latitude,
        record.longitude,
        record.speed_kmh,
        record.course,
        record.satellites,
        record.valid,
        record.altitude,
        (),
        attributes,
        (*record.implausible, CHECK_CODE),
    )
