"""Formatting a meeting's length and talk time, for the digest and the providers' own messages."""

from __future__ import annotations

from datetime import timedelta

from bot.meetings import Meeting
from handlers.digest.text import mrkdwn

#: Speakers named under talk time, most talkative first; the quieter rest share one line, so
#: that a large meeting's talk time stays one short section.
TALK_TIME_SPEAKERS = 10
#: A speaker's name is cut beyond this many characters.
SPEAKER_NAME = 100


def format_duration(length: timedelta | None) -> str:
    if length is None:
        return "unknown length"
    minutes = round(length.total_seconds() / 60)
    if minutes < 1:
        return f"{int(length.total_seconds())} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def talk_time_text(meeting: Meeting) -> str:
    """One line per speaker with a bar of their share of the talking; empty when the
    transcript times nobody's speech (then there is nothing to compare).
    """
    speakers = meeting.talk_time()
    if not any(seconds > 0 for _, seconds, _ in speakers):
        return ""
    lines = [
        f"{share_bar(share)} *{mrkdwn(name, SPEAKER_NAME)}* {share_and_time(share, s)}"
        for name, s, share in speakers[:TALK_TIME_SPEAKERS]
    ]
    rest = speakers[TALK_TIME_SPEAKERS:]
    if rest:
        seconds = sum(s for _, s, _ in rest)
        share = sum(part for _, _, part in rest)
        lines.append(f"_…and {len(rest)} more_ {share_and_time(share, seconds)}")
    return "\n".join(lines)


def share_bar(share: float) -> str:
    """A bar of up to ten blocks; anyone who spoke at all gets one."""
    return "█" * max(1, round(share * 10)) if share else "▏"


def share_and_time(share: float, seconds: float) -> str:
    return f"{share:.0%} ({format_duration(timedelta(seconds=seconds))})"
