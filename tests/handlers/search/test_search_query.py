"""What people type after `/debrief search`, `ask` and `forget`, read without Slack."""

from __future__ import annotations

from datetime import date

import pytest

from bot.errors import UserFacingError
from handlers.search.query import parse_meeting_ref, parse_question, parse_search


def test_filters_are_taken_out_of_the_words() -> None:
    request = parse_search(
        "launch budget from:@ada FROM:<@U0GRACE|grace> in:#eng after:2026-11-01 before:2026-12-01"
    )
    assert request.words == "launch budget"
    assert request.names == ("ada",)
    assert request.user_ids == ("U0GRACE",)
    assert request.channel_name == "eng" and request.channel_id is None
    assert request.after == date(2026, 11, 2), "after: a day excludes that day"
    assert request.before == date(2026, 12, 1)
    assert parse_search("x in:<#C0ENG|eng>").channel_id == "C0ENG"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "from:@ada", "ship after:", "ship after:soon", "ship in:eng", "ship from:!!"],
)
def test_unreadable_searches_get_the_usage_line(text: str) -> None:
    with pytest.raises(UserFacingError, match="Usage: `/debrief search"):
        parse_search(text)


def test_a_question_needs_words() -> None:
    assert parse_question("  when   do we ship? ") == "when do we ship?"
    with pytest.raises(UserFacingError, match="Usage: `/debrief ask"):
        parse_question("?!")


def test_forget_takes_an_id_or_a_digest_link() -> None:
    assert parse_meeting_ref("42").id == 42
    assert parse_meeting_ref("#7").id == 7
    ref = parse_meeting_ref("<https://acme.slack.com/archives/C0MEETINGS/p1700000000000100>")
    assert (ref.channel_id, ref.ts) == ("C0MEETINGS", "1700000000.000100")
    for bad in ("", "soon", "https://evil.example/x", "99999999999999999999"):
        with pytest.raises(UserFacingError, match="Usage: `/debrief forget"):
            parse_meeting_ref(bad)
