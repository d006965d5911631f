"""Start-up of the ``smartcustoms`` command: wall time of ``--version``, ``--help`` and each
group's help, beside the interpreter's own start-up, medians of repetitions.

    .venv/bin/python bench/cli_startup.py [--repeat 11] [--json out.json] [--source DIR]
                                          [--only TEXT ...]

Each figure is the wall time of a fresh process running the installed console script (the
venv's ``bin/smartcustoms``, or ``python -m smartcustoms``), its output to a pipe, from start
to exit; ``python -c pass`` is measured in the same rounds, interleaved, so that a busy machine
slows both alike, and each figure is also given as a ratio to it. Targets (issue 15): ``--version``
under 0.3 s, any other command's start-up under 0.6 s. ``db status`` on a fresh SQLite database
is shown too: a command that does its work (open the database, compare the schema), not only
start. Beside each wall time, the CPU time the process used (user + system), which a machine
busy with other work inflates far less than the wall time. ``--source DIR`` runs the package
found in ``DIR`` (``python -m smartcustoms`` with ``PYTHONPATH=DIR``) instead, to compare with
another version, e.g. ``git archive HEAD src | tar -x -C /tmp/old`` and ``--source
/tmp/old/src``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VERSION_TARGET_S = 0.3
COMMAND_TARGET_S = 0.6

GROUPS = (
    "serve", "demo", "backup", "restore", "db", "users", "tokens", "ledger", "declarations",
    "risk", "tracking", "scans", "notify", "webhooks", "partners",
)  # fmt: skip
COMMANDS = (
    ("scans", "analyze"),
    ("scans", "simulate"),
    ("ledger", "verify"),
    ("risk", "rules", "propose"),
    ("tracking", "decode"),
    ("users", "add"),
)


def command_line(source: Path | None) -> list[str]:
    script = Path(sys.executable).parent / "smartcustoms"
    if source is None and script.exists():
        return [str(script)]
    return [sys.executable, "-m", "smartcustoms"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, bool]:
    """Wall and CPU seconds of one run of ``argv``, and whether it succeeded (a version
    compared with ``--source`` may lack a command)."""
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    return elapsed, _cpu() - cpu, done.returncode in (0, 3)  # `db status`: 3, schema behind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11, help="runs per figure (median)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--source", type=Path, help="run the package in this folder instead")
    parser.add_argument(
        "--only", action="append", help="only the commands whose name contains this (repeat)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")}
        env |= {
            "SMARTCUSTOMS_DATA_DIR": tmp,
            "SMARTCUSTOMS_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite'}",
        }
        if args.source is not None:
            env["PYTHONPATH"] = str(args.source.resolve())
        cli = command_line(args.source)
        if not run([*cli, "db", "upgrade"], env)[2]:
            raise SystemExit(f"{' '.join(cli)} db upgrade failed")
        cases: list[tuple[str, list[str], float | None]] = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("--version", [*cli, "--version"], VERSION_TARGET_S),
            ("--help", [*cli, "--help"], COMMAND_TARGET_S),
            *((f"{g} --help", [*cli, g, "--help"], COMMAND_TARGET_S) for g in GROUPS),
            *((f"{' '.join(c)} --help", [*cli, *c, "--help"], COMMAND_TARGET_S) for c in COMMANDS),
            ("db status", [*cli, "db", "status"], None),
        ]
        if args.only:
            keep = ("python -c pass", *args.only)
            cases = [c for c in cases if any(part in c[0] for part in keep)]
        # Warm the file cache and the bytecode once; leave out what this version cannot run.
        failed = {name for name, argv, _ in cases if not run(argv, env)[2]}
        cases = [case for case in cases if case[0] not in failed]
        samples: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        cpu: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        for _ in range(args.repeat):  # rounds, interleaved: load shifts hit every case alike
            for name, argv, _ in cases:
                elapsed, used, _ = run(argv, env)
                samples[name].append(elapsed)
                cpu[name].append(used)

    settings = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 2),
        "repeat": args.repeat,
        "command": " ".join(cli) + (f" (PYTHONPATH={args.source})" if args.source else ""),
    }
    print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    base = statistics.median(samples["python -c pass"])
    print(
        f"{'command':<30} {'median s':>9} {'min s':>7} {'× python':>9} {'cpu s':>7} "
        f"{'target s':>9}  met"
    )
    results = []
    all_met = True
    for name, _, target in cases:
        median = statistics.median(samples[name])
        met = None if target is None else median < target
        all_met = all_met and met is not False
        used = statistics.median(cpu[name])
        results.append(
            {"command": name, "median_s": median, "min_s": min(samples[name]),
             "ratio": median / base, "cpu_s": used, "target_s": target, "met": met}
        )  # fmt: skip
        print(
            f"{name:<30} {median:>9.3f} {min(samples[name]):>7.3f} {median / base:>9.1f} "
            f"{used:>7.3f} {'' if target is None else f'{target:.1f}':>9}  "
            f"{'' if met is None else ('yes' if met else 'NO')}"
        )
    for name in sorted(failed):
        print(f"{name:<30} failed (this version has no such command)")
    print("targets met" if all_met else "targets NOT met")
    if args.json:
        args.json.write_text(json.dumps({"settings": settings, "results": results}, indent=2))


if __name__ == "__main__":
    main()
