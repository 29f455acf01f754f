"""The work behind `/debrief search`, `ask`, `forget` and a mention: each asks Slack which
channels the person is in before it reads a single meeting."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import BaseModel
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.blockkit import mrkdwn
from bot.errors import UserFacingError
from bot.jobs import JobRun
from bot.services import Services
from bot.slack import slack_error
from handlers.search import index
from handlers.search.blocks import Citation, build_answer_blocks, build_results_blocks
from handlers.search.index import Filters, MeetingKey, Scope
from handlers.search.query import parse_meeting_ref, parse_question, parse_search
from handlers.search.store import forget_meeting
from handlers.search.tables import StoredMeeting
from handlers.wiring import InThread
from providers.errors import ProviderError
from providers.llm import ChatCompletionsClient
from understanding import ask
from understanding.types import Answer, Passage

log = logging.getLogger(__name__)

JOB_SEARCH = "search.search"
JOB_ASK = "search.ask"
JOB_FORGET = "search.forget"
JOB_MENTION = "search.mention"
#: Passages an answer is drawn from.
PASSAGES = 20
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


class CommandJob(InThread):
    """A `/debrief search|ask|forget` to answer through its response_url."""

    user_id: str
    channel_id: str
    text: str
    response_url: str


class MentionJob(BaseModel):
    """A mention of the app: a question, answered in its thread."""

    user_id: str
    channel_id: str
    text: str
    ts: str
    thread_ts: str | None = None


async def scope_of(services: Services, user: str, only_channel: str | None = None) -> Scope:
    """What ``user`` may find: meetings of the channels Slack says they are in, and theirs
    (when Slack will not say, only theirs)."""
    channels = await services.membership.channels_of(user)
    return Scope(user, channels or frozenset(), only_channel)


async def _names_of(services: Services, user_id: str) -> list[str]:
    """How a transcript may name a Slack user: real name, display name, email."""
    try:
        person = await services.slack.people.get(user_id)
    except SlackApiError as exc:
        log.info("cannot look up %s: %s", user_id, slack_error(exc))
        return []
    return _names(dict(person.user))


async def _names_by_handle(services: Services, handle: str) -> list[str]:
    """The names of the person whose Slack handle or display name is ``handle`` (what
    ``from:@ada`` carries, Slack not escaping mentions in commands); the handle itself when
    nobody has it, matched as part of a speaker's name."""
    wanted = handle.lower()
    cursor = None
    try:
        for _ in range(100):
            answer = await services.slack.client.users_list(limit=1000, cursor=cursor)
            for user in answer.get("members") or []:
                profile = user.get("profile") or {}
                known = (user.get("name"), profile.get("display_name"))
                if any(str(k).lower() == wanted for k in known if k):
                    return [handle, *_names(user)]
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    except SlackApiError as exc:
        log.info("cannot list users: %s", slack_error(exc))
    return [handle]


def _names(user: dict[str, Any]) -> list[str]:
    profile = user.get("profile") or {}
    found = (
        user.get("real_name"),
        profile.get("real_name"),
        profile.get("display_name"),
        profile.get("email"),
    )
    return list(dict.fromkeys(str(n).strip() for n in found if n and str(n).strip()))


async def _channel_named(services: Services, name: str) -> str | None:
    cursor = None
    for _ in range(100):
        answer = await services.slack.client.conversations_list(
            types="public_channel,private_channel", limit=1000, cursor=cursor
        )
        for channel in answer.get("channels") or []:
            if str(channel.get("name", "")).lower() == name:
                return str(channel["id"])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return None


async def _reply(services: Services, payload: CommandJob, text: str, blocks: Any = None) -> None:
    await services.slack.respond(payload.response_url, text, blocks, thread=payload.thread)


async def job_search(services: Services, payload: CommandJob, run: JobRun) -> None:
    """`/debrief search`: the matching meetings the person may see, best first."""
    request = parse_search(payload.text)
    speakers: list[str] = []
    for handle in request.names:
        speakers += await _names_by_handle(services, handle)
    for user_id in request.user_ids:
        names = await _names_of(services, user_id)
        if not names:
            await _reply(services, payload, "I could not find that person in Slack.")
            return
        speakers += names
    channel = request.channel_id
    if request.channel_name is not None:
        channel = await _channel_named(services, request.channel_name)
        if channel is None:
            shown = mrkdwn(request.channel_name, 80)
            await _reply(services, payload, f"I cannot see a channel called #{shown}.")
            return
    filters = Filters(tuple(speakers), channel, request.after, request.before)
    scope = await scope_of(services, payload.user_id)
    async with services.sessions() as session:
        hits = await index.search(session, request.words, scope, filters)
    text, blocks = build_results_blocks(request.words, hits)
    await _reply(services, payload, text, blocks)


