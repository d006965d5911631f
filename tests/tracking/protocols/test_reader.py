from __future__ import annotations

import pytest

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols.reader import Reader, bcd_digits


def test_reads_big_endian_and_advances() -> None:
    r = Reader(bytes.fromhex("01 0203 fffe 040506 0708090a ffffffff 0102030405060708"))
    assert r.u8() == 1
    assert r.u16() == 0x0203
    assert r.i16() == -2
    assert r.u24() == 0x040506
    assert r.u32() == 0x0708090A
    assert r.i32() == -1
    assert r.u64() == 0x0102030405060708
    assert r.remaining == 0


def test_short_read_names_the_offset() -> None:
    r = Reader(bytes(5), pos=2)
    with pytest.raises(FrameError) as caught:
        r.u32()
    assert (caught.value.offset, caught.value.expected) == (2, "4 more bytes")
    assert caught.value.found == "only 3 bytes left"


def test_need_names_the_field_group() -> None:
    r = Reader(bytes(10), pos=8, end=9)
    with pytest.raises(FrameError) as caught:
        r.need(4, "serial and CRC")
    assert (
        caught.value.message == "byte 8: expected 4 bytes (serial and CRC), found only 1 byte left"
    )


def test_bcd() -> None:
    assert Reader(bytes.fromhex("201103")).bcd(3, "date") == "201103"
    with pytest.raises(FrameError) as caught:
        bcd_digits(bytes.fromhex("2a"), 7, "minutes")
    assert caught.value.offset == 7
