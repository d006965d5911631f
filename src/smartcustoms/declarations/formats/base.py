"""What every import format produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SourceRecord"]


@dataclass
class SourceRecord:
    """One declaration as read from a file, or the reason it could not be read.

    ``where`` names the place in the file ("row 17", "line 3", "declarations[4]");
    ``outcome`` carries a past inspection result when the format has one (KCS labels).
    """

    where: str
    data: dict[str, Any] | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] | None = None
