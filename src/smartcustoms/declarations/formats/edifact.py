"""UN/EDIFACT interchanges read a block at a time: messages of segments, each segment with its
line in the file and its position in its message (UNH is 1, as CONTRL counts).

The interchange is cut into segments here — the segment terminator not preceded by an unescaped
release character — so that each carries its line, and a file of any size is read in bounded
memory (a message at a time). Each segment's elements and components are then tokenised by
pydifact (its tokenizer and raw-segment builder: release characters, empty components).

Characters come from the UNA service string advice when there is one (else ``:+.? '``); the
character set from UNB's syntax identifier (UNOA–UNOC ISO 8859-1, UNOD–UNOF other ISO 8859
parts, UNOW/UNOY UTF-8; none: UTF-8). A message is UNH … UNT; UNT's segment count and
reference are checked. An interchange that cannot be read — a segment without a terminator, a
UNH inside a message, bytes not in the character set — raises ValidationFailed naming the line
and segment; a message's own faults (UNT count, an untokenisable segment) travel with it in
``problems`` so the rest of the interchange carries on.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from pydifact.control.characters import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.parser import Parser, TokenIterator
from pydifact.segments import Segment as PydifactSegment
from pydifact.serializer import Serializer
from pydifact.tokenizer import Tokenizer

from smartcustoms.core.errors import ValidationFailed

__all__ = [
    "EdifactMessage",
    "Element",
    "Segment",
    "default_characters",
    "pieces",
    "read_bytes_messages",
    "read_file_messages",
    "read_messages",
    "tokenised",
    "write_interchange",
]

BLOCK = 1 << 16  # bytes read at a time
MAX_SEGMENT = 1 << 20  # characters: a longer run without a terminator is not EDIFACT
_ENCODINGS = {
    "UNOA": "latin-1",
    "UNOB": "latin-1",
    "UNOC": "latin-1",
    "UNOD": "iso8859-2",
    "UNOE": "iso8859-5",
    "UNOF": "iso8859-7",
    "UNOW": "utf-8",
    "UNOY": "utf-8",
}
_LINE_ENDS = "\r\n"


def default_characters() -> Characters:
    """``:+.? '``: a full stop as decimal mark, as this project writes its messages."""
    return Characters.from_str("UNA:+.? '")


@dataclass(frozen=True)
class Segment:
    """One segment: its tag, its data elements (a string, or a list of components), its line
    in the file and its position in its message."""

    tag: str
    elements: tuple[str | tuple[str, ...], ...]
    line: int
    position: int

    def get(self, element: int, component: int = 0) -> str:
        """Element ``element`` (1 is the first after the tag), component ``component`` (0 is
        the first); '' when absent."""
        if element < 1 or element > len(self.elements):
            return ""
        value = self.elements[element - 1]
        if isinstance(value, str):
            return value if component == 0 else ""
        return value[component] if component < len(value) else ""


@dataclass
class EdifactMessage:
    """A UNH … UNT message: its reference and type (``CUSDEC``, ``D``, ``96B``), its segments
    between UNH and UNT, and faults found in it."""

    reference: str
    type: str
    version: str
    line: int
    decimal: str = "."
    segments: list[Segment] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)


def _encoding(head: bytes) -> str:
    text = head.decode("latin-1")
    match = re.search(r"UNB.(UNO[A-Z])", text)
    return _ENCODINGS.get(match.group(1), "utf-8") if match else "utf-8"


def _decoded(fh: BinaryIO, name: str) -> Iterator[str]:
    """The file's text a block at a time, in its character set; a byte not in it raises
    ValidationFailed naming its offset."""
    head = fh.read(BLOCK)
    start = 3 if head.startswith(codecs.BOM_UTF8) else 0
    encoding = _encoding(head)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    fed = start
    block = head[start:]
    while True:
        final = not block
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            at = fed - pending + exc.start
            raise ValidationFailed(
                f"{name}: not {encoding.upper()} at byte {at}",
                details=[{"offset": at, "problem": f"not {encoding.upper()}"}],
            ) from None
        fed += len(block)
        if text:
            yield text
        if final:
            return
        block = fh.read(BLOCK)


