"""The check values device protocols put on their frames."""

from __future__ import annotations

import binascii
import struct
from typing import Any

import numpy as np

__all__ = ["crc16_ibm", "crc16_x25", "xor8"]


def _reflected_table(poly: int) -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_IBM_TABLE = _reflected_table(0xA001)
# Bit-reversal of every byte: a reflected CRC equals the plain CRC of the reversed bytes, reversed.
_REVERSE_BITS = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


_IBM_WORD_TABLE: list[int] = []


def _ibm_word_table() -> list[int]:
    """CRC-16/IBM of each 16-bit little-endian word: two bytes per step, half the Python loop."""
    if not _IBM_WORD_TABLE:
        t = _IBM_TABLE
        _IBM_WORD_TABLE.extend(
            t[((t[x & 0xFF] ^ (x >> 8)) & 0xFF)] ^ (t[x & 0xFF] >> 8) for x in range(65536)
        )
    return _IBM_WORD_TABLE


# Longer inputs go through numpy. CRC-16/IBM with init 0 is linear over GF(2): the CRC of a
# message is the XOR, over its bytes, of what each byte leaves in the register once followed
# by the bytes after it — zeros as far as that byte's share goes. _IBM_SHARE[k, b] is the share
# of byte b followed by k bytes; one gather and one XOR reduction replace a Python loop.
_SHARE_MAX = 4096  # bytes (2 MiB of table); Teltonika AVL packets are usually under 1.3 KB
_SHARE_MIN = 64  # below this the word loop is as fast
_IBM_SHARE: list[Any] = []


def _ibm_share() -> tuple[Any, Any]:
    if not _IBM_SHARE:
        table = np.array(_IBM_TABLE, dtype=np.uint16)
        share = np.empty((_SHARE_MAX, 256), dtype=np.uint16)
        share[0] = table
        for k in range(1, _SHARE_MAX):
            prev = share[k - 1]
            share[k] = table[prev & 0xFF] ^ (prev >> 8)
        # Row offsets, last byte first: a message of n bytes uses the last n of them.
        rows = np.arange((_SHARE_MAX - 1) * 256, -1, -256, dtype=np.intp)
        _IBM_SHARE.extend((share.reshape(-1), rows))
    return _IBM_SHARE[0], _IBM_SHARE[1]


def crc16_ibm(data: bytes | memoryview) -> int:
    """CRC-16/IBM (ARC): poly 0x8005 reflected, init 0, no final XOR (Teltonika AVL)."""
    n = len(data)
    if _SHARE_MIN <= n <= _SHARE_MAX:
        share, rows = _ibm_share()
        message = np.frombuffer(data, dtype=np.uint8)
        return int(np.bitwise_xor.reduce(share.take(rows[_SHARE_MAX - n :] + message)))
    data = bytes(data)
    words = len(data) // 2
    # A reflected 16-bit CRC folds a little-endian word in whole: crc = T[crc ^ word].
    table = _ibm_word_table()
    crc = 0
    for word in struct.unpack_from(f"<{words}H", data):
        crc = table[crc ^ word]
    if len(data) % 2:
        crc = (crc >> 8) ^ _IBM_TABLE[(crc ^ data[-1]) & 0xFF]
    return crc


def crc16_x25(data: bytes | memoryview) -> int:
    """CRC-16/X-25 ("CRC-ITU" in Concox manuals): poly 0x1021 reflected, init and xorout 0xFFFF.

    Computed as the unreflected CCITT CRC (``binascii.crc_hqx``, in C) over bit-reversed bytes.
    """
    plain = binascii.crc_hqx(bytes(data).translate(_REVERSE_BITS), 0xFFFF)
    return int(f"{plain:016b}"[::-1], 2) ^ 0xFFFF


def xor8(data: bytes | memoryview) -> int:
    """XOR of all bytes (JT/T 808 check code), folded as one big integer rather than per byte."""
    n = len(data)
    if n == 0:
        return 0
    value = int.from_bytes(data, "big")
    while n > 1:
        low = (n + 1) // 2
        bits = 8 * low
        value = (value >> bits) ^ (value & ((1 << bits) - 1))
        n = low
    return value
