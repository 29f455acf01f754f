"""Claritalk models: the seed's payload, tolerant elements, the PDF report and tokens."""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.claritalk import (
    ClaritalkEvent,
    ClaritalkUser,
    MeetingProcessed,
    MeetingStatusChanged,
    Person,
    ReportFile,
    Todo,
    Token,
    decode_pdf,
)


def check_pdf_structure(pdf: bytes) -> None:
    """Every xref entry points at its object: what a viewer needs to open the file."""
    assert pdf.startswith(b"%PDF-1.")
    startxref = int(re.findall(rb"startxref\s+(\d+)\s+%%EOF", pdf)[-1])
    assert pdf[startxref:].startswith(b"xref")
    entries = re.findall(rb"(\d{10}) (\d{5}) n ", pdf[startxref:])
    assert entries
    for number, (offset, _) in enumerate(entries, start=1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj" % number)
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))  # type: ignore[union-attr]
    stream = pdf.index(b"stream\n") + len(b"stream\n")
    assert pdf[stream + length :].startswith(b"\nendstream")


def processed(payload: dict[str, Any]) -> MeetingProcessed:
    event = ClaritalkEvent.model_validate(payload)
    assert isinstance(event.data, MeetingProcessed)
    return event.data


def test_the_seed_payload_parses_into_typed_fields(payload: Any) -> None:
    event = ClaritalkEvent.model_validate(payload("meeting_processed"))

    assert event.event == "meeting.processed"
    assert event.timestamp == datetime(2025, 1, 15, 11, tzinfo=UTC)
    assert (event.meta.source, event.meta.version) == ("claritalk", "1.0")
    meeting = event.data
    assert isinstance(meeting, MeetingProcessed)
    assert meeting.meeting_id == "660e8400-e29b-41d4-a716-446655440000"
    assert meeting.user_id == "550e8400-e29b-41d4-a716-446655440000"
    assert meeting.status == "Meeting processed"
    assert meeting.summary_quality_flag is False
    # Zone-less Laravel timestamps are read as UTC.
    assert meeting.created_at == datetime(2025, 1, 15, 10, tzinfo=UTC)
    assert meeting.general_summary is not None
    assert meeting.general_summary.startswith("The team reviewed the Q3 budget")
    assert [t.title for t in meeting.themes] == ["Budget", "Onboarding"]
    assert [q.text for q in meeting.themes[0].questions] == [
        "Can travel move from Q4 to Q3?",
        "Who signs off on the revised budget?",
    ]
    assert meeting.themes[0].questions[1].answer == "Ada."
    ada, grace, nobody = meeting.todos
    assert ada.text == "Send the revised Q3 budget to finance"
    assert ada.description == "Include the travel line moved from Q4."
    assert ada.assignee == Person(name="Ada Lovelace", email="ada@example.com")
    assert ada.due_date == date(2025, 1, 22)
    assert grace.assignee is not None and grace.assignee.email == "grace@example.com"
    assert nobody.assignee is None and nobody.done is False
    assert meeting.discussion_topics[0].points == [
        "Travel line moves to Q3",
        "Finance to confirm by Friday",
    ]
    assert meeting.metadata.duration == 3000
    assert [p.email for p in meeting.metadata.participants] == [
        "ada@example.com",
        "grace@example.com",
    ]
    assert meeting.files[0].filename == "weekly-standup-summary-report.pdf"


def test_elements_sent_as_plain_strings_get_the_same_shape(payload: Any) -> None:
    meeting = processed(payload("meeting_processed_strings"))

    assert [(t.title, t.questions) for t in meeting.themes] == [("Budget", []), ("Onboarding", [])]
    assert [(t.text, t.assignee, t.due) for t in meeting.todos] == [
        ("Send the revised Q3 budget to finance", None, None),
        ("Book the October offsite venue", None, None),
    ]
    assert [(t.title, t.points) for t in meeting.discussion_topics] == [
        ("Q3 budget", []),
        ("Offsite", []),
    ]
    assert meeting.metadata.participants == []


