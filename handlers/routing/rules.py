"""Routing rules as values: parsing a target, matching a meeting, and which rule wins.

The most specific rule wins. Kinds rank, most specific first: ``title:`` (a named meeting series;
among several, the one naming more words), ``external:`` (someone from outside the workspace was
there: keeps such meetings out of broad channels), a provider's own folder (the word its
descriptor's ``folder_rule`` gives, such as Otter's ``otter-channel:``), ``provider:`` and
``default``. Ties go to the older rule. ``title:``, ``external:``, ``provider:`` and ``default``
are routing's own; the folder kinds are the installed providers'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.blockkit import mrkdwn, unescape
from bot.meetings import Meeting
from bot.plugins import FolderRule

DEFAULT = "default"
PROVIDER = "provider"
TITLE = "title"
EXTERNAL = "external"

#: Folder rules of providers wired into an app that are not in the registry (a test's own), by
#: their word: ``(provider name, rule)``.
REGISTERED_FOLDERS: dict[str, tuple[str, FolderRule]] = {}
_QUOTES = "\"'“”‘’"


def known_providers() -> tuple[str, ...]:
    """The names ``provider:`` takes: every provider the registry (or an app) knows."""
    from handlers.digest.render import provider_names

    return tuple(provider_names())


def folder_rules() -> dict[str, tuple[str, FolderRule]]:
    """Each provider's own folder target by its word, ``(provider name, rule)``: the
    registry's and any wired since."""
    from handlers.registry import PROVIDERS

    own = {p.folder_rule.word: (p.name, p.folder_rule) for p in PROVIDERS if p.folder_rule}
    return {**own, **REGISTERED_FOLDERS}


def kind_order() -> tuple[str, ...]:
    """Kinds, most specific first: the providers' folders between ``external:`` and
    ``provider:``."""
    return (TITLE, EXTERNAL, *folder_rules(), PROVIDER, DEFAULT)


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
    folders = "".join(f"`{word}:<{rule.what}>`, " for word, (_, rule) in folder_rules().items())
    return (
        "`default`, `provider:<name>` ("
        + ", ".join(known_providers())
        + "), "
        + folders
        + "`title:<words>` or `external:`"
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
    if not colon or kind not in (PROVIDER, TITLE, *folder_rules()):
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
    if rule.kind == TITLE:
        return words(rule.value) <= words(meeting.title)
    if rule.kind == EXTERNAL:
        return external
    folder = folder_rules().get(rule.kind)
    if folder is not None:
        owner, _ = folder
        return meeting.provider == owner and rule.value in {
            normalise(name) for name in meeting.provider_channels
        }
    return False


def rank(rule: Rule) -> tuple[int, int, int]:
    """Sort key: more specific rules first."""
    order = kind_order()
    position = order.index(rule.kind) if rule.kind in order else len(order)
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
    if kind == TITLE:
        return f"meetings whose title has “{shown}”"
    if kind == EXTERNAL:
        return "meetings with someone from outside the workspace"
    folder = folder_rules().get(kind)
    if folder is not None:
        return f"{folder[1].described} “{shown}”"
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
