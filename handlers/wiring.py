"""What features plug into: the Bolt app, the job registry, the `/debrief` subcommands and the
web routes. ``register(wiring)`` in each feature only wires names to functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pydantic
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs import JobRegistry
from bot.services import Services
from bot.slack import Thread


@dataclass(frozen=True)
class Click:
    """Who clicked where, from a ``block_actions`` payload."""

    team_id: str
    user_id: str
    channel_id: str
    response_url: str
    #: The thread the clicked message is in (None outside a thread): an answer through the
    #: response_url lands in the channel, where the clicker is not looking.
    thread_ts: str | None = None

    @property
    def thread(self) -> Thread | None:
        """Where to answer the clicker privately, when the click came from a thread."""
        if not self.thread_ts or not self.channel_id or not self.user_id:
            return None
        return Thread(self.channel_id, self.user_id, self.thread_ts)

    def in_thread(self) -> dict[str, str | None]:
        """The fields of an :class:`InThread` job payload for this click."""
        return {
            "thread_ts": self.thread_ts,
            "thread_channel": self.channel_id or None,
            "thread_user": self.user_id or None,
        }


class InThread(pydantic.BaseModel):
    """A job that answers someone through a response_url: the thread the click came from (None
    for a command, or a click outside a thread), passed to ``SlackMessenger.respond`` so that
    every answer lands where the person clicked."""

    thread_ts: str | None = None
    thread_channel: str | None = None
    thread_user: str | None = None

    @property
    def thread(self) -> Thread | None:
        """Where the answer goes privately, when the click came from a thread."""
        if not (self.thread_ts and self.thread_channel and self.thread_user):
            return None
        return Thread(self.thread_channel, self.thread_user, self.thread_ts)


def click_of(body: dict[str, Any]) -> Click:
    """The ids every button listener needs, read one way for every feature."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
    # Slack names the thread in the container; the message itself says so too (not sent for
    # ephemeral messages). A thread's parent carries its own ts as thread_ts: a click on it is
    # a click in the channel.
    thread = container.get("thread_ts") or (body.get("message") or {}).get("thread_ts")
    if thread and thread == container.get("message_ts"):
        thread = None
    return Click(
        team_id=str((body.get("team") or {}).get("id") or ""),
        user_id=str((body.get("user") or {}).get("id") or ""),
        channel_id=str(channel or ""),
        response_url=str(body.get("response_url") or ""),
        thread_ts=str(thread) if thread else None,
    )


async def tell_clicker(ack: AsyncAck, services: Services, body: dict[str, Any], text: str) -> None:
    """Acknowledge a click and answer the clicker alone, in the thread they clicked in,
    leaving the message as it is."""
    await ack()
    click = click_of(body)
    await services.slack.respond(click.response_url, text, thread=click.thread)


async def enqueue_then_ack(
    ack: AsyncAck,
    services: Services,
    kind: str,
    payload: pydantic.BaseModel,
    *,
    dedupe_key: str | None = None,
) -> None:
    """Write a click's job, then acknowledge it: once Slack sees the ack, the work exists (a
    database write is milliseconds, well inside Slack's three seconds)."""
    await services.queue.submit(kind, payload, dedupe_key=dedupe_key)
    await ack()


#: An ephemeral answer: plain text, or keyword arguments for ``ack`` (text, blocks); None when
#: a job answers through the response_url and that answer is the only one.
Reply = str | dict[str, Any] | None


@dataclass(frozen=True)
class CommandContext:
    """One `/debrief <subcommand> …` invocation."""

    services: Services
    client: AsyncWebClient
    args: str
    team_id: str
    channel_id: str
    user_id: str
    response_url: str
    trigger_id: str
    body: dict[str, Any]


SubcommandHandler = Callable[[CommandContext], Awaitable[Reply]]


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    handler: SubcommandHandler


class Subcommands:
    """The `/debrief` subcommands, in the order they were added (the order of `help`)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Subcommand] = {}

    def add(self, name: str, usage: str, summary: str, handler: SubcommandHandler) -> None:
        if name in self._by_name:
            raise ValueError(f"subcommand {name!r} registered twice")
        self._by_name[name] = Subcommand(name, usage, summary, handler)

    def get(self, name: str) -> Subcommand | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[Subcommand]:
        return iter(self._by_name.values())


@dataclass
class Wiring:
    """Everything a feature's ``register`` may attach to."""

    bolt: AsyncApp
    jobs: JobRegistry[Services]
    commands: Subcommands = field(default_factory=Subcommands)
    routes: web.RouteTableDef = field(default_factory=web.RouteTableDef)
