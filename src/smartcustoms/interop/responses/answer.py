"""What a response to a declaration says, read once from the database for every format: the
declaration's references, its lane, the reasons (in English and French) and the control
instructions the targeting rules give the examining officer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core.errors import NotFound
from smartcustoms.core.messages import catalogue_translations
from smartcustoms.declarations.store import get_declaration
from smartcustoms.risk.messages import CATALOGUE
from smartcustoms.risk.tables import LaneDecisionRow

__all__ = ["LaneAnswer", "Statement", "answer_for"]

_LANGUAGES = ("en", "fr")  # the languages the response formats carry


@dataclass(frozen=True)
class Statement:
    """One reason: its code (the rule, ``score``, ``random_control`` …) and its text by
    language."""

    code: str
    texts: dict[str, str]


@dataclass(frozen=True)
class LaneAnswer:
    declaration_id: int
    lrn: str
    mrn: str | None
    declarant_id: str
    lane: str
    decided_at: datetime
    reasons: list[Statement] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)


def answer_for(session: Session, declaration_id: int) -> LaneAnswer:
    """The answer to declaration ``declaration_id``; NotFound when there is no such
    declaration or it has no lane (a past result imported as history)."""
    row = get_declaration(session, declaration_id)
    if row is None:
        raise NotFound(f"no declaration {declaration_id}")
    decision = session.scalar(
        select(LaneDecisionRow).where(LaneDecisionRow.declaration_id == declaration_id)
    )
    if decision is None:
        raise NotFound(
            f"declaration {declaration_id} has no lane (imported as history)",
            details=[{"field": "declaration_id", "problem": "no lane decision"}],
        )
    reasons: list[Statement] = []
    instructions: list[str] = []
    for reason in decision.reasons:
        if not isinstance(reason, dict):
            continue
        code = str(reason.get("rule") or reason.get("code") or reason.get("kind") or "")
        # Reasons are stored as code + params (older rows as text by language): words now.
        texts = {
            lang: CATALOGUE.render_stored(reason, lang, catalogue_translations(lang))
            for lang in _LANGUAGES
        }
        if any(texts.values()):
            reasons.append(Statement(code, {k: v for k, v in texts.items() if v}))
        instruction = reason.get("instructions")
        if isinstance(instruction, str) and instruction.strip():
            instructions.append(instruction.strip())
    return LaneAnswer(
        declaration_id=row.id,
        lrn=row.lrn,
        mrn=row.mrn,
        declarant_id=row.declarant_id,
        lane=decision.final_lane,  # after an approved lane override
        decided_at=decision.decided_at,
        reasons=reasons,
        instructions=instructions,
    )
