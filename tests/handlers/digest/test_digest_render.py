"""The renderer: layout from recorded Otter payloads, and splitting at Slack's limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.meetings import ActionItem, Insight, Links, Meeting, OutlineSection, Person, Utterance
from handlers.digest.limits import HEADER_TEXT, MESSAGE_BLOCKS, MESSAGE_CHARS, SECTION_TEXT
from handlers.digest.pack import heading, pack
from handlers.digest.render import (
    CHUNK,
    EXCERPT_CHARS,
    ITEM_BLOCK_PREFIX,
    ITEMS_IN_PARENT,
    ITEMS_PER_MESSAGE,
    render_digest,
    transcript_is_cut,
)
from handlers.digest.text import CONTINUED, join_names
from handlers.otter.mapping import to_meeting
from tests.handlers.digest.support import (
    chars,
    huge_meeting,
    otter_conversation,
    otter_webhook,
    problems,
    text_of,
)


def meeting(**fields: object) -> Meeting:
    values: dict[str, object] = {"provider": "otter", "meeting_id": "m1", "title": "Sync"}
    values.update(fields)
    return Meeting.model_validate(values)


def item_ids(blocks: list[dict[str, object]]) -> list[str]:
    return [
        str(b["block_id"])
        for b in blocks
        if str(b.get("block_id", "")).startswith(ITEM_BLOCK_PREFIX)
    ]


@pytest.mark.parametrize(
    "source",
    ["conversation_all", "conversation_action_items"],
    ids=["shape-B-outlines", "shape-A-outline"],
)
def test_both_recorded_shapes_render_a_complete_valid_digest(source: str) -> None:
    digest = render_digest(to_meeting(otter_conversation(source)))
    for part in [digest.parent, *digest.thread]:
        assert problems(part) == []
    parent = text_of(digest.parent.blocks)
    assert digest.parent.blocks[0]["type"] == "header"
    assert "https://otter.ai/u/conversation_id" in parent
    assert "Jane Doe" in parent  # the host
    thread = "\n".join(text_of(p.blocks) for p in digest.thread)
    assert "Outline" in thread and "Insights" in thread and "Transcript" in thread


def test_shape_b_parent_shows_summary_items_and_who() -> None:
    digest = render_digest(to_meeting(otter_conversation("conversation_all")))
    parent = text_of(digest.parent.blocks)
    assert "Customer Discovery Call – ACME Corp" in parent
    assert "align on an evaluation timeline" in parent
    assert "Send follow-up email with pricing summary" in parent
    assert "_Alex Taylor_" in parent
    assert item_ids(digest.parent.blocks) == ["digest.item.1", "digest.item.2"]
    fields = next(b for b in digest.parent.blocks if "fields" in b)["fields"]
    names = [f["text"].split("\n")[0] for f in fields]
    assert names == ["*When*", "*Length*", "*Host*", "*Participants*"]
    assert "<!date^" in fields[0]["text"] and "2025" in fields[0]["text"]
    thread = "\n".join(text_of(p.blocks) for p in digest.thread)
    assert "Pricing and Rollout Options" in thread
    assert "flat-rate option if it simplifies" in thread  # insight text, flat list shape


def test_shape_a_flattens_nested_insights_and_strikes_done_items() -> None:
    digest = render_digest(to_meeting(otter_webhook("webhook_nested_relationships").data))
    parent = text_of(digest.parent.blocks)
    assert "✅ ~Follow up with the sales team~" in parent
    thread = "\n".join(text_of(p.blocks) for p in digest.thread)
    assert "• Launch next week\n• Prepare for marketing" in thread  # list of lists, flattened
    assert "*Project risks*" in thread  # `outline`, not `outlines`


def test_every_item_is_its_own_section_with_a_stable_block_id() -> None:
    items = [ActionItem(text=f"Task {n}", assignee_name="Ada") for n in range(1, 4)]
    digest = render_digest(meeting(action_items=items))
    sections = [b for b in digest.parent.blocks if b.get("block_id", "").startswith("digest.item")]
    assert [b["block_id"] for b in sections] == ["digest.item.1", "digest.item.2", "digest.item.3"]
    assert all(b["type"] == "section" and "accessory" not in b for b in sections)
    assert sections[0]["text"]["text"] == "◻️ Task 1 — _Ada_"


def test_the_huge_meeting_fits_slack_and_loses_nothing() -> None:
    big = huge_meeting()
    assert len(big.action_items) == 120 and len(big.outline) == 40
    assert len(big.transcript_text()) > 200_000
    digest = render_digest(big)
    parts = [digest.parent, *digest.thread]
    for part in parts:
        assert problems(part) == [], part.text
        assert len(part.blocks) <= MESSAGE_BLOCKS
    for part in digest.thread:
        assert chars(part) <= MESSAGE_CHARS
    # Every action item exactly once, in order, and never more than a message can hold twice.
    ids = [i for part in parts for i in item_ids(part.blocks)]
    assert ids == [f"digest.item.{n}" for n in range(1, 121)]
    assert len(item_ids(digest.parent.blocks)) == ITEMS_IN_PARENT
    assert all(len(item_ids(p.blocks)) <= ITEMS_PER_MESSAGE for p in digest.thread)
    whole = "\n".join(text_of(p.blocks) for p in parts)
    for section in big.outline:
        assert section.title in whole
    for point in big.outline[-1].points:
        assert point in whole
    # The transcript is an excerpt, marked as one, not 200 KB of thread.
    assert "The full transcript is" in whole
    assert sum(chars(p) for p in parts) < 150_000


def test_a_long_summary_continues_in_the_thread_with_markers() -> None:
    sentences = [f"Sentence number {n} says something useful." for n in range(600)]
    summary = " ".join(sentences)
    digest = render_digest(meeting(summary=summary))
    parent = text_of(digest.parent.blocks)
    assert "continues in the thread" in parent
    thread = "\n".join(text_of(p.blocks) for p in digest.thread)
    assert "Summary* " + CONTINUED in thread
    chunks = [
        b["text"]["text"].removeprefix("*📄 Summary*\n")
        for part in [digest.parent, *digest.thread]
        for b in part.blocks
        if b["type"] == "section"
        and (b["text"]["text"].startswith("*📄 Summary*\n") or b["text"]["text"][0] != "*")
    ]
    assert all(c.endswith(CONTINUED) for c in chunks[:-1])
    rebuilt = " ".join(c.removesuffix(CONTINUED) for c in chunks)
    assert " ".join(rebuilt.split()) == summary, "nothing of the summary is lost"
    for part in [digest.parent, *digest.thread]:
        assert problems(part) == []


@pytest.mark.parametrize("extra", [0, 1])
def test_a_section_splits_exactly_past_its_limit(extra: int) -> None:
    words = ("word " * 1000)[: CHUNK + extra - 1] + "z"
    assert len(words) == CHUNK + extra
    summary_sections = [
        b
        for b in render_digest(meeting(summary=words)).parent.blocks
        if b.get("text", {}).get("text", "").startswith(("*📄 Summary*", "word"))
    ]
    assert len(summary_sections) == 1 + extra
    assert all(len(b["text"]["text"]) <= SECTION_TEXT for b in summary_sections)


def test_a_word_longer_than_a_section_is_the_only_thing_cut() -> None:
    digest = render_digest(meeting(summary="x" * 7000))
    for part in [digest.parent, *digest.thread]:
        assert problems(part) == []


def test_the_header_is_cut_at_a_word_within_150() -> None:
    title = " ".join(["Quarterly"] * 40)
    header = render_digest(meeting(title=title)).parent.blocks[0]["text"]["text"]
    assert len(header) <= HEADER_TEXT and header.endswith("…")


def test_many_participants_fit_their_field() -> None:
    people = [Person(name=f"Person number {n}", email=f"p{n}@example.com") for n in range(400)]
    digest = render_digest(meeting(participants=people))
    assert problems(digest.parent) == []
    field = next(b for b in digest.parent.blocks if "fields" in b)["fields"][-1]["text"]
    assert re.search(r"and \d+ more$", field)


def test_markup_in_provider_text_is_escaped() -> None:
    digest = render_digest(meeting(summary="Use <!channel> & <http://x|y>"))
    assert "Use &lt;!channel&gt; &amp; &lt;http://x|y&gt;" in text_of(digest.parent.blocks)


def test_empty_meetings_say_so() -> None:
    digest = render_digest(meeting())
    text = text_of(digest.parent.blocks)
    assert "gave no summary" in text and "None this time" in text
    assert digest.thread == []
    assert "in the thread" not in text


def test_the_transcript_excerpt_is_bounded_and_whole_lines() -> None:
    lines = [Utterance(speaker="Ada", text=f"line {n}", start_seconds=n) for n in range(2000)]
    digest = render_digest(
        meeting(transcript=lines, links=Links(provider_page="https://otter.ai/u/m1"))
    )
    (excerpt,) = [
        b for p in digest.thread for b in p.blocks if b.get("text", {}).get("text", "")[:3] == "```"
    ]
    shown = excerpt["text"]["text"].strip("`")
    assert len(shown) <= EXCERPT_CHARS
    assert shown.endswith(tuple(f"line {n}" for n in range(2000)))
    assert "The full transcript is in <https://otter.ai/u/m1|" in text_of(digest.thread[-1].blocks)


def spoken(*turns: tuple[str, str, float]) -> list[Utterance]:
    """Utterances of (speaker, words, seconds spoken), one after the other."""
    start, said = 0.0, []
    for speaker, text, seconds in turns:
        said.append(
            Utterance(speaker=speaker, text=text, start_seconds=start, duration_seconds=seconds)
        )
        start += seconds
    return said


def transcribed(**fields: object) -> Meeting:
    """A meeting a notetaker transcribed, as Attendee's are (render with ``summarises=False``)."""
    talk = spoken(("Ada Lovelace", "Let's ship on Friday.", 3), ("Grace Hopper", "Agreed.", 1))
    return meeting(provider="attendee", transcript=talk, **fields)


