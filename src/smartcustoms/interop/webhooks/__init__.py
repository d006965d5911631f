"""Events out: signed webhooks (Standard Webhooks), delivered from the transactional outbox.

Design — a second recorder, not a cursor over the ledger. Delivery rides on the same outbox
mechanism as the ledger: the bus's recorders run inside the transaction that made the events
(``core.unit``). :mod:`.recorder` is one of them; it writes a ``webhook_deliveries`` row per
(event, interested subscription) through that transaction's connection. So a lane decision
and its deliveries commit together or not at all (a rolled-back lodging sends nothing; a
committed one is never lost), and the row ids are the commit order of each subject.

Why not a cursor over the ledger log, which is ordered and durable too: a cursor serves
retries badly (one receiver's failed message would stop the cursor for every subject, or need
this very table of retries beside it), it would wait for the sequencer before anything could
be sent (latency), and it would decode every ledger record to find the few that go out. The
price of the row is one batched insert per lodging transaction with subscribers — measured by
``bench/outbox.py`` (``lodging`` before/after) — and nothing at all without subscribers.

Delivery (:mod:`.deliverer`): one worker thread per process, only the lease holder sends
(:mod:`.lease`, a ``flock``/advisory lock like the ledger sequencer's), at least once (marked
delivered only after a 2xx; a kill -9 mid-request re-sends the same ``webhook-id``), in order
per subject, exponential back-off with jitter, a dead letter after ``webhook_max_attempts``,
replay by administrators. Lodging never waits on a receiver: the recorder only inserts rows.

==================  ==========================================================================
Module              What it does
==================  ==========================================================================
``catalogue``       Which events go out, their public type, subject and allow-listed fields
``recorder``        Queues delivery rows in the lodging transaction
``deliverer``       The delivery worker: order per subject, retries, dead letter, metrics
``transport``       A lean HTTP/1.1 client connection (one write per request)
``signing``         Standard Webhooks signatures; secrets sealed at rest (AES-GCM)
``subscriptions``   Create / list / delete / replay (each change a ledger record)
``urls``            Receiver URL validation
``lease``           One deliverer per database
``metrics``         Prometheus figures on ``/metrics``
``service``         ``attach_webhooks``: wiring into the web app and the CLI
``tables``          ``webhook_subscriptions``, ``webhook_deliveries`` (migration 0010)
==================  ==========================================================================
"""
