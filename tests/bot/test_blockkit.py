"""Slack's text rules: escaping, links, cutting to a limit; and the Slack client using them where
it writes text of its own (the plain-text fallback of refused blocks, a file's title)."""

from __future__ import annotations

import pytest

from bot.blockkit import (
    ELLIPSIS,
    FILE_TITLE,
    LINK_URL,
    button_url,
    channel_mention,
    escape,
    file_title,
    fit,
    link,
    mrkdwn,
    plain,
    safe_url,
    user_mention,
)
from bot.slack import SlackMessenger, blocks_to_text
from sandbox.slack import SlackStandIn

HOSTILE = "<!channel> <@U0EVIL> <#C0EVIL> <https://evil.example|x> a & b"


def test_escape_turns_every_mention_and_link_into_text() -> None:
    shown = escape(HOSTILE)
    assert "<" not in shown and ">" not in shown
    assert shown == (
        "&lt;!channel&gt; &lt;@U0EVIL&gt; &lt;#C0EVIL&gt; &lt;https://evil.example|x&gt; a &amp; b"
    )


@pytest.mark.parametrize("text", ["&" * 5000, "<>" * 3000, "word & <word> " * 500, "x" * 4000])
@pytest.mark.parametrize("limit", [1, 2, 10, 150, 3000])
def test_mrkdwn_fits_the_limit_once_escaped_and_never_cuts_an_entity(text: str, limit: int) -> None:
    shown = mrkdwn(text, limit)
    assert len(shown) <= limit
    assert shown.endswith(ELLIPSIS)
    body = shown.removesuffix(ELLIPSIS)
    # What is left is whole entities: unescaping and escaping again gives it back.
    unescaped = body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert escape(unescaped) == body


def test_mrkdwn_leaves_short_text_whole() -> None:
    assert mrkdwn("a <b>", 100) == "a &lt;b&gt;"


def test_fit_never_cuts_inside_a_link_or_an_entity() -> None:
    markup = "see " + link("https://example.com/" + "a" * 100, "the page") + " and more"
    cut = fit(markup, 60)
    assert cut == "see" + ELLIPSIS
    assert fit("tom &amp; jerry", 8) == "tom" + ELLIPSIS
    assert fit("short", 10) == "short"


def test_link_escapes_its_label_and_encodes_what_would_end_the_url() -> None:
    made = link("https://zoom.us/j/1?x=a|b>c<d e", "<!here> | me")
    assert made == "<https://zoom.us/j/1?x=a%7Cb%3Ec%3Cd%20e|&lt;!here&gt; ¦ me>"


def test_a_url_too_long_for_a_link_leaves_the_label_alone() -> None:
    assert link("https://zoom.us/j/" + "1" * LINK_URL, "meeting link") == "meeting link"
    assert link(None, "<label>") == "&lt;label&gt;"
    assert button_url("https://x.example/" + "a" * 3000) is None
    assert button_url("https://x.example/a b") == "https://x.example/a%20b"


def test_safe_url_keeps_an_ordinary_url_as_it_is() -> None:
    url = "https://zoom.us/j/123?pwd=abc&x=%20"
    assert safe_url(url) == url


def test_mentions_only_for_slack_ids() -> None:
    assert user_mention("U0ADA") == "<@U0ADA>"
    assert user_mention("U0ADA> <!channel") == "U0ADA&gt; &lt;!channel"
    assert channel_mention("C0GENERAL") == "<#C0GENERAL>"
    assert channel_mention("<!here>") == "&lt;!here&gt;"


def test_plain_text_is_cut_not_escaped_and_never_empty() -> None:
    assert plain("<b> & c", 75) == "<b> & c"
    assert len(plain("x " * 100, 75)) <= 75
    assert plain("", 10) == " "


def test_a_file_title_is_one_line_without_angle_brackets() -> None:
    title = file_title("Transcript: <!channel>\n<@U0EVIL> " + "word " * 200)
    assert "<" not in title and ">" not in title and "\n" not in title
    assert len(title) <= FILE_TITLE
    assert title.startswith("Transcript: ‹!channel› ‹@U0EVIL›")


def test_the_plain_text_fallback_escapes_a_plain_text_header() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "📝 <!channel> & co"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*kept* &lt;as is&gt;"}},
        {"type": "context", "elements": [{"type": "plain_text", "text": "<@U0EVIL>"}]},
    ]
    text = blocks_to_text("Meeting digest: &lt;!channel&gt;", blocks)
    assert "<!channel>" not in text and "<@U0EVIL>" not in text
    assert "📝 &lt;!channel&gt; &amp; co" in text
    assert "*kept* &lt;as is&gt;" in text


async def test_refused_blocks_fall_back_to_text_that_pings_nobody(
    slack: SlackStandIn, messenger: SlackMessenger
) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "<!channel> standup"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},  # Slack refuses
    ]
    await messenger.post("C0GENERAL", "Meeting digest", blocks)
    [message] = slack.messages("C0GENERAL")
    assert not message.blocks
    assert "<!channel>" not in message.text
    assert "&lt;!channel&gt; standup" in message.text


async def test_an_uploaded_file_gets_a_title_slack_can_show(
    slack: SlackStandIn, messenger: SlackMessenger
) -> None:
    await messenger.upload_text(
        "C0GENERAL", None, "transcript.txt", "hello", "Transcript: <!channel> " + "long " * 500
    )
    [call] = slack.calls_of("files.completeUploadExternal")
    [shared] = call["files"]
    assert "<" not in shared["title"] and len(shared["title"]) <= FILE_TITLE
