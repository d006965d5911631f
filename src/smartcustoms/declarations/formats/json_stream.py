"""A JSON document's declarations one at a time, the file read a megabyte at a time.

A top-level array (``[{...}, ...]``) and the ``declarations`` array of an object
(``{"declarations": [...]}``) are streamed: each element is decoded on its own (by the
standard library's C scanner, :meth:`json.JSONDecoder.raw_decode`) and the text before it
dropped, so memory holds a block of text and one declaration, not the file. A single
declaration (an object with no ``declarations`` member), like any one value, is read whole, up
to :data:`MAX_VALUE_CHARS` characters.

Every failure is a :class:`~smartcustoms.core.errors.ValidationFailed` in the words of
:func:`smartcustoms.core.jsontext.loads` — ``malformed JSON at line L, column C (byte O): why``,
``not UTF-8 at byte O``, nesting too deep, a number too long — with the place counted from the
start of the file.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.jsontext import loads

__all__ = ["MAX_VALUE_CHARS", "stream_declarations"]

BLOCK = 1 << 20  # bytes read at a time
#: The longest single value (one declaration, one member of the top-level object) read.
MAX_VALUE_CHARS = 16 * BLOCK
#: A top-level object longer than this is a batch whose declarations are streamed.
WHOLE_OBJECT_CHARS = 4 * BLOCK
#: A syntax error this far before the end of the text read so far cannot be the text being cut.
_MARGIN = 64
_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()
_SHAPE = "expected a declaration, a list of them or {'declarations': [...]}"


class _NotArray(Exception):
    """The document is not one the streaming reader handles: read it whole."""


class _Text:
    """The file's text in a sliding buffer, with where the buffer starts in the file."""

    def __init__(self, fh: BinaryIO, name: str) -> None:
        self.fh = fh
        self.name = name
        head = fh.read(4)
        encoding = json.detect_encoding(head)
        self.encoding = encoding
        # Bytes per character are measured without the BOM, which counts once, at the start.
        self.measure = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}.get(
            encoding, encoding
        )
        self.decoder = codecs.getincrementaldecoder(encoding)("strict")
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.fed = 0  # bytes given to the decoder
        self.chars = 0  # characters before buf[0]
        self.line = 1  # line of buf[0]
        self.column = 1  # column of buf[0]
        self.offset = 0  # byte of buf[0] (set once the BOM, if any, is known)
        self._feed(head, final=False)
        self.offset = {"utf-8-sig": 3, "utf-16": 2, "utf-32": 4}.get(encoding, 0)  # the BOM

    def _feed(self, data: bytes, *, final: bool) -> None:
        pending = len(self.decoder.getstate()[0])
        try:
            self.buf += self.decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            at = self.fed - pending + exc.start
            name = "UTF-8" if self.encoding.startswith("utf-8") else self.encoding.upper()
            raise ValidationFailed(
                f"{self.name}: not {name} at byte {at}",
                details=[{"offset": at, "problem": f"not {name}"}],
            ) from None
        self.fed += len(data)

    def fill(self) -> bool:
        """Read another block; False at the end of the file."""
        if self.eof:
            return False
        self.compact()
        block = self.fh.read(BLOCK)
        self._feed(block, final=not block)
        if not block:
            self.eof = True
        return bool(block)

    def compact(self) -> None:
        """Drop the text before ``pos``, keeping count of where the buffer starts."""
        if not self.pos:
            return
        gone = self.buf[: self.pos]
        newlines = gone.count("\n")
        self.line += newlines
        self.column = self.column + len(gone) if not newlines else len(gone) - gone.rfind("\n")
        self.offset += len(gone.encode(self.measure, "surrogatepass"))
        self.chars += len(gone)
        self.buf = self.buf[self.pos :]
        self.pos = 0

    def place(self, pos: int) -> dict[str, int]:
        """Line, column and byte offset of ``buf[pos]`` in the file."""
        before = self.buf[:pos]
        newlines = before.count("\n")
        line = self.line + newlines
        column = self.column + len(before) if not newlines else len(before) - before.rfind("\n")
        offset = self.offset + len(before.encode(self.measure, "surrogatepass"))
        return {"line": line, "column": column, "offset": offset}

    def malformed(self, pos: int, why: str) -> ValidationFailed:
        why = why.removesuffix(" at")  # "Invalid control character at", as jsontext words it
        place = self.place(pos)
        return ValidationFailed(
            f"{self.name}: malformed JSON at line {place['line']}, column {place['column']} "
            f"(byte {place['offset']}): {why}",
            details=[{**place, "problem": why}],
        )

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end), ``pos`` moved to it."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def value(self) -> Any:
        """Decode the value at ``pos`` (reading on while it may be cut by the buffer's end)."""
        if self.peek() == "":
            raise self.malformed(self.pos, "Expecting value")
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.buf) - _MARGIN or exc.msg.startswith(
                    "Unterminated string"
                )
                if cut and len(self.buf) - self.pos < MAX_VALUE_CHARS and not self.eof:
                    self.fill()  # the text moves: decode again from the value's start
                    continue
                raise self.malformed(exc.pos, exc.msg) from None
            except ValueError:  # an integer too long: or a float whose "." is yet to come
                if len(self.buf) - self.pos < MAX_VALUE_CHARS and not self.eof:
                    self.fill()
                    continue
                raise self._unsafe() from None
            except RecursionError:
                raise self._unsafe() from None
            if end > len(self.buf) - _MARGIN and not self.eof:  # "-2." may be "-2.5" cut short
                self.fill()
                continue
            self.pos = end
            return value

    def _unsafe(self) -> ValidationFailed:
        """Nesting too deep or a number too long: :func:`loads` names it in the text from
        ``pos``; the place is moved to count from the start of the file."""
        try:
            loads(self.buf[self.pos :], self.name)
        except ValidationFailed as exc:
            inner = exc.details[0] if exc.details else {}
            problem = str(inner.get("problem", exc.message))
            if "line" not in inner:
                return ValidationFailed(f"{self.name}: {problem}", details=[{"problem": problem}])
            here = self.place(self.pos)
            line = here["line"] + int(inner["line"]) - 1
            column = int(inner["column"]) + (here["column"] - 1 if inner["line"] == 1 else 0)
            offset = here["offset"] + int(inner["offset"])
            return ValidationFailed(
                f"{self.name}: {problem} at line {line}, column {column} (byte {offset})",
                details=[{"line": line, "column": column, "offset": offset, "problem": problem}],
            )
        return ValidationFailed(
            f"{self.name}: unreadable JSON", details=[{"problem": "unreadable"}]
        )

    def expect(self, char: str, why: str) -> None:
        if self.peek() != char:
            raise self.malformed(self.pos, why)
        self.pos += 1


