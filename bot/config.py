"""Settings: the only module that reads the environment."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from bot.plugins import SETTINGS_CONFIG, AnyProvider, ProviderSettings, installed

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./debrief.db"

P = TypeVar("P", bound=ProviderSettings)


class Settings(BaseSettings):
    """The core's settings, and each installed provider's own (``section``); all optional
    until a feature needs it."""

    # A `.env` file in the working directory is read too; environment variables win over it.
    model_config = SETTINGS_CONFIG
    _providers: tuple[AnyProvider, ...] = PrivateAttr(default=())
    _sections: dict[type[ProviderSettings], ProviderSettings] = PrivateAttr(default_factory=dict)

    port: int = Field(3000, alias="PORT")
    host: str = Field("0.0.0.0", alias="HOST")
    public_url: str | None = Field(None, alias="PUBLIC_URL")
    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    log_level: str = Field("INFO", alias="LOG_LEVEL")

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    # An app-level token (xapp-…): Slack's requests then arrive over Socket Mode, no public URL.
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    digest_channel: str | None = Field(None, alias="DEBRIEF_DIGEST_CHANNEL")
    ops_channel: str | None = Field(None, alias="DEBRIEF_OPS_CHANNEL")
    encryption_keys: SecretStr | None = Field(None, alias="DEBRIEF_ENCRYPTION_KEYS")
    # Slack's own guidance: about one message a second per channel, short bursts allowed.
    slack_channel_interval: float = Field(1.0, alias="DEBRIEF_SLACK_CHANNEL_INTERVAL")
    # Channel membership and admin flags are asked of Slack and reused this many seconds (per
    # process): someone who leaves a channel loses access to its notetakers within this time.
    membership_ttl: float = Field(60.0, ge=0, alias="DEBRIEF_MEMBERSHIP_TTL")

    # Routing: the workspace's own email domains (comma-separated; derived from the Slack
    # workspace's members when unset) and who besides workspace admins may change routes.
    internal_domains: str | None = Field(None, alias="DEBRIEF_INTERNAL_DOMAINS")
    route_admins: str | None = Field(None, alias="DEBRIEF_ROUTE_ADMINS")
    # A digest of a meeting with someone from outside those domains goes to its owner first,
    # to share, edit or keep private, rather than straight to a channel.
    review_external: bool = Field(True, alias="DEBRIEF_REVIEW_EXTERNAL")

    # Action items: the daily reminder goes out at this hour of each person's own Slack time
    # zone; the leader looks for people due one every DEBRIEF_REMINDER_SCAN_SECONDS (0: never).
    reminder_hour: int = Field(9, ge=0, le=23, alias="DEBRIEF_REMINDER_HOUR")
    reminder_scan_seconds: float = Field(300.0, ge=0, alias="DEBRIEF_REMINDER_SCAN_SECONDS")

    # Retention (bot/retention.py, handlers/retention.py): meeting content (digests, notetakers,
    # rooms, closed action items and what posted them) goes this many days after it was last
    # touched; 0 keeps it for ever. Nothing holding meeting content (job payloads included)
    # is kept longer than this.
    retention_days: int = Field(90, ge=0, alias="DEBRIEF_RETENTION_DAYS")
    # Dead jobs are kept for the operators to look into; 0: as long as meeting content.
    dead_job_retention_days: int = Field(30, ge=0, alias="DEBRIEF_DEAD_JOB_RETENTION_DAYS")
    # Webhook event ids, against redeliveries: providers retry for minutes to hours, so a day
    # is the least that is safe, and a replay after the ids are gone is accepted again.
    inbox_retention_days: int = Field(30, ge=1, alias="DEBRIEF_INBOX_RETENTION_DAYS")
    # The purge runs this often (0: never) and deletes at most this many rows a transaction.
    retention_interval_seconds: float = Field(
        3600.0, ge=0, alias="DEBRIEF_RETENTION_INTERVAL_SECONDS"
    )
    # At most 10000: a batch's keys are bound parameters (two a row for composite keys), and
    # PostgreSQL takes at most 32767 of them in one statement.
    retention_batch_size: int = Field(500, ge=1, le=10_000, alias="DEBRIEF_RETENTION_BATCH_SIZE")

    # Workers and the queue.
    workers: int = Field(4, alias="DEBRIEF_WORKERS")
    # A crashed worker's job (and any row it leased: a digest being sent) is taken up again
    # at most lease + poll seconds after the crash: 35 s with these defaults.
    job_lease_seconds: float = Field(30.0, gt=0, alias="DEBRIEF_JOB_LEASE_SECONDS")
    # Unset: a third of the lease. Must be shorter than the lease.
    job_heartbeat_seconds: float | None = Field(None, gt=0, alias="DEBRIEF_JOB_HEARTBEAT_SECONDS")
    job_max_attempts: int = Field(6, alias="DEBRIEF_JOB_MAX_ATTEMPTS")
    job_backoff_base: float = Field(2.0, alias="DEBRIEF_JOB_BACKOFF_BASE")
    job_poll_seconds: float = Field(5.0, alias="DEBRIEF_JOB_POLL_SECONDS")
    sweep_interval_seconds: float = Field(30.0, alias="DEBRIEF_SWEEP_INTERVAL_SECONDS")
    run_scheduler: bool = Field(True, alias="DEBRIEF_RUN_SCHEDULER")
    # Per person, over any sliding hour and across every process (bot/limits.py): how many
    # notetakers `/debrief join` may send and video rooms `/debrief room` may open; 0: no limit.
    limit_notetakers_per_hour: int = Field(10, ge=0, alias="DEBRIEF_LIMIT_NOTETAKERS_PER_HOUR")
    limit_rooms_per_hour: int = Field(10, ge=0, alias="DEBRIEF_LIMIT_ROOMS_PER_HOUR")
    # The largest body each route reads (413 beyond, before the rest arrives); each provider's
    # webhook route has its own limit, in its settings (DEBRIEF_MAX_<NAME>_WEBHOOK_BYTES).
    max_slack_request_bytes: int = Field(1024 * 1024, gt=0, alias="DEBRIEF_MAX_SLACK_REQUEST_BYTES")
    # Earlier versions' single webhook limit (see body_limits); the per-route ones replace it.
    max_webhook_bytes: int | None = Field(None, gt=0, alias="DEBRIEF_MAX_WEBHOOK_BYTES")
    # Bodies over DEBRIEF_INLINE_PARSE_BYTES are verified off the event loop (bot/offload.py):
    # HMACs in threads, canonical JSON (signatures over it) in worker processes; at most this
    # many of each at once, DEBRIEF_PARSE_QUEUE more waiting, and beyond that a 429.
    inline_parse_bytes: int = Field(16 * 1024, ge=0, alias="DEBRIEF_INLINE_PARSE_BYTES")
    parse_threads: int = Field(2, ge=1, alias="DEBRIEF_PARSE_THREADS")
    parse_processes: int = Field(1, ge=1, alias="DEBRIEF_PARSE_PROCESSES")
    parse_queue: int = Field(8, ge=0, alias="DEBRIEF_PARSE_QUEUE")
    # Meeting hosts that resolve to private addresses are refused; the sandbox turns this off
    # because its whole world lives on loopback.
    allow_private_meeting_hosts: bool = Field(False, alias="DEBRIEF_ALLOW_PRIVATE_MEETING_HOSTS")

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        beat = self.job_heartbeat_seconds
        if beat is not None and beat >= self.job_lease_seconds:
            raise ValueError(
                "DEBRIEF_JOB_HEARTBEAT_SECONDS must be shorter than DEBRIEF_JOB_LEASE_SECONDS"
            )
        return self

    def __init__(self, plugins: Sequence[AnyProvider] | None = None, **values: Any) -> None:
        """The core's settings from the environment (and ``values``, by field name), and each
        provider's own settings model, for every provider in ``plugins`` (the registry's when
        omitted); each model takes the values that name its fields."""
        super().__init__(**values)
        providers = installed() if plugins is None else tuple(plugins)
        self._providers = providers
        self._sections = {p.settings: self._section(p.settings, values) for p in providers}

    @classmethod
    def _section(cls, model: type[ProviderSettings], values: dict[str, Any]) -> ProviderSettings:
        """A provider's settings, read the way these are (``values`` first, then the
        environment)."""
        return model(**values)

    @property
    def providers(self) -> tuple[AnyProvider, ...]:
        """The installed providers these settings were read for."""
        return self._providers

    def section(self, model: type[P]) -> P:
        """A provider's own settings.

        Raises:
            KeyError: that provider is not installed.
        """
        return cast(P, self._sections[model])

    def _models(self) -> list[BaseSettings]:
        return [self, *self._sections.values()]

    def body_limits(self) -> dict[str, int]:
        """The body limit of each route that reads one: a provider's webhook, or ``slack``."""
        limits: dict[str, int] = {}
        for provider in self.providers:
            if provider.webhook_limit is not None:
                section = self._sections[provider.settings]
                limits[provider.name] = getattr(section, provider.webhook_limit)
        legacy = self.max_webhook_bytes
        if legacy is not None:
            # The one limit of earlier versions, still honoured where it was set: it caps every
            # webhook, and sizes the large ones unless they have their own.
            limits = {name: min(limit, legacy) for name, limit in limits.items()}
            for provider in self.providers:
                section = self._sections[provider.settings]
                if (
                    provider.large_webhooks
                    and provider.webhook_limit is not None
                    and provider.webhook_limit not in section.model_fields_set
                ):
                    limits[provider.name] = legacy
        return {**limits, "slack": self.max_slack_request_bytes}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def internal_domain_list(self) -> list[str]:
        """``DEBRIEF_INTERNAL_DOMAINS`` as lower-case domains (empty: derive from Slack)."""
        return _csv(self.internal_domains, lower=True)

    def route_admin_list(self) -> list[str]:
        """Slack user ids allowed to change routes besides workspace admins."""
        return _csv(self.route_admins)

    def secret_values(self) -> list[str]:
        """Every configured secret in clear, for log redaction."""
        values = []
        for model in self._models():
            for name in type(model).model_fields:
                value = getattr(model, name)
                if isinstance(value, SecretStr):
                    text = value.get_secret_value()
                    if text:
                        values.append(text)
        values.extend(k for k in self.encryption_key_list() if k)
        return values

    def encryption_key_list(self) -> list[str]:
        """Fernet keys, newest first, from the comma-separated ``DEBRIEF_ENCRYPTION_KEYS``."""
        if self.encryption_keys is None:
            return []
        return [k.strip() for k in self.encryption_keys.get_secret_value().split(",") if k.strip()]

    @property
    def socket_mode(self) -> bool:
        """Whether Slack's requests arrive over Socket Mode (an app-level token is set)."""
        return bool(self.secret("slack_app_token"))

    def secret(self, name: str) -> str | None:
        """The clear value of a ``SecretStr`` setting (the core's or a provider's, by field
        name), or ``None`` when unset or empty."""
        value: Any = getattr(self._owner(name), name)
        if value is None:
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        return text or None

    def features(self) -> Iterator[Feature]:
        """What each feature needs, and whether it has it (for ``debrief doctor``)."""
        if self.socket_mode:
            yield Feature("Slack", ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"), self)
        else:
            yield Feature("Slack", ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"), self)
        for provider in self.providers:
            for toggle in provider.toggles:
                yield Feature(toggle.name, toggle.required, self, toggle.optional)
        yield Feature("Digest channel", ("DEBRIEF_DIGEST_CHANNEL",), self)
        yield Feature("Encryption at rest", ("DEBRIEF_ENCRYPTION_KEYS",), self)

    def problems(self) -> list[Problem]:
        """Everything wrong with these settings that would stop ``debrief serve``, all at once:
        what is missing, what is malformed, and what is set half-way (a feature given some of
        what it needs but not all, which is never what an operator meant)."""
        found: list[Problem] = []
        for feature in self.features():
            if feature.name == "Slack":
                found.extend(
                    Problem(name, "is not set", SLACK_WHERE[name]) for name in feature.missing
                )
            elif feature.missing and len(feature.missing) < len(feature.required):
                given = [n for n in feature.required if n not in feature.missing]
                found.append(
                    Problem(
                        ", ".join(feature.missing),
                        f"is not set, though {', '.join(given)} is: {feature.name} stays off",
                        f"set {' and '.join(feature.missing)} too, or unset "
                        f"{' and '.join(given)} to leave {feature.name} off",
                    )
                )
        token = self.secret("slack_bot_token")
        if token and not token.startswith("xoxb-"):
            found.append(
                Problem(
                    "SLACK_BOT_TOKEN",
                    "is not a bot token (they start with xoxb-)",
                    SLACK_WHERE["SLACK_BOT_TOKEN"],
                )
            )
        app_token = self.secret("slack_app_token")
        if app_token and not app_token.startswith("xapp-"):
            found.append(
                Problem(
                    "SLACK_APP_TOKEN",
                    "is not an app-level token (they start with xapp-)",
                    SLACK_WHERE["SLACK_APP_TOKEN"],
                )
            )
        for name, value in (("PUBLIC_URL", self.public_url), ("SLACK_API_URL", self.slack_api_url)):
            if value is not None and not _is_http_url(value):
                found.append(Problem(name, f"is not an http(s) URL: {value!r}", URL_FIX[name]))
        for name, value in self.api_urls():
            if not _is_http_url(value):
                found.append(
                    Problem(name, f"is not an http(s) URL: {value!r}", "unset it for the default")
                )
        found.extend(self._database_problems())
        if self.log_level.upper() not in logging.getLevelNamesMapping():
            found.append(
                Problem(
                    "LOG_LEVEL", f"is not a level: {self.log_level!r}", "use DEBUG, INFO or WARNING"
                )
            )
        try:
            from bot.crypto import SecretBox

            SecretBox(self.encryption_key_list())
        except ValueError:
            found.append(
                Problem(
                    "DEBRIEF_ENCRYPTION_KEYS",
                    "holds a value that is not a Fernet key (32 URL-safe base64 bytes)",
                    "make a key with `python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`",
                )
            )
        return found

    def api_urls(self) -> Iterator[tuple[str, str]]:
        """The providers' API base URLs, by environment name."""
        for section in self._sections.values():
            for name, field in type(section).model_fields.items():
                if field.alias and field.alias.endswith("_API_URL"):
                    yield field.alias, getattr(section, name)

    def _database_problems(self) -> Iterator[Problem]:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(self.database_url)
        except ArgumentError:
            yield Problem("DATABASE_URL", "is not a database URL", DATABASE_FIX)
            return
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            yield Problem(
                "DATABASE_URL",
                f"names the driver {url.drivername!r}, which Debrief does not use",
                DATABASE_FIX,
            )

    def is_set(self, env_name: str) -> bool:
        """Whether the setting behind an environment name has a non-empty value."""
        for model in self._models():
            for name, field in type(model).model_fields.items():
                if field.alias == env_name:
                    value = getattr(model, name)
                    if isinstance(value, SecretStr):
                        return bool(value.get_secret_value())
                    return bool(value)
        raise KeyError(env_name)

    def _owner(self, name: str) -> BaseSettings:
        """The model (the core's or a provider's) with the field ``name``."""
        for model in self._models():
            if name in type(model).model_fields:
                return model
        raise AttributeError(name)


#: Where each Slack setting is found, for the message that says it is missing.
SLACK_WHERE = {
    "SLACK_BOT_TOKEN": "copy the Bot User OAuth Token (xoxb-…) from your Slack app's "
    "OAuth & Permissions page (docs/DEPLOYMENT.md)",
    "SLACK_SIGNING_SECRET": "copy the Signing Secret from your Slack app's Basic Information "
    "page (docs/DEPLOYMENT.md)",
    "SLACK_APP_TOKEN": "generate an app-level token with the connections:write scope on your "
    "Slack app's Basic Information page (docs/DEPLOYMENT.md, Socket Mode)",
}
URL_FIX = {
    "PUBLIC_URL": "set it to the https:// address Slack and the providers reach Debrief at",
    "SLACK_API_URL": "unset it for https://slack.com/api/",
}
DATABASE_FIX = (
    "unset it for an SQLite file, or use sqlite+aiosqlite:///path/to/debrief.db or "
    "postgresql+asyncpg://user:password@host/database"
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the settings: which, what is wrong, and what to do about it."""

    setting: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.setting} {self.problem} — {self.fix}"


class SettingsError(Exception):
    """The settings cannot be used; ``problems`` lists every reason, each with its fix."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems

    def report(self) -> str:
        """What the command line prints: every problem on its own line."""
        lines = [f"Debrief cannot start: {len(self.problems)} setting(s) need attention."]
        lines.extend(f"  ✘ {p}" for p in self.problems)
        lines.append("Settings come from the environment; docs/CONFIGURATION.md lists them all.")
        return "\n".join(lines)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _csv(value: str | None, *, lower: bool = False) -> list[str]:
    items = [item.strip().lstrip("@") for item in (value or "").split(",")]
    return [item.lower() if lower else item for item in items if item]


@dataclass(frozen=True)
class Feature:
    """A feature, the settings it requires and the ones that improve it."""

    name: str
    required: tuple[str, ...]
    settings: Settings
    optional: tuple[str, ...] = ()

    @property
    def missing(self) -> list[str]:
        return [n for n in self.required if not self.settings.is_set(n)]

    @property
    def enabled(self) -> bool:
        return not self.missing


def load_settings(
    *, check: bool = False, plugins: Sequence[AnyProvider] | None = None, **overrides: Any
) -> Settings:
    """Settings from the environment, with explicit overrides (by field name) on top.

    Args:
        check: also refuse settings with :meth:`Settings.problems` (what ``serve`` needs).
        plugins: the providers whose settings are read too; the registry's when omitted.

    Raises:
        SettingsError: every value that does not parse, and with ``check`` every other
            problem too, all at once.
    """
    providers = installed() if plugins is None else tuple(plugins)
    models: list[type[BaseSettings]] = [Settings, *(p.settings for p in providers)]
    unreadable: dict[str, Problem] = {}
    defaults: dict[str, Any] = {}
    # The core's model is read first and each provider's after it: a model that does not parse
    # stops the rest, so they are read again, with defaults in place of what did not parse, to
    # tell everything at once.
    for _ in models:
        try:
            settings = Settings(providers, **{**overrides, **defaults})
        except ValidationError as exc:
            found = {_field_name(models, e): _from_pydantic(models, e) for e in exc.errors()}
            if not check:
                raise SettingsError(list(found.values())) from None
            unreadable.update(found)
            defaults.update({name: _default(models, name) for name in found})
            continue
        if unreadable:
            raise SettingsError([*unreadable.values(), *settings.problems()])
        if check and (problems := settings.problems()):
            raise SettingsError(problems)
        return settings
    raise SettingsError(list(unreadable.values()))


def _fields(models: Sequence[type[BaseSettings]]) -> Iterator[tuple[str, FieldInfo]]:
    for model in models:
        yield from model.model_fields.items()


def _field_name(models: Sequence[type[BaseSettings]], error: Any) -> str:
    where = str(error["loc"][0]) if error.get("loc") else ""
    for name, field in _fields(models):
        if where in (name, field.alias):
            return name
    return where


def _default(models: Sequence[type[BaseSettings]], name: str) -> Any:
    return dict(_fields(models))[name].default


def _from_pydantic(models: Sequence[type[BaseSettings]], error: Any) -> Problem:
    name = _field_name(models, error)
    field = dict(_fields(models)).get(name)
    env = field.alias if field is not None and field.alias else name
    secret = field is not None and field.annotation in (SecretStr, SecretStr | None)
    shown = "" if secret else f" ({error.get('input')!r})"
    return Problem(
        env, f"cannot be read{shown}: {error['msg']}", "correct it, or unset it for the default"
    )
