"""Which calendar meetings get a notetaker: one pure decision per event, so that a webhook, the
periodic sync, a policy change and the owner's buttons all decide the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from handlers.calendar.repo import Policy
from handlers.routing.rules import email_domain, is_internal
from providers.attendee.calendars import CalendarEvent

#: ``/debrief calendar policy <scope>`` and the App Home select.
SCOPES: dict[str, str] = {
    "all": "every meeting with a link",
    "organised": "only meetings you organise",
    "accepted": "only meetings you accepted",
    "internal": "only meetings with nobody from outside",
    "external": "only meetings with someone from outside",
}

SCHEDULED = "scheduled"
POLICY = "policy"
NO_LINK = "no_link"
CANCELLED = "cancelled"
PAST = "past"
SKIPPED = "skipped"
REFUSED = "refused"


@dataclass(frozen=True)
class Verdict:
    decision: str
    #: Why, in words the owner reads.
    reason: str

    @property
    def schedules(self) -> bool:
        return self.decision == SCHEDULED


def is_external(event: CalendarEvent, internal: frozenset[str]) -> bool:
    """Someone invited is from outside the workspace's domains (never, when they are unknown)."""
    if not internal:
        return False
    for email in event.emails():
        domain = email_domain(email)
        if domain and not is_internal(domain, internal):
            return True
    return False


def never_word(title: str, words: tuple[str, ...]) -> str | None:
    """The first of ``words`` that the title holds as a word of its own."""
    lowered = title.lower()
    for word in words:
        if re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", lowered):
            return word
    return None


def decide(
    event: CalendarEvent | None,
    policy: Policy,
    *,
    now: datetime,
    owner_email: str | None,
    internal: frozenset[str],
    choice: str | None = None,
) -> Verdict:
    """What to do about one event. What cannot be recorded (gone, started, no link) comes
    first; then the owner's word on this event; then the policy."""
    if event is None or event.is_deleted:
        return Verdict(CANCELLED, "The meeting was cancelled.")
    if event.start_time <= now:
        return Verdict(PAST, "The meeting has already started.")
    if not event.meeting_url:
        return Verdict(NO_LINK, "The meeting has no Zoom, Meet or Teams link.")
    if choice == "skip":
        return Verdict(SKIPPED, "You said to skip this one.")
    if choice == "record":
        return Verdict(SCHEDULED, "You asked for this one.")
    return by_policy(event, policy, owner_email=owner_email, internal=internal)


def by_policy(
    event: CalendarEvent, policy: Policy, *, owner_email: str | None, internal: frozenset[str]
) -> Verdict:
    series = event.series
    if series and series in policy.never_series:
        return Verdict(POLICY, "You said never to record this series.")
    word = never_word(event.name or "", policy.never_words)
    if word is not None:
        return Verdict(POLICY, f"Its title has “{word}”, one of your never-record words.")
    scope = policy.scope
    if scope == "organised":
        if owner_email is None or event.organizer_email != owner_email.lower():
            return Verdict(POLICY, "You record only meetings you organise.")
    elif scope == "accepted":
        answer = event.response_of(owner_email) if owner_email else None
        if answer not in ("accepted", "organizer"):
            return Verdict(POLICY, "You record only meetings you accepted.")
    elif scope == "internal":
        if is_external(event, internal):
            return Verdict(POLICY, "You record only internal meetings; this one has outsiders.")
    elif scope == "external" and not is_external(event, internal):
        return Verdict(POLICY, "You record only meetings with someone from outside.")
    return Verdict(SCHEDULED, "Your calendar policy includes it.")
