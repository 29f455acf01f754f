"""A processed Claritalk meeting as the provider-neutral ``Meeting`` the digest renders.

Themes (with the questions raised under them) become the outline; discussion topics (their
summary and key points) become the insights; todos become action items with their assignee and
due date.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot.meetings import ActionItem, Insight, Meeting, OutlineSection, Person
from handlers.claritalk.tables import ClaritalkConnection
from providers.claritalk import DiscussionTopic, MeetingProcessed, Question, Theme, Todo

PROVIDER = "claritalk"


def question_line(question: Question) -> str:
    text = f"❓ {question.text.strip()}"
    return f"{text} — {question.answer.strip()}" if question.answer else text


def theme_section(theme: Theme) -> OutlineSection:
    points = [theme.description] if theme.description else []
    points += [question_line(q) for q in theme.questions if q.text.strip()]
    return OutlineSection(title=theme.title.strip() or "Untitled theme", points=points)


def topic_insight(topic: DiscussionTopic) -> Insight:
    points = [topic.summary] if topic.summary else []
    return Insight(topic=topic.title or None, points=points + topic.points)


def action_item(todo: Todo) -> ActionItem:
    text = todo.text.strip() or (todo.description or "").strip()
    if todo.description and todo.description.strip() != text:
        text = f"{text} — {todo.description.strip()}"
    due = todo.due_date
    extra = todo.model_extra or {}
    provider_id = extra.get("id")
    return ActionItem(
        text=text,
        assignee_name=todo.assignee.name if todo.assignee else None,
        assignee_email=todo.assignee.email if todo.assignee else None,
        status="done" if todo.done else "open",
        due=datetime.combine(due, time(), UTC) if due else None,
        provider_id=str(provider_id) if isinstance(provider_id, str | int) else None,
    )


def summary_text(data: MeetingProcessed) -> str | None:
    """The general summary; without one, whichever other kind of summary was sent."""
    if data.general_summary:
        return data.general_summary
    for section in data.summary.sections().values():
        if section.content:
            return section.content
    return None


def to_meeting(data: MeetingProcessed, owner: ClaritalkConnection | None = None) -> Meeting:
    """Map ``meeting.processed`` data into a ``Meeting``.

    Args:
        data: the webhook's typed ``data``.
        owner: the Slack user connected as the meeting's Claritalk user, if any: named as host.
    """
    meta = data.metadata
    host = None
    if owner is not None and (owner.claritalk_name or owner.claritalk_email):
        host = Person(
            name=owner.claritalk_name or owner.claritalk_email or "",
            email=owner.claritalk_email,
            is_host=True,
        )
    participants = [
        Person(name=p.name or p.email or "", email=p.email)
        for p in meta.participants
        if p.name or p.email
    ]
    return Meeting(
        provider=PROVIDER,
        meeting_id=data.meeting_id,
        title=data.display_title,
        started_at=meta.started_at or data.created_at,
        ended_at=meta.ended_at,
        duration=timedelta(seconds=meta.duration) if meta.duration and meta.duration > 0 else None,
        owner=host,
        participants=participants,
        summary=summary_text(data),
        action_items=[action_item(t) for t in data.todos if (t.text or t.description or "")],
        outline=[theme_section(t) for t in data.themes],
        insights=[topic_insight(t) for t in data.discussion_topics],
        extras={
            "claritalk_status": data.status,
            "claritalk_user_id": data.user_id,
            "summary_quality_flag": data.summary_quality_flag,
            "locale": data.locale,
        },
    )
