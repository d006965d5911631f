"""The answer to a declaration as UN/EDIFACT CUSRES (D.96B), in this project's profile:

==============================  ===============================================================
segment                         what
==============================  ===============================================================
BGM+962+<id>+9                  a customs response; the document number is ours (``SC<id>``)
DTM+137                         when the lane was given (UTC, format 204)
RFF+ABE / RFF+ABT               the declarant's reference (LRN) / the customs number (MRN)
NAD+DT                          the declarant
GIS+<code>:LNE:ZZZ              the lane: G green, B blue, Y yellow, S scan, R red
FTX+ACB++<code>+<text>+<lang>   a reason, once per language (EN, FR), the reason's code in C107
FTX+CUS+++<text>                a control instruction to the examining officer
==============================  ===============================================================

Long texts are cut into 70-character components (C108 holds five; more are written, and read
back joined). The codes are constants here, for an administration whose guide names them
otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime

from smartcustoms.declarations.formats.edifact import Element, pieces, write_interchange
from smartcustoms.interop.responses.answer import LaneAnswer

__all__ = ["LANE_CODES", "MEDIA_TYPE", "MESSAGE_TYPE", "write_cusres"]

MESSAGE_TYPE = "CUSRES:D:96B:UN"
MEDIA_TYPE = "application/edifact"
LANE_CODES = {"green": "G", "blue": "B", "yellow": "Y", "scan": "S", "red": "R"}
REASON, INSTRUCTION = "ACB", "CUS"
LRN, MRN = "ABE", "ABT"


def _segments(answer: LaneAnswer) -> list[tuple[str, list[Element]]]:
    when = answer.decided_at.astimezone(UTC)
    out: list[tuple[str, list[Element]]] = [
        ("BGM", ["962", f"SC{answer.declaration_id}", "9"]),
        ("DTM", [["137", f"{when:%Y%m%d%H%M%S}", "204"]]),
        ("RFF", [[LRN, answer.lrn]]),
    ]
    if answer.mrn:
        out.append(("RFF", [[MRN, answer.mrn]]))
    out.append(("NAD", ["DT", [answer.declarant_id]]))
    out.append(("GIS", [[LANE_CODES.get(answer.lane, "R"), "LNE", "ZZZ"]]))
    for reason in answer.reasons:
        for language in sorted(reason.texts):
            text = reason.texts[language]
            out.append(("FTX", [REASON, "", [reason.code[:17]], pieces(text), language.upper()]))
    for instruction in answer.instructions:
        out.append(("FTX", [INSTRUCTION, "", "", pieces(instruction)]))
    return out


def write_cusres(
    answer: LaneAnswer,
    *,
    sender: Element = "SMARTCUSTOMS",
    recipient: Element | None = None,
    prepared: datetime | None = None,
) -> bytes:
    """One CUSRES interchange answering one declaration (to its declarant by default)."""
    return write_interchange(
        [("1", MESSAGE_TYPE, _segments(answer))],
        sender=sender,
        recipient=recipient if recipient is not None else answer.declarant_id,
        reference=f"SC{answer.declaration_id}",
        prepared=prepared or datetime.now(UTC),
    )
