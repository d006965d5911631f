"""``smartcustoms ledger``: append, prove, verify and check the verifiable ledger; its keys;
and this instance as a witness of partners' ledgers (``ledger witness …``)."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from smartcustoms.cli import ledger_reconcile
from smartcustoms.cli.common import (
    actor,
    console,
    err_console,
    error_line,
    fail,
    open_context,
    settings_of,
)
from smartcustoms.cli.lazy import lazy_module
from smartcustoms.core.errors import ValidationFailed

if TYPE_CHECKING:
    from smartcustoms.core import events, jsontext
    from smartcustoms.ledger import audit as ledger_audit
    from smartcustoms.ledger import commitments, witness
    from smartcustoms.ledger import errors as ledger_errors
    from smartcustoms.ledger import fsck as ledger_fsck
    from smartcustoms.ledger import service as ledger_service
    from smartcustoms.ledger.tlog import offline
    from smartcustoms.ledger.tlog import records as tlog_records
else:  # loaded when a command runs, not for `--help`
    events = lazy_module("smartcustoms.core.events")
    jsontext = lazy_module("smartcustoms.core.jsontext")
    ledger_audit = lazy_module("smartcustoms.ledger.audit")
    commitments = lazy_module("smartcustoms.ledger.commitments")
    ledger_errors = lazy_module("smartcustoms.ledger.errors")
    ledger_fsck = lazy_module("smartcustoms.ledger.fsck")
    ledger_service = lazy_module("smartcustoms.ledger.service")
    offline = lazy_module("smartcustoms.ledger.tlog.offline")
    tlog_records = lazy_module("smartcustoms.ledger.tlog.records")
    witness = lazy_module("smartcustoms.ledger.witness")

app = typer.Typer(
    help="The verifiable ledger: an append-only Merkle log (RFC 9162) with signed checkpoints "
    "(C2SP), witnessed by partner administrations.",
    no_args_is_help=True,
)
witness_app = typer.Typer(
    help="This instance as a witness: cosign partner administrations' ledger checkpoints.",
    no_args_is_help=True,
)
app.add_typer(witness_app, name="witness")
app.command("status")(ledger_reconcile.status)
app.command("export")(ledger_reconcile.export)
app.command("reconcile")(ledger_reconcile.reconcile)


def _read(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    if path.is_dir():
        fail(f"{source}: a directory, not a file")
    if not path.exists():
        fail(f"{source}: no such file")
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"{source}: {exc.strerror or exc}")


def _records(data: bytes) -> list[Any]:
    """One JSON object, a JSON array of objects, or JSON Lines. Malformed or undecodable
    input, nesting too deep, a number too long: refused naming the line and byte offset."""
    try:
        value = jsontext.loads(data, "input")
    except ValidationFailed as whole:
        lines = [(n, line) for n, line in enumerate(data.splitlines(), 1) if line.strip()]
        if len(lines) < 2:
            if not lines:
                return []
            fail(f"not JSON, a JSON array or JSON Lines: {whole.message}")
        records = []
        for n, line in lines:
            try:
                records.append(jsontext.loads(line, f"line {n}"))
            except ValidationFailed as exc:
                fail(f"not JSON, a JSON array or JSON Lines: {exc.message}")
        return records
    return value if isinstance(value, list) else [value]


@app.command("append")
def append(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="File of records (JSON, JSON array or JSON Lines); - for stdin.")
    ],
) -> None:
    """Append records to the ledger and print their entry numbers.

    Each record is a JSON object with a "type" (like "risk.decision") and a version "v";
    decimals are strings (no floats). The entries are stored before this returns.

    Safe to run again after a crash or a kill: each record is keyed by the input's SHA-256 and
    its position in it, and a record an earlier run already appended is skipped (said on
    standard error) instead of being appended twice.
    """
    data = _read(source)
    records = _records(data)
    if not records:
        fail("no records to append")
    digest = hashlib.sha256(data).hexdigest()
    keyed = [(f"append:{digest}:{n}", record) for n, record in enumerate(records)]
    with open_context(ctx) as app_ctx:
        try:
            indexes = ledger_service.ledger_of(app_ctx).append_once(keyed)
        except ledger_errors.PRODUCT_ERRORS as exc:
            fail(exc.message)
    for n, index in enumerate(indexes):
        if index is None:
            err_console.print(f"record {n} was appended by an earlier run of this input: skipped")
        else:
            typer.echo(index)


@app.command("checkpoint")
def checkpoint(ctx: typer.Context) -> None:
    """Print the latest signed checkpoint, with its witness cosignatures."""
    with open_context(ctx) as app_ctx:
        cp = ledger_service.ledger_of(app_ctx).checkpoint()
    if cp is None:
        fail("the ledger has no signed checkpoint yet")
    typer.echo(cp.text, nl=False)


@app.command("vkey")
def vkey(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Every key the log has used.")] = False,
) -> None:
    """Print the log's public (verifier) key: give it to whoever verifies proofs."""
    with open_context(ctx) as app_ctx:
        ledger = ledger_service.ledger_of(app_ctx)
        if not all_:
            typer.echo(ledger.vkey())
            return
        for key, current in ledger.vkeys() or [(ledger.vkey(), True)]:
            typer.echo(f"{key}  {'current' if current else 'retired'}")


