"""`debrief sandbox`: the real app, the stand-ins and the sandbox page, on loopback.

It starts a :class:`~sandbox.world.World` (the same app as ``debrief serve``, on a fresh SQLite
file in a temporary directory, two workers and the scheduler) and prints one URL: the page,
served by the Slack stand-in on port 8080 (or on ``--port``; if 8080 is taken a free port is
used, a taken ``--port`` is an error), with the run's token that opens it (:mod:`sandbox.lock`).
Every message the app posts or updates in the fake Slack is also printed, one line each.

With a terminal on stdin (and without ``--no-prompt``) it reads commands:
``/debrief …`` (sent as the current person, Ada by default, in #meetings), ``as <person>``,
``help``, ``quit``, and each stand-in's own (``StandInPlugin.prompt``: Attendee's
``admit [<bot-id>]`` lets a notetaker in, ``end [<bot-id>]`` ends its meeting). When stdin is
not a terminal (CI, a service manager, ``&``) there is no prompt: the sandbox serves until
SIGINT or SIGTERM. Ctrl-C, ``quit`` and end of input stop everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.config import Settings
from bot.jobs import QueueConfig
from bot.logs import configure_logging
from bot.plugins import installed
from sandbox.plugin import PromptCommand, installed_stand_ins
from sandbox.slack import Change, SlackError, SlackStandIn
from sandbox.world import World, WorldOptions, sqlite_url

DEFAULT_PORT = 8080
COMMAND_CHANNEL = "C0MEETINGS"
LINE_LIMIT = 220
# Parts of blocks that a reader does not see in the message itself.
SKIPPED_KEYS = frozenset({"text", "confirm", "placeholder", "options", "option_groups"})
#: The prompt's own lines; each stand-in's (:meth:`StandInPlugin.prompt`) go after the first.
HELP_FIRST = "  /debrief <subcommand>  a slash command, as {user} in #meetings (try /debrief help)"
HELP_REST = """\
  as <person>            act as someone else: {people}
  help                   this list
  quit                   stop the sandbox (Ctrl-C works too)"""


class SandboxSettings(Settings):
    """Settings given in full by the sandbox: the shell's environment must not leak in."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def sandbox_options(database_url: str, slack_port: int, **overrides: Any) -> WorldOptions:
    """How ``debrief sandbox`` sets up its world: lively stand-ins (each one's own
    ``lively`` options, under those ``overrides["stand_ins"]`` gives it), a snappy queue."""
    given: dict[str, dict[str, Any]] = overrides.pop("stand_ins", {})
    providers = overrides.get("providers") or installed()
    stand_ins = {
        name: {**plugin.lively, **given.get(name, {})}
        for name, plugin in installed_stand_ins(providers).items()
    }
    values: dict[str, Any] = {
        "database_url": database_url,
        "workers": 2,
        "scheduler": True,
        "slack_port": slack_port,
        "stand_ins": {**given, **stand_ins},
        "queue": QueueConfig(poll_seconds=1.0, backoff_base=1.0),
        "settings_class": SandboxSettings,
    }
    values.update(overrides)
    return WorldOptions(**values)


async def start_world(port: int | None, database_url: str, **overrides: Any) -> World:
    """A started world whose Slack stand-in (and page) listens on ``port``.

    Args:
        port: the page's port; None means 8080, or any free port if 8080 is taken.
        database_url: the app's database.
        overrides: WorldOptions fields (tests shrink delays).

    Raises:
        OSError: ``port`` was given and cannot be used.
    """
    world = World(
        sandbox_options(database_url, DEFAULT_PORT if port is None else port, **overrides)
    )
    try:
        return await world.start()
    except OSError as exc:
        await world.stop()
        if port is not None or exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
    except BaseException:
        # Ctrl-C while starting (asyncio.run cancels us): close what had started.
        await world.stop()
        raise
    world = World(sandbox_options(database_url, 0, **overrides))
    try:
        return await world.start()
    except BaseException:
        await world.stop()
        raise


def plain_text(
    message: dict[str, Any],
    names: Callable[[str], str] | None = None,
    channels: Callable[[str], str] | None = None,
) -> str:
    """One line of what a person reads in a message: its blocks (or text) without markup.

    ``names`` and ``channels`` turn user and channel ids into the names Slack shows for them.
    """
    pieces: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        kind, text = node.get("type"), node.get("text")
        if kind == "button":
            label = text.get("text", "") if isinstance(text, dict) else ""
            pieces.append(f"[{label}]")
            return
        if isinstance(text, str):
            pieces.append(text)
        elif isinstance(text, dict):
            walk(text)
        elif kind == "user":
            pieces.append(f"<@{node.get('user_id')}>")
        elif kind == "channel":
            pieces.append(f"<#{node.get('channel_id')}>")
        elif kind == "link":
            pieces.append(str(node.get("url", "")))
        for key, value in node.items():
            if key not in SKIPPED_KEYS:
                walk(value)

    blocks = message.get("blocks") or []
    if blocks:
        walk(blocks)
    else:
        pieces.append(str(message.get("text") or ""))
    for file in message.get("files") or []:
        pieces.append(f"[file {file.get('name')}]")
    return _flatten(" ".join(p for p in pieces if p), names, channels)


