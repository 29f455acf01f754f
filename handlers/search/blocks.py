"""What search and ask show in Slack: results with their moments, answers with citations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.blockkit import (
    CONTEXT_TEXT,
    SECTION_TEXT,
    channel_mention,
    fallback,
    fit,
    link,
    marked,
    mrkdwn,
    slack_time,
)
from handlers.search.index import MeetingHit
from understanding.types import Answer

Block = dict[str, Any]

NOT_FOUND = "I couldn't find that in meetings you can see."
#: Characters of one moment's snippet, and of an answer.
SNIPPET_TEXT = 600
ANSWER_TEXT = 2500


@dataclass(frozen=True)
class Citation:
    """Where an answer's words come from: the meeting, the moment, and the digest's link."""

    title: str
    permalink: str | None
    speaker: str | None
    start: float | None
    started_at: datetime | None = None


def moment_time(seconds: float | None) -> str:
    """A moment in a meeting as ``mm:ss`` (``h:mm:ss`` past an hour) from its start."""
    if seconds is None:
        return "summary"
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _heading(hit: MeetingHit) -> str:
    parts = [f"*{link(hit.permalink, hit.title or 'Untitled meeting')}*"]
    if hit.channel_id:
        parts.append(channel_mention(hit.channel_id))
    if hit.started_at:
        parts.append(slack_time(hit.started_at))
    parts.append(f"id `{hit.id}`")
    return " · ".join(parts)


def build_results_blocks(words: str, hits: list[MeetingHit]) -> tuple[str, list[Block]]:
    """`/debrief search` results: each meeting (best first) with up to three moments."""
    asked = mrkdwn(words, 200)
    if not hits:
        return f"No meetings you can see mention “{asked}”.", []
    count = f"{len(hits)} meeting{'s' if len(hits) != 1 else ''}"
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{count} for “{asked}”:"}}
    ]
    for hit in hits:
        lines = [_heading(hit)]
        for moment in hit.moments:
            who = mrkdwn(moment.speaker, 100) if moment.speaker else "Summary"
            snippet = marked(moment.snippet, SNIPPET_TEXT)
            lines.append(f"> *{who}* `{moment_time(moment.start)}` — {snippet}")
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": fit("\n".join(lines), SECTION_TEXT)},
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Only meetings whose digest reached a channel you are in, or that "
                    "are yours. `/debrief forget` with a meeting's id deletes one you asked for.",
                }
            ],
        }
    )
    return fallback(f"{count} for “{asked}”"), blocks


def citation_text(number: int, citation: Citation) -> str:
    """One citation: number, meeting (linked to its digest), moment and speaker."""
    where = link(citation.permalink, citation.title or "Untitled meeting")
    who = f" · {mrkdwn(citation.speaker, 100)}" if citation.speaker else ""
    return f"[{number}] {where} `{moment_time(citation.start)}`{who}"


def build_answer_blocks(
    question: str, answer: Answer, citations: list[Citation]
) -> tuple[str, list[Block]]:
    """An answer to `/debrief ask` or a mention, with its citations; or that nothing was found."""
    asked = mrkdwn(question, 300)
    if not answer.found or not answer.text.strip():
        return NOT_FOUND, [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"_{asked}_\n{NOT_FOUND}"}}
        ]
    said = mrkdwn(answer.text, ANSWER_TEXT)
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": fit(f"_{asked}_\n{said}", SECTION_TEXT)},
        }
    ]
    if citations:
        lines = "\n".join(citation_text(n, c) for n, c in enumerate(citations, 1))
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": fit(lines, CONTEXT_TEXT)}]}
        )
    return fallback(said), blocks
