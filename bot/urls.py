"""Meeting links: which meeting a URL names, and refusing hosts no meeting lives at."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

Resolver = Callable[[str], Awaitable[list[str]]]


async def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to; empty when it does not resolve in time."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(1.5):
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        return []
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def host_is_public(host: str, resolver: Resolver = resolve) -> bool:
    """False when ``host`` is, or resolves to, a private, loopback or link-local address.

    A host that does not resolve is not refused here: the provider will say it cannot join.
    """
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return is_public_address(host)
    return all(is_public_address(address) for address in await resolver(host))


@dataclass(frozen=True)
class MeetingId:
    """A meeting as its platform names it: the same whichever link to it was pasted."""

    #: ``zoom``, ``zoomgov``, ``meet``, ``teams`` (work and school) or ``teams-live``.
    platform: str
    id: str

    @property
    def name(self) -> str:
        """The platform as people call it."""
        return PLATFORM_NAMES[self.platform]

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.id}"


PLATFORM_NAMES = {
    "zoom": "Zoom",
    "zoomgov": "Zoom",
    "meet": "Google Meet",
    "teams": "Microsoft Teams",
    "teams-live": "Microsoft Teams",
}

# Zoom: /j/<id> (join), /w/<id> (webinar), /s/<id> (start), /wc/join/<id> and /wc/<id>/join
# (web client), /my/<name> (a personal link, which names its meeting by that name). Ids are
# digits, sometimes written in groups; the password (?pwd=) and anything else is not the meeting.
_ZOOM = re.compile(
    r"^/(?:[jws]/(?P<id>\d[\d -]*|\w[\w.-]*)|wc/join/(?P<wc>\w[\w.-]*)"
    r"|wc/(?P<wc2>\w[\w.-]*)/\w+|my/(?P<my>\w[\w.-]*))(?:/|$)",
    re.IGNORECASE,
)
# Google Meet codes are case-insensitive, and Meet accepts them without their dashes.
_MEET = re.compile(r"^/([a-z]{3})-?([a-z]{4})-?([a-z]{3})(?:/|$)", re.IGNORECASE)
# Teams: the chat thread of /l/meetup-join/<thread>/… (in the path, or in the fragment of the
# /v2/ and /_#/ forms), or the numeric id of the newer /meet/<id>?p=<passcode> links.
_TEAMS_THREAD = re.compile(r"/l/meetup-join/(?P<thread>[^/?#]+)", re.IGNORECASE)
_TEAMS_MEET = re.compile(r"^/meet/(?P<id>[\d ]+)(?:/|$)", re.IGNORECASE)


def meeting_id(url: str) -> MeetingId | None:
    """The meeting a Zoom, Google Meet or Microsoft Teams link names; None for anything else.

    Query strings (Zoom's ``pwd``, Teams' ``context`` or ``p``), fragments, the host's case and
    Zoom's vanity subdomains (``company.zoom.us``) do not change the meeting, nor does
    percent-encoding or a trailing slash.
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".")
    except ValueError:  # an unbalanced IPv6 bracket, say
        return None
    if parts.scheme.lower() not in ("https", "http"):
        return None
    path = re.sub(r"/{2,}", "/", _unquoted(parts.path))
    if _within(host, "zoom.us") or _within(host, "zoomgov.com"):
        platform = "zoom" if _within(host, "zoom.us") else "zoomgov"
        if m := _ZOOM.match(path):
            if m.group("my"):
                return MeetingId(platform, "my:" + m.group("my").lower())
            raw = m.group("id") or m.group("wc") or m.group("wc2")
            digits = re.sub(r"[ -]", "", raw)
            return MeetingId(platform, digits if digits.isdigit() else raw.lower())
    elif host == "meet.google.com":
        if m := _MEET.match(path):
            return MeetingId("meet", "-".join(m.groups()).lower())
    elif _within(host, "teams.microsoft.com") or _within(host, "teams.live.com"):
        platform = "teams" if _within(host, "teams.microsoft.com") else "teams-live"
        for place in (path, _unquoted(parts.fragment)):
            if m := _TEAMS_THREAD.search(place):
                return MeetingId(platform, m.group("thread"))
        if m := _TEAMS_MEET.match(path):
            return MeetingId(platform, "meet:" + m.group("id").replace(" ", ""))
    return None


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _unquoted(text: str) -> str:
    """``text`` with its percent-encoding undone, however many times it was applied (Teams
    links pass through mail clients and redirectors that encode them again)."""
    for _ in range(3):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text
