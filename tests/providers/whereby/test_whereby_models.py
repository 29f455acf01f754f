"""Whereby models against the documented payloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pydantic
import pytest

from providers.whereby import (
    AccessLink,
    CreateMeeting,
    Meeting,
    Page,
    ParticipantInsight,
    Recording,
    RecordingDestination,
    RecordingOptions,
    RoomInsight,
    RoomSessionInsight,
    Summary,
    Transcription,
    WherebyEvent,
    WherebyEventType,
    normalize_room_name,
)

Load = Callable[[str], Any]


def test_meeting_with_host_url(payload: Load) -> None:
    meeting = Meeting.model_validate(payload("api/meeting.created"))
    assert meeting.meeting_id == "134"
    assert meeting.room_name == "/debrief-dda1beca-af37-11eb-ac88-372b6869f077"
    assert meeting.host_room_url is not None and "roomKey=" in meeting.host_room_url
    assert meeting.viewer_room_url is None
    assert meeting.end_date == datetime(2020, 5, 12, 17, 42, 49, tzinfo=UTC)


def test_meeting_numeric_id_and_missing_room_name(payload: Load) -> None:
    meeting = Meeting.model_validate(payload("api/meeting.minimal"))
    assert meeting.meeting_id == "1"
    assert meeting.room_name is None


def test_recordings_page(payload: Load) -> None:
    page = Page[Recording].model_validate(payload("api/recordings.page"))
    assert page.cursor == "8f4031bfc7640c5f267b11b6fe0c2507"
    assert page.results[0].recording_id == "1"
    assert page.results[0].size_in_mega_bytes == 100
    assert Page[Recording].model_validate(payload("api/recordings.last_page")).cursor is None


def test_access_link_expiry_is_milliseconds(payload: Load) -> None:
    link = AccessLink.model_validate(payload("api/access_link"))
    assert link.expires_at == datetime(2020, 4, 30, 16, 0, tzinfo=UTC)


def test_transcription_states(payload: Load) -> None:
    ready = Transcription.model_validate(payload("api/transcription.ready"))
    assert ready.is_ready and not ready.is_failed
    assert ready.type == "RECORDING_TRANSCRIPTION"
    # The documented example says "completed" although the enum says "ready".
    example = Transcription.model_validate(payload("api/transcription.example_completed"))
    assert example.is_ready


def test_summary_ready_and_in_progress(payload: Load) -> None:
    ready = Summary.model_validate(payload("api/summary.ready"))
    assert ready.is_ready
    assert ready.text == "This is a meeting summary"
    assert ready.template == "General Narrative"
    pending = Summary.model_validate(payload("api/summary.in_progress"))
    assert not pending.is_ready and not pending.is_failed
    assert pending.text is None


def test_insights(payload: Load) -> None:
    room = Page[RoomInsight].model_validate(payload("api/insights.rooms")).results[0]
    assert room.total_sessions == 2 and room.total_participant_minutes == 124
    session = Page[RoomSessionInsight].model_validate(payload("api/insights.room_sessions"))
    assert session.results[0].ended_at == datetime(2020, 1, 1, 1, tzinfo=UTC)
    people = Page[ParticipantInsight].model_validate(payload("api/insights.participants"))
    assert people.results[0].display_name == "John Doe"
    assert people.results[0].external_id is None


@pytest.mark.parametrize(
    "name",
    [
        "room.client.joined",
        "room.client.left",
        "room.session.started",
        "room.session.ended",
        "recording.finished",
        "transcription.finished",
        "transcription.failed",
        "assistant.requested",
    ],
)
def test_every_documented_event_parses(payload: Load, name: str) -> None:
    event = WherebyEvent.model_validate(payload(f"webhooks/{name}"))
    assert event.type == name
    assert event.known_type is WherebyEventType(name)
    assert event.api_version == "1.0"


def test_event_fields_by_type(payload: Load) -> None:
    joined = WherebyEvent.model_validate(payload("webhooks/room.client.joined"))
    assert joined.data.meeting_id == "134"
    assert joined.data.num_clients_by_role_name == {"host": 1, "visitor": 7}
    assert joined.data.external_id == "<custom-id>"
    recording = WherebyEvent.model_validate(payload("webhooks/recording.finished"))
    assert recording.data.meeting_id is None
    assert recording.data.recording_id == "8f0d2c1e-3b4a-4c5d-9e6f-7a8b9c0d1e2f"
    assert recording.data.room_name == "/af0b7b66-c738-4981-887a-ad416754f32d"
    finished = WherebyEvent.model_validate(payload("webhooks/transcription.finished"))
    assert finished.data.duration_in_seconds == 2136
    failed = WherebyEvent.model_validate(payload("webhooks/transcription.failed"))
    assert failed.data.error == "No audio found in recording"


def test_event_keeps_unknown_data_and_types(payload: Load) -> None:
    event = WherebyEvent.model_validate(payload("webhooks/assistant.requested"))
    assert event.data.model_extra == {"assistantKey": "notetaker"}
    newer = WherebyEvent.model_validate({"id": "x", "type": "room.something.new", "data": {}})
    assert newer.known_type is None


def test_room_names_compare_without_slash() -> None:
    assert normalize_room_name("/abc-123") == normalize_room_name("abc-123") == "abc-123"


def test_create_meeting_body_is_camel_case_and_only_what_was_set() -> None:
    request = CreateMeeting(
        end_date=datetime(2030, 1, 1, 12, 0),
        room_name_prefix="debrief",
        room_mode="group",
        fields=["hostRoomUrl"],
        recording=RecordingOptions(
            type="cloud",
            destination=RecordingDestination(provider="whereby"),
            start_trigger="automatic-2nd-participant",
        ),
    )
    assert request.to_json() == {
        "endDate": "2030-01-01T12:00:00Z",
        "roomNamePrefix": "debrief",
        "roomMode": "group",
        "fields": ["hostRoomUrl"],
        "recording": {
            "type": "cloud",
            "destination": {"provider": "whereby"},
            "startTrigger": "automatic-2nd-participant",
        },
    }


def test_create_meeting_keeps_offsets_and_sends_explicit_null() -> None:
    offset = timezone(timedelta(hours=-5))
    request = CreateMeeting(
        end_date=datetime(2030, 1, 1, 12, 0, tzinfo=offset),
        recording=RecordingOptions(type="cloud", destination=None, start_trigger=None),
    )
    body = request.to_json()
    assert body["endDate"] == "2030-01-01T12:00:00-05:00"
    # null means "inherit the organisation's setting" to Whereby.
    assert body["recording"] == {"type": "cloud", "destination": None, "startTrigger": None}


def test_room_name_prefix_rules() -> None:
    assert CreateMeeting(
        end_date=datetime.now(UTC), room_name_prefix="my room"
    ).room_name_prefix == ("myroom")
    with pytest.raises(pydantic.ValidationError, match="lowercase"):
        CreateMeeting(end_date=datetime.now(UTC), room_name_prefix="Debrief")
    with pytest.raises(pydantic.ValidationError, match="39"):
        CreateMeeting(end_date=datetime.now(UTC), room_name_prefix="a" * 40)
    assert CreateMeeting(end_date=datetime.now(UTC), room_name_prefix="a" * 39).room_name_prefix


def test_create_meeting_refuses_unknown_fields_and_modes() -> None:
    with pytest.raises(pydantic.ValidationError):
        CreateMeeting.model_validate({"endDate": "2030-01-01T00:00:00Z", "roomMode": "huge"})
    with pytest.raises(pydantic.ValidationError):
        CreateMeeting.model_validate({"endDate": "2030-01-01T00:00:00Z", "colour": "red"})
    with pytest.raises(pydantic.ValidationError):
        CreateMeeting.model_validate({"roomMode": "group"})
