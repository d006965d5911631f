"""Interoperability: how smartcustoms talks to other systems.

==============  ==============================================================================
Subpackage      What it does
==============  ==============================================================================
``webhooks``    Signed webhooks (Standard Webhooks) for decisions, alerts and transits,
                delivered from the transactional outbox, with retries and a dead letter.
``notify``      E-mail (SMTP, STARTTLS) and SMS (Kannel) to the people on duty, by rules per
                role and office, with quiet hours, de-duplication and an escalation chain.
``responses``   The answer to a declaration in the formats customs systems read: UN/EDIFACT
                CUSRES and WCO Data Model XML (lane, reasons, control instructions).
==============  ==============================================================================
"""
