"""A notification's delivery states.

    queued ──claim──▶ sending ──ok──▶ sent
      ▲                  │
      └──── failed ◀─────┤ (a transient error: tried again after a back-off)
                         └──permanent error, or the last try──▶ dead ──retry (admin)──▶ queued

``suppressed``: a duplicate within the de-duplication window (never sent). ``cancelled``: an
escalation step whose matter was settled (acknowledged, decided) before it went out. A
``sending`` row whose notifier died is taken again once its lease (``next_attempt_at``) ends.
"""

from __future__ import annotations

from smartcustoms.core.i18n import N_

__all__ = [
    "CANCELLED",
    "DEAD",
    "FAILED",
    "QUEUED",
    "SENDING",
    "SENT",
    "STATES",
    "STATE_LABELS",
    "SUPPRESSED",
]

QUEUED, SENDING, SENT, FAILED, DEAD = "queued", "sending", "sent", "failed", "dead"
SUPPRESSED, CANCELLED = "suppressed", "cancelled"
STATES = (QUEUED, SENDING, SENT, FAILED, DEAD, SUPPRESSED, CANCELLED)
STATE_LABELS = {
    QUEUED: N_("queued"),
    SENDING: N_("sending"),
    SENT: N_("sent"),
    FAILED: N_("failed, will retry"),
    DEAD: N_("dead"),
    SUPPRESSED: N_("suppressed (duplicate)"),
    CANCELLED: N_("cancelled (settled)"),
}
