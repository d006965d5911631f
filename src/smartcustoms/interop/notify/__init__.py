"""Telling the people on duty: e-mail (SMTP with STARTTLS) and SMS (Kannel's ``sendsms``).

What calls for someone (:mod:`.triggers`): a critical alert not yet acknowledged, an alert
escalated to a response team, a targeting rule waiting for approval, a scan waiting for a
re-check. Who is told (:mod:`.rules`): rules per trigger, role (or one person) and office;
how to reach each person and their quiet hours (:mod:`.contacts`, :mod:`.quiet`); an
escalation chain — rules with a delay, applied while the matter still waits
(:mod:`.escalation`); the same matter for the same reason is told once within a window
(:mod:`.planner`). Every notification is a row with its delivery state (:mod:`.states`,
:mod:`.journal`), sent with back-off by the notifier thread of ``serve`` (:mod:`.notifier`,
:mod:`.delivery`) through the channels (:mod:`.email`, :mod:`.sms_kannel`).

**At least once, never in the request path.** The notifier reads the *ledger* with a
durable cursor instead of hooking each process's bus: every event of every process (the web
workers, the device-listener process that raises alerts, the CLI) is in the ledger, written in
the same transaction as its change (the transactional outbox, ``ledger.outbox``), in one total
order. The cursor moves in the same transaction that queues the notifications the records call
for, so a crash leaves both or neither and the records are read again; each notification's
unique key (record, rule, person, channel) makes a second reading queue nothing. Sending
happens after that transaction, on the notifier's thread, each row claimed with a lease; a
send that may have happened before a crash is repeated once the lease ends (at least once; an
e-mail keeps its Message-ID). A slow or unreachable SMTP server or SMS gateway only fails its
own rows (retried with back-off, then *dead*); lodging and the alert workflow never wait for it.
The price is latency: a notification goes out after the ledger's sequencer stored the record
and the notifier's next poll (``notify_poll_ms``, 1 s by default).
"""

from __future__ import annotations

from smartcustoms.interop.notify.notifier import Notifier, attach_notifier, notifier_of

__all__ = ["Notifier", "attach_notifier", "notifier_of"]
