"""Collecting cosignatures of our checkpoints from the configured witnesses.

For each new checkpoint the sequencer signs, a background thread asks every witness in
``ledger_witnesses`` to cosign it (tlog-witness ``add-checkpoint``), sending a consistency proof
from the last size that witness cosigned (kept in ``ledger_cosignatures``; when a witness
answers 409 with its own latest size, the request is rebuilt from that size). Each returned
cosignature is verified with the witness's configured key before it is kept; then the
checkpoint's count of cosignatures and whether the quorum was met are recorded.

A witness that is down or refuses is logged and asked again with the next checkpoint (or after
:data:`RETRY_S`); it never holds up appends.

Besides the configured witnesses, a *peer source* may add witnesses that come and go while the
instance runs: partner administrations, each witnessing the other's log (the federation sets it,
:meth:`WitnessClient.set_peer_source`). Their cosignatures are kept and counted like any other,
but they are not the operator's configured witnesses: they take no part in the quorum setting's
check or in confirming a restore, and what one says of a fork is logged, not acted on — a
partner cannot hold our signing by claiming it saw another tree (the evidence is still in its own
log, and our configured witnesses still guard us).

A witness on a thin link may be given its own interval (``URL VKEY interval=SECONDS``): it is then
asked at most once per interval, always with the latest checkpoint, instead of at every
checkpoint. The checkpoints in between are still proved consistent by the one it cosigns.

What witnesses say also guards against forking the log (:mod:`.fork_guard`): when one answers
that it cosigned a size beyond the checkpoint offered, or that our tree does not extend what it
cosigned, that goes into the guard file and the sequencer stops signing. When the client starts,
it offers every witness the latest stored checkpoint again (a probe: nothing new is signed for
it), so a database restored from an older backup learns how far witnesses saw the log before it
signs anything, and a restore onto a new machine is confirmed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from smartcustoms.core.db import Database
from smartcustoms.core.errors import ConfigurationError
from smartcustoms.ledger.checkpoints import (
    SignedCheckpoint,
    add_cosignature,
    get_checkpoint,
    last_cosigned_size,
    latest_checkpoint,
)
from smartcustoms.ledger.errors import LedgerError, MalformedKey, TlogError
from smartcustoms.ledger.fork_guard import AHEAD, INCONSISTENT, ForkGuard
from smartcustoms.ledger.keystore import key_label
from smartcustoms.ledger.store import StoreHashReader
from smartcustoms.ledger.tlog import _b64
from smartcustoms.ledger.tlog.checkpoint import parse_decimal
from smartcustoms.ledger.tlog.cosignature import (
    CosignatureVerifier,
    parse_witness_verifier_key,
    verify_cosignature_line,
)
from smartcustoms.ledger.tlog.note import parse_note
from smartcustoms.ledger.tlog.proof import consistency_proof

__all__ = ["RETRY_S", "PeerSource", "WitnessClient", "WitnessPeer", "parse_witness_peers"]

log = logging.getLogger("smartcustoms.ledger.witness")

RETRY_S = 5.0
MAX_RESPONSE = 1 << 16
#: The longest interval a witness may be given (a day): beyond it, cosignatures say too little.
MAX_INTERVAL_S = 86_400.0


@dataclass(frozen=True)
class WitnessPeer:
    """A witness we ask: its submission URL prefix and its cosignature verifier key."""

    url: str
    verifier: CosignatureVerifier
    #: Least seconds between two requests to this witness; 0 asks it at every checkpoint.
    interval: float = 0.0

    @property
    def label(self) -> str:
        return key_label(self.verifier.name, self.verifier.key_id)


#: Witnesses beyond the configured ones, read again before each round (cheap: it may cache).
PeerSource = Callable[[], Sequence[WitnessPeer]]


def parse_witness_peers(items: Sequence[str]) -> list[WitnessPeer]:
    """Parse the ``ledger_witnesses`` setting (``URL VKEY [interval=SECONDS]`` each). Raises
    ConfigurationError naming the entry."""
    peers = []
    for item in items:
        parts = item.split()
        url, vkey, *options = parts + [""] * (2 - len(parts))
        try:
            verifier = parse_witness_verifier_key(vkey.strip())
        except MalformedKey as exc:
            raise _bad_entry(item, exc.message) from None
        interval = 0.0
        for option in options:
            name, _, value = option.partition("=")
            try:
                interval = float(value) if name == "interval" else math.nan
            except ValueError:
                interval = math.nan
            if not 0.0 <= interval <= MAX_INTERVAL_S:  # also refuses nan
                raise _bad_entry(
                    item, f"{option!r:.60}: expected interval=SECONDS, 0 to {MAX_INTERVAL_S:.0f}"
                )
        peers.append(WitnessPeer(url.rstrip("/"), verifier, interval))
    if len({p.label for p in peers}) != len(peers):
        raise ConfigurationError("SMARTCUSTOMS_LEDGER_WITNESSES names a witness key twice")
    return peers


def _bad_entry(item: str, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"SMARTCUSTOMS_LEDGER_WITNESSES entry {item!r:.200}: {why}",
        details=[{"setting": "SMARTCUSTOMS_LEDGER_WITNESSES", "value": item}],
    )


class WitnessClient:
    """Asks ``peers`` to cosign new checkpoints in a thread of its own."""

    def __init__(
        self,
        db: Database,
        peers: Sequence[WitnessPeer],
        quorum: int,
        *,
        timeout: float = 10.0,
        guard: ForkGuard | None = None,
    ) -> None:
        if not 0 <= quorum <= len(peers):
            raise ConfigurationError(
                f"SMARTCUSTOMS_LEDGER_WITNESS_QUORUM is {quorum}, but "
                f"{len(peers)} witnesses are configured"
            )
        self._db = db
        self._peers = list(peers)
        self.quorum = quorum
        self._timeout = timeout
        self._guard = guard
        if guard is not None and self._peers:
            guard.witnessed = True
        self._wake = threading.Event()
        self._stopping = False
        self._latest: SignedCheckpoint | None = None
        self._thread: threading.Thread | None = None
        self._asked: dict[str, float] = {}  # witness label → monotonic time we last asked it
        self._source: PeerSource | None = None
        self._started = False
        self._configured = {p.label for p in self._peers}

    @property
    def peers(self) -> list[WitnessPeer]:
        """The configured witnesses, then the source's (a configured key is not asked twice)."""
        extra: Sequence[WitnessPeer] = ()
        if self._source is not None:
            try:
                extra = self._source()
            except Exception:  # a failing source never stops the configured witnesses
                log.exception("reading the partner witnesses failed")
        return self._peers + [p for p in extra if p.label not in self._configured]

    def set_peer_source(self, source: PeerSource | None) -> None:
        """Ask ``source``'s witnesses too (see the module's note); starts the thread when the
        client was started with no configured witness."""
        self._source = source
        if self._started:
            self._start_thread()

    def start(self) -> None:
        self._started = True
        self._start_thread()

    def _start_thread(self) -> None:
        if self._thread is None and (self._peers or self._source is not None):
            self._thread = threading.Thread(
                target=self._run, name="smartcustoms-ledger-witness", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self, cp: SignedCheckpoint) -> None:
        """Called by the sequencer after it signs ``cp``: never blocks."""
        self._latest = cp
        self._wake.set()

    def _run(self) -> None:
        probe = True
        while not self._stopping:
            if probe:
                probe = self._probe()
            self._wake.wait(self._pause())
            self._wake.clear()
            cp = self._latest
            if cp is None or self._stopping:
                continue
            try:
                # Done with this one, unless a newer checkpoint arrived meanwhile: keep that.
                if self.collect(cp) >= len(self.peers) and self._latest is cp:
                    self._latest = None
            except Exception:
                log.exception("collecting cosignatures of checkpoint %d failed", cp.size)

    def _due(self, peer: WitnessPeer, now: float) -> bool:
        return now - self._asked.get(peer.label, -math.inf) >= peer.interval

    def _pause(self) -> float:
        """How long to sleep: :data:`RETRY_S`, or less when a witness with an interval of its
        own falls due sooner and a checkpoint waits for it."""
        if self._latest is None:
            return RETRY_S
        now = time.monotonic()
        waits = [
            self._asked[p.label] + p.interval - now
            for p in self.peers
            if p.interval and p.label in self._asked
        ]
        return max(0.01, min([RETRY_S, *waits]))

    def _probe(self) -> bool:
        """Offer the latest stored checkpoint to every witness again; return whether to probe
        again (a restore still waits for witnesses to confirm it)."""
        try:
            with self._db.engine.connect() as conn:
                cp = latest_checkpoint(conn)
            if cp is not None:
                self.collect(cp, again=True)
            return (
                cp is not None and self._guard is not None and self._guard.awaiting_confirmation()
            )
        except Exception:
            log.exception("probing the witnesses failed")
            return True
        finally:
            if self._guard is not None:
                self._guard.probed()

    def collect(self, cp: SignedCheckpoint, *, again: bool = False) -> int:
        """Ask every witness that has not cosigned ``cp`` yet (``again``: every witness); return
        how many have now."""
        with self._db.engine.connect() as conn:
            have = get_checkpoint(conn, cp.size)
        done = {c.witness for c in have.cosignatures} if have else set()
        now = time.monotonic()
        peers = self.peers
        for peer in peers:
            if (peer.label in done and not again) or self._stopping:
                continue
            if not again and not self._due(peer, now):
                continue  # asked recently: it gets the latest checkpoint when its interval ends
            if peer.interval:
                self._asked[peer.label] = now
            try:
                line = self._ask(peer, cp)
            except (OSError, TlogError) as exc:
                log.warning("witness %s did not cosign size %d: %s", peer.url, cp.size, exc)
                continue
            if line is not None:
                body = parse_note(cp.note).text
                timestamp = verify_cosignature_line(body, line, peer.verifier)
                with self._db.writer.begin() as conn:
                    add_cosignature(conn, cp.size, peer.verifier, line, timestamp, self.quorum)
                done.add(peer.label)
                if self._guard is not None and peer.label in self._configured:
                    self._guard.witness_confirmed(peer.label)
        return len(done & {p.label for p in peers})

    def _ask(self, peer: WitnessPeer, cp: SignedCheckpoint) -> str | None:
        with self._db.engine.connect() as conn:
            old = last_cosigned_size(conn, peer.label)
        said = False  # whether ``old`` is what the witness answered (not what we stored)
        for _ in range(3):
            if old > cp.size:
                if said:
                    self._report(peer, old, AHEAD)
                raise LedgerError(
                    f"witness {peer.label} has cosigned size {old}, beyond our {cp.size}: our "
                    "log was rolled back or forked",
                    code="witness_ahead",
                )
            status, kind, data = self._post(peer, self._request(old, cp))
            if status == 200:
                return self._pick(peer, data)
            if status == 409 and kind.startswith("text/x.tlog.size"):
                old = parse_decimal(data.decode("ascii", "replace").strip(), "witness size")
                said = True
                continue
            if status in (409, 422):  # not an extension of what it cosigned, or a split view
                self._report(peer, old if status == 422 else cp.size, INCONSISTENT)
            raise LedgerError(
                f"witness answered {status}: {data[:300].decode('utf-8', 'replace')}",
                code="witness_refused",
            )
        return None

    def _report(self, peer: WitnessPeer, size: int, kind: str) -> None:
        if peer.label not in self._configured:
            log.error(
                "partner witness %s says our log is %s at size %d: check `smartcustoms ledger "
                "fsck` and the configured witnesses",
                peer.label,
                "behind what it cosigned" if kind == AHEAD else "inconsistent with what it saw",
                size,
            )
            return
        if self._guard is not None:
            try:
                self._guard.witness_report(peer.label, size, kind)
            except (TlogError, OSError) as exc:
                log.error("cannot record what witness %s said: %s", peer.label, exc)

    def _request(self, old: int, cp: SignedCheckpoint) -> bytes:
        proof: list[bytes] = []
        if 0 < old < cp.size:
            with self._db.engine.connect() as conn:
                proof = consistency_proof(old, cp.size, StoreHashReader(conn))
        head = f"old {old}\n" + "".join(_b64.encode(h) + "\n" for h in proof)
        return (head + "\n" + cp.note).encode()

    def _post(self, peer: WitnessPeer, body: bytes) -> tuple[int, str, bytes]:
        req = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            peer.url + "/add-checkpoint",
            data=body,
            method="POST",
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as resp:  # noqa: S310
                return resp.status, resp.headers.get("Content-Type", ""), resp.read(MAX_RESPONSE)
        except urllib.error.HTTPError as err:
            return err.code, err.headers.get("Content-Type", ""), err.read(MAX_RESPONSE)

    def _pick(self, peer: WitnessPeer, data: bytes) -> str | None:
        """The response's cosignature line by ``peer``'s key (others are ignored)."""
        prefix = f"— {peer.verifier.name} "
        for line in data.decode("utf-8", "replace").splitlines(keepends=True):
            if line.startswith(prefix) and line.endswith("\n"):
                raw = line[len(prefix) :].strip()
                try:
                    key_id = int.from_bytes(_b64.decode(raw)[:4], "big")
                except ValueError:
                    continue
                if key_id == peer.verifier.key_id:
                    return line
        raise LedgerError(f"witness {peer.label} answered without its cosignature")