def _elements(text: _Text, prefix: str) -> Iterator[tuple[str, Any]]:
    """The elements of the array whose ``[`` is at ``pos``."""
    text.pos += 1
    if text.peek() == "]":
        text.pos += 1
        return
    index = 0
    while True:
        yield f"{prefix}[{index}]", text.value()
        index += 1
        char = text.peek()
        if char == "]":
            text.pos += 1
            return
        if char != ",":
            raise text.malformed(text.pos, "Expecting ',' delimiter")
        text.pos += 1


def _members(text: _Text) -> Iterator[tuple[str, Any]]:
    """The ``declarations`` array of the object whose ``{`` is at ``pos``, streamed; the other
    members are decoded and dropped. Raises _NotArray when there is no such array."""
    text.pos += 1
    if text.peek() == "}":
        raise _NotArray
    found = False
    while True:
        if text.peek() != '"':
            raise text.malformed(text.pos, "Expecting property name enclosed in double quotes")
        at = text.place(text.pos)
        key = text.value()
        text.expect(":", "Expecting ':' delimiter")
        if key == "declarations":
            if found:  # json.loads would keep the last; a stream cannot take back the first
                problem = "'declarations' appears twice"
                raise ValidationFailed(
                    f"{text.name}: {problem} (line {at['line']}, column {at['column']})",
                    details=[{**at, "problem": problem}],
                )
            if text.peek() != "[":
                raise ValidationFailed(f"{text.name}: {_SHAPE}")
            found = True
            yield from _elements(text, "declarations")
        else:
            text.value()
        char = text.peek()
        if char == "}":
            text.pos += 1
            break
        if char != ",":
            raise text.malformed(text.pos, "Expecting ',' delimiter")
        text.pos += 1
    if not found:
        raise _NotArray