def _raw_segments(chunks: Iterator[str], name: str) -> Iterator[tuple[str, int, Characters]]:
    """``(segment text with its terminator, line, characters)`` for each segment after UNA."""
    buf = next(chunks, "")
    while len(buf) < 9:
        more = next(chunks, None)
        if more is None:
            break
        buf += more
    characters = default_characters()
    line = 1
    pos = 0
    if buf.startswith("UNA"):
        if len(buf) < 9:
            raise ValidationFailed(
                f"{name}: UNA is cut short (line 1)",
                details=[
                    {"segment": "UNA", "line": 1, "problem": "service string advice cut short"}
                ],
            )
        characters = Characters.from_str(buf[:9])
        pos = 9
    release = re.escape(characters.escape_character)
    terminator = re.escape(characters.segment_terminator)
    pattern = re.compile(rf"(?:[^{release}{terminator}]|{release}.)*{terminator}", re.DOTALL)
    while True:
        while pos < len(buf) and buf[pos] in _LINE_ENDS + " ":
            line += buf[pos] == "\n"
            pos += 1
        match = pattern.match(buf, pos) if pos < len(buf) else None
        if match is not None:
            text = match.group(0)
            yield text, line, characters
            line += text.count("\n")
            pos = match.end()
            continue
        more = next(chunks, None)
        if more is None:
            if pos < len(buf):
                tail = buf[pos : pos + 20]
                raise ValidationFailed(
                    f"{name}: segment without a terminator at line {line}: {tail!r}",
                    details=[{"line": line, "problem": "segment without a terminator"}],
                )
            return
        if len(buf) - pos > MAX_SEGMENT:
            raise ValidationFailed(
                f"{name}: no segment terminator in {MAX_SEGMENT:,} characters from line {line}",
                details=[{"line": line, "problem": "segment too long"}],
            )
        buf = buf[pos:] + more
        pos = 0


def _normal(element: str | list[str] | tuple[str, ...]) -> str | tuple[str, ...]:
    """One element as pydifact gives it: a string, or the components without trailing empty
    ones (a composite with one component left is that string)."""
    if isinstance(element, str):
        return element
    parts = list(element)
    while parts and parts[-1] == "":
        parts.pop()
    if len(parts) <= 1:
        return parts[0] if parts else ""
    return tuple(parts)


def tokenised(text: str, characters: Characters) -> tuple[str | tuple[str, ...], ...]:
    """The raw elements of one segment (its terminator included), the tag first.

    A segment with a release character is tokenised by pydifact. One without (nearly all) is
    split by ``str.split``, which gives the same elements — a property test holds the two
    together — thirty times faster than pydifact's character-by-character tokenizer, which
    took most of the time of reading an interchange."""
    if characters.escape_character in text:
        tokens = Tokenizer().get_tokens(text, characters)
        parser = Parser(characters=characters)
        raw = next(parser.convert_tokens_to_raw_segments(TokenIterator(tokens)))
        return tuple(_normal(e) for e in raw)
    body = text[: -len(characters.segment_terminator)]
    return tuple(
        _normal(element.split(characters.component_separator))
        for element in body.split(characters.data_separator)
    )


def _segment(text: str, line: int, position: int, characters: Characters) -> Segment:
    raw = tokenised(text, characters)
    tag = raw[0] if raw and isinstance(raw[0], str) else ""
    return Segment(tag, raw[1:], line, position)


def _message_problem(message: EdifactMessage, segment: Segment | None, why: str) -> None:
    place: dict[str, Any] = {"line": message.line}
    if segment is not None:
        place = {"segment": segment.tag, "position": segment.position, "line": segment.line}
    message.problems.append({"field": "", **place, "problem": why})