def test_a_notetakers_meeting_leads_with_talk_time_and_its_transcript() -> None:
    digest = render_digest(transcribed(), summarises=False)
    assert digest.thread == [], "short: one message"
    parent = text_of(digest.parent.blocks)
    assert "*🗣 Talk time*" in parent and "*💬 Transcript*" in parent
    assert "████████ *Ada Lovelace* 75% (3 s)" in parent
    assert "██ *Grace Hopper* 25% (1 s)" in parent
    assert "Ada Lovelace: Let's ship on Friday." in parent
    # Nothing claimed about a summary or action items the provider never looks for.
    assert "gave no summary" not in parent and "Action items" not in parent
    assert problems(digest.parent) == []


def test_an_empty_notetakers_meeting_says_nobody_spoke() -> None:
    digest = render_digest(meeting(provider="attendee"), summarises=False)
    parent = text_of(digest.parent.blocks)
    assert "*🗣 Talk time*\n_Nobody spoke, as far as the transcript knows._" in parent
    assert "Transcript" not in parent and "gave no summary" not in parent
    assert digest.thread == []


def test_a_summarising_provider_keeps_talk_time_in_the_thread() -> None:
    for m in (transcribed(), transcribed(summary="We agreed to ship.")):
        digest = render_digest(m)
        assert "Talk time" not in text_of(digest.parent.blocks)
        (reply,) = digest.thread
        headings = [b["text"]["text"] for b in reply.blocks if b["text"]["text"][0] == "*"]
        assert headings == ["*🗣 Talk time*", "*💬 Transcript*"]
    noted = text_of(render_digest(transcribed()).parent.blocks)
    assert "Attendee gave no summary" in noted and "None this time" in noted
    summarised = render_digest(transcribed(summary="We agreed."), summarises=False)
    assert len(summarised.thread) == 1, "a summary, when there is one, still leads"