@app.command("rotate-key")
def rotate_key(ctx: typer.Context) -> None:
    """Replace the log's signing key. The old one is kept as log.<id>.retired.

    Copy the new data-dir/ledger/log.key to every replica that may sequence, and give the new
    public key to verifiers; checkpoints signed before stay valid under the old key.
    """
    with open_context(ctx) as app_ctx:
        ledger = ledger_service.ledger_of(app_ctx)
        old, new = ledger.rotate_key(actor())
        app_ctx.record(
            events.AdminAction(actor=actor(), action="ledger_key_rotated", target=f"{old} -> {new}")
        )
        console.print(f"ledger key rotated: {old} -> {new}")
        typer.echo(ledger.vkey())


@app.command("prove")
def prove(
    ctx: typer.Context,
    index: Annotated[int, typer.Argument(min=0, help="The entry number.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a checkpoint.")] = 5.0,
) -> None:
    """Print a proof bundle (c2sp.org/tlog-proof@v1) for an entry, carrying the entry itself.

    Anyone verifies it with `smartcustoms ledger verify BUNDLE --vkey KEY`, offline.
    """
    with open_context(ctx) as app_ctx:
        ledger = ledger_service.ledger_of(app_ctx)
        try:
            if index < ledger.size():
                ledger.start()  # sign the entry's checkpoint if no sequencer runs
                ledger.wait_covered(index, wait)
            bundle = ledger.proof_bundle(index)
        except ledger_errors.PRODUCT_ERRORS as exc:
            fail(exc.message)
    if output is None:
        typer.echo(bundle, nl=False)
    else:
        output.write_text(bundle, encoding="utf-8")
        console.print(f"proof of entry {index} written to {output}")


@app.command("verify")
def verify(
    bundle: Annotated[str, typer.Argument(help="The proof bundle file; - for stdin.")],
    vkey: Annotated[str, typer.Option("--vkey", help="The log's verifier key.")],
    witness_vkey: Annotated[
        list[str] | None,
        typer.Option("--witness-vkey", help="A witness's key; repeat for several."),
    ] = None,
    quorum: Annotated[
        int | None, typer.Option(min=0, help="Witnesses that must have cosigned [default: all].")
    ] = None,
    entry: Annotated[
        Path | None, typer.Option(help="The entry, if the bundle does not carry it.")
    ] = None,
) -> None:
    """Verify a proof bundle with nothing but it and the keys: no database, no network.

    Checks the log's signature, every given witness's cosignature, the inclusion proof of the
    entry, and that enough witnesses cosigned. Exits 1 naming what is wrong.
    """
    data = _read(bundle)
    try:
        checked = offline.check_bundle(
            data,
            vkey,
            witness_vkey or [],
            quorum=quorum,
            entry=entry.read_bytes() if entry else None,
        )
    except ledger_errors.PRODUCT_ERRORS as exc:
        fail(f"not verified: {exc.message}")
    v = checked.verification
    witnesses = ", ".join(c.name for c in v.cosigners) or "none"
    console.print(
        f"verified: entry {v.index} is in {v.checkpoint.origin} (size {v.checkpoint.size}), "
        f"signed by {v.log_key}; cosigned by {witnesses}",
        highlight=False,
    )
    if checked.record is not None:
        typer.echo(json.dumps(checked.record, indent=2, ensure_ascii=False, sort_keys=True))
    else:
        typer.echo(base64.b64encode(checked.entry).decode())


def _auditors() -> list[ledger_audit.Auditor]:
    """Each module's auditor of its decisions against their records (imported here, when
    fsck runs: the ledger does not know the modules that record into it)."""
    from smartcustoms.federation.scans_audit import auditors as shared_scan_auditors
    from smartcustoms.risk.audit import auditors as risk_auditors
    from smartcustoms.scans.audit import auditors as scan_auditors
    from smartcustoms.tracking.audit import auditors as tracking_auditors

    return [*risk_auditors(), *tracking_auditors(), *scan_auditors(), *shared_scan_auditors()]


