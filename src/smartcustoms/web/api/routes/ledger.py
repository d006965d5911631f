"""The ledger as JSON: the latest checkpoint, one entry, and verifying a proof bundle.

The C2SP endpoints (checkpoint, tiles, proofs, witness) are in :mod:`.tlog`; these are for
people and programs that would rather read JSON.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from smartcustoms.core.errors import NotFound
from smartcustoms.core.roles import ALL_ROLES
from smartcustoms.ledger.checkpoints import SignedCheckpoint
from smartcustoms.ledger.errors import TlogError
from smartcustoms.ledger.service import ledger_of
from smartcustoms.ledger.tlog.offline import CheckedBundle, check_bundle
from smartcustoms.ledger.tlog.records import parse_record
from smartcustoms.ledger.tlog.rfc6962 import hash_leaf
from smartcustoms.web.api.routes.tlog import LEDGER_READERS
from smartcustoms.web.deps import ContextDep
from smartcustoms.web.policy import requires

__all__ = ["router", "summarise_checkpoint", "verified"]

router = APIRouter(prefix="/api/ledger", tags=["ledger"])


class CosignaturePublic(BaseModel):
    witness: str
    timestamp: int


class CheckpointPublic(BaseModel):
    origin: str
    size: int
    root_hash: str = Field(description="base64")
    key: str
    created_at: datetime
    cosignatures: list[CosignaturePublic]
    quorum: int
    quorum_met: bool
    text: str = Field(description="the signed note, as /ledger/checkpoint serves it")
    vkey: str = Field(description="the log's current verifier key")


class EntryPublic(BaseModel):
    index: int
    leaf_hash: str = Field(description="hex")
    record: dict[str, Any] | None = Field(description="the entry as a record, if it is one")
    entry: str = Field(description="the entry's bytes, base64")
    proof: str = Field(description="where to fetch its proof bundle")


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bundle: str = Field(max_length=2_000_000)
    vkey: str | None = Field(None, max_length=1000, description="default: this log's key")
    witness_vkeys: list[str] = Field(default_factory=list, max_length=100)
    quorum: int | None = Field(None, ge=0, description="default: every witness key given")


class VerifyResult(BaseModel):
    index: int
    tree_size: int
    root_hash: str
    origin: str
    log_key: str
    witnesses: list[CosignaturePublic]
    record: dict[str, Any] | None
    entry: str = Field(description="base64")


def summarise_checkpoint(cp: SignedCheckpoint, vkey: str, origin: str) -> CheckpointPublic:
    return CheckpointPublic(
        origin=origin,
        size=cp.size,
        root_hash=base64.b64encode(cp.root_hash).decode(),
        key=cp.key,
        created_at=cp.created_at,
        cosignatures=[
            CosignaturePublic(witness=c.witness, timestamp=c.timestamp) for c in cp.cosignatures
        ],
        quorum=cp.quorum,
        quorum_met=cp.quorum_met,
        text=cp.text,
        vkey=vkey,
    )


@router.get("/checkpoint", summary="The latest signed checkpoint, as JSON")
@requires(LEDGER_READERS)
def checkpoint(ctx: ContextDep) -> CheckpointPublic:
    ledger = ledger_of(ctx)
    cp = ledger.checkpoint()
    if cp is None:
        raise NotFound("the ledger has no signed checkpoint yet")
    return summarise_checkpoint(cp, ledger.vkey(), ledger.origin)


@router.get("/entries/{index}", summary="One ledger entry")
@requires(LEDGER_READERS)
def entry(ctx: ContextDep, index: Annotated[int, Path(ge=0, le=(1 << 63) - 1)]) -> EntryPublic:
    ledger = ledger_of(ctx)
    data = ledger.entry(index)
    try:
        record: dict[str, Any] | None = parse_record(data)
    except TlogError:
        record = None
    return EntryPublic(
        index=index,
        leaf_hash=hash_leaf(data).hex(),
        record=record,
        entry=base64.b64encode(data).decode(),
        proof=f"/ledger/proof/{index}",
    )


def verified(checked: CheckedBundle) -> VerifyResult:
    v = checked.verification
    return VerifyResult(
        index=v.index,
        tree_size=v.checkpoint.size,
        root_hash=base64.b64encode(v.checkpoint.root_hash).decode(),
        origin=v.checkpoint.origin,
        log_key=v.log_key,
        witnesses=[CosignaturePublic(witness=c.name, timestamp=c.timestamp) for c in v.cosigners],
        record=checked.record,
        entry=base64.b64encode(checked.entry).decode(),
    )


@router.post("/verify", summary="Verify a proof bundle (nothing is looked up but the log key)")
@requires(ALL_ROLES)
async def verify(body: VerifyRequest, ctx: ContextDep) -> VerifyResult:
    vkey = body.vkey if body.vkey else await run_in_threadpool(ledger_of(ctx).vkey)
    checked = check_bundle(body.bundle, vkey, body.witness_vkeys, quorum=body.quorum)
    return verified(checked)
