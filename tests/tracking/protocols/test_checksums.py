from __future__ import annotations

from functools import reduce
from operator import xor

from hypothesis import given
from hypothesis import strategies as st

from smartcustoms.tracking.protocols.checksums import crc16_ibm, crc16_x25, xor8

CHECK = b"123456789"  # the CRC catalogue's check input


def test_crc16_ibm_catalogue_check_value() -> None:
    assert crc16_ibm(CHECK) == 0xBB3D  # CRC-16/ARC check
    assert crc16_ibm(b"") == 0


def test_crc16_x25_catalogue_check_value() -> None:
    assert crc16_x25(CHECK) == 0x906E  # CRC-16/IBM-SDLC check
    assert crc16_x25(b"") == 0


def _crc16_x25_bitwise(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


@given(st.binary(max_size=200))
def test_x25_matches_a_bitwise_reference(data: bytes) -> None:
    assert crc16_x25(data) == _crc16_x25_bitwise(data)


@given(st.binary(max_size=200))
def test_xor8_matches_a_byte_by_byte_fold(data: bytes) -> None:
    assert xor8(data) == reduce(xor, data, 0)


def _crc16_ibm_bitwise(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@given(st.binary(max_size=5000))
def test_ibm_matches_a_bitwise_reference_at_every_length(data: bytes) -> None:
    # Short inputs take the word loop, 64 to 4096 bytes the table of shares, longer the loop.
    assert crc16_ibm(data) == _crc16_ibm_bitwise(data)
    assert crc16_ibm(memoryview(data)) == crc16_ibm(bytearray(data))


def test_ibm_at_the_edges_of_the_table() -> None:
    for n in (63, 64, 65, 4095, 4096, 4097):
        data = bytes((i * 37 + n) & 0xFF for i in range(n))
        assert crc16_ibm(data) == _crc16_ibm_bitwise(data)