def test_talk_time_names_the_ten_most_talkative_and_sums_up_the_rest() -> None:
    talk = spoken(*[(f"Speaker {n:02d}", "Words.", 100 - n) for n in range(30)])
    digest = render_digest(meeting(transcript=talk), summarises=False)
    texts = [b["text"]["text"] for b in digest.parent.blocks if "text" in b]
    (talk_time,) = [t for t in texts if "*Speaker 00*" in t]
    lines = talk_time.splitlines()
    assert [line.split("*")[1] for line in lines[:10]] == [f"Speaker {n:02d}" for n in range(10)]
    assert lines[10].startswith("_…and 20 more_ ") and len(lines) == 11


def test_talk_time_is_left_out_when_nobody_was_timed() -> None:
    untimed = [Utterance(speaker="Ada", text="Hello."), Utterance(speaker="Grace", text="Hi.")]
    digest = render_digest(meeting(transcript=untimed), summarises=False)
    parent = text_of(digest.parent.blocks)
    assert "Talk time" not in parent and "Ada: Hello." in parent


def test_the_callers_actions_come_before_the_footer() -> None:
    button = {
        "type": "button",
        "action_id": "attendee.recording",
        "text": {"type": "plain_text", "text": "🎬 Recording"},
        "value": "req-1",
    }
    blocks = render_digest(transcribed(), actions=[button], summarises=False).parent.blocks
    assert blocks[-2] == {"type": "actions", "elements": [button]}
    assert blocks[-1]["type"] == "context" and "via Attendee" in text_of([blocks[-1]])
    assert not any(b["type"] == "actions" for b in render_digest(transcribed()).parent.blocks)
    with pytest.raises(ValueError, match="actions block holds 25"):
        render_digest(transcribed(), actions=[button] * 26)