def stream_declarations(path: Path) -> Iterator[tuple[str, Any]]:
    """``(where, value)`` for each declaration in the document: ``declarations[i]`` for the
    elements of an array, ``declaration`` for a single object. Raises ValidationFailed for a
    document that is not JSON or not one of those shapes."""
    with path.open("rb") as fh:
        text = _Text(fh, path.name)
        first = text.peek()
        if first == "[":
            yield from _elements(text, "declarations")
        elif first == "{":
            # {"declarations": [...]} is streamed at once; another object (one declaration) is
            # read whole, unless it turns out to be large: then it is streamed too.
            whole = None if _first_key(text) == "declarations" else _whole_object(text)
            if whole is not None:  # small: read whole, as json.loads would
                _end(text)
                yield from _shaped(whole, path)
                return
            else:  # large: a batch, its declarations streamed (pos is still at its "{")
                try:
                    yield from _members(text)
                except _NotArray:
                    problem = (
                        f"an object of more than {WHOLE_OBJECT_CHARS:,} characters without a "
                        "'declarations' list"
                    )
                    raise ValidationFailed(
                        f"{path.name}: {problem}", details=[{"problem": problem}]
                    ) from None
        else:
            value = text.value()
            _end(text)
            yield from _shaped(value, path)
            return
        _end(text)


def _end(text: _Text) -> None:
    if text.peek() != "":
        raise text.malformed(text.pos, "Extra data")


def _first_key(text: _Text) -> str | None:
    """The first member's name of the object whose ``{`` is at ``pos`` (``pos`` stays)."""
    while True:
        i = text.pos + 1
        while i < len(text.buf) and text.buf[i] in _WHITESPACE:
            i += 1
        if i < len(text.buf):
            if text.buf[i] != '"':
                return None
            try:
                key, _ = _DECODER.raw_decode(text.buf, i)
                return key if isinstance(key, str) else None
            except json.JSONDecodeError:
                pass  # cut short by the block's end, or malformed (reported later)
        if text.eof or len(text.buf) - text.pos > 4096:
            return None
        text.fill()  # keeps the text from the "{" on


def _whole_object(text: _Text) -> Any | None:
    """The object at ``pos`` if it fits in a few blocks (a single declaration, or a small
    batch), else None with the text still from ``pos`` (nothing dropped)."""
    while True:
        try:
            value, end = _DECODER.raw_decode(text.buf, text.pos)
        except json.JSONDecodeError as exc:
            cut = exc.pos >= len(text.buf) - _MARGIN or exc.msg.startswith("Unterminated string")
            if not cut or text.eof:
                raise text.malformed(exc.pos, exc.msg) from None
            if len(text.buf) - text.pos >= WHOLE_OBJECT_CHARS:
                return None  # large: stream it
            text.fill()
            continue
        except ValueError:  # an integer too long: or a float whose "." is yet to come
            if text.eof:
                raise text._unsafe() from None
            text.fill()
            continue
        except RecursionError:
            raise text._unsafe() from None
        if end > len(text.buf) - _MARGIN and not text.eof:
            text.fill()
            continue
        text.pos = end
        return value


def _shaped(document: Any, path: Path) -> Iterator[tuple[str, Any]]:
    """A document read whole, in the shapes the format allows."""
    if isinstance(document, dict) and "declarations" in document:
        entries = document["declarations"]
        prefix = "declarations"
    elif isinstance(document, dict):
        entries = [document]
        prefix = "declaration"
    else:
        entries = document
        prefix = "declarations"
    if not isinstance(entries, list):
        raise ValidationFailed(f"{path.name}: {_SHAPE}")
    for index, entry in enumerate(entries):
        yield (prefix if prefix == "declaration" else f"{prefix}[{index}]"), entry
