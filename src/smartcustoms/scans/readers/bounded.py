"""How many bytes a compressed stream decodes to, found without ever holding more than a
megabyte of its output: the readers check each strip, tile or RLE segment this way before the
decoders (tifffile, pydicom) decode it whole into memory.

Each function returns the decoded size, or stops as soon as it passes ``limit`` and returns a
number above it. A corrupt stream raises the codec's own error (``zlib.error``,
``lzma.LZMAError``); callers turn it into a :class:`~smartcustoms.scans.ScanReadError`.
"""

from __future__ import annotations

import lzma
import zlib

__all__ = ["deflate_size", "lzma_size", "packbits_size"]

_STEP = 1 << 20  # decoded bytes produced at a time


def deflate_size(data: bytes, limit: int) -> int:
    """Decoded size of a zlib (TIFF Deflate) stream; the first stream only, as ``zlib``
    decodes."""
    decoder = zlib.decompressobj()
    size = 0
    pending = data
    while pending and not decoder.eof:
        size += len(decoder.decompress(pending, _STEP))
        if size > limit:
            return size
        pending = decoder.unconsumed_tail
    while not decoder.eof:  # all input taken: what the decoder still holds back
        chunk = decoder.decompress(b"", _STEP)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            return size
    return size


def lzma_size(data: bytes, limit: int) -> int:
    """Decoded size of LZMA data, every concatenated stream (``lzma.decompress`` decodes them
    all)."""
    size = 0
    pending = data
    first = True
    while pending:
        decoder = lzma.LZMADecompressor()
        try:
            size += len(decoder.decompress(pending, _STEP))
        except lzma.LZMAError:
            if first:
                raise
            return size  # trailing bytes after a stream: ignored, as lzma.decompress does
        first = False
        while size <= limit and not decoder.eof and not decoder.needs_input:
            size += len(decoder.decompress(b"", _STEP))
        if size > limit or not decoder.eof:
            return size
        pending = decoder.unused_data
    return size


def packbits_size(data: bytes, limit: int) -> int:
    """Decoded size of PackBits data (TIFF PackBits and DICOM RLE segments share the code)."""
    size = 0
    i = 0
    end = len(data)
    while i < end and size <= limit:
        n = data[i]
        i += 1
        if n < 128:  # literal: the next n + 1 bytes
            take = min(n + 1, end - i)
            size += take
            i += take
        elif n > 128:  # replicate the next byte 257 - n times
            if i >= end:
                break
            size += 257 - n
            i += 1
        # 128 is a no-op
    return size