async def answer_question(services: Services, question: str, passages: list[Passage]) -> Answer:
    """The model's answer from these passages only, when a model endpoint is configured;
    otherwise, or when the model fails, the embedded engine's extractive answer."""
    chat = services.client(ChatCompletionsClient)
    if chat is not None:
        try:
            return await ask.answer_with_model(chat, question, passages)
        except ProviderError as exc:
            log.warning("ask: the model failed (%s); answering extractively", exc)
    return ask.answer(question, passages)


async def _answer(
    services: Services, question: str, scope: Scope, meeting: MeetingKey | None = None
) -> tuple[str, list[dict[str, Any]]]:
    async with services.sessions() as session:
        passages = await index.search_passages(session, question, scope, meeting, PASSAGES)
    answer = await answer_question(services, question, passages) if passages else None
    if answer is None:
        answer = Answer(text="", found=False)
    by_ref = {p.ref: p for p in passages}
    cited = [by_ref[ref] for ref in dict.fromkeys(answer.citations) if ref in by_ref]
    ids = {pair[0] for p in cited if (pair := index.parse_ref(p.ref)) is not None}
    async with services.sessions() as session:
        meetings = await index.meetings_by_id(session, sorted(ids))
    citations = []
    for passage in cited:
        pair = index.parse_ref(passage.ref)
        stored = meetings.get(pair[0]) if pair else None
        if stored is None:
            continue
        citations.append(
            Citation(
                stored.title, stored.permalink, passage.speaker, passage.start, stored.started_at
            )
        )
    return build_answer_blocks(question, answer, citations)


async def job_ask(services: Services, payload: CommandJob, run: JobRun) -> None:
    """`/debrief ask`: an answer from the meetings the person may see, with citations."""
    question = parse_question(payload.text)
    scope = await scope_of(services, payload.user_id)
    text, blocks = await _answer(services, question, scope)
    await _reply(services, payload, text, blocks)


async def job_answer_mention(services: Services, payload: MentionJob, run: JobRun) -> None:
    """A mention: answered in its thread, for everyone in the channel to read, so only from
    meetings whose digest is in that channel (the thread's own meeting first) and that the
    asker may see."""
    thread = payload.thread_ts or payload.ts
    question = " ".join(_MENTION.sub(" ", payload.text).split())
    if not index.words_of(question):
        text = "Ask me about this channel's meetings, like “@Debrief what did we decide?”"
        await services.slack.post(payload.channel_id, text, thread_ts=thread)
        return
    meeting = None
    if payload.thread_ts:
        async with services.sessions() as session:
            found = await session.execute(
                select(StoredMeeting.provider, StoredMeeting.meeting_id).where(
                    StoredMeeting.channel_id == payload.channel_id,
                    StoredMeeting.digest_ts == payload.thread_ts,
                )
            )
            row = found.first()
        meeting = MeetingKey(row[0], row[1]) if row else None
    scope = await scope_of(services, payload.user_id, only_channel=payload.channel_id)
    text, blocks = await _answer(services, question, scope, meeting)
    await services.slack.post(payload.channel_id, text, blocks, thread_ts=thread)


async def job_forget(services: Services, payload: CommandJob, run: JobRun) -> None:
    """`/debrief forget`: the meeting's requester or an admin deletes it, index included."""
    ref = parse_meeting_ref(payload.text)
    async with services.sessions() as session:
        query = select(StoredMeeting)
        if ref.id is not None:
            query = query.where(StoredMeeting.id == ref.id)
        else:
            query = query.where(
                StoredMeeting.channel_id == ref.channel_id, StoredMeeting.digest_ts == ref.ts
            )
        stored = (await session.execute(query)).scalars().first()
    user = payload.user_id
    visible = stored is not None and (
        stored.requester_id == user
        or (stored.channel_id or "") in (await scope_of(services, user)).channels
    )
    admin = None
    if stored is not None and stored.requester_id != user:
        admin = await services.membership.is_admin(user)
    if stored is None or not (visible or admin):
        await _reply(services, payload, "I have no stored meeting there that you can see.")
        return
    title = mrkdwn(stored.title or "Untitled meeting", 200)
    if stored.requester_id != user and not admin:
        because = (
            "I could not check your role with Slack"
            if admin is None
            else "you did not ask for it and are not a workspace admin"
        )
        await _reply(
            services,
            payload,
            f"Only the person who asked for *{title}* or a workspace admin can make me forget "
            f"it, and {because}; nothing was deleted.",
        )
        return
    await forget_meeting(services, stored)
    await _reply(
        services,
        payload,
        f"Forgotten: *{title}* — its transcript, summary and search index are deleted. "
        "The digest message stays in Slack; delete it there if it should go too.",
    )


async def tell_requester(services: Services, payload: CommandJob, error: str) -> None:
    """A search, question or forget that failed for good: say so instead of staying silent."""
    await _reply(
        services, payload, "Sorry, I could not do that just now; please try again in a minute."
    )


__all__ = [
    "JOB_ASK",
    "JOB_FORGET",
    "JOB_MENTION",
    "JOB_SEARCH",
    "CommandJob",
    "MentionJob",
    "UserFacingError",
]
