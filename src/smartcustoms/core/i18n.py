"""Marking strings for translation where no language is known yet.

Labels defined at import time (role names, lane names, alert types, the navigation …) are marked
with :func:`N_` so that ``scripts/i18n.sh`` extracts them into the catalogues; they are
translated where they are shown, in the reader's language (``web/i18n.py`` for the pages).
"""

from __future__ import annotations

__all__ = ["N_"]


def N_(message: str) -> str:
    """Mark a string for extraction into the catalogue without translating it now."""
    return message
