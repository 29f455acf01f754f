"""The review message (its owner's DM, or the operators' notice) and the *Edit summary* modal:
pure builders from a review's values."""

from __future__ import annotations

from collections.abc import Sequence

from bot.blockkit import channel_mention, fit, mrkdwn, user_mention
from bot.slack import Block
from handlers.digest.render import Part

ACTION_SHARE = "review.share"
ACTION_EDIT = "review.edit"
ACTION_PRIVATE = "review.keep_private"
ACTIONS = (ACTION_SHARE, ACTION_EDIT, ACTION_PRIVATE)
#: The modal's callback id, and its input's block and action ids.
VIEW_EDIT = "review.edit_summary"
SUMMARY_BLOCK = "review.summary"
SUMMARY_INPUT = "review.summary_text"
#: Slack's limit for a plain-text input.
SUMMARY_LIMIT = 3000
#: Blocks of the preview shown in the review message (Slack's limit is 50 per message).
PREVIEW_BLOCKS = 44


def build_review_blocks(
    review_id: int,
    preview: Part,
    *,
    channel: str,
    owner: str | None,
    external: Sequence[str],
    state: str,
    decided_by: str | None = None,
    withheld: bool = False,
) -> tuple[str, list[Block]]:
    """The review message: why it waits, the digest as it would be posted, and the buttons
    while it is undecided (``state`` ``pending``); once decided, what was decided and by whom.
    """
    where = channel_mention(channel)
    outside = ", ".join(mrkdwn(email, 80) for email in external[:5])
    if len(external) > 5:
        outside += f" and {len(external) - 5} more"
    if state == "shared":
        head = f":white_check_mark: Shared in {where} by {user_mention(decided_by or '')}."
    elif state == "private":
        head = (
            f":lock: Kept private by {user_mention(decided_by or '')}: it was not posted in "
            f"{where}. It stays {'yours' if owner else 'unposted'}"
            + (": `/debrief search` and `/debrief ask` still find it for you." if owner else ".")
        )
    elif owner:
        head = (
            f":eyes: {user_mention(owner)}, this meeting had people from outside the workspace "
            f"({outside}), so its digest waits for you before it goes to {where}. "
            "*Share* posts it there as shown; *Edit summary* first if it should say less."
        )
    else:
        head = (
            ":eyes: *An external meeting's digest is waiting*: it had people from outside the "
            f"workspace ({outside}) and I found no owner in Slack to ask, so it is not posted "
            f"in {where}. A route admin may *Share* it, edit its summary or keep it private."
        )
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": fit(head, 3000)}}]
    blocks.append({"type": "divider"})
    if withheld:
        # Asked in the operators' channel about a private channel's digest: its members alone
        # may read it, so neither the digest nor its summary editor is shown here.
        note = (
            f":lock: The digest is not shown here: it was going to {where}, a private "
            "channel, whose members alone may read it."
        )
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    else:
        blocks += list(preview.blocks)[:PREVIEW_BLOCKS]
    if state == "pending":
        value = str(review_id)
        buttons = [_button(ACTION_SHARE, "Share", value, style="primary")]
        if not withheld:
            buttons.append(_button(ACTION_EDIT, "Edit summary", value))
        buttons.append(_button(ACTION_PRIVATE, "Keep private", value, style="danger"))
        blocks.append({"type": "actions", "block_id": "review.decide", "elements": buttons})
    return fit(head, 300), blocks


def _button(action_id: str, text: str, value: str, *, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def build_edit_modal(review_id: int, title: str, summary: str) -> Block:
    """The *Edit summary* modal: the summary in a multiline input, the review in its metadata."""
    return {
        "type": "modal",
        "callback_id": VIEW_EDIT,
        "private_metadata": str(review_id),
        "title": {"type": "plain_text", "text": "Edit summary"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"*{mrkdwn(title, 200)}*"}],
            },
            {
                "type": "input",
                "block_id": SUMMARY_BLOCK,
                "label": {"type": "plain_text", "text": "Summary"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": SUMMARY_INPUT,
                    "multiline": True,
                    "max_length": SUMMARY_LIMIT,
                    **({"initial_value": summary[:SUMMARY_LIMIT]} if summary else {}),
                },
            },
        ],
    }
