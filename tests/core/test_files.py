"""Private files created by whichever process starts first, read whole by every other."""

from __future__ import annotations

import multiprocessing
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from smartcustoms.core.files import create_private_file


def test_the_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    assert create_private_file(path, "first")
    assert not create_private_file(path, "second")
    assert path.read_text(encoding="ascii") == "first\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]  # no temporary file left


def _race(path: str, text: str, start: object, out: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    won = create_private_file(Path(path), text)
    # Whoever lost reads the winner's file at once: it must never be empty or partial.
    out.put((won, Path(path).read_text(encoding="ascii")))  # type: ignore[attr-defined]


def test_processes_racing_to_create_it_all_read_one_whole_file(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("fork")
    for round_ in range(5):
        path = tmp_path / f"race-{round_}.key"
        start, out = spawn.Event(), spawn.Queue()
        texts = [f"key-{i}-" + "x" * 4000 for i in range(6)]
        procs = [spawn.Process(target=_race, args=(str(path), t, start, out)) for t in texts]
        for proc in procs:
            proc.start()
        start.set()
        results = [out.get(timeout=30) for _ in procs]
        for proc in procs:
            proc.join(timeout=30)
        winners = [text for won, text in results if won]
        assert len(winners) == 1
        assert {text for _, text in results} == {winners[0]}
        assert winners[0].strip() in texts


def test_a_slow_writer_never_shows_a_half_made_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first writer stalls in fsync (a slow disk); meanwhile a second process starts and
    # must not find an empty key file where the first one is still writing.
    path = tmp_path / "log.key"
    real_fsync, stalled = os.fsync, threading.Event()

    def slow_fsync(fd: int) -> None:
        if threading.current_thread().name == "slow" and not stalled.is_set():
            stalled.set()
            time.sleep(0.3)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    slow = threading.Thread(target=create_private_file, args=(path, "slow-key"), name="slow")
    slow.start()
    assert stalled.wait(5)
    assert not path.exists()  # nothing under the final name while the writer is stalled
    won = create_private_file(path, "fast-key")
    seen = path.read_text(encoding="ascii")
    slow.join(5)
    assert won and seen == "fast-key\n"
    assert path.read_text(encoding="ascii") == "fast-key\n"  # the stalled writer lost cleanly