def test_other_field_names_normalise_and_unknown_fields_are_kept(payload: Any) -> None:
    meeting = processed(payload("meeting_processed_extra_fields"))

    budget, onboarding = meeting.themes
    assert budget.title == "Budget" and onboarding.title == "Onboarding"
    assert [(q.text, q.answer) for q in budget.questions] == [
        ("Can travel move from Q4 to Q3?", None),
        ("Who signs off?", "Ada."),
    ]
    assert budget.model_extra == {"confidence": 0.92}
    assert budget.questions[1].model_extra == {"speaker": "Grace Hopper"}

    first, second, third = meeting.todos
    assert first.text == "Send the revised Q3 budget to finance"
    assert first.assignee == Person(name="Ada Lovelace", email="ada@example.com")
    assert first.due == "2025-01-22T17:00:00Z" and first.due_date == date(2025, 1, 22)
    assert first.done is False
    assert first.model_extra is not None and first.model_extra["priority"] == "high"
    assert second.assignee == Person(name="Grace Hopper", email="grace@example.com")
    assert second.done is True
    assert second.model_extra is not None and second.model_extra["sourceTimestampMs"] == 1834000
    assert third.text == "Share the onboarding checklist draft" and third.description is None
    assert third.assignee == Person(email="grace@example.com")

    (topic,) = meeting.discussion_topics
    assert topic.title == "Q3 budget"
    assert topic.summary == "Travel spending moves forward one quarter."
    assert topic.points == ["Travel line moves to Q3", "Finance to confirm by Friday"]
    assert topic.model_extra == {"startMs": 0, "endMs": 610000}
    assert meeting.model_extra is not None and meeting.model_extra["coaching"] == {"talkRatio": 0.4}
    sections = meeting.summary.sections()
    assert sections["short"].content == "Budget moved; offsite in October."
    assert sections["general"].content == "Budget and offsite."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ada Lovelace <ada@example.com>", Person(name="Ada Lovelace", email="ada@example.com")),
        ("grace@example.com", Person(email="grace@example.com")),
        ("Grace Hopper", Person(name="Grace Hopper")),
        ({"fullName": "Alan Turing", "mail": "alan@example.com"}, None),
    ],
)
def test_people_are_read_from_strings_and_objects(raw: Any, expected: Person | None) -> None:
    person = Person.model_validate(raw)
    if expected is None:
        assert (person.name, person.email) == ("Alan Turing", "alan@example.com")
    else:
        assert person == expected


def test_todo_state_and_dates_come_from_any_usual_field() -> None:
    assert Todo.model_validate({"title": "x", "status": "Completed"}).done is True
    assert Todo.model_validate({"title": "x", "status": "open"}).done is False
    assert Todo.model_validate({"title": "x", "due_date": "next Friday"}).due_date is None
    assert Todo.model_validate({"title": "x", "due": "next Friday"}).due == "next Friday"


def test_unreadable_values_are_dropped_without_refusing_the_meeting() -> None:
    meeting = MeetingProcessed.model_validate(
        {
            "meetingId": 42,
            "createdAt": "yesterday-ish",
            "themes": None,
            "todos": [None, ["nested"], {"title": "Real", "dueDate": {"odd": True}}, 7],
            "discussionTopics": "Budget",
            "metadata": [],
            "summary": "Just a string",
        }
    )
    assert meeting.meeting_id == "42"
    assert meeting.created_at is None
    assert meeting.themes == []
    assert [(t.text, t.due) for t in meeting.todos] == [("Real", None), ("7", None)]
    assert [t.title for t in meeting.discussion_topics] == ["Budget"]
    assert meeting.general_summary == "Just a string"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_element = st.one_of(
    _json,
    st.fixed_dictionaries(
        {},
        optional={
            key: _json
            for key in ("title", "name", "text", "assignee", "owner", "dueDate", "questions")
        },
    ),
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(_element, max_size=4), st.lists(_element, max_size=4), st.lists(_element, max_size=4)
)
def test_any_json_element_shape_is_tolerated(themes: Any, todos: Any, topics: Any) -> None:
    meeting = MeetingProcessed.model_validate(
        {"meetingId": "m", "themes": themes, "todos": todos, "discussionTopics": topics}
    )
    assert all(isinstance(t.title, str) for t in meeting.themes)
    assert all(isinstance(t.text, str) for t in meeting.todos)


