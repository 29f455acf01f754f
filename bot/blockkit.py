"""Slack's text rules in one place: Block Kit's limits, and the one way a string that Debrief did
not write (a meeting title, a speaker, a transcript, a URL, a provider's error, what a person
typed) becomes part of a message.

Slack reads a message's ``text``, every ``mrkdwn`` object and a link's label as markup:
``<!channel>`` pings a channel, ``<@U…>`` a person, ``<url|label>`` makes a link that says
anything. Such a string therefore goes through :func:`escape` or :func:`mrkdwn` (Slack's three
entities, which show every one of those as typed;
https://api.slack.com/reference/surfaces/formatting#escaping), a link Debrief builds through
:func:`link`, a ``plain_text`` object through :func:`plain` (Slack shows it as typed, so it is
only cut), and a file title through :func:`file_title`.

A time or a date goes through :func:`slack_time` or :func:`slack_day`: Slack's date token, which
every reader sees in their own time zone and format.

Every limit is met by cutting the words, never by dropping the control that carries them: a title
too long for a header ends in "…", a link whose URL is longer than a block can hold becomes its
label alone, and the button next to it stays.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

#: Blocks in one message; modals and the Home tab allow 100.
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
#: Characters of a section's text, a header's, one section field, a context element.
SECTION_TEXT = 3000
HEADER_TEXT = 150
FIELD_TEXT = 2000
SECTION_FIELDS = 10
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
#: Buttons: visible text, value and link; ids of actions and blocks.
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTON_URL = 3000
ID_LENGTH = 255
ACTION_ELEMENTS = 25
#: A select's option and its value; a placeholder; a confirm dialog's title and text.
OPTION_TEXT = 75
OPTION_VALUE = 150
PLACEHOLDER_TEXT = 150
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
#: A modal's title and its submit and close buttons.
MODAL_TITLE = 24
MODAL_BUTTON = 24
#: Slack truncates a message's top-level ``text`` beyond this.
MESSAGE_TEXT = 40_000
#: Our ceiling on a message's top-level ``text``: it is the notification line and what a screen
#: reader says first, so a sentence or two, far below what Slack cuts.
FALLBACK_TEXT = 3000
#: Slack documents no limit on a file's title; this is the longest one it shows whole.
FILE_TITLE = 250
#: The longest URL a link in text carries; beyond it the label stands alone. It leaves room for
#: the label and the rest of a section, and for four links in one context element.
LINK_URL = 700

ELLIPSIS = "…"

_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,40}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,40}")
_URL_UNSAFE = re.compile(r"[<>|\s\x00-\x1f\x7f]")


def escape(text: str) -> str:
    """``text`` as Slack shows it in mrkdwn: ``&``, ``<`` and ``>`` as entities, so that no
    mention (``<!channel>``, ``<!here>``, ``<@U…>``, ``<#C…>``), link or date can be smuggled in."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Text Slack sent (a slash command's arguments) as the person typed it: Slack escapes
    ``&``, ``<`` and ``>`` in what it sends, as in what it shows."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters of plain text, cut at a word break with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip() + ELLIPSIS


def mrkdwn(text: str, limit: int) -> str:
    """``text`` escaped for mrkdwn, at most ``limit`` characters once escaped (which lengthens
    it), cut at a word break with an ellipsis and never inside an entity."""
    shown = escape(text)
    if len(shown) <= limit:
        return shown
    room, used, end = limit - 1, 0, len(text)
    for index, char in enumerate(text):
        used += len(escape(char))
        if used > room:
            end = index
            break
    cut = text.rfind(" ", 0, end)
    return escape(text[: cut if cut > end // 2 else end].rstrip()) + ELLIPSIS


def fit(markup: str, limit: int) -> str:
    """Mrkdwn Debrief has put together (escaped content and its own markup) cut to ``limit``
    characters with an ellipsis, at a word break where one is near, and never inside an
    entity or a ``<…>`` link, mention or date (a half one would show its insides)."""
    if len(markup) <= limit:
        return markup
    end = limit - 1
    opened = markup.rfind("<", 0, end)
    if opened > markup.rfind(">", 0, end):
        end = opened
    amp = markup.rfind("&", 0, end)
    if amp >= 0 and markup.find(";", amp, end) < 0 and _ENTITY.match(markup, amp):
        end = amp
    cut = markup.rfind(" ", 0, end)
    # A word break inside a link would leave it open; one after it (or none at all) is fine.
    if cut > end // 2 and markup.rfind("<", 0, cut) <= markup.rfind(">", 0, cut):
        end = cut
    return markup[:end].rstrip() + ELLIPSIS


def plain(text: str, limit: int) -> str:
    """Text for a ``plain_text`` object (a header, a button, an option): Slack shows it as
    typed, so it is only cut, and never empty (Slack refuses an empty one)."""
    return truncate(text, limit) or " "


def safe_url(url: str) -> str:
    """A URL that cannot end a ``<url|label>`` early: ``<``, ``>``, ``|`` and whitespace are
    percent-encoded (as a browser would send them)."""
    return _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), url)


def link(url: str | None, label: str, *, url_limit: int = LINK_URL, label_limit: int = 200) -> str:
    """A mrkdwn link Debrief builds: the label escaped and cut, the URL made safe. Without a
    URL, or with one too long to carry, the label stands alone."""
    shown = mrkdwn(label.replace("|", "¦"), label_limit) or "link"
    target = safe_url(url or "")
    if not target or len(target) > url_limit:
        return shown
    return f"<{target}|{shown}>"


def button_url(url: str | None) -> str | None:
    """A URL a button can carry, or None when it is too long for one (then the button, which
    has a value too, works without it)."""
    if not url:
        return None
    target = safe_url(url)
    return target if len(target) <= BUTTON_URL else None


def user_mention(user_id: str) -> str:
    """``<@U…>`` for a Slack user id; anything else (an id a provider handed back) as text."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else mrkdwn(user_id, 40)


def channel_mention(channel_id: str) -> str:
    """``<#C…>`` for a Slack channel id; anything else as text."""
    return f"<#{channel_id}>" if _CHANNEL_ID.fullmatch(channel_id) else mrkdwn(channel_id, 40)


#: How a moment reads: "Today at 2:30 PM", "Dec 9, 2026 at 9:00 AM" in the reader's own
#: Slack time zone and clock (https://api.slack.com/reference/surfaces/formatting#date-formatting).
MOMENT_FORMAT = "{date_short_pretty} at {time}"
#: How a day reads: "Today", "Dec 9, 2026" — the same words beside a date picker as in the text.
DAY_FORMAT = "{date_short_pretty}"


def slack_time(
    moment: datetime, token_format: str = MOMENT_FORMAT, fallback_text: str | None = None
) -> str:
    """A moment as Slack's date token: every reader sees it in their own time zone and
    format; clients that cannot render the token show the fallback (by default the moment
    in UTC, which says so)."""
    when = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if fallback_text is None:
        shown = when.astimezone(UTC)
        fallback_text = f"{shown:%a} {shown.day} {shown:%b %Y}, {shown:%H:%M} UTC"
    return f"<!date^{int(when.timestamp())}^{token_format}|{escape(fallback_text)}>"


def slack_day(day: date) -> str:
    """A calendar day (a due date, which has no time zone) as Slack's date token.

    The token needs a moment, and Slack shows it in the reader's zone: noon UTC is the same
    calendar day from UTC-12 to UTC+11, which is where nearly every reader is; the fallback is
    the day itself."""
    noon = datetime.combine(day, time(12), UTC)
    return f"<!date^{int(noon.timestamp())}^{DAY_FORMAT}|{day:%a} {day.day} {day:%b %Y}>"


def file_title(text: str) -> str:
    """A file's title: one line, at most ``FILE_TITLE`` characters. Slack shows it as typed;
    angle brackets become look-alikes anyway, since a title also ends up quoted in messages."""
    line = " ".join(text.split())
    return truncate(line.replace("<", "‹").replace(">", "›"), FILE_TITLE) or "Untitled"


def fallback(markup: str) -> str:
    """A message's top-level ``text`` (mrkdwn Debrief put together from escaped pieces), cut
    to ``FALLBACK_TEXT``."""
    return fit(markup, FALLBACK_TEXT)


#: Where a full-text engine's snippet marks a matched word (control characters, which no
#: transcript keeps: ``handlers.search`` strips them from what it indexes).
MARK_START = "\x02"
MARK_STOP = "\x03"


def marked(snippet: str, limit: int) -> str:
    """A search snippet as mrkdwn: the text escaped, each word the engine marked (between
    :data:`MARK_START` and :data:`MARK_STOP`) in bold, at most ``limit`` characters."""
    pieces: list[str] = []
    for number, chunk in enumerate(snippet.split(MARK_START)):
        word, _stop, rest = chunk.partition(MARK_STOP) if number else ("", "", chunk)
        word = " ".join(word.replace("*", "").split())
        if word:
            pieces.append(f"*{escape(word)}*")
        pieces.append(escape(rest.replace(MARK_STOP, "")))
    return fit(" ".join("".join(pieces).split()), limit)
