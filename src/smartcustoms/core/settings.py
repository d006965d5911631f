"""Settings from the environment (``SMARTCUSTOMS_*``) and an optional TOML file.

Precedence, highest first: values passed in code (the CLI's options), environment variables,
the TOML file named by ``--config`` or ``SMARTCUSTOMS_CONFIG``, then the defaults below. Every
key of the TOML file has the name of the field (``database_url = "…"``); every environment
variable is the field's name in capitals behind ``SMARTCUSTOMS_``.

A bad value never surfaces as a traceback: :func:`load_settings` turns pydantic's report into a
:class:`~smartcustoms.core.errors.ConfigurationError` that names the variable and the value.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from smartcustoms.core.errors import ConfigurationError
from smartcustoms.core.files import create_private_file

__all__ = ["ENV_PREFIX", "Settings", "load_settings"]

ENV_PREFIX = "SMARTCUSTOMS_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"
SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name, not a secret
MIN_SECRET_LENGTH = 32


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("smartcustoms", appauthor=False))


class Settings(BaseSettings):
    """Everything an operator can set. Each field documents its environment variable."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        validate_default=True,
        # Set by load_settings(); a class-level default would read the file at import time.
        toml_file=None,
    )

    production: bool = Field(
        False,
        description="Production mode: refuse to start without a secret key, secure cookies only.",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder for the SQLite database, keys and generated secrets.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. "
        "Default: a SQLite file in the data directory.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Secret for signing CSRF tokens. Required in production (32+ characters).",
    )
    host: str = Field("127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Web worker processes for `serve`.")
    trusted_proxies: str = Field(
        "127.0.0.1",
        description="Comma-separated addresses whose X-Forwarded-* headers are believed.",
    )
    cookie_secure: bool | None = Field(
        None,
        description="Force the Secure flag on cookies. Default: on in production or over HTTPS.",
    )
    session_idle_minutes: int = Field(
        30, ge=1, le=24 * 60, description="Web sessions end after this many idle minutes."
    )
    session_max_hours: int = Field(
        12, ge=1, le=24 * 30, description="Web sessions end this many hours after login."
    )
    login_window_minutes: int = Field(
        15, ge=1, le=24 * 60, description="Window over which failed logins are counted."
    )
    login_max_failures_per_account: int = Field(
        5, ge=1, description="Failed logins per account in the window before it is locked."
    )
    login_max_failures_per_address: int = Field(
        20, ge=1, description="Failed logins per client address in the window before refusal."
    )
    token_default_days: int = Field(90, ge=1, le=3650, description="Default API token lifetime.")
    token_max_days: int = Field(365, ge=1, le=3650, description="Longest API token lifetime.")
    max_body_bytes: int = Field(
        2 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes."
    )
    max_upload_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="Largest upload (declaration batches, scans) accepted, in bytes.",
    )
    risk_inspection_share: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Share of declarations the model sends to physical inspection (capacity).",
    )
    risk_random_control_share: float = Field(
        0.01, ge=0, le=1, description="Share of declarations inspected at random (control)."
    )
    risk_exploration_share: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Share of declarations inspected because the model is unsure of them.",
    )
    default_language: Literal["en", "fr", "ar"] = Field(
        "en", description="Language of the web interface when the browser asks for none."
    )
    time_zone: str = Field(
        "UTC",
        description="IANA time zone pages show times in where no office's zone applies "
        "(e.g. Africa/Nairobi).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Logging threshold."
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="Log lines as text, or as one JSON object a line (timestamp, level, logger, "
        "message, request id, user, roles, route, method, status, latency) for a log collector.",
    )
    max_concurrent_requests: int = Field(
        8,
        ge=1,
        le=10_000,
        description="Requests each web worker handles at once; more wait in a queue. /health, "
        "/metrics and live streams are not counted. SQLite has one writer: more than about 8 "
        "only wait on its lock.",
    )
    max_queued_requests: int = Field(
        32,
        ge=0,
        le=100_000,
        description="Requests each web worker keeps waiting beyond max_concurrent_requests; "
        "more are refused at once with 503 and Retry-After.",
    )
    request_queue_timeout_ms: int = Field(
        2000,
        ge=1,
        le=600_000,
        description="Longest wait in that queue (ms) before a request is refused with 503.",
    )
    overload_retry_after_s: int = Field(
        2, ge=1, le=3600, description="Retry-After, in seconds, of a 503 refused for overload."
    )
    shutdown_grace_s: float = Field(
        10.0,
        ge=1.0,
        le=600.0,
        description="On SIGTERM, `serve` stops within this many seconds: requests in flight "
        "finish, then the ledger stores what is queued and background work stops.",
    )
    administration_name: str = Field(
        "Customs administration",
        min_length=1,
        max_length=120,
        description="Name shown in the header of every page.",
    )
    ledger_origin: str = Field(
        "localhost/ledger",
        min_length=1,
        max_length=200,
        pattern=r"^[^\s+]+$",
        description="The ledger's identity (checkpoint origin and log key name), e.g. "
        "customs.example.ke/ledger. Set it before the first start; it never changes.",
    )
    ledger_checkpoint_interval_ms: int = Field(
        1000,
        ge=10,
        le=3_600_000,
        description="Least time between two signed ledger checkpoints, in milliseconds.",
    )
    ledger_public: bool = Field(
        False,
        description="Serve the ledger's checkpoint, tiles and proofs to anyone; otherwise only "
        "to auditors, partner administrations and administrators.",
    )
    ledger_witnesses: list[str] = Field(
        default_factory=list,
        description="Witnesses asked to cosign each checkpoint, each 'URL VKEY': the witness's "
        "submission URL prefix and its cosignature verifier key. Add ' interval=SECONDS' to ask "
        "a witness on a thin link at most once per interval, with the latest checkpoint.",
    )
    ledger_witness_quorum: int | None = Field(
        None,
        ge=0,
        description="Cosignatures a checkpoint needs to count as witnessed. Default: all of "
        "ledger_witnesses.",
    )
    ledger_witness_name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=r"^[^\s+]+$",
        description="Name of this instance's witness key, when it witnesses partners' ledgers. "
        "Default: the ledger origin followed by /witness.",
    )
    federation_url: str | None = Field(
        None,
        max_length=200,
        description="This instance's public base URL for partner administrations "
        "(https://…; http only for localhost), written on its partner card and used to check "
        "the @target-uri partners sign. Required to print a card or receive partners' messages.",
    )
    federation_country: str | None = Field(
        None,
        pattern=r"^[A-Z]{2}$",
        description="This administration's country, ISO 3166-1 alpha-2, on its partner card.",
    )
    federation_max_skew_s: int = Field(
        300,
        ge=5,
        le=3600,
        description="Partners' signed requests are accepted this many seconds either side of "
        "their signed creation time; their nonces are remembered twice as long.",
    )
    federation_refusals_recorded_per_minute: int = Field(
        20,
        ge=1,
        le=10000,
        description="Refused requests claiming a partner's key are ledger records; at most this "
        "many a minute from one address (per process), the rest are refused and only logged.",
    )
    federation_witness_interval_s: float = Field(
        0.0,
        ge=0.0,
        le=86_400.0,
        description="Least seconds between two requests to a partner administration to cosign "
        "this instance's checkpoints (partners witness each other's ledgers); 0 asks at every "
        "checkpoint. Raise it for a partner on a thin link.",
    )
    federation_auto_accept: bool = Field(
        False,
        description="Accept a transit a partner hands over at once (responsibility taken by "
        "this administration), instead of waiting for an officer's acceptance.",
    )
    federation_retry_base_ms: int = Field(
        1000,
        ge=1,
        le=3_600_000,
        description="First retry delay (ms) of a message to a partner that did not answer; each "
        "further try waits twice as long (with jitter), up to federation_retry_max_ms. Messages "
        "to partners are never given up on.",
    )
    federation_retry_max_ms: int = Field(
        60_000,
        ge=1,
        le=86_400_000,
        description="Longest wait between two tries of a message to a partner (ms).",
    )
    federation_scan_pieces_max_bytes: int = Field(
        1024 * 1024 * 1024,
        ge=1024,
        description="Most bytes of a partner's shared-scan pieces kept here while they wait "
        "for their scan.shared (a larger scan is refused from that partner).",
    )
    federation_scan_pieces_keep_hours: int = Field(
        24,
        ge=1,
        le=720,
        description="Pieces of a partner's shared scan that are not complete after this many "
        "hours since the last one came are deleted.",
    )
    webhook_retry_base_ms: int = Field(
        2000,
        ge=1,
        le=3_600_000,
        description="First webhook retry delay in milliseconds; each further try waits twice "
        "as long (with jitter), up to webhook_retry_max_ms.",
    )
    webhook_retry_max_ms: int = Field(
        300_000, ge=1, le=86_400_000, description="Longest wait between two webhook tries (ms)."
    )
    webhook_max_attempts: int = Field(
        12,
        ge=1,
        le=100,
        description="Tries before a webhook delivery goes to the dead letter (the defaults "
        "span about 20 minutes).",
    )
    webhook_timeout_ms: int = Field(
        10_000, ge=100, le=120_000, description="Time a webhook receiver has to answer (ms)."
    )
    webhook_concurrency: int = Field(
        16,
        ge=1,
        le=256,
        description="Webhook requests in flight at once (across subjects; one subject's "
        "deliveries are always sent one after another, in order).",
    )
    tracking_listen: bool = Field(
        False,
        description="`serve` also runs the device listeners (`smartcustoms tracking listen`) "
        "as a child process.",
    )
    tracking_host: str = Field(
        "0.0.0.0",  # noqa: S104 - devices connect from the mobile network
        description="Address the device listeners bind to.",
    )
    tracking_listeners: list[str] = Field(
        default_factory=lambda: [
            "teltonika:tcp:5027",
            "teltonika:udp:5027",
            "jt808:tcp:5015",
            "jt701:tcp:5014",
            "gt06:tcp:5023",
            "osmand:http:5055",
            "eseal:tcp:5169",
        ],
        description="Device listeners, each 'protocol:transport:port' (traccar's default ports).",
    )
    tracking_protocol_options: list[str] = Field(
        default_factory=list,
        description="Options for the device protocols, each 'protocol.option=value', e.g. "
        "'jt808.bad_check=flag' to keep (flagged, never changing a seal's state) JT/T 808 "
        "frames whose check code is wrong instead of refusing them.",
    )
    tracking_mqtt_url: str | None = Field(
        None,
        description="MQTT broker to subscribe to, mqtt://[user[:password]@]host[:port]. "
        "Default: no MQTT.",
    )
    tracking_mqtt_topic_prefix: str = Field(
        "smartcustoms",
        min_length=1,
        max_length=64,
        pattern=r"^[^\s+#$/][^\s+#]*$",
        description="First level of the MQTT topics (<prefix>/v1/devices/<id>/positions).",
    )
    tracking_mqtt_share_group: str | None = Field(
        "smartcustoms-ingest",
        min_length=1,
        max_length=64,
        pattern=r"^[^\s+#/]+$",
        description="MQTT 5 shared-subscription group that ingest workers split the load in; "
        "empty for a plain subscription.",
    )
    tracking_mqtt_reap_after_s: int = Field(
        15,
        ge=1,
        le=86400,
        description="How long an ingest worker that vanished without leaving the share group "
        "(killed, crashed, cut off) may take to come back before another worker takes over "
        "its MQTT session and stores the messages the broker queued for it.",
    )
    tracking_accept_unknown_devices: bool = Field(
        True,
        description="Store reports from devices no one registered; false refuses them.",
    )
    tracking_idle_timeout_s: int = Field(
        900, ge=10, le=86_400, description="Close device connections silent this long."
    )
    tracking_live_interval_s: float = Field(
        2.0,
        ge=0.0,
        le=600.0,
        description="Least time between two live map updates of one truck, in seconds.",
    )
    tracking_live_poll_ms: int = Field(
        250,
        ge=20,
        le=10_000,
        description="How often each web process reads the live feed for the command centre.",
    )
    tracking_feed_retention_minutes: int = Field(
        60, ge=1, le=10_080, description="How long the live feed keeps entries."
    )
    scans_dir: Path | None = Field(
        None,
        description="Folder for received scan files (named by their SHA-256). Default: scans/ "
        "in the data directory. Web replicas must share it.",
    )
    scan_max_pixels: int = Field(
        16_000_000,
        ge=1,
        description="Largest scan accepted, in pixels per energy channel (rows × columns), "
        "checked from the file's header before decoding. A 40 ft container at 2.5 mm is about "
        "4,900 × 1,400; the analyses need about 90 bytes per pixel.",
    )
    scan_max_side: int = Field(
        16_384, ge=1, description="Largest scan accepted, in rows or in columns."
    )
    scan_max_pages: int = Field(
        4,
        ge=1,
        le=64,
        description="Most TIFF pages or DICOS frames a scan file may hold (one per channel).",
    )
    scan_max_decoded_bytes: int = Field(
        512 * 1024 * 1024,
        ge=1024,
        description="Largest decoded size of a scan file's pages together, in bytes, checked "
        "from the header (and for every compressed strip) before decoding.",
    )
    # -- notifications (interop.notify): no secret has a default -------------------------------
    notify_smtp_host: str | None = Field(
        None, description="SMTP server notifications are sent through. Default: no e-mail."
    )
    notify_smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    notify_smtp_starttls: bool = Field(
        True,
        description="Upgrade the SMTP connection with STARTTLS and verify the server's "
        "certificate (false only for a mail catcher on this machine).",
    )
    notify_smtp_ca_file: Path | None = Field(
        None,
        description="CA certificates (PEM) the SMTP server's certificate is verified against. "
        "Default: the system's.",
    )
    notify_smtp_user: str | None = Field(None, description="SMTP login, if the server wants one.")
    notify_smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    notify_smtp_password_file: Path | None = Field(
        None, description="File holding the SMTP password (instead of notify_smtp_password)."
    )
    notify_smtp_from: str | None = Field(
        None, description="Sender address of notification e-mails, e.g. alerts@customs.example."
    )
    notify_kannel_url: str | None = Field(
        None,
        description="Kannel's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms. "
        "Default: no SMS.",
    )
    notify_kannel_user: str | None = Field(None, description="Kannel sendsms-user username.")
    notify_kannel_password: SecretStr | None = Field(
        None, description="Kannel sendsms-user password."
    )
    notify_kannel_password_file: Path | None = Field(
        None, description="File holding the Kannel password (instead of notify_kannel_password)."
    )
    notify_kannel_from: str | None = Field(
        None, max_length=16, description="Sender number or name of notification SMS."
    )
    notify_poll_ms: int = Field(
        1000, ge=50, le=60_000, description="How often the notifier reads the ledger and sends."
    )
    notify_dedup_minutes: int = Field(
        15,
        ge=0,
        le=1440,
        description="The same matter for the same reason within this many minutes is told once.",
    )
    notify_max_tries: int = Field(
        8, ge=1, le=50, description="Tries before a notification is given up (dead)."
    )
    notify_retry_base_s: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="First retry delay in seconds; each further try waits twice as long "
        "(at most an hour).",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("ledger_witnesses")
    @classmethod
    def _witness_pairs(cls, value: list[str]) -> list[str]:
        # The key itself is checked when the ledger starts (core does not parse ledger keys).
        for item in value:
            parts = item.split()
            if not 2 <= len(parts) <= 3 or not parts[0].startswith(("http://", "https://")):
                raise ValueError(
                    f"{item!r}: want 'URL VKEY' or 'URL VKEY interval=SECONDS' with an http(s) URL"
                )
        return value

    @field_validator("tracking_protocol_options")
    @classmethod
    def _protocol_options(cls, value: list[str]) -> list[str]:
        for item in value:
            key, equals, option = item.partition("=")
            name, dot, _ = key.partition(".")
            if not (equals and dot and name and option):
                raise ValueError(f"{item!r}: want 'protocol.option=value'")
        return value

    @field_validator("tracking_mqtt_url", "tracking_mqtt_share_group", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    # -- derived values --------------------------------------------------------------------

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'smartcustoms.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The secret key; outside production one is generated once and kept in the data dir.

        Production refuses a missing or short key instead: a key generated on one replica would
        not match the others, and silently inventing secrets hides a deployment mistake.
        """
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    f"{ENV_PREFIX}SECRET_KEY is too short ({len(value)} characters); "
                    f"use at least {MIN_SECRET_LENGTH}",
                    details=[{"setting": f"{ENV_PREFIX}SECRET_KEY", "problem": "too short"}],
                )
            return value
        if self.production:
            raise ConfigurationError(
                f"production mode needs a secret key: set {ENV_PREFIX}SECRET_KEY "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')",
                details=[{"setting": f"{ENV_PREFIX}SECRET_KEY", "problem": "missing"}],
            )
        return _generated_secret(self.data_dir)


def _generated_secret(data_dir: Path) -> str:
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    if not data_dir.is_dir():  # private, like the database made in it (core.db)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
    value = secrets.token_urlsafe(48)
    # Two processes starting at once must not overwrite each other's key, nor read it half-made.
    if not create_private_file(path, value):
        return path.read_text(encoding="ascii").strip()
    return value


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Read settings; raise ConfigurationError naming each bad variable and its value."""
    config_file = config_file or os.environ.get(CONFIG_ENV) or None
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigurationError(
                f"configuration file {str(path)!r} does not exist",
                details=[{"setting": CONFIG_ENV, "value": str(path), "problem": "not a file"}],
            )

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=Path(config_file) if config_file else None)

    try:
        settings = _FileSettings(**overrides)
    except ValidationError as exc:
        raise _configuration_error(exc, config_file) from None
    except (OSError, ValueError) as exc:  # unreadable or invalid TOML
        raise ConfigurationError(
            f"cannot read configuration file {str(config_file)!r}: {exc}",
            details=[{"setting": CONFIG_ENV, "value": str(config_file), "problem": str(exc)}],
        ) from None
    # Re-validate as the public class so callers never see the private subclass.
    return Settings.model_construct(**dict(settings))


def _configuration_error(
    exc: ValidationError, config_file: Path | str | None
) -> ConfigurationError:
    details = []
    lines = []
    for err in exc.errors(include_url=False):
        field = str(err["loc"][0]) if err["loc"] else "?"
        variable = ENV_PREFIX + field.upper()
        value = err.get("input")
        shown = "(hidden)" if field == "secret_key" else repr(value)
        if err["type"] == "extra_forbidden":
            problem = "unknown setting"
            where = f"{field!r} in {config_file}" if config_file else variable
        else:
            problem = err["msg"]
            where = variable
        details.append({"setting": where, "value": shown, "problem": problem})
        lines.append(f"{where}={shown}: {problem}")
    return ConfigurationError("invalid setting: " + "; ".join(lines), details=details)
