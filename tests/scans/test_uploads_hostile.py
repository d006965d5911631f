"""The uploads folder when requests race: a DELETE while the upload is being appended or
received, a second "receive" while the first is running, an upload whose state went stale
between reading it and taking its lock."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from smartcustoms.core.errors import Conflict, NotFound
from smartcustoms.scans.uploads import PendingUpload, UploadStore


def _meta(**fields: str) -> dict[str, str]:
    return {k: base64.b64decode(base64.b64encode(v.encode())).decode() for k, v in fields.items()}


@pytest.fixture
def store(tmp_path: Path) -> UploadStore:
    return UploadStore(tmp_path / "uploads", max_bytes=1000)


def test_a_delete_racing_an_append_waits_its_turn(store: UploadStore) -> None:
    upload = store.create("officer", 10, _meta(declaration_id="1"))
    with store.appending(upload.id, "officer", 0) as piece:
        piece.write(b"abcd")
        # The piece is being written (or the complete file received): deleting it under the
        # appender's feet would make the receiving read a file that is gone (a 500).
        with pytest.raises(Conflict):
            store.delete(upload.id, "officer")
        piece.write(b"efghij")
        assert piece.complete
    done = store.get(upload.id, "officer")
    assert done.complete and store.data(done) == b"abcdefghij"
    store.delete(upload.id, "officer")  # once nobody appends, it goes
    with pytest.raises(NotFound):
        store.get(upload.id, "officer")


def test_the_state_is_read_again_under_the_lock(store: UploadStore) -> None:
    # Two connections send the empty "receive it again" PATCH at once: the second must see
    # that the first received it, not the state it read before waiting for the lock.
    upload = store.create("officer", 4, _meta(declaration_id="1"))
    with store.appending(upload.id, "officer", 0) as piece:
        piece.write(b"abcd")
    stale = store.get(upload.id, "officer")
    store.received(stale, 42)
    with pytest.raises(Conflict, match="scan 42"), store.appending(upload.id, "officer", 0):
        pass


def test_discarding_while_holding_the_lock(store: UploadStore) -> None:
    # A file refused at its last piece is discarded by the one holding the lock.
    upload = store.create("officer", 4, _meta(declaration_id="1"))
    with store.appending(upload.id, "officer", 0) as piece:
        piece.write(b"abcd")
        piece.discard()
    with pytest.raises(NotFound):
        store.get(upload.id, "officer")


def test_an_append_that_lost_the_race_to_a_delete_leaves_nothing(store: UploadStore) -> None:
    upload = store.create("officer", 4, _meta(declaration_id="1"))
    state, part = store.folder / f"{upload.id}.json", store.folder / f"{upload.id}.part"
    # The DELETE finished between the PATCH reading the state and opening the part file.
    original_get = store.get
    calls: list[str] = []

    def get_then_deleted(upload_id: str, owner: str) -> PendingUpload:
        found = original_get(upload_id, owner)
        if not calls:
            calls.append(upload_id)
            store.delete(upload_id, owner)
        return found

    store.get = get_then_deleted  # type: ignore[method-assign]
    with pytest.raises(NotFound), store.appending(upload.id, "officer", 0):
        pass
    assert not state.exists() and not part.exists()
