"""WherebyClient: request shapes and error mapping on httpx.MockTransport, then the real
thing against the stand-in over loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from providers.errors import (
    AuthenticationFailed,
    BadRequest,
    NotFound,
    ProviderResponseError,
    RateLimited,
    ServerError,
)
from providers.http import RetryPolicy
from providers.whereby import CreateMeeting, PointBudget, WherebyClient
from sandbox.whereby import WherebyStandIn

Load = Callable[[str], Any]
Route = Callable[[httpx.Request], httpx.Response]
BASE = "https://api.whereby.dev/v1"


class Recorder:
    """A MockTransport that records requests and answers from a list or a function."""

    def __init__(self, *answers: httpx.Response | Route) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.slept: list[float] = []
        self.now = 0.0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
async def mock() -> AsyncIterator[Callable[..., tuple[WherebyClient, Recorder]]]:
    clients: list[httpx.AsyncClient] = []

    def make(
        *answers: httpx.Response | Route, attempts: int = 3, points: float = 100
    ) -> tuple[WherebyClient, Recorder]:
        recorder = Recorder(*answers)
        http = httpx.AsyncClient(transport=httpx.MockTransport(recorder.handle))
        clients.append(http)
        limiter = PointBudget(points, margin=0, clock=recorder.clock, sleep=recorder.sleep)
        client = WherebyClient(
            http,
            api_key="key-123",
            limiter=limiter,
            retry=RetryPolicy(attempts=attempts, base_delay=0.1),
            sleep=recorder.sleep,
        )
        return client, recorder

    yield make
    for http in clients:
        await http.aclose()


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


async def test_create_meeting_request(mock: Any, payload: Load) -> None:
    client, rec = mock(ok(payload("api/meeting.created"), 201))
    end = datetime(2030, 5, 12, 17, 42, 49, tzinfo=UTC)
    meeting = await client.create_meeting(
        CreateMeeting(end_date=end, room_name_prefix="debrief", fields=["hostRoomUrl"])
    )
    assert meeting.meeting_id == "134"
    (request,) = rec.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/meetings"
    assert request.headers["Authorization"] == "Bearer key-123"
    assert json.loads(request.content) == {
        "endDate": "2030-05-12T17:42:49Z",
        "roomNamePrefix": "debrief",
        "fields": ["hostRoomUrl"],
    }


async def test_get_meeting_asks_for_fields(mock: Any, payload: Load) -> None:
    client, rec = mock(ok(payload("api/meeting.created")))
    await client.get_meeting("134", fields=["hostRoomUrl", "viewerRoomUrl"])
    assert rec.requests[0].url.path == "/v1/meetings/134"
    assert rec.requests[0].url.params["fields"] == "hostRoomUrl,viewerRoomUrl"


async def test_ids_are_escaped_in_paths(mock: Any, payload: Load) -> None:
    client, rec = mock(ok(payload("api/meeting.created")))
    await client.get_meeting("../admin")
    assert rec.requests[0].url.raw_path == b"/v1/meetings/..%2Fadmin"


@pytest.mark.parametrize("status", [204, 404])
async def test_delete_meeting_is_idempotent(mock: Any, status: int) -> None:
    client, rec = mock(httpx.Response(status))
    assert await client.delete_meeting("134") is None
    assert rec.requests[0].method == "DELETE"


async def test_delete_is_retried_on_5xx_but_a_create_is_not(mock: Any) -> None:
    client, rec = mock(httpx.Response(502), httpx.Response(204))
    await client.delete_meeting("134")
    assert len(rec.requests) == 2
    client, rec = mock(httpx.Response(502))
    with pytest.raises(ServerError):
        await client.create_meeting(CreateMeeting(end_date=datetime.now(UTC)))
    assert len(rec.requests) == 1


async def test_429_waits_as_long_as_the_longest_hint(mock: Any, payload: Load) -> None:
    throttled = httpx.Response(429, headers={"Retry-After": "3"}, json=payload("api/throttled.429"))
    client, rec = mock(throttled, ok(payload("api/recordings.last_page")))
    page = await client.list_recordings()
    assert page.results == []
    assert len(rec.requests) == 2
    # msLeft 38689 beats Retry-After 3; the limiter holds the retry at least that long.
    assert rec.now >= 38.689
    assert max(rec.slept) == pytest.approx(38.689)


async def test_429_after_the_last_attempt(mock: Any, payload: Load) -> None:
    throttled = httpx.Response(429, json={"error": "Rate limit exceeded", "data": {"msLeft": 500}})
    client, _ = mock(throttled, attempts=2)
    with pytest.raises(RateLimited) as caught:
        await client.get_recording("1")
    assert caught.value.retry_after == pytest.approx(0.5)
    assert caught.value.message == "Rate limit exceeded"


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(401), AuthenticationFailed),
        (httpx.Response(404, json={"error": "Recording not found"}), NotFound),
        (httpx.Response(400, json={"error": "endDate must be in the future"}), BadRequest),
        (httpx.Response(200, text="<html>"), ProviderResponseError),
        (httpx.Response(200, json={"recordingId": None}), ProviderResponseError),
    ],
)
async def test_errors_are_mapped(mock: Any, response: httpx.Response, error: type) -> None:
    client, _ = mock(response)
    with pytest.raises(error):
        await client.get_recording("1")


async def test_error_message_is_whereby_s(mock: Any) -> None:
    client, _ = mock(httpx.Response(400, json={"error": "endDate must be in the future"}))
    with pytest.raises(BadRequest, match="endDate must be in the future"):
        await client.create_meeting(CreateMeeting(end_date=datetime.now(UTC)))


async def test_create_transcription_and_summary_return_ids(mock: Any, payload: Load) -> None:
    client, rec = mock(
        ok(payload("api/transcription.created"), 201), ok(payload("api/summary.created"), 201)
    )
    assert await client.create_transcription("rec-1") == "1"
    assert await client.create_summary("1", template="General Bulleted") == "1"
    assert json.loads(rec.requests[0].content) == {"recordingId": "rec-1"}
    assert json.loads(rec.requests[1].content) == {
        "transcriptionId": "1",
        "template": "General Bulleted",
    }


async def test_created_without_id_is_a_response_error(mock: Any) -> None:
    client, _ = mock(ok({}, 201))
    with pytest.raises(ProviderResponseError, match="transcriptionId"):
        await client.create_transcription("rec-1")


async def test_access_link_validity(mock: Any, payload: Load) -> None:
    client, rec = mock(ok(payload("api/access_link")))
    link = await client.recording_access_link("1", valid_for_seconds=600)
    assert link.access_link.startswith("https://s3.")
    assert rec.requests[0].url.path == "/v1/recordings/1/access-link"
    assert rec.requests[0].url.params["validForSeconds"] == "600"
    for bad in (0, 43201):
        with pytest.raises(ValueError):
            await client.transcription_access_link("1", valid_for_seconds=bad)


async def test_iter_recordings_follows_the_cursor(mock: Any, payload: Load) -> None:
    client, rec = mock(ok(payload("api/recordings.page")), ok(payload("api/recordings.last_page")))
    items = [r.recording_id async for r in client.iter_recordings(room_name="/room", page_size=1)]
    assert items == ["1"]
    assert "cursor" not in rec.requests[0].url.params
    assert rec.requests[0].url.params["roomName"] == "/room"
    assert rec.requests[0].url.params["limit"] == "1"
    assert rec.requests[1].url.params["cursor"] == "8f4031bfc7640c5f267b11b6fe0c2507"


async def test_a_repeated_cursor_stops_paging(mock: Any, payload: Load) -> None:
    client, _ = mock(ok(payload("api/recordings.page")))
    with pytest.raises(ProviderResponseError, match="cursor"):
        async for _ in client.iter_recordings():
            pass


async def test_insights_query_parameters(mock: Any, payload: Load) -> None:
    client, rec = mock(ok(payload("api/insights.rooms")))
    since = datetime(2024, 1, 1, tzinfo=UTC)
    rooms = [
        r async for r in client.insights_rooms(room_name_prefix="/debrief", created_from=since)
    ]
    assert rooms[0].total_sessions == 2
    params = rec.requests[0].url.params
    assert params["roomName[startsWith]"] == "/debrief"
    assert params["createdAt[from]"] == "2024-01-01T00:00:00+00:00"
    with pytest.raises(ValueError):
        client.insights_participants()


async def test_points_charged_per_method(mock: Any, payload: Load) -> None:
    # A 4-point budget: POST (3) + GET (1) go at once, the DELETE (2) has to wait a minute.
    meeting = payload("api/meeting.created")
    client, rec = mock(ok(meeting, 201), ok(meeting), httpx.Response(204), points=4)
    await client.create_meeting(CreateMeeting(end_date=datetime.now(UTC) + timedelta(hours=1)))
    await client.get_meeting("134")
    assert rec.now == 0.0
    await client.delete_meeting("134")
    assert rec.now == pytest.approx(60.0)


# --- against the stand-in -------------------------------------------------------------------


async def test_meeting_round_trip(client: WherebyClient, standin: WherebyStandIn) -> None:
    end = datetime.now(UTC) + timedelta(hours=1)
    meeting = await client.create_meeting(
        CreateMeeting(end_date=end, room_name_prefix="debrief", fields=["hostRoomUrl"])
    )
    assert meeting.room_name is not None and meeting.room_name.startswith("/debrief-")
    assert meeting.room_url == f"{standin.url}{meeting.room_name}"
    assert meeting.host_room_url is not None and meeting.viewer_room_url is None
    fetched = await client.get_meeting(meeting.meeting_id)
    assert fetched.room_url == meeting.room_url and fetched.host_room_url is None
    await client.delete_meeting(meeting.meeting_id)
    await client.delete_meeting(meeting.meeting_id)
    with pytest.raises(NotFound):
        await client.get_meeting(meeting.meeting_id)
    assert [c.status for c in standin.calls_to(f"/meetings/{meeting.meeting_id}", "DELETE")] == [
        204,
        204,
    ]


async def test_past_end_date_is_refused(client: WherebyClient) -> None:
    with pytest.raises(BadRequest, match="future"):
        await client.create_meeting(CreateMeeting(end_date=datetime.now(UTC) - timedelta(hours=1)))


async def test_wrong_key(standin: WherebyStandIn, http: httpx.AsyncClient) -> None:
    client = WherebyClient(http, api_key="nope", base_url=standin.api_url)
    with pytest.raises(AuthenticationFailed):
        await client.get_recording("1")


async def test_a_transcript_is_downloaded_without_the_api_key(mock: Any, payload: Load) -> None:
    client, rec = mock(
        ok(payload("api/access_link")),
        httpx.Response(200, text="**Ada**: Hello.", headers={"Content-Type": "text/markdown"}),
    )
    assert await client.download_transcript("t-1") == "**Ada**: Hello."
    link, file = rec.requests
    assert link.url.path.endswith("/transcriptions/t-1/access-link")
    assert "authorization" in link.headers and "authorization" not in file.headers
    assert str(file.url).startswith("https://s3.")


async def test_a_transcript_too_large_or_gone_is_refused(mock: Any, payload: Load) -> None:
    client, _ = mock(ok(payload("api/access_link")), httpx.Response(200, text="x" * 2000))
    with pytest.raises(ProviderResponseError, match="larger than"):
        await client.download_transcript("t-1", limit=1000)
    client, _ = mock(ok(payload("api/access_link")), httpx.Response(404, text="gone"))
    with pytest.raises(NotFound):
        await client.download_transcript("t-1")
