"""Channel passwords: from the setting itself or from a file (a container secret), never a
default."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from smartcustoms.core.errors import ConfigurationError
from smartcustoms.core.settings import ENV_PREFIX

__all__ = ["resolve_secret"]


def resolve_secret(value: SecretStr | None, file: Path | None, name: str) -> str | None:
    """The secret from ``value`` or the first line of ``file``; both set is a mistake."""
    if value is not None and file is not None:
        raise ConfigurationError(
            f"set {ENV_PREFIX}{name.upper()} or {ENV_PREFIX}{name.upper()}_FILE, not both",
            details=[{"setting": f"{ENV_PREFIX}{name.upper()}_FILE", "problem": "both set"}],
        )
    if value is not None:
        return value.get_secret_value()
    if file is None:
        return None
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read {ENV_PREFIX}{name.upper()}_FILE {str(file)!r}: {exc.strerror}",
            details=[{"setting": f"{ENV_PREFIX}{name.upper()}_FILE", "value": str(file)}],
        ) from None
    return lines[0] if lines else ""
