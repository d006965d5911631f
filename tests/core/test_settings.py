"""Settings: environment, TOML file, precedence, and errors that name the bad setting."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from smartcustoms.core.errors import ConfigurationError
from smartcustoms.core.settings import load_settings


def test_defaults_use_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'data' / 'smartcustoms.db'}"
    assert settings.production is False
    assert settings.port == 8000


def test_environment_beats_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "smartcustoms.toml"
    config.write_text('port = 9000\nlog_level = "debug"\nadministration_name = "KRA"\n')
    monkeypatch.setenv("SMARTCUSTOMS_PORT", "9100")
    settings = load_settings(config)
    assert settings.port == 9100
    assert settings.log_level == "DEBUG"
    assert settings.administration_name == "KRA"


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text("workers = 3\n")
    monkeypatch.setenv("SMARTCUSTOMS_CONFIG", str(config))
    assert load_settings().workers == 3


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("SMARTCUSTOMS_PORT", "eighty", "SMARTCUSTOMS_PORT='eighty'"),
        ("SMARTCUSTOMS_PORT", "70000", "SMARTCUSTOMS_PORT='70000'"),
        ("SMARTCUSTOMS_PRODUCTION", "maybe", "SMARTCUSTOMS_PRODUCTION='maybe'"),
        ("SMARTCUSTOMS_DATABASE_URL", "mysql://x", "SMARTCUSTOMS_DATABASE_URL='mysql://x'"),
        ("SMARTCUSTOMS_LOG_LEVEL", "loud", "SMARTCUSTOMS_LOG_LEVEL='LOUD'"),
    ],
)
def test_bad_environment_value_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert named in err.value.message
    assert err.value.details[0]["setting"] == variable


def test_unknown_key_in_toml_is_named(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("prot = 80\n")
    with pytest.raises(ConfigurationError, match=r"'prot'.*unknown setting"):
        load_settings(config)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("port = \n")
    with pytest.raises(ConfigurationError, match="cannot read configuration file"):
        load_settings(config)
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(tmp_path / "absent.toml")


def test_secret_value_is_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCUSTOMS_SECRET_KEY", "short-secret")
    settings = load_settings()
    with pytest.raises(ConfigurationError, match="too short") as err:
        settings.resolved_secret_key()
    assert "short-secret" not in str(err.value)


def test_production_refuses_a_missing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCUSTOMS_PRODUCTION", "true")
    with pytest.raises(ConfigurationError, match="SMARTCUSTOMS_SECRET_KEY"):
        load_settings().resolved_secret_key()


def test_outside_production_a_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = load_settings()
    first = settings.resolved_secret_key()
    assert len(first) >= 32
    assert load_settings().resolved_secret_key() == first
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / "secret.key").st_mode)
    assert mode == 0o600
