"""The resumable-upload store: one appender at a time, offsets that must match, metadata
checked before a byte is accepted, and old unfinished uploads swept away."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from smartcustoms.core.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from smartcustoms.scans.uploads import UPLOAD_TTL, UploadStore, parse_metadata


def _meta(**fields: str) -> dict[str, str]:
    header = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())
    return parse_metadata(header)


@pytest.fixture
def store(tmp_path: Path) -> UploadStore:
    return UploadStore(tmp_path / "uploads", max_bytes=1000)


def test_pieces_append_at_the_offset_and_survive_a_failure(store: UploadStore) -> None:
    upload = store.create("officer", 10, _meta(declaration_id="7", tare_kg="3800"))
    assert upload.fields["declaration_id"] == 7 and upload.fields["tare_kg"] == 3800.0
    with store.appending(upload.id, "officer", 0) as piece:
        piece.write(b"abcd")
    with pytest.raises(RuntimeError), store.appending(upload.id, "officer", 4) as piece:
        piece.write(b"ef")
        raise RuntimeError("the line dropped")
    assert store.get(upload.id, "officer").offset == 6  # what arrived is kept
    with pytest.raises(Conflict), store.appending(upload.id, "officer", 4):
        pass
    with store.appending(upload.id, "officer", 6) as piece:
        piece.write(b"ghij")
        with pytest.raises(ValidationFailed):
            piece.write(b"k")  # past the length
    done = store.get(upload.id, "officer")
    assert done.complete and store.data(done) == b"abcdefghij"
    store.received(done, 42)
    again = store.get(upload.id, "officer")
    assert again.complete and again.scan_id == 42
    with pytest.raises(Conflict, match="scan 42"), store.appending(upload.id, "officer", 10):
        pass


def test_one_appender_at_a_time(store: UploadStore) -> None:
    upload = store.create("officer", 10, _meta(declaration_id="1"))
    with (
        store.appending(upload.id, "officer", 0),
        pytest.raises(Conflict, match="another"),
        store.appending(upload.id, "officer", 0),
    ):
        pass


def test_an_upload_is_its_owner_s_only(store: UploadStore) -> None:
    upload = store.create("officer", 10, _meta(declaration_id="1"))
    with pytest.raises(NotFound):
        store.get(upload.id, "someone-else")
    for forged in ("../../etc/passwd", "A" * 32, "", upload.id + "/x"):
        with pytest.raises(NotFound):
            store.get(forged, "officer")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("declaration_id bm90LWJhc2U2NA==,declaration_id MQ==", "declaration_id"),
        ("declaration_id !!!", "declaration_id"),
        ("owner b2ZmaWNlcg==", "owner"),
    ],
)
def test_bad_metadata_names_the_field(header: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_metadata(header)
    assert field in caught.value.message


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"declaration_id": "0"},
        {"declaration_id": "1", "goods_gross_kg": "-1"},
        {"declaration_id": "1", "goods_gross_kg": "inf"},
        {"declaration_id": "1", "declared_empty": "yes"},
        {"declaration_id": "1", "container_number": "X" * 18},
        {"declaration_id": "1", "sidecar": "{" + " " * 40_000 + "}"},
    ],
)
def test_linked_fields_are_checked_before_any_byte(
    store: UploadStore, fields: dict[str, str]
) -> None:
    with pytest.raises(ValidationFailed):
        store.create("officer", 10, _meta(**fields))
    assert not list(store.folder.glob("*.part"))


def test_limits_and_the_sweep(store: UploadStore) -> None:
    with pytest.raises(PayloadTooLarge):
        store.create("officer", 1001, _meta(declaration_id="1"))
    with pytest.raises(ValidationFailed):
        store.create("officer", 0, _meta(declaration_id="1"))
    old = store.create("officer", 10, _meta(declaration_id="1"))
    fresh = store.create("officer", 10, _meta(declaration_id="1"))
    assert store.sweep(time.time() + UPLOAD_TTL / 2) == 0
    old_state = store.folder / f"{old.id}.json"
    old_state.write_text(
        old_state.read_text().replace(str(old.created), str(old.created - UPLOAD_TTL - 1))
    )
    assert store.sweep() == 1
    with pytest.raises(NotFound):
        store.get(old.id, "officer")
    assert store.get(fresh.id, "officer").offset == 0
