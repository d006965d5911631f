"""The verifiable ledger: an RFC 9162 Merkle log and the C2SP formats around it.

The pure core (below, first table) touches no storage, network or clock (except where a caller
lets a cosigner read it); this package's ``__all__`` is that core. The stored ledger (second
table) builds on it with the database, threads, files and HTTP; import those modules by name.

==================  =============================================================================
``rfc6962``         leaf and node hashing, the empty root
``proof``           root, inclusion and consistency proofs from stored perfect-subtree hashes
``compact``         the Merkle frontier the sequencer appends batches to
``verify``          proof verification (RFC 9162 §2.1.3.2, §2.1.4.2)
``keys``            key names and IDs, Ed25519 signers and verifiers, Go key strings
``note``            C2SP signed notes
``checkpoint``      C2SP tlog-checkpoint bodies
``cosignature``     C2SP tlog-cosignature v1 (timestamped Ed25519 witness cosignatures)
``tiles``           C2SP tlog-tiles paths, tiles, entry bundles, tile-backed hash reader
``proof_bundle``    c2sp.org/tlog-proof@v1 bundles and their offline verification
``offline``         verifying a bundle with nothing but it and keys (the entry in ``extra``)
``records``         canonical JSON records and salted commitments
``memory``          an in-memory hash store (tests, tools, benchmarks)
``errors``          the ledger's error classes
==================  =============================================================================

==================  =============================================================================
``tables``          the ledger's tables (entries, tree hashes, checkpoints, keys, witness state …)
``store``           the storage layout: the one writer of the tree, and every read of it
``sequencer``       batching appends, durable commits, signing checkpoints (one thread)
``leader``          the sequencer lease: PostgreSQL advisory lock, SQLite file lock
``handoff``         the queue the sequencer drains: other processes' appends and the outbox
``outbox``          records queued in the transaction of the change they record; idempotency keys
``checkpoints``     signed checkpoints and cosignatures as stored and served
``fork_guard``      what the log published, kept outside the database; no signature that forks it
``reconcile``       resolving a hold on signing: catch up from an export, or accept a fork
``keystore``        key files in the data directory, the log's key history, rotation
``commitments``     openings of the salted commitments records carry
``witness``         this instance as a C2SP tlog-witness (``add-checkpoint``)
``witness_client``  collecting cosignatures from the configured witnesses, the quorum
``fsck``            recomputing and checking everything stored
``audit``           streaming every record to the modules' auditors of their stored decisions
``service``         ``Ledger``: the ledger of one running instance, attached to its context
==================  =============================================================================
"""

from smartcustoms.ledger.checkpoint import (
    Checkpoint,
    OpenedCheckpoint,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from smartcustoms.ledger.compact import CompactRange, HashRun
from smartcustoms.ledger.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    cosign,
    generate_witness_key,
    parse_witness_signer_key,
    parse_witness_verifier_key,
)
from smartcustoms.ledger.errors import (
    LedgerError,
    MalformedError,
    ProofError,
    QuorumNotMet,
    SignatureError,
    UnknownKey,
    VerificationError,
)
from smartcustoms.ledger.keys import (
    Ed25519Signer,
    Ed25519Verifier,
    Signer,
    Verifier,
    generate_key,
    parse_signer_key,
    parse_verifier_key,
)
from smartcustoms.ledger.memory import MemoryHashStore
from smartcustoms.ledger.note import OpenedNote, open_note, parse_note, sign_note
from smartcustoms.ledger.proof import (
    HashReader,
    NodeID,
    consistency_proof,
    consistency_proof_ids,
    inclusion_proof,
    inclusion_proof_ids,
    root_hash,
)
from smartcustoms.ledger.proof_bundle import (
    BundleVerification,
    ProofBundle,
    format_bundle,
    parse_bundle,
    verify_bundle,
)
from smartcustoms.ledger.records import (
    Commitment,
    check_commitment,
    commit,
    encode_record,
    open_commitment,
    parse_record,
)
from smartcustoms.ledger.rfc6962 import EMPTY_ROOT, hash_children, hash_leaf, hash_leaves
from smartcustoms.ledger.tiles import EntryBundleID, TileHashReader, TileID, parse_tile_path
from smartcustoms.ledger.verify import verify_consistency, verify_inclusion

__all__ = [
    "EMPTY_ROOT",
    "BundleVerification",
    "Checkpoint",
    "Commitment",
    "CompactRange",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Ed25519Signer",
    "Ed25519Verifier",
    "EntryBundleID",
    "HashReader",
    "HashRun",
    "LedgerError",
    "MalformedError",
    "MemoryHashStore",
    "NodeID",
    "OpenedCheckpoint",
    "OpenedNote",
    "ProofBundle",
    "ProofError",
    "QuorumNotMet",
    "SignatureError",
    "Signer",
    "TileHashReader",
    "TileID",
    "UnknownKey",
    "VerificationError",
    "Verifier",
    "check_commitment",
    "commit",
    "consistency_proof",
    "consistency_proof_ids",
    "cosign",
    "encode_record",
    "format_bundle",
    "format_checkpoint",
    "generate_key",
    "generate_witness_key",
    "hash_children",
    "hash_leaf",
    "hash_leaves",
    "inclusion_proof",
    "inclusion_proof_ids",
    "open_checkpoint",
    "open_commitment",
    "open_note",
    "parse_bundle",
    "parse_checkpoint",
    "parse_note",
    "parse_record",
    "parse_signer_key",
    "parse_tile_path",
    "parse_verifier_key",
    "parse_witness_signer_key",
    "parse_witness_verifier_key",
    "root_hash",
    "sign_checkpoint",
    "sign_note",
    "verify_bundle",
    "verify_consistency",
    "verify_inclusion",
]