@pytest.mark.parametrize("attached", [False, True])
def test_a_cut_transcript_says_where_the_rest_is(attached: bool) -> None:
    long = spoken(*[("Ada", f"Point number {n} about the engine.", 2) for n in range(200)])
    m = meeting(provider="attendee", transcript=long)
    assert transcript_is_cut(m) and not transcript_is_cut(transcribed())
    digest = render_digest(m, transcript_attached=attached, summarises=False)
    parent = text_of(digest.parent.blocks)
    assert "_Excerpt: the first " in parent
    assert ("The full transcript is attached in this thread." in parent) == attached
    assert "The full transcript is." not in parent, "no sentence left unfinished without a link"
    assert problems(digest.parent) == []


def test_rendering_is_deterministic() -> None:
    big = huge_meeting(action_items=30, outline_sections=5, transcript_bytes=5000)
    assert render_digest(big) == render_digest(big)


def test_plain_string_insights_are_accepted() -> None:
    m = meeting(insights=["Ship on Friday"])
    assert m.insights == [Insight(points=["Ship on Friday"])]


def test_length_and_date_fields() -> None:
    start = datetime(2025, 10, 6, 9, 0, tzinfo=UTC)
    digest = render_digest(meeting(started_at=start, duration=timedelta(minutes=95)))
    fields = next(b for b in digest.parent.blocks if "fields" in b)["fields"]
    assert f"<!date^{int(start.timestamp())}^" in fields[0]["text"]
    assert "Mon 6 Oct 2025, 09:00 UTC" in fields[0]["text"]
    assert fields[1]["text"] == "*Length*\n1 h 35 min"


def test_outline_timestamps_and_untitled_sections() -> None:
    m = meeting(outline=[OutlineSection(title=" ", points=["a"], start_seconds=75)])
    thread = text_of(render_digest(m).thread[0].blocks)
    assert "*Untitled section* `01:15`" in thread


# ---- pack() at its limits ---------------------------------------------------------------------


def blocks(count: int, size: int = 10) -> list[tuple[str, dict[str, object]]]:
    return [
        ("Outline", {"type": "section", "text": {"type": "mrkdwn", "text": "x" * size}})
        for _ in range(count)
    ]


def test_pack_fills_exactly_fifty_blocks() -> None:
    (only,) = pack(blocks(MESSAGE_BLOCKS - 1))
    assert len(only) == MESSAGE_BLOCKS and only[0] == heading("Outline")


def test_pack_continues_with_a_marked_heading() -> None:
    first, second = pack(blocks(MESSAGE_BLOCKS))
    assert len(first) == MESSAGE_BLOCKS
    assert second == [heading("Outline", continued=True), blocks(1)[0][1]]


def test_pack_respects_the_character_budget() -> None:
    messages = pack(blocks(10, size=2900), max_chars=6000)
    assert [len(m) for m in messages] == [3, 3, 3, 3, 3]  # heading + 2 blocks each


def test_pack_never_leaves_a_heading_alone() -> None:
    insight = {"type": "section", "text": {"type": "mrkdwn", "text": "i"}}
    stream = [*blocks(MESSAGE_BLOCKS - 2), ("Insights", insight)]
    first, second = pack(stream)
    assert first[-1]["text"]["text"] == "x" * 10
    assert second[0] == heading("Insights")


def test_join_names_stays_within_its_limit() -> None:
    names = [f"Name{n}" for n in range(100)]
    text = join_names(names, 60)
    assert len(text) <= 60 and text.endswith("more")
    assert join_names(["Ada", "Grace"], 60) == "Ada, Grace"


def test_an_endless_escaped_word_is_split_between_entities() -> None:
    from handlers.digest.text import escape, split_text

    chunks = split_text(escape("&" * 2000), 1000)
    assert len(chunks) > 1
    for chunk in chunks:
        body = chunk.removesuffix("\n" + CONTINUED)
        assert body.replace("&amp;", "") == "", body[-10:]


@pytest.mark.parametrize(
    ("extra", "words"), [(1, "1 more action item "), (2, "2 more action items")]
)
def test_the_items_left_for_the_thread_are_counted_in_english(extra: int, words: str) -> None:
    items = [ActionItem(text=f"Task {n}") for n in range(10 + extra)]
    digest = render_digest(meeting(action_items=items))
    assert f"…and {words}" in text_of(digest.parent.blocks)
