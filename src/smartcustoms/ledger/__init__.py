"""The verifiable ledger: every decision of the product in an append-only Merkle log.

Two layers. :mod:`smartcustoms.ledger.tlog` is the pure transparency-log core (RFC 9162 Merkle
tree, C2SP signed notes, checkpoints, cosignatures, tiles, proof bundles, records): no storage,
no I/O, no import of the rest of the product. The modules here are the stored ledger of one
running instance, built on it with the database, threads, files and HTTP:

==================  =============================================================================
``tables``          the ledger's tables (entries, tree hashes, checkpoints, keys, witness state …)
``store``           the storage layout: the one writer of the tree, and every read of it
``sequencer``       batching appends, durable commits, signing checkpoints (one thread)
``leader``          the sequencer lease: PostgreSQL advisory lock, SQLite file lock
``leased_worker``   a background thread that works only while it holds its lease (deliverers)
``handoff``         the queue the sequencer drains: other processes' appends and the outbox
``outbox``          records queued in the transaction of the change they record; idempotency keys
``checkpoints``     signed checkpoints and cosignatures as stored and served
``fork_guard``      what the log published, kept outside the database; no signature that forks it
``reconcile``       resolving a hold on signing: catch up from an export, or accept a fork
``keystore``        key files in the data directory, the log's key history, rotation
``commitments``     openings of the salted commitments records carry
``witness``         this instance as a C2SP tlog-witness (``add-checkpoint``)
``cosigning``       collecting cosignatures from the configured witnesses, the quorum
``fsck``            recomputing and checking everything stored
``audit``           streaming every record to the modules' auditors of their stored decisions
``errors``          the stored ledger's errors, and the core's re-exported
``service``         ``Ledger``: the ledger of one running instance, attached to its context
==================  =============================================================================

Domain modules do not call the ledger: they publish events, and the ledger, subscribed as the
event bus's recorder, queues their records in the same transaction (:mod:`.outbox`).
"""
