"""QueuedMark: what one thread queued is that thread's to take, once."""

from __future__ import annotations

import threading

from smartcustoms.core.queued import QueuedMark


def test_a_mark_is_taken_once_by_the_thread_that_made_it() -> None:
    mark = QueuedMark()
    assert mark.take() is False
    mark.mark()
    seen: list[bool] = []
    other = threading.Thread(target=lambda: seen.append(mark.take()))
    other.start()
    other.join()
    assert seen == [False]  # another thread's commit does not wake for this one's queue
    assert mark.take() is True
    assert mark.take() is False