def _flatten(
    text: str, names: Callable[[str], str] | None, channels: Callable[[str], str] | None
) -> str:
    def tag(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (label or (names(target[1:]) if names else target[1:]))
        if target.startswith("#"):
            return "#" + (label or (channels(target[1:]) if channels else target[1:]))
        if target.startswith("!"):
            return label or "@" + target[1:].split("^", 1)[0]
        return label or target

    def outside_code(part: str) -> str:
        part = re.sub(r"<([^<>\n]+)>", tag, part)
        return re.sub(r"(?<!\w)[*_~](?=\S)|(?<=\S)[*_~](?!\w)", "", part)

    # Code spans are shown as written; markup is read only outside them.
    parts = re.split(r"(```.*?```|`[^`\n]*`)", text, flags=re.DOTALL)
    text = "".join(p if i % 2 else outside_code(p) for i, p in enumerate(parts))
    text = text.replace("```", " ")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= LINE_LIMIT else text[: LINE_LIMIT - 1] + "…"


class Sandbox:
    """A running world plus the terminal's view of it: the printed log and the prompt."""

    def __init__(self, world: World, out: TextIO) -> None:
        self.world = world
        self.out = out
        self.user = world.slack.default_user
        self.channel = COMMAND_CHANNEL
        self.stop = asyncio.Event()
        self._printer: asyncio.Task[None] | None = None
        #: The stand-ins' own prompt lines, by their first word.
        self.commands: dict[str, PromptCommand] = {
            command.word: command
            for plugin in world.stand_ins.values()
            for command in plugin.prompt()
        }

    @property
    def slack(self) -> SlackStandIn:
        return self.world.slack

    @property
    def url(self) -> str:
        """The page, with the run's token: without it the sandbox answers 403."""
        return self.slack.page_url

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    # ---- the log of what the app posts

    def start_printing(self) -> None:
        """Print one line per message the app (or anyone) posts or updates, from now on."""
        queue = self.slack.subscribe()

        async def printer() -> None:
            try:
                while True:
                    line = self.describe(await queue.get())
                    if line:
                        self.say(line)
            finally:
                self.slack.unsubscribe(queue)

        self._printer = asyncio.create_task(printer(), name="sandbox-printer")

    async def stop_printing(self) -> None:
        if self._printer is not None:
            self._printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._printer
            self._printer = None

    def describe(self, change: Change) -> str | None:
        """A workspace change as one readable line, or None for changes nobody reads."""
        data = change.data
        kinds = {
            "message_posted": "",
            "message_updated": " (updated)",
            "ephemeral_posted": "",
            "ephemeral_updated": " (updated)",
        }
        if change.kind not in kinds or not isinstance(data.get("message"), dict):
            return None
        message = data["message"]
        where = self._channel_name(str(data.get("channel")))
        if message.get("thread_ts") and message.get("thread_ts") != message.get("ts"):
            where += " › thread"
        author = self._author(message)
        if change.kind.startswith("ephemeral"):
            author += f" → only {self._name(str(data.get('user')))}"
        text = plain_text(message, self._name, self._channel)
        return f"{where}  {author}{kinds[change.kind]}: {text}"

    def _channel_name(self, channel_id: str) -> str:
        channel = self.slack.workspace.channels.get(channel_id)
        if channel is None:
            return channel_id
        if channel.is_im:
            return f"DM {self._name(channel.im_user or '')}"
        return f"#{channel.name}"

    def _channel(self, channel_id: str) -> str:
        channel = self.slack.workspace.channels.get(channel_id)
        return channel.name if channel is not None else channel_id

    def _name(self, user_id: str) -> str:
        user = self.slack.workspace.users.get(user_id)
        return user.real_name if user else user_id

    def _author(self, message: dict[str, Any]) -> str:
        if message.get("bot_id") or message.get("is_ephemeral"):
            return "Debrief"
        return self._name(str(message.get("user")))

    # ---- the prompt

    def help(self) -> str:
        own = [f"  {c.usage:<22} {c.help}" for c in self.commands.values()]
        first = HELP_FIRST.format(user=self._name(self.user))
        return "\n".join([first, *own, HELP_REST.format(people=self._people())])

    def _people(self) -> str:
        users = self.slack.workspace.users.values()
        return ", ".join(u.name for u in users if not u.is_bot and not u.deleted)

    async def handle(self, line: str) -> None:
        """Carry out one prompt line; ``quit`` sets :attr:`stop`."""
        line = line.strip()
        if not line:
            return
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word.startswith("/"):
            await self._command(word, rest)
        elif word == "as":
            self.say(self._switch(rest))
        elif word in ("help", "?"):
            self.say(self.help())
        elif word in ("quit", "exit"):
            self.stop.set()
        elif word in self.commands:
            # A stand-in's own line (its words never shadow the prompt's).
            answer = self.commands[word].run(rest)
            self.say(answer if isinstance(answer, str) else await answer)
        else:
            self.say(f"Unknown: {word!r}. Type help for the list.")

    async def _command(self, command: str, text: str) -> None:
        if command != "/debrief":
            self.say(f"{command} is not installed here; the sandbox has /debrief.")
            return
        delivery = await self.slack.command(
            self.world.app_url, command, text, user_id=self.user, channel_id=self.channel
        )
        if delivery.error:
            self.say(f"{command} failed: {delivery.error} (HTTP {delivery.status})")

    def _switch(self, who: str) -> str:
        wanted = who.strip().lower().lstrip("@")
        for user in self.slack.workspace.users.values():
            if user.is_bot or user.deleted:
                continue
            names = {user.id.lower(), user.name, user.real_name.lower(), (user.email or "").lower()}
            names.add(user.real_name.split()[0].lower())
            if wanted in names:
                self.user = user.id
                return f"You are now {user.real_name} ({user.tz})."
        return f"Nobody called {who!r}. People: {self._people()}."


def _read_stdin(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    """Thread body: hand each stdin line to the loop; None at end of input."""

    def hand(item: str | None) -> None:
        # The loop may be gone already when the sandbox stopped for another reason.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(lines.put_nowait, item)

    try:
        for line in sys.stdin:
            hand(line)
    except (OSError, ValueError):
        pass
    hand(None)


async def _prompt(sandbox: Sandbox) -> None:
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    # A daemon thread, not the default executor: a blocked readline must not hold up exit.
    threading.Thread(
        target=_read_stdin, args=(asyncio.get_running_loop(), lines), daemon=True
    ).start()
    while not sandbox.stop.is_set():
        line = await lines.get()
        if line is None:
            sandbox.stop.set()
            return
        try:
            await sandbox.handle(line)
        except (aiohttp.ClientError, TimeoutError, LookupError, ValueError, SlackError) as exc:
            # One line that went wrong must not end the prompt.
            sandbox.say(f"That did not work: {type(exc).__name__}: {exc}")


async def serve(port: int | None, interactive: bool, out: TextIO, *, model: bool = False) -> int:
    """Run the sandbox until it is told to stop; returns the exit status."""
    with tempfile.TemporaryDirectory(prefix="debrief-sandbox-") as tmp:
        try:
            world = await start_world(port, sqlite_url(Path(tmp) / "debrief.db"), model=model)
        except OSError as exc:
            print(f"debrief sandbox: cannot listen on port {port}: {exc.strerror}", file=sys.stderr)
            return 1
        # The page opens on #meetings, where the digests go, as the prompt's commands do.
        world.slack.default_channel = COMMAND_CHANNEL
        sandbox = Sandbox(world, out)
        interrupted = _on_signals(sandbox.stop)
        try:
            sandbox.start_printing()
            sandbox.say(f"Debrief sandbox: {sandbox.url}")
            prompt: asyncio.Task[None] | None = None
            if interactive:
                sandbox.say(sandbox.help())
                prompt = asyncio.create_task(_prompt(sandbox), name="sandbox-prompt")
            await sandbox.stop.wait()
            if prompt is not None:
                prompt.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await prompt
        finally:
            sandbox.say("Stopping the sandbox…" if not interrupted() else "Interrupted: stopping…")
            await sandbox.stop_printing()
            await world.stop()
            _restore_signals()
    return 0


def _on_signals(stop: asyncio.Event) -> Callable[[], bool]:
    """SIGINT/SIGTERM stop the sandbox cleanly; a second one exits at once."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def handler(signum: int) -> None:
        received.append(signum)
        if len(received) > 1:
            print("\nInterrupted again: exiting now.", file=sys.stderr, flush=True)
            os._exit(130)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, handler, signum)
    return lambda: bool(received)


def _restore_signals() -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signum)


def run_sandbox(port: int | None, prompt: bool, model: bool = False) -> int:
    """`debrief sandbox`: serve the sandbox until stopped; the prompt needs a terminal.
    ``model``: meetings are understood by the model engine, asking the stand-in model."""
    configure_logging("WARNING")
    interactive = prompt and sys.stdin is not None and sys.stdin.isatty()
    try:
        return asyncio.run(serve(port, interactive, sys.stdout, model=model))
    except KeyboardInterrupt:
        # Only reachable if the signal came before the handlers were installed.
        return 130
