"""The transparency-log core: an RFC 9162 Merkle log and the C2SP formats around it.

Pure code: no database, no files, no network, no clock (except where a caller lets a cosigner
read it), and no import of the rest of smartcustoms, so another project can reuse this package
as it is (a layering test in CI keeps it so). The stored ledger in :mod:`smartcustoms.ledger`
builds on it.

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
``errors``          the core's error classes (status, code and details, like the product's)
==================  =============================================================================
"""

from smartcustoms.ledger.tlog.checkpoint import (
    Checkpoint,
    OpenedCheckpoint,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from smartcustoms.ledger.tlog.compact import CompactRange, HashRun
from smartcustoms.ledger.tlog.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    cosign,
    generate_witness_key,
    parse_witness_signer_key,
    parse_witness_verifier_key,
)
from smartcustoms.ledger.tlog.errors import (
    MalformedError,
    ProofError,
    QuorumNotMet,
    SignatureError,
    TlogError,
    UnknownKey,
    VerificationError,
)
from smartcustoms.ledger.tlog.keys import (
    Ed25519Signer,
    Ed25519Verifier,
    Signer,
    Verifier,
    generate_key,
    parse_signer_key,
    parse_verifier_key,
)
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.note import OpenedNote, open_note, parse_note, sign_note
from smartcustoms.ledger.tlog.proof import (
    HashReader,
    NodeID,
    consistency_proof,
    consistency_proof_ids,
    inclusion_proof,
    inclusion_proof_ids,
    root_hash,
)
from smartcustoms.ledger.tlog.proof_bundle import (
    BundleVerification,
    ProofBundle,
    format_bundle,
    parse_bundle,
    verify_bundle,
)
from smartcustoms.ledger.tlog.records import (
    Commitment,
    check_commitment,
    commit,
    encode_record,
    open_commitment,
    parse_record,
)
from smartcustoms.ledger.tlog.rfc6962 import EMPTY_ROOT, hash_children, hash_leaf, hash_leaves
from smartcustoms.ledger.tlog.tiles import EntryBundleID, TileHashReader, TileID, parse_tile_path
from smartcustoms.ledger.tlog.verify import verify_consistency, verify_inclusion

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
    "TlogError",
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
