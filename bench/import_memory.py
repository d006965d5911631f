"""Peak memory and time of ``smartcustoms declarations import --format csv`` against file size.

    .venv/bin/python bench/import_memory.py                  # 20 MB and 200 MB
    .venv/bin/python bench/import_memory.py --sizes 5,20     # other sizes, in MB
    .venv/bin/python bench/import_memory.py --src /tmp/old/src --sizes 20   # another tree

Target (the "trust" issue): at most 500 MB peak RSS for any file size, all or nothing, with
``--skip-invalid``, idempotency on declarant + LRN and the risk assessment of what is stored.

Each file is a flat CSV of realistic declarations (the columns of ``formats/csv_flat.py``, all
filled: one to six goods items each, HS 2022 codes from the packaged nomenclature, ISO 6346
containers with their check digits, decimal values and masses), about one in a hundred rows
invalid (an unknown origin country) so the rejects file is written too. Each import runs as a
user runs it — ``smartcustoms declarations import FILE --format csv --skip-invalid`` in its own
process, on a fresh SQLite database in a temporary folder (migrated beforehand, not timed) —
and its peak RSS is the child's own ``ru_maxrss`` (``os.wait4``).

Baselines, measured in the same run: the interpreter importing the CLI and doing nothing
(``smartcustoms --version``), and the same import command on a file with a header and no
declarations (settings, database, migrations check, ledger: everything but the rows).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from stdnum import iso6346

from smartcustoms.declarations.formats.csv_flat import COLUMNS
from smartcustoms.reference.hs import edition_for

MB = 1_000_000
TARGET_MB = 500
COUNTRIES = ("CN", "IN", "TR", "AE", "DE", "US", "JP", "ZA", "BD", "VN", "TH", "IT", "NL", "GB")
CURRENCIES = ("USD", "USD", "USD", "EUR", "KES", "CNY")
OFFICES = ("KEMBA", "KENBO", "TZDAR", "UGKLA")
INCOTERMS = ("FOB", "CIF", "CFR", "EXW", "DAP")
WORDS = (
    *("solar", "inverters", "cotton", "t-shirts", "steel", "bolts", "rice", "bags", "machine"),
    *("parts", "tyres", "ceramic", "tiles", "electric", "cables", "paper", "rolls", "plastic"),
    *("chairs", "engine", "oil", "sugar", "printed", "books", "medicines"),
)


def machine() -> str:
    load = os.getloadavg()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.uname().nodename} · {os.cpu_count()} cores · {mem:.0f} GiB RAM · load "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} · Python {sys.version.split()[0]} · "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def container(rng: random.Random) -> str:
    owner = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3)) + "U"
    serial = f"{rng.randrange(1_000_000):06d}"
    return owner + serial + iso6346.calc_check_digit(owner + serial)


def write_csv(path: Path, size: int, seed: int = 1) -> tuple[int, int]:
    """A CSV of about ``size`` bytes; returns (rows, declarations)."""
    rng = random.Random(seed)
    codes = [c for c in edition_for(date(2026, 11, 20))._table() if len(c) == 6]
    codes = rng.sample(codes, 400)
    start = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    rows = declarations = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        while fh.tell() < size:
            declarations += 1
            broker = f"BRK{rng.randrange(300):03d}"
            importer = f"IMP{rng.randrange(20_000):05d}"
            when = start + timedelta(seconds=declarations * 13)
            header = {
                "lrn": f"{when:%Y%m%d}-{declarations:08d}",
                "function_code": "9",
                "type_code": "IM",
                "mrn": "",
                "issue_datetime": when.isoformat(),
                "office_of_declaration": rng.choice(OFFICES),
                "declarant_id": broker,
                "declarant_name": f"Clearing agent {broker}",
                "importer_id": importer,
                "importer_name": f"Importer {importer} Ltd",
                "exporter_id": f"EXP{rng.randrange(5000):04d}",
                "seller_id": f"SEL{rng.randrange(5000):04d}",
                "agent_id": "",
                "export_country": rng.choice(COUNTRIES),
                "destination_country": "KE",
                "incoterm": rng.choice(INCOTERMS),
                "border_transport_mode": "1",
                "border_transport_id": f"IMO{rng.randrange(9_000_000, 9_999_999)}",
                "container_ids": " ".join(container(rng) for _ in range(rng.choice((1, 1, 2)))),
            }
            for sequence in range(1, rng.choice((1, 1, 2, 2, 3, 4, 6)) + 1):
                net = round(rng.lognormvariate(6, 1.2), 3)
                origin = "ZZ" if rng.random() < 0.01 else rng.choice(COUNTRIES)
                item = {
                    "item_sequence": str(sequence),
                    "item_hs_code": rng.choice(codes),
                    "item_description": " ".join(rng.sample(WORDS, 3)),
                    "item_origin_country": origin,
                    "item_customs_value": f"{net * rng.uniform(0.5, 40):.2f}",
                    "item_currency": rng.choice(CURRENCIES),
                    "item_net_mass_kg": f"{net:.3f}",
                    "item_gross_mass_kg": f"{net * 1.06:.3f}",
                    "item_quantity": str(rng.randrange(1, 500)),
                    "item_procedure": "4000",
                    "item_tax_type": "A00",
                    "item_tax_rate": rng.choice(("0", "10", "25", "35")),
                }
                row = {**header, **item}
                writer.writerow([row[c] for c in COLUMNS])
                rows += 1
    return rows, declarations


def command() -> list[str]:
    """``smartcustoms`` from whichever source tree PYTHONPATH names (see env_for)."""
    code = "import sys; from smartcustoms.cli import main; sys.argv[0] = 'smartcustoms'; main()"
    return [sys.executable, "-c", code]


def env_for(folder: Path, src: Path | None) -> dict[str, str]:
    env = {
        **os.environ,
        "SMARTCUSTOMS_DATA_DIR": str(folder),
        "SMARTCUSTOMS_DATABASE_URL": f"sqlite:///{folder / 'smartcustoms.db'}",
        "SMARTCUSTOMS_LOG_LEVEL": "WARNING",
        "COLUMNS": "120",
    }
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def run(args: list[str], env: dict[str, str]) -> tuple[float, int, int, str]:
    """(seconds, peak RSS in MB, exit status, last line of output) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    lines = [line for line in output.splitlines() if line.strip()]
    return seconds, usage.ru_maxrss // 1024, child.returncode, " | ".join(lines[-3:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20,200", help="file sizes in MB, comma-separated")
    parser.add_argument("--src", type=Path, help="run the CLI from this source tree")
    parser.add_argument("--keep", action="store_true", help="keep the files and databases")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    cli = command()
    print(machine())
    print(f"code: {args.src or 'this tree'}; target: peak RSS <= {TARGET_MB} MB at any size\n")
    root = Path(tempfile.mkdtemp(prefix="import-memory-"))
    try:
        folder = root / "baseline"
        folder.mkdir()
        seconds, rss, _, _ = run([*cli, "--version"], env_for(folder, args.src))
        print(f"{'interpreter + CLI, doing nothing':<44} peak {rss:>6} MB  {seconds:6.1f} s")
        empty = root / "empty.csv"
        empty.write_text(",".join(COLUMNS) + "\n")
        env = env_for(folder, args.src)
        run([*cli, "db", "upgrade"], env)
        seconds, rss, _, _ = run([*cli, "declarations", "import", str(empty), "-f", "csv"], env)
        print(f"{'import of a file with no declarations':<44} peak {rss:>6} MB  {seconds:6.1f} s")
        print()
        print(
            f"{'file':>9} {'rows':>9} {'decl.':>8} {'peak RSS':>9} {'time':>8} "
            f"{'decl./s':>8}  outcome"
        )
        for size in sizes:
            path = root / f"declarations-{size:g}MB.csv"
            rows, count = write_csv(path, int(size * MB))
            folder = root / f"db-{size:g}"
            folder.mkdir()
            env = env_for(folder, args.src)
            run([*cli, "db", "upgrade"], env)
            argv = [*cli, "declarations", "import", str(path), "-f", "csv", "--skip-invalid"]
            seconds, rss, status, tail = run(argv, env)
            verdict = "ok" if rss <= TARGET_MB else f"over {TARGET_MB} MB"
            print(
                f"{path.stat().st_size / MB:>7.1f}MB {rows:>9,} {count:>8,} {rss:>6} MB "
                f"{seconds:>7.1f}s {count / seconds:>8,.0f}  {verdict}, exit {status}: {tail}",
                flush=True,
            )
    finally:
        if args.keep:
            print(f"\nkept in {root}")
        else:
            import shutil

            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
