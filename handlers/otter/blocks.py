"""Block Kit for the Otter commands (the digest itself is ``handlers.digest``'s)."""

from __future__ import annotations

from typing import Any

from handlers.digest.render import slack_date
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
    whose = "this Debrief's Otter account can see" if everyone else "of yours"
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Recent Otter conversations {whose}*"
                if conversations
                else f"_No Otter conversations {whose} yet._",
            },
        }
    ]
    for index, conversation in enumerate(conversations, 1):
        heading = f"*{link(conversation.url, conversation.display_title, label_limit=200)}*"
        facts = []
        if conversation.created_at is not None:
            facts.append(slack_date(conversation.created_at))
        facts.append("ready" if conversation.ready else "⏳ Otter is still processing it")
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
                        "text": "Slack did not tell me your email address, so I could not pick "
                        "out your own conversations.",
                    }
                ],
            }
        )
    return blocks
