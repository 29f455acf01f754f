"""Block Kit for meeting digests (pure functions of a ``Meeting``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.meetings import Meeting
from handlers.digest.text import escape, split_text, truncate

Block = dict[str, Any]

#: Inline a transcript up to this length; beyond it, attach it as a file.
INLINE_TRANSCRIPT = 2800


def format_duration(length: timedelta | None) -> str:
    if length is None:
        return "unknown length"
    minutes = round(length.total_seconds() / 60)
    if minutes < 1:
        return f"{int(length.total_seconds())} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def build_talk_time_text(meeting: Meeting) -> str:
    """One line per speaker with a bar of their share of the talking."""
    lines = []
    for name, seconds, share in meeting.talk_time():
        bar = "█" * max(1, round(share * 10)) if share else ""
        lines.append(
            f"{bar} *{escape(name)}* {share:.0%} ({format_duration(timedelta(seconds=seconds))})"
        )
    return "\n".join(lines) or "_Nobody spoke, as far as the transcript knows._"


def build_transcript_blocks(
    meeting: Meeting,
    *,
    recording_action: tuple[str, str] | None = None,
    attached: bool = False,
) -> list[Block]:
    """The transcript digest for a meeting's thread.

    Args:
        meeting: the meeting, with its transcript.
        recording_action: ``(action_id, value)`` of a "Recording" button, if one is offered.
        attached: the full transcript is shared as a file; show an excerpt only.
    """
    speakers = meeting.talk_time()
    utterances = len(meeting.transcript)
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(f"📝 {meeting.title}", 150)},
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{format_duration(meeting.length)} · {len(speakers)} "
                    f"speaker{'s' if len(speakers) != 1 else ''} · "
                    f"{utterances} utterance{'s' if utterances != 1 else ''}",
                }
            ],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Talk time*\n" + build_talk_time_text(meeting)},
        },
    ]
    transcript = meeting.transcript_text()
    if not transcript:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "_The transcript is empty._"}}
        )
    elif attached or len(transcript) > INLINE_TRANSCRIPT:
        excerpt = truncate(transcript, 1200)
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Transcript* (excerpt, the whole of it is attached below)\n"
                    f"```{escape(excerpt)}```",
                },
            }
        )
    else:
        for chunk in split_text(transcript, INLINE_TRANSCRIPT):
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": f"```{escape(chunk)}```"}}
            )
    if recording_action is not None:
        action_id, value = recording_action
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "text": {"type": "plain_text", "text": "🎬 Recording"},
                        "value": value,
                    }
                ],
            }
        )
    return blocks
