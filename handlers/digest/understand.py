"""The fill step of the one digest path: what a provider left out, the understanding engine adds.

Every meeting passes here between its provider's mapping and its route (``publish_digest``)
or its delivery (``deliver_digest``). A meeting that comes with a transcript but without a
summary, without action items or with a made-up title (Attendee's "Zoom meeting 7 Dec 2026")
is handed to ``services.understanding``; what the provider gave always stays:

- the title, when the provider's is missing or generic (``GENERIC_TITLE``); a title the person
  gave (`/debrief join … as "<title>"`) wins over both;
- the summary, only when missing; decisions, only when none are listed;
- action items, only when the provider gave none: the engine's owner becomes the suggested
  assignee (with the email of the participant of that name, so the action-item code can
  pre-assign the Slack user), its due date the item's;
- the outline, from the engine's topics with where each starts, only when missing;
- the engine's ``notice`` (the model failed and the embedded engine stood in), for the digest.

A filled meeting is marked (``UNDERSTOOD``) and never filled again, and a meeting delivered
before (a retried job, a re-delivery, another channel) takes what its earlier delivery was
filled with rather than asking the engine again: one meeting has one understanding, so its
action items keep their places even with an engine whose answers vary (the model's).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time

from sqlalchemy import select

from bot.meetings import ActionItem, Meeting, OutlineSection, Person
from bot.services import Services
from handlers.digest.tables import Digest
from understanding.types import Turn, Understanding

log = logging.getLogger(__name__)

#: ``Meeting.extras`` key: the provider's title is made up (a platform and a day), not a name.
GENERIC_TITLE = "generic_title"
#: ``Meeting.extras`` key: the engine that filled the meeting in (its ``name``).
UNDERSTOOD = "understood_by"
#: ``Meeting.extras`` key: which fields the engine filled ("summary", "action_items", …).
FILLED = "filled"
#: ``Meeting.extras`` key: the engine's notice (it fell back), shown in the digest.
NOTICE = "understanding_notice"


def turns_of(meeting: Meeting) -> list[Turn]:
    """The meeting's transcript as the engine reads it: one turn per utterance with words."""
    return [
        Turn(speaker=u.speaker, text=u.text, start=u.start_seconds)
        for u in meeting.transcript
        if u.text.strip()
    ]


def wants(meeting: Meeting) -> list[str]:
    """What the engine would fill in ``meeting``: nothing when it was filled already or has no
    transcript to read."""
    if meeting.extras.get(UNDERSTOOD) or not any(u.text.strip() for u in meeting.transcript):
        return []
    missing = []
    if not meeting.title.strip() or meeting.extras.get(GENERIC_TITLE):
        missing.append("title")
    if not (meeting.summary or "").strip():
        missing.append("summary")
    if not meeting.action_items:
        missing.append("action_items")
    return missing


async def understand_meeting(
    services: Services, meeting: Meeting, *, title: str | None = None
) -> Meeting:
    """``meeting`` with what its provider left out filled in by ``services.understanding``;
    ``title``, when given, is the one a person chose and wins. The meeting given is unchanged.
    """
    given = (title or "").strip()
    filled = meeting.model_copy(deep=True)
    if given:
        filled.title = given
        filled.extras.pop(GENERIC_TITLE, None)
    missing = wants(filled)
    if not missing:
        return filled
    earlier = await earlier_fill(services, filled)
    if earlier is not None:
        return reuse(filled, earlier, missing)
    engine = services.understanding
    started = filled.started_at
    understanding = await engine.understand(
        turns_of(filled), meeting_date=started.date() if started else None
    )
    return apply(filled, understanding, missing, engine.name)


def apply(
    meeting: Meeting, understanding: Understanding, missing: list[str], engine: str
) -> Meeting:
    """Fill ``meeting`` (in place, and returned) from ``understanding``, where ``missing`` says."""
    done: list[str] = []
    if "title" in missing and understanding.title.strip():
        meeting.title = understanding.title.strip()
        meeting.extras.pop(GENERIC_TITLE, None)
        done.append("title")
    if "summary" in missing and understanding.summary.strip():
        meeting.summary = understanding.summary.strip()
        done.append("summary")
    if not meeting.decisions and understanding.decisions:
        meeting.decisions = [d.strip() for d in understanding.decisions if d.strip()]
        done.append("decisions")
    if "action_items" in missing and understanding.action_items:
        people = meeting.people()
        meeting.action_items = [
            ActionItem(
                text=item.text,
                assignee_name=item.owner,
                assignee_email=_email_of(item.owner, people),
                due=datetime.combine(item.due, time(12), UTC) if item.due else None,
            )
            for item in understanding.action_items
            if item.text.strip()
        ]
        done.append("action_items")
    if not meeting.outline and understanding.topics:
        meeting.outline = [
            OutlineSection(title=topic.title, start_seconds=topic.start)
            for topic in understanding.topics
            if topic.title.strip()
        ]
        done.append("outline")
    meeting.extras[UNDERSTOOD] = engine
    meeting.extras[FILLED] = done
    if understanding.notice:
        meeting.extras[NOTICE] = understanding.notice
    log.info("%s %s: %s filled by %s", meeting.provider, meeting.meeting_id, done, engine)
    return meeting


async def earlier_fill(services: Services, meeting: Meeting) -> Meeting | None:
    """The meeting as an earlier delivery stored it, when the engine filled it in then."""
    async with services.sessions() as session:
        rows = await session.execute(
            select(Digest.meeting)
            .where(
                Digest.provider == meeting.provider,
                Digest.meeting_id == meeting.meeting_id,
                Digest.meeting.is_not(None),
            )
            .order_by(Digest.delivered_at.desc())
        )
        stored = list(rows.scalars())
    for value in stored:
        earlier = Meeting.model_validate(value)
        if earlier.extras.get(UNDERSTOOD):
            return earlier
    return None


def reuse(meeting: Meeting, earlier: Meeting, missing: list[str]) -> Meeting:
    """Fill ``meeting`` (in place, and returned) with what ``earlier`` was filled with."""
    filled = set(earlier.extras.get(FILLED) or [])
    if "title" in missing and "title" in filled:
        meeting.title = earlier.title
        meeting.extras.pop(GENERIC_TITLE, None)
    if "summary" in missing and "summary" in filled:
        meeting.summary = earlier.summary
    if not meeting.decisions and "decisions" in filled:
        meeting.decisions = list(earlier.decisions)
    if "action_items" in missing and "action_items" in filled:
        meeting.action_items = [item.model_copy() for item in earlier.action_items]
    if not meeting.outline and "outline" in filled:
        meeting.outline = [section.model_copy() for section in earlier.outline]
    for key in (UNDERSTOOD, FILLED, NOTICE):
        if key in earlier.extras:
            meeting.extras[key] = earlier.extras[key]
    return meeting


def _email_of(owner: str | None, people: list[Person]) -> str | None:
    """The email of the participant the engine named: by full name, else by a first name only
    one of them has; None when nobody (or more than one) matches or nobody's email is known."""
    name = " ".join((owner or "").lower().split())
    if not name:
        return None
    for person in people:
        if " ".join(person.name.lower().split()) == name:
            return person.email
    firsts = [p for p in people if p.name.lower().split()[:1] == [name]]
    return firsts[0].email if len(firsts) == 1 else None