def test_the_report_decodes_to_the_real_pdf(payload: Any, payload_bytes: Any) -> None:
    meeting = processed(payload("meeting_processed"))

    report = decode_pdf(meeting.files)

    assert report.ok and report.reason is None
    assert report.filename == "weekly-standup-summary-report.pdf"
    assert report.content == payload_bytes("weekly-standup-summary-report.pdf")
    assert report.content is not None
    check_pdf_structure(report.content)


def test_a_missing_report_is_reported_not_raised(payload: Any) -> None:
    report = decode_pdf(processed(payload("meeting_processed_no_files")).files)
    assert report.content is None and report.reason == "the meeting has no PDF report"


def test_a_truncated_report_is_reported_not_raised(payload: Any) -> None:
    report = decode_pdf(processed(payload("meeting_processed_truncated_pdf")).files)
    assert report.content is None
    assert report.reason == "the PDF report is truncated (incomplete base64)"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "the PDF report is empty"),
        ("   ", "the PDF report is empty"),
        ("not*base64!", "the PDF report is not valid base64"),
        (_b64(b"<html>oops</html>"), "the report is not a PDF file"),
        (_b64(b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n"), "the PDF report is truncated"),
    ],
)
def test_bad_report_content_gives_a_reason(content: str | None, reason: str) -> None:
    report = decode_pdf(ReportFile(filename="r.pdf", content=content))
    assert (report.content, report.reason) == (None, reason)


def test_wrapped_data_uri_and_unpadded_base64_are_accepted(payload_bytes: Any) -> None:
    pdf = payload_bytes("weekly-standup-summary-report.pdf")
    encoded = _b64(pdf).rstrip("=")
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))

    assert decode_pdf({"content": "data:application/pdf;base64," + wrapped}).content == pdf
    assert (
        decode_pdf(
            [
                ReportFile(filename="a.txt", content=_b64(b"x")),
                ReportFile(filename="r.PDF", content=_b64(pdf)),
            ]
        ).content
        == pdf
    )


def test_status_changed_and_user_created_are_typed(payload: Any) -> None:
    status = ClaritalkEvent.model_validate(payload("meeting_status_changed"))
    user = ClaritalkEvent.model_validate(payload("users_created"))

    assert isinstance(status.data, MeetingStatusChanged) and status.data.status == "Recording"
    assert status.subject_id == "660e8400-e29b-41d4-a716-446655440000"
    assert isinstance(user.data, ClaritalkUser)
    assert (user.data.id, user.data.email) == (
        "770e8400-e29b-41d4-a716-446655440000",
        "katherine@example.com",
    )


def test_unknown_events_keep_their_data_as_sent() -> None:
    event = ClaritalkEvent.model_validate(
        {"event": "meeting.deleted", "data": {"meetingId": "m1", "reason": "user"}}
    )
    assert event.data == {"meetingId": "m1", "reason": "user"}
    assert event.subject_id == "m1"


def test_idempotency_keys_separate_distinct_deliveries(payload: Any) -> None:
    raw = payload("meeting_status_changed")
    first = ClaritalkEvent.model_validate(raw)
    again = ClaritalkEvent.model_validate(raw)
    raw["data"]["status"] = "Processing"
    moved = ClaritalkEvent.model_validate(raw)
    bare_a = ClaritalkEvent.model_validate({"event": "x", "data": {"a": 1}})
    bare_b = ClaritalkEvent.model_validate({"event": "x", "data": {"a": 2}})

    assert first.idempotency_key == again.idempotency_key
    assert first.idempotency_key != moved.idempotency_key
    assert bare_a.idempotency_key != bare_b.idempotency_key


def test_token_knows_when_it_and_its_refresh_token_lapse() -> None:
    token = Token.model_validate(
        {"access_token": "a", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "r"}
    ).stamped(1000.0)

    assert token.expires_at == 4600.0
    assert token.refresh_expires_at == 1000.0 + 7 * 24 * 3600
    assert not token.expires_within(120, now=4400.0)
    assert token.expires_within(120, now=4481.0)
    assert not Token(access_token="pat").expires_within(120, now=1e12)


def test_a_token_does_not_show_its_secrets_in_repr() -> None:
    token = Token(access_token="at-secret-value", refresh_token="rt-secret-value", expires_in=60)
    assert "secret-value" not in repr(token) and "secret-value" not in str(token)
