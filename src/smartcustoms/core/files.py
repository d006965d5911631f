"""Private files that appear whole: keys and secrets created by whichever process starts first."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def create_private_file(path: Path, text: str) -> bool:
    """Create ``path`` with mode 0600 holding ``text``, durably; never overwrite.

    Returns False when the file already exists (another process made it first: use theirs).

    The text is written to a private temporary file, synced, then hard-linked into place: the
    link appears whole or not at all, so a second process starting at the same moment either
    reads the complete file or makes the link itself. Creating ``path`` directly with O_EXCL
    would let that process read it while it is still empty.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the new name survives a crash too
    finally:
        os.close(dir_fd)
    return True
