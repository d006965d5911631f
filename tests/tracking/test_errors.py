from __future__ import annotations

import pickle

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.tracking.errors import FrameError


def test_frame_error_names_offset_and_expectation() -> None:
    error = FrameError(17, "CRC 0x1a2b", "0x0000")
    assert isinstance(error, ValidationFailed)
    assert error.message == "byte 17: expected CRC 0x1a2b, found 0x0000"
    assert str(error) == error.message
    assert error.code == "frame_error"
    assert error.status_code == 422
    assert error.to_dict() == {
        "error": {
            "code": "frame_error",
            "message": "byte 17: expected CRC 0x1a2b, found 0x0000",
            "details": [{"offset": 17, "expected": "CRC 0x1a2b", "found": "0x0000"}],
        }
    }


def test_shifted_moves_the_offset() -> None:
    moved = FrameError(3, "x", "y").shifted(100)
    assert (moved.offset, moved.message) == (103, "byte 103: expected x, found y")


def test_pickles() -> None:
    error = pickle.loads(pickle.dumps(FrameError(5, "a", "b")))  # noqa: S301 (our own bytes)
    assert (error.offset, error.expected, error.found) == (5, "a", "b")
