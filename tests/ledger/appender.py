"""A process that appends to the ledger until it is killed (tests/ledger/test_crash.py).

Settings come from the environment. Each acknowledged batch is printed as ``<first> <count>``
only after ``append_many`` returned, i.e. after the entries were committed.
"""

from __future__ import annotations

import sys

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import load_settings
from smartcustoms.ledger.service import attach_ledger

BATCH = 50


def main() -> None:
    ctx = AppContext.from_settings(load_settings(None))
    ledger = attach_ledger(ctx)
    n = 0
    while n < 200_000:
        batch = [{"type": "test.crash", "v": 1, "n": n + k} for k in range(BATCH)]
        first = ledger.append_many(batch)[0]
        sys.stdout.write(f"{first} {BATCH} {n}\n")
        sys.stdout.flush()
        n += BATCH


if __name__ == "__main__":
    main()
