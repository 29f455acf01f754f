"""Provider plug-ins: what the core knows of a provider is its descriptor, and nothing else.

Each provider declares one :class:`Provider` in its own package: its name, its settings (a
pydantic-settings model of its own), how its client is built, its jobs, listeners and webhook
route (``register``), its periodic jobs, its ``debrief doctor`` lines and probe, and its
command-line subcommands. One registry outside ``bot/`` lists the descriptors
(``handlers/registry.py``); :func:`installed` is the one place the core imports it, and every
other core module is given the descriptors (``Settings.providers``), never a provider's module.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import MetaData

if TYPE_CHECKING:
    from bot.budgets import SharedBudgets
    from bot.config import Settings

#: The module holding ``PROVIDERS``, the tuple of installed descriptors.
REGISTRY_MODULE = "handlers.registry"

C = TypeVar("C")
S = TypeVar("S", bound="ProviderSettings")


#: The settings file read beside the process (its working directory), by the core's settings
#: and every provider's; environment variables win over it. `.env.example` lists them all.
ENV_FILE = ".env"


#: How every settings model reads: the environment, then ``.env``, by environment name (or
#: field name), ignoring what is not its own.
SETTINGS_CONFIG = SettingsConfigDict(
    env_file=ENV_FILE,
    env_file_encoding="utf-8",
    extra="ignore",
    case_sensitive=False,
    populate_by_name=True,
)


class ProviderSettings(BaseSettings):
    """The base of a provider's own settings: read from the environment (and ``.env``) like
    the core's, by the exact environment names the provider documents (its fields' aliases)."""

    model_config = SETTINGS_CONFIG


@dataclass(frozen=True)
class Toggle:
    """A ``debrief doctor`` line: what turns a provider (or a part of it) on."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


Probe = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class CliCommand:
    """`debrief <group> <name>`: a provider's own set-up command, run with the settings."""

    group: str
    group_help: str
    name: str
    help: str
    run: Callable[[Settings], Coroutine[Any, Any, int]]


@dataclass(frozen=True)
class FolderRule:
    """A routing target of a provider's own: meetings it filed in a folder (a channel, a
    space) of its own, routed by that folder's name (``/debrief route <word>:<name> #channel``).

    Attributes:
        word: the target's kind, typed before the colon; unique among the installed providers.
        what: what goes after the colon, for usage lines ("Acme folder name").
        described: a rule's condition in words, before the quoted name ("Acme meetings in the
            folder").
    """

    word: str
    what: str
    described: str


def _never(settings: Any) -> list[tuple[str, float]]:
    return []


@dataclass(frozen=True)
class Provider(Generic[C, S]):
    """One provider, as the core sees it.

    Attributes:
        name: lower-case, the ``provider`` of its meetings and the ``/webhooks/<name>`` route.
        display_name: how people are shown it ("Acme Notes").
        settings: its settings model; the core loads it from the environment for every
            installed provider, and hands it out with ``Settings.section(model)``.
        client: its client's type, the key of ``Services.client`` and ``Services.require``.
        build_client: its client on the shared HTTP client and budgets; None when it is not
            configured.
        not_set_up: what a person is told when they use it while its client is None.
        register: wires its listeners, jobs, subcommands and web routes (a ``Wiring``).
        schedule: its periodic jobs that are on: ``(job kind, seconds)``.
        webhook_limit: the settings field holding its webhook route's body limit.
        large_webhooks: whether its deliveries are big, sized by the legacy single limit.
        toggles: its ``debrief doctor`` lines.
        probe: a cheap read trying its credential: ``(credential, probe)``, None when unset.
        actions: its Block Kit action ids (the manifest's interactivity).
        commands: its `debrief` command-line subcommands.
        tables: the module of its own tables, if it has any (see :func:`metadata`).
        folder_rule: its own routing target, when its meetings come filed in folders.
        stand_in: where its sandbox stand-in is, ``"module:Class"`` (a
            ``sandbox.plugin.StandInPlugin``): a reference, not an import, so that nothing
            the app runs loads sandbox code; only the sandbox's ``World`` resolves it.
    """

    name: str
    display_name: str
    settings: type[S]
    client: type[C]
    build_client: Callable[[Settings, httpx.AsyncClient, SharedBudgets], C | None]
    not_set_up: str
    register: Callable[[Any], None]
    schedule: Callable[[Settings], list[tuple[str, float]]] = _never
    webhook_limit: str | None = None
    large_webhooks: bool = False
    toggles: tuple[Toggle, ...] = ()
    probe: Callable[[Settings, httpx.AsyncClient], tuple[str, Probe] | None] | None = None
    actions: tuple[str, ...] = ()
    commands: tuple[CliCommand, ...] = field(default=())
    #: The module declaring its own tables on ``bot.store.models.Base`` (beside its feature).
    tables: ModuleType | None = None
    #: Whether it brings meetings (routes name it, digests say it); False for an adapter that
    #: only serves others, such as the model endpoint the understanding engine may use.
    meetings: bool = True
    folder_rule: FolderRule | None = None
    stand_in: str | None = None

    @property
    def webhook_path(self) -> str:
        return f"/webhooks/{self.name}"


AnyProvider = Provider[Any, Any]


def installed() -> tuple[AnyProvider, ...]:
    """The registry's providers: the one place the core reaches outside itself for them."""
    module = importlib.import_module(REGISTRY_MODULE)
    providers: Sequence[AnyProvider] = (*module.PROVIDERS, *module.ADAPTERS)
    return tuple(providers)


def metadata() -> MetaData:
    """Every table: the core's and each installed provider's (migrations compare against it)."""
    from bot.store.models import Base

    for provider in installed():
        assert provider.tables is None or provider.tables.__name__ in sys.modules
    return Base.metadata


@functools.cache
def features() -> Any:
    """The registry module itself, for its feature list (``register_all``, ``periodic_jobs``)."""
    return importlib.import_module(REGISTRY_MODULE)
