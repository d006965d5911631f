"""The check values device protocols put on their frames."""

from __future__ import annotations

import binascii
import struct

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


def crc16_ibm(data: bytes | memoryview) -> int:
    """CRC-16/IBM (ARC): poly 0x8005 reflected, init 0, no final XOR (Teltonika AVL)."""
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