@app.command("fsck")
def fsck_command(
    ctx: typer.Context,
    records: Annotated[
        bool,
        typer.Option(
            "--records/--no-records",
            help="Also check that every lane decision, examination result, alert, transit and "
            "scan review stored has its ledger record, and that the record says what the row "
            "says.",
        ),
    ] = True,
) -> None:
    """Recompute the tree from the stored entries and check every hash, checkpoint signature,
    cosignature and key, and that no checkpoint went missing; then check every stored decision
    against its ledger record. Name what is wrong (exit 1).

    Records still queued for the tree (committed with their change) count as present."""
    settings = settings_of(ctx)
    with open_context(ctx) as app_ctx:
        report = ledger_fsck.fsck(
            app_ctx.db,
            settings.data_dir,
            settings.ledger_origin,
            checkpoint_interval_s=settings.ledger_checkpoint_interval_ms / 1000,
        )
        checked = ledger_audit.audit(app_ctx.db, _auditors()) if records else None
    if report.ok:
        console.print(
            f"ledger ok: {report.size} entries, {report.checkpoints} checkpoints, "
            f"{report.cosignatures} cosignatures",
            highlight=False,
        )
    else:
        first, *rest = report.problems
        # The first problem is the command's error line (one prefix for every error); the
        # others follow it as detail.
        error_line(f"ledger damaged: {first.message}")
        for problem in rest[:20]:
            err_console.print(f"  also: {escape(problem.message)}", highlight=False)
    if checked is not None:
        if checked.ok:
            console.print(f"records ok: {checked.summary()}", highlight=False)
        else:
            first_problem, *others = checked.problems
            error_line(f"records disagree with the ledger: {first_problem}")
            for message in others[:50]:
                err_console.print(f"  also: {escape(message)}", highlight=False)
            if len(others) > 50:
                err_console.print(f"  … and {len(others) - 50} more", highlight=False)
            err_console.print(f"  ({checked.summary()})", highlight=False)
    if not report.ok or (checked is not None and not checked.ok):
        raise typer.Exit(1)


@app.command("open")
def open_command(
    ctx: typer.Context,
    commitment: Annotated[str, typer.Argument(help="sha256:… as it appears in a record.")],
) -> None:
    """Reveal the value and salt behind a commitment in a record (recorded in the ledger).

    Give both to someone entitled to the value; they check them with `check-commitment`.
    """
    with open_context(ctx) as app_ctx:
        with app_ctx.db.engine.connect() as conn:
            try:
                value, salt = commitments.reveal(conn, commitment)
            except ledger_errors.PRODUCT_ERRORS as exc:
                fail(exc.message)
        app_ctx.record(
            events.AdminAction(actor=actor(), action="ledger_commitment_opened", target=commitment)
        )
    opening = {"commitment": commitment, "value": value, "salt": base64.b64encode(salt).decode()}
    typer.echo(json.dumps(opening, ensure_ascii=False))


@app.command("check-commitment")
def check_commitment_command(
    commitment: Annotated[str, typer.Argument(help="sha256:… from the record.")],
    value: Annotated[str, typer.Option(help='The revealed value, as JSON ("10.0.0.7").')],
    salt: Annotated[str, typer.Option(help="The revealed salt, base64.")],
) -> None:
    """Check that a revealed value and salt open a commitment (offline)."""
    try:
        parsed = jsontext.loads(value, "--value")
        raw_salt = base64.b64decode(salt, validate=True)
    except ValidationFailed as exc:
        fail(f"bad value: {exc.message}")
    except (ValueError, TypeError) as exc:
        fail(f"bad value or salt: {exc}")
    if not tlog_records.check_commitment(commitment, parsed, raw_salt):
        fail("the value and salt do not open this commitment")
    console.print("the value and salt open this commitment")


# -- witness ----------------------------------------------------------------------------------


@witness_app.command("vkey")
def witness_vkey(ctx: typer.Context) -> None:
    """Print this witness's public key (cosignature/v1): give it to the partner's log."""
    with open_context(ctx) as app_ctx:
        typer.echo(ledger_service.ledger_of(app_ctx).witness_signer().verifier().key_string())


@witness_app.command("add-log")
def witness_add_log(
    ctx: typer.Context,
    vkey: Annotated[str, typer.Argument(help="The partner log's verifier key.")],
    origin: Annotated[
        str | None, typer.Option(help="Its origin [default: the key's name].")
    ] = None,
) -> None:
    """Witness a partner's ledger: cosign its checkpoints signed by this key."""
    with open_context(ctx) as app_ctx:
        try:
            with app_ctx.db.writer.begin() as conn:
                log = witness.add_log(conn, vkey, origin)
        except ledger_errors.PRODUCT_ERRORS as exc:
            fail(exc.message)
        app_ctx.record(
            events.AdminAction(actor=actor(), action="ledger_witness_log_added", target=log.origin)
        )
    console.print(f"witnessing {log.origin} (latest cosigned size {log.size})", highlight=False)


@witness_app.command("list")
def witness_list(ctx: typer.Context) -> None:
    """List the partner ledgers this instance witnesses."""
    with open_context(ctx) as app_ctx, app_ctx.db.engine.connect() as conn:
        logs = witness.list_logs(conn)
    for log in logs:
        typer.echo(f"{log.origin}  size {log.size}  keys {' '.join(log.vkeys)}")


@witness_app.command("serve")
def witness_serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address [default: from settings].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: from settings].")] = None,
) -> None:
    """Serve only the witness endpoint (POST /ledger/witness/add-checkpoint) and /health.

    For exposing the witness to partners without exposing the rest of smartcustoms.
    """
    import uvicorn

    from smartcustoms.web.witness_app import create_witness_app

    settings = settings_of(ctx, host=host, port=port)
    with open_context(ctx) as app_ctx:
        # Create the key now, not on the first request.
        ledger_service.ledger_of(app_ctx).witness_signer()
        console.print(f"witness listening on http://{settings.host}:{settings.port}")
        uvicorn.run(
            create_witness_app(app_ctx),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            server_header=False,
        )
