"""Routing rules as values: parsing a target, matching a meeting, and which rule wins.

The most specific rule wins. Kinds rank, most specific first: ``title:`` (a named meeting series;
among several, the one naming more words), ``external:`` (someone from outside the workspace was
there: keeps such meetings out of broad channels), ``otter-channel:`` (a provider-side folder),
``provider:`` and ``default``. Ties go to the older rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.blockkit import mrkdwn, unescape
from bot.meetings import Meeting

DEFAULT = "default"
PROVIDER = "provider"
OTTER_CHANNEL = "otter-channel"
TITLE = "title"
EXTERNAL = "external"

#: Kinds, most specific first.
KIND_ORDER = (TITLE, EXTERNAL, OTTER_CHANNEL, PROVIDER, DEFAULT)
_QUOTES = "\"'“”‘’"


def known_providers() -> tuple[str, ...]:
    """The names ``provider:`` takes: every provider the registry (or an app) knows."""
    from handlers.digest.render import provider_names

    return tuple(provider_names())


def _aliases() -> dict[str, str]:
    """Display names typed for names (``otter.ai``, ``otterai``)."""
    from handlers.digest.render import provider_names

    aliases = {}
    for name, shown in provider_names().items():
        for alias in (shown.lower(), re.sub(r"\W", "", shown.lower())):
            if alias != name:
                aliases[alias] = name
    return aliases


def target_help() -> str:
    """What a route target may be, for usage lines."""
    return (
        "`default`, `provider:<name>` (" + ", ".join(known_providers()) + "), "
        "`otter-channel:<Otter.ai channel name>`, `title:<words>` or `external:`"
    )


@dataclass(frozen=True)
class Rule:
    """A stored routing rule."""

    id: int
    kind: str
    value: str
    channel: str


def normalise(text: str) -> str:
    """Lower case, quotes stripped, single spaces: how rule values are stored and compared."""
    return " ".join(text.strip().strip(_QUOTES).lower().split())


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def parse_target(text: str) -> tuple[str, str]:
    """``(kind, value)`` of a route target such as ``title:weekly sync``.

    Raises:
        ValueError: not a target; the message is fit to show the user.
    """
    raw = text.strip()
    kind, colon, rest = raw.partition(":")
    kind = kind.strip().lower()
    value = normalise(unescape(rest))
    if kind in (DEFAULT, EXTERNAL) and not value:
        return kind, ""
    if not colon or kind not in (PROVIDER, OTTER_CHANNEL, TITLE):
        raise ValueError(f"`{raw[:60]}` is not a route target. Use {target_help()}.")
    if not value:
        raise ValueError(f"`{kind}:` needs something after the colon. Use {target_help()}.")
    if kind == PROVIDER:
        value = _aliases().get(value, value)
        known = known_providers()
        if value not in known:
            raise ValueError(
                f"`{mrkdwn(value, 60)}` is not a provider Debrief knows: use one of "
                + ", ".join(f"`{p}`" for p in known)
                + "."
            )
    if kind == TITLE and not words(value):
        raise ValueError("`title:` needs at least one word to look for in meeting titles.")
    if len(value) > 200:
        raise ValueError("That target is too long; 200 characters at most.")
    return kind, value


def matches(rule: Rule, meeting: Meeting, *, external: bool) -> bool:
    """Whether ``rule`` applies to ``meeting`` (``external``: someone from outside was there)."""
    if rule.kind == DEFAULT:
        return True
    if rule.kind == PROVIDER:
        return meeting.provider == rule.value
    if rule.kind == OTTER_CHANNEL:
        return meeting.provider == "otter" and rule.value in {
            normalise(name) for name in meeting.provider_channels
        }
    if rule.kind == TITLE:
        return words(rule.value) <= words(meeting.title)
    if rule.kind == EXTERNAL:
        return external
    return False


def rank(rule: Rule) -> tuple[int, int, int]:
    """Sort key: more specific rules first."""
    position = KIND_ORDER.index(rule.kind) if rule.kind in KIND_ORDER else len(KIND_ORDER)
    detail = -len(words(rule.value)) if rule.kind == TITLE else 0
    return position, detail, rule.id


def choose(rules: list[Rule], meeting: Meeting, *, external: bool) -> Rule | None:
    """The rule that decides where ``meeting``'s digest goes, if any applies."""
    for rule in sorted(rules, key=rank):
        if matches(rule, meeting, external=external):
            return rule
    return None


def describe(kind: str, value: str) -> str:
    """A rule's condition in words."""
    if kind == DEFAULT:
        return "every meeting no other rule takes"
    # The value is what an admin typed: shown as typed, never as markup.
    shown = mrkdwn(value, 200)
    if kind == PROVIDER:
        return f"meetings from {shown}"
    if kind == OTTER_CHANNEL:
        return f"Otter.ai conversations in the channel “{shown}”"
    if kind == TITLE:
        return f"meetings whose title has “{shown}”"
    if kind == EXTERNAL:
        return "meetings with someone from outside the workspace"
    return f"{mrkdwn(kind, 50)}:{shown}"


def email_domain(email: str) -> str | None:
    _, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return None
    return domain.strip(".") or None


def is_internal(domain: str, internal: frozenset[str]) -> bool:
    """Whether ``domain`` is one of ``internal`` or a subdomain of one."""
    return any(domain == own or domain.endswith("." + own) for own in internal)


def external_emails(meeting: Meeting, internal: frozenset[str]) -> list[str]:
    """Addresses of people in the meeting outside ``internal`` (none when it is unknown)."""
    if not internal:
        return []
    emails = [p.email for p in meeting.people() if p.email]
    emails += [i.assignee_email for i in meeting.action_items if i.assignee_email]
    found: list[str] = []
    for email in emails:
        domain = email_domain(email)
        if domain and not is_internal(domain, internal) and email.lower() not in found:
            found.append(email.lower())
    return found
