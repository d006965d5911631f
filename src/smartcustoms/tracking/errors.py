"""The error a device frame raises when it does not fit its protocol.

    ValidationFailed (422 validation_failed)      from smartcustoms.core.errors
    └── FrameError (422 frame_error)              names the byte offset and what was expected there

A bad frame is a normal event on a device link: the listener counts and logs it with the device
and the offset, and carries on with the next frame. Nothing else a decoder or framer does may
raise; anything else escaping is a bug (the fuzz tests hold this).
"""

from __future__ import annotations

from smartcustoms.core.errors import ValidationFailed

__all__ = ["FrameError"]


class FrameError(ValidationFailed):
    """A frame, or a byte stream, does not fit its protocol at byte ``offset``.

    ``offset`` counts bytes (characters, for text protocols) from the start of the input the
    caller handed over: the frame for a decoder, the buffer for a framer. ``expected`` says what
    the protocol wants there and ``found`` what was there instead.
    """

    code = "frame_error"

    def __init__(self, offset: int, expected: str, found: str) -> None:
        super().__init__(
            f"byte {offset}: expected {expected}, found {found}",
            details=[{"offset": offset, "expected": expected, "found": found}],
        )
        self.offset = offset
        self.expected = expected
        self.found = found

    def shifted(self, by: int) -> FrameError:
        """The same error with its offset moved by ``by`` bytes (a frame's place in a stream)."""
        return FrameError(self.offset + by, self.expected, self.found)

    def __reduce__(self) -> tuple[type[FrameError], tuple[int, str, str]]:
        # Exceptions pickle through their args; ours are keyword-shaped, so say how.
        return (FrameError, (self.offset, self.expected, self.found))