def read_messages(fh: BinaryIO, name: str) -> Iterator[EdifactMessage]:
    """The interchange's messages, one at a time."""
    message: EdifactMessage | None = None
    for text, line, characters in _raw_segments(_decoded(fh, name), name):
        position = len(message.segments) + 2 if message is not None else 0
        try:
            segment = _segment(text, line, position, characters)
        except (EDISyntaxError, StopIteration, IndexError) as exc:
            if message is None:
                raise ValidationFailed(
                    f"{name}: unreadable segment at line {line}: {exc}",
                    details=[{"line": line, "problem": str(exc) or "unreadable segment"}],
                ) from None
            bad = Segment("", (), line, position)
            message.segments.append(bad)
            _message_problem(message, bad, f"unreadable segment: {exc}")
            continue
        if segment.tag == "UNH":
            if message is not None:
                raise ValidationFailed(
                    f"{name}: UNH at line {line} inside message {message.reference!r} "
                    f"(from line {message.line}) without its UNT",
                    details=[{"segment": "UNH", "line": line, "problem": "UNT missing before"}],
                )
            message = EdifactMessage(
                reference=segment.get(1),
                type=segment.get(2, 0),
                version=f"{segment.get(2, 1)}:{segment.get(2, 2)}",
                line=line,
                decimal=characters.decimal_point,
            )
        elif segment.tag == "UNT":
            if message is None:
                raise ValidationFailed(
                    f"{name}: UNT at line {line} without a UNH",
                    details=[{"segment": "UNT", "line": line, "problem": "no UNH before"}],
                )
            counted = len(message.segments) + 2
            said = segment.get(1)
            if said != str(counted):
                _message_problem(
                    message,
                    segment,
                    f"UNT element 0074 says {said!r} segments, the message has {counted}",
                )
            if segment.get(2) != message.reference:
                _message_problem(
                    message,
                    segment,
                    f"UNT element 0062 {segment.get(2)!r} is not UNH's {message.reference!r}",
                )
            yield message
            message = None
        elif message is not None:
            message.segments.append(segment)
        elif segment.tag not in ("UNB", "UNZ", "UNG", "UNE"):
            raise ValidationFailed(
                f"{name}: segment {segment.tag} at line {line} outside a message (UNH … UNT)",
                details=[{"segment": segment.tag, "line": line, "problem": "outside a message"}],
            )
    if message is not None:
        raise ValidationFailed(
            f"{name}: message {message.reference!r} from line {message.line} has no UNT",
            details=[{"segment": "UNH", "line": message.line, "problem": "no UNT"}],
        )


def read_file_messages(path: Path) -> Iterator[EdifactMessage]:
    with path.open("rb") as fh:
        yield from read_messages(fh, path.name)


def read_bytes_messages(data: bytes, name: str) -> Iterator[EdifactMessage]:
    yield from read_messages(io.BytesIO(data), name)


Element = str | list[str]


def _trimmed(elements: list[Element]) -> list[Element]:
    """Trailing empty components and elements dropped, as the syntax rules want."""
    out: list[Element] = []
    for element in elements:
        if isinstance(element, list):
            while element and element[-1] == "":
                element = element[:-1]
            out.append(element if len(element) > 1 else (element[0] if element else ""))
        else:
            out.append(element)
    while out and out[-1] in ("", []):
        out.pop()
    return out


def pieces(text: str, size: int = 70) -> list[str]:
    """A long text cut into components of ``size`` characters (read back joined)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def write_interchange(
    messages: list[tuple[str, str, list[tuple[str, list[Element]]]]],
    *,
    sender: Element,
    recipient: Element,
    reference: str,
    prepared: datetime,
) -> bytes:
    """An interchange of ``(reference, "CUSDEC:D:96B:UN", [(tag, elements), …])`` messages:
    UNA ``:+.? '``, UNB in ISO 8859-1 (UNOC) when every character fits, else UTF-8 (UNOW),
    one segment a line; UNT counts each message's segments."""
    characters = default_characters()
    serializer = Serializer(characters)
    body: list[PydifactSegment] = []
    for ref, kind, segments in messages:
        body.append(PydifactSegment("UNH", ref, kind.split(":")))
        body += [PydifactSegment(tag, *_trimmed(elements)) for tag, elements in segments]
        body.append(PydifactSegment("UNT", str(len(segments) + 2), ref))
    text = serializer.serialize(body, with_una_header=False, break_lines=True)
    try:
        text.encode("latin-1")
        syntax, encoding = ["UNOC", "3"], "latin-1"
    except UnicodeEncodeError:
        syntax, encoding = ["UNOW", "4"], "utf-8"
    head = PydifactSegment(
        "UNB", syntax, sender, recipient, [f"{prepared:%y%m%d}", f"{prepared:%H%M}"], reference
    )
    tail = PydifactSegment("UNZ", str(len(messages)), reference)
    out = serializer.serialize([head], with_una_header=True, break_lines=True)
    out += text + serializer.serialize([tail], with_una_header=False, break_lines=True)
    return out.encode(encoding)
