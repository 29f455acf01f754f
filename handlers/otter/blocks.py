"""Block Kit for the Otter commands (the digest itself is ``handlers.digest``'s)."""

from __future__ import annotations

from typing import Any

from bot.blockkit import slack_time
from handlers.digest.text import link
from providers.otter import Conversation

Block = dict[str, Any]

ACTION_POST_DIGEST = "otter.post_digest"
RECENT_BLOCK_PREFIX = "otter.recent."


def build_recent_blocks(conversations: list[Conversation], *, everyone: bool) -> list[Block]:
    """The caller's recent conversations, each with a "Post digest here" button.

    Args:
        conversations: at most ten, most recent first.
        everyone: the caller's email is unknown, so these are all the account can see.
    """
    # Without the caller's email the list is the shared account's, not the caller's own.
    whose = "Recent Otter.ai conversations" if everyone else "Your recent Otter.ai conversations"
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{whose}*" if conversations else "_No Otter.ai conversations yet._",
            },
        }
    ]
    for index, conversation in enumerate(conversations, 1):
        heading = f"*{link(conversation.url, conversation.display_title, label_limit=200)}*"
        facts = []
        if conversation.created_at is not None:
            facts.append(slack_time(conversation.created_at))
        facts.append("ready" if conversation.ready else "⏳ Otter.ai is still processing it")
        blocks.append(
            {
                "type": "section",
                "block_id": f"{RECENT_BLOCK_PREFIX}{index}",
                "text": {"type": "mrkdwn", "text": heading + "\n" + " · ".join(facts)},
                "accessory": {
                    "type": "button",
                    "action_id": ACTION_POST_DIGEST,
                    "text": {"type": "plain_text", "text": "Post digest here"},
                    "value": conversation.id,
                },
            }
        )
    if everyone:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Slack did not tell me your email address, so these are all "
                        "the conversations Debrief's Otter.ai account can see, not only yours.",
                    }
                ],
            }
        )
    return blocks
