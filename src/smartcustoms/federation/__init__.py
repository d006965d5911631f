"""Federation: this instance working with neighbouring administrations' instances.

No central server and no trust beyond what each instance verifies: each administration keeps
a directory of its partners (:mod:`.directory`), added from a signed *partner card* exchanged
out of band (:mod:`.card`) whose fingerprint people compare by phone; instances talk through
RFC 9421 signed requests (:mod:`.signing`, :mod:`.verify`) to each other's message inbox
(:mod:`.inbox`), replay-protected by a nonce table (:mod:`.nonces`) and idempotent by message
id; :mod:`.client` sends. Every addition, suspension, message and refusal is a ledger record
(:mod:`.events`). Partner-administration user accounts are linked to one partner
(:mod:`.accounts`) and see only what was handed to it.
"""
