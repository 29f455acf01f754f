"""A provider's sandbox stand-in as a :class:`~sandbox.world.World` runs it: the stand-in
protocol.

A provider's descriptor names its stand-in (``Provider.stand_in = "sandbox.otter:OtterPlugin"``,
a reference the core never imports); the World resolves it with :func:`load`, and knows of the
stand-in only what :class:`StandInPlugin` says: how it is made and started, the settings it gives
the app, what it does once the app listens (register a webhook with it, an OAuth callback),
how to wait until it has delivered everything, and how the sandbox page shows and drives it.
So a fifth provider's stand-in is its own module plus one field on its descriptor: no file of
the World, of ``debrief sandbox`` or of the page names it.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from sandbox.lock import SandboxLock
from sandbox.server import StandIn

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.plugins import AnyProvider
    from bot.services import Services

T = TypeVar("T", bound=StandIn)


@dataclass(frozen=True)
class Setup:
    """What a World tells each stand-in it makes.

    Attributes:
        lock: the run's sandbox lock, shared by every stand-in (the page's proxy passes it on).
        model: the app understands meetings with the model engine (``debrief sandbox --model``),
            so the model endpoint's stand-in points the app at itself.
    """

    lock: SandboxLock
    model: bool = False


@dataclass(frozen=True)
class RunningApp:
    """The app a World started, as a stand-in sees it once the app listens."""

    url: str
    settings: Settings
    services: Services


@dataclass(frozen=True)
class PromptCommand:
    """A line of ``debrief sandbox``'s prompt a stand-in answers: ``<word> <rest>``.

    Attributes:
        word: the prompt's first word.
        usage: the word and its arguments, as the help list shows them.
        help: what it does, one line.
        run: carries it out with the rest of the line; returns what to print (what went
            wrong included: the prompt prints any ValueError or LookupError it lets out as a
            failure of that line only).
    """

    word: str
    usage: str
    help: str
    run: Callable[[str], str | Awaitable[str]]


@dataclass(frozen=True)
class PageSection:
    """How the sandbox page's Providers panel shows a stand-in.

    Attributes:
        title: the section's heading.
        state: the path, under the stand-in's ``/_sandbox/`` control endpoints, the page reads
            its state from (JSON). Without a renderer of its own on the page it is shown as a
            list, and its ``controls`` (``[{label, path, body?}]``) as buttons that POST ``body``
            to ``/_sandbox/<path>``.
    """

    title: str
    state: str


class StandInPlugin(Generic[T]):
    """A provider's stand-in as a World runs it. Subclasses say how it is made (:meth:`create`)
    and override what they need; the stand-in server itself is :attr:`server`.

    Its life in a World: :meth:`create` (before anything runs), :meth:`start`,
    :meth:`settings` (merged into the app's settings), the app starts, :meth:`connect`, then
    :meth:`settle` whenever a test waits for quiet, and :meth:`stop`.
    """

    #: The name a World knows it by (``world.stand_in(name)``, the page's proxy path
    #: ``/_sandbox/providers/<name>/``); its descriptor's name when empty.
    name: ClassVar[str] = ""
    #: The Providers panel's heading and state path (see :class:`PageSection`).
    title: ClassVar[str] = ""
    state_path: ClassVar[str] = ""
    #: Keyword arguments ``debrief sandbox`` gives :meth:`create` (a livelier stand-in than the
    #: tests' default), under the ones a caller gives.
    lively: ClassVar[dict[str, Any]] = {}

    def __init__(self, server: T) -> None:
        self.server = server

    @classmethod
    def create(cls, setup: Setup, **options: Any) -> StandInPlugin[T]:
        """A new stand-in, with the credentials the app will be given; ``options`` are the
        World's keyword arguments for it (``WorldOptions.stand_ins[name]``)."""
        raise NotImplementedError(f"{cls.__name__} does not say how it is made")

    async def start(self, host: str) -> None:
        """Serve on ``host``, on a free port."""
        await self.server.start(host)

    async def stop(self) -> None:
        await self.server.stop()

    def settings(self) -> dict[str, Any]:
        """The app's settings that point it at this stand-in (its URL is known: it started)."""
        return {}

    async def connect(self, app: RunningApp) -> None:
        """After the app listens (and after each restart): configure webhooks to it, as the
        provider's admin would."""

    async def settle(self, within: float) -> None:
        """Wait until everything it has to send has been sent (held deliveries aside)."""
        if self.server.outbox is not None:
            await self.server.outbox.settle(within)

    def page(self) -> PageSection:
        """Its section of the page's Providers panel."""
        return PageSection(self.title or type(self).__name__, self.state_path)

    def prompt(self) -> tuple[PromptCommand, ...]:
        """Its lines of ``debrief sandbox``'s terminal prompt."""
        return ()

    @property
    def url(self) -> str:
        """Its base URL once started ("" before)."""
        return self.server.url


AnyPlugin = StandInPlugin[Any]


def load(reference: str) -> type[AnyPlugin]:
    """The plug-in class a descriptor's ``stand_in`` names (``"package.module:Class"``).

    Raises:
        ValueError: the reference is malformed or names no :class:`StandInPlugin`.
        ImportError: its module cannot be imported.
    """
    module_name, colon, attribute = reference.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"a stand-in is named 'module:Class', not {reference!r}")
    found = getattr(importlib.import_module(module_name), attribute, None)
    if not (isinstance(found, type) and issubclass(found, StandInPlugin)):
        raise ValueError(f"{reference} is not a StandInPlugin")
    return found


def installed_stand_ins(providers: Iterable[AnyProvider]) -> dict[str, type[AnyPlugin]]:
    """The stand-ins ``providers`` name, by the name a World knows each by, in their order."""
    found: dict[str, type[AnyPlugin]] = {}
    for provider in providers:
        if provider.stand_in is not None:
            plugin = load(provider.stand_in)
            found[plugin.name or provider.name] = plugin
    return found
