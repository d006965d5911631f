"""C2SP signed notes (https://c2sp.org/signed-note), compatible with Go's ``sumdb/note``.

A signed note is a text ending in a newline, a blank line, then one or more signature lines
``— <key name> base64(<4-byte key ID> || signature)``. The text is everything up to and
including the newline before the *last* blank line. A note must be valid UTF-8 with no ASCII
control character other than newline.

Opening a note against a set of trusted verifiers follows the spec and Go's ``note.Open``:

* a signature whose (name, key ID) matches no verifier is ignored (kept as *unverified*);
* a signature from a known key MUST verify, else the whole note is rejected (SignatureError);
* at least one known key must have signed, else UnknownKey;
* at most :data:`MAX_SIGNATURES` signature lines (Go's limit; the spec asks for at least 16).

One deliberate difference from Go: two signature lines from the same *known* key make the note
malformed, where Go silently keeps the first. A repeated line would otherwise let a witness be
counted twice toward a quorum, or hide a second, different signature. Identical lines from
unknown keys are dropped, as in Go.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from smartcustoms.ledger.tlog import _b64
from smartcustoms.ledger.tlog.errors import MalformedKey, MalformedNote, SignatureError, UnknownKey
from smartcustoms.ledger.tlog.keys import Signer, Verifier, is_valid_key_name

__all__ = [
    "MAX_NOTE_SIZE",
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "OpenedNote",
    "add_signatures",
    "format_note",
    "open_note",
    "parse_note",
    "sign_note",
]

MAX_SIGNATURES = 100
"""Most signature lines a note may carry (as Go's ``note.Open``)."""

MAX_NOTE_SIZE = 1 << 20
"""Most bytes a note may have: room for 100 post-quantum signatures of ~5 kB each."""

_SIG_PREFIX = "— "  # em dash (U+2014), space
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # ASCII controls other than newline


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the signing key's name and ID and the signature bytes."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """Return the signature line, with its final newline."""
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {_b64.encode(raw)}\n"


@dataclass(frozen=True)
class Note:
    """A parsed, *unverified* note: its text and signature lines in order."""

    text: str
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures from known keys all verified.

    ``verified`` is never empty; ``unverified`` lists signatures by keys the caller did not
    trust, which carry no meaning.
    """

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]

    def signed_by(self, name: str, key_id: int) -> NoteSignature | None:
        """Return the verified signature by the key (name, key_id), if there is one."""
        for sig in self.verified:
            if sig.name == name and sig.key_id == key_id:
                return sig
        return None


def _decode(msg: bytes | str, max_size: int) -> str:
    if isinstance(msg, str):
        try:
            raw = msg.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedNote("note is not valid UTF-8 (it holds a lone surrogate)") from None
    elif isinstance(msg, bytes | bytearray | memoryview):
        raw = bytes(msg)
    else:
        raise MalformedNote(f"note must be bytes or text, got {type(msg).__name__}")
    if len(raw) > max_size:
        raise MalformedNote(
            f"note is {len(raw)} bytes, above the limit of {max_size}",
            details=[{"got": len(raw), "want": f"<= {max_size}"}],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedNote(
            f"note is not valid UTF-8 at byte {exc.start}", details=[{"offset": exc.start}]
        ) from None
    _check_controls(text, "note")
    return text


def _check_controls(text: str, what: str) -> None:
    found = _CONTROL.search(text)
    if found:
        i = found.start()
        line = text.count("\n", 0, i) + 1
        raise MalformedNote(
            f"{what} has control character U+{ord(text[i]):04X} on line {line}",
            details=[{"line": line, "offset": len(text[:i].encode("utf-8"))}],
        )


def parse_note(msg: bytes | str, *, max_size: int = MAX_NOTE_SIZE) -> Note:
    """Split a signed note into its text and signature lines, checking every format rule.

    Verifies nothing: use :func:`open_note` before trusting the text. Raises MalformedNote,
    naming the line at fault.
    """
    text = _decode(msg, max_size)
    split = text.rfind("\n\n")
    if split < 0:
        raise MalformedNote("note has no blank line before its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNote("note's signature block is empty or does not end with a newline")
    first_line = body.count("\n") + 2
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(
            f"note has {len(lines)} signatures, above the limit of {MAX_SIGNATURES}",
            details=[{"got": len(lines), "want": f"<= {MAX_SIGNATURES}"}],
        )
    sigs = tuple(_parse_signature_line(line, first_line + i) for i, line in enumerate(lines))
    return Note(body, sigs)


def _parse_signature_line(line: str, lineno: int) -> NoteSignature:
    def bad(why: str) -> MalformedNote:
        return MalformedNote(f"signature line {lineno}: {why}", details=[{"line": lineno}])

    if not line.startswith(_SIG_PREFIX):
        raise bad("does not start with an em dash and a space")
    name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep or not is_valid_key_name(name):
        raise bad(f"key name {name!r:.80} is not valid")
    try:
        raw = _b64.decode(b64)
    except ValueError:
        raise bad("signature is not canonical base64") from None
    if len(raw) < 5:
        raise bad(f"signature is {len(raw)} bytes, want a 4-byte key ID and a signature")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def format_note(note: Note) -> str:
    """Return the text of a note with its signature lines.

    Raises MalformedNote if the result would not parse back to ``note``.
    """
    _check_text(note.text)
    if not note.signatures:
        raise MalformedNote("a signed note needs at least one signature")
    out = note.text + "\n" + "".join(_checked_line(s) for s in note.signatures)
    return out


def _checked_line(sig: NoteSignature) -> str:
    if not is_valid_key_name(sig.name) or not 0 <= sig.key_id < 1 << 32 or not sig.signature:
        raise MalformedNote(f"signature by {sig.name!r:.80} cannot be formatted")
    return sig.line()


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise MalformedNote("note text must end with a newline")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedNote("note text is not valid UTF-8 (it holds a lone surrogate)") from None
    _check_controls(text, "note text")


def open_note(msg: bytes | str, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse a signed note and verify it against trusted ``verifiers``.

    Returns the note if every signature from a known key verifies and there is at least one.
    Raises MalformedNote, SignatureError (a known key's signature fails), UnknownKey (no known
    key signed) or MalformedKey (two verifiers share a name and key ID).
    """
    note = parse_note(msg)
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        ident = (v.name, v.key_id)
        if ident in known:
            raise MalformedKey(f"two trusted keys share name and key ID {v.name}+{v.key_id:08x}")
        known[ident] = v
    msg_bytes = note.text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    for sig in note.signatures:
        ident = (sig.name, sig.key_id)
        verifier = known.get(ident)
        if verifier is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if ident in seen:
            raise MalformedNote(
                f"note has two signatures by key {sig.name}+{sig.key_id:08x}",
                details=[{"key": f"{sig.name}+{sig.key_id:08x}"}],
            )
        seen.add(ident)
        if not verifier.verify(msg_bytes, sig.signature):
            raise SignatureError(
                f"signature by key {sig.name}+{sig.key_id:08x} does not verify",
                details=[{"key": f"{sig.name}+{sig.key_id:08x}"}],
            )
        verified.append(sig)
    if not verified:
        names = ", ".join(f"{n}+{k:08x}" for n, k in known) or "none"
        raise UnknownKey(
            f"note has no verifiable signatures (trusted keys: {names})",
            details=[{"signed_by": [f"{s.name}+{s.key_id:08x}" for s in note.signatures]}],
        )
    return OpenedNote(note.text, tuple(verified), tuple(unverified))


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Return ``text`` signed by each signer, one signature line each, in order.

    Precondition: ``text`` ends with a newline and holds no control character but newline.
    """
    _check_text(text)
    if not signers:
        raise MalformedNote("signing needs at least one signer")
    msg = text.encode("utf-8")
    sigs = [NoteSignature(s.name, s.key_id, s.sign(msg)) for s in signers]
    return format_note(Note(text, tuple(sigs)))


def add_signatures(msg: bytes | str, signers: Sequence[Signer]) -> str:
    """Return a signed note with more signatures: existing lines first (minus any by the same
    keys as ``signers``, which are replaced, as in Go's ``note.Sign``), then the new ones.

    Does not verify the existing signatures; open the note first when that matters.
    """
    note = parse_note(msg)
    mine = {(s.name, s.key_id) for s in signers}
    kept = [s for s in note.signatures if (s.name, s.key_id) not in mine]
    text_bytes = note.text.encode("utf-8")
    new = [NoteSignature(s.name, s.key_id, s.sign(text_bytes)) for s in signers]
    if len(kept) + len(new) > MAX_SIGNATURES:
        raise MalformedNote(f"a note may carry at most {MAX_SIGNATURES} signatures")
    return format_note(Note(note.text, (*kept, *new)))
