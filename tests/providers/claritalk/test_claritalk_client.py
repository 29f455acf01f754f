"""ClaritalkClient on httpx.MockTransport: Bearer tokens, the 401 retry, budgets, status codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from providers.budget import MemoryLedger, WindowBudget
from providers.claritalk import (
    ClaritalkClient,
    ClaritalkPaths,
    ClientCredentials,
    DesktopClientOffline,
    PersonalAccessToken,
)
from providers.claritalk.client import claritalk_rate_limiter
from providers.errors import (
    AuthenticationFailed,
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    ProviderUnavailable,
    RateLimited,
    ServerError,
)
from providers.http import RetryPolicy
from tests.conftest import FakeTime

BASE = "https://claritalk.test"
Handler = Callable[[httpx.Request], httpx.Response]


class Api:
    """Answers from a list per path and records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[str, list[httpx.Response]] = {}
        self.tokens_issued = 0

    def answer(self, path: str, *responses: httpx.Response) -> None:
        self.routes.setdefault(path, []).extend(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/oauth/token":
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "access_token": f"svc-{self.tokens_issued}",
                },
            )
        queue = self.routes.get(request.url.path)
        if not queue:
            return httpx.Response(404, json={"message": "Not found."})
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/api/")]


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class RecordingLimiter:
    """A limiter that never waits but notes what it was asked for."""

    def __init__(self) -> None:
        self.acquired: list[float] = []
        self.paused: list[float] = []

    async def acquire(self, cost: float = 1.0) -> None:
        self.acquired.append(cost)

    def pause(self, seconds: float) -> None:
        self.paused.append(seconds)

    def observe(self, response: httpx.Response) -> None:
        return None


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def http(api: Api) -> Any:
    async with httpx.AsyncClient(transport=httpx.MockTransport(api)) as client:
        yield client


def make_client(http: httpx.AsyncClient, sleeps: Sleeps, **kwargs: Any) -> ClaritalkClient:
    kwargs.setdefault("token_source", PersonalAccessToken("pat-1"))
    return ClaritalkClient(
        http, base_url=BASE, sleep=sleeps, retry=RetryPolicy(attempts=3), **kwargs
    )


async def test_register_webhook_posts_the_assumed_body_with_a_bearer_token(
    http: httpx.AsyncClient, api: Api, sleeps: Sleeps
) -> None:
    api.answer("/api/client/webhook", httpx.Response(201, json={"data": {"webhook_url": "u"}}))
    client = make_client(http, sleeps)

    answer = await client.register_webhook("https://debrief.test/webhooks/claritalk?token=s")

    (request,) = api.requests
    assert (request.method, request.url.path) == ("POST", "/api/client/webhook")
    assert request.headers["Authorization"] == "Bearer pat-1"
    assert json.loads(request.content) == {
        "webhook_url": "https://debrief.test/webhooks/claritalk?token=s",
        "events": ["meeting.processed", "meeting.status.changed", "users.created"],
    }
    assert answer == {"data": {"webhook_url": "u"}}


async def test_the_webhook_body_and_paths_can_be_changed_without_code_changes(
    http: httpx.AsyncClient, api: Api, sleeps: Sleeps
) -> None:
    api.answer("/api/v2/hooks", httpx.Response(204))
    client = make_client(
        http,
        sleeps,
        paths=ClaritalkPaths(webhook="/api/v2/hooks"),
        webhook_body=lambda url, events: {"url": url},
    )

    assert await client.register_webhook("https://x.test/h") == {}
    assert json.loads(api.requests[0].content) == {"url": "https://x.test/h"}


async def test_a_refused_token_is_renewed_once_and_the_request_repeated(
    http: httpx.AsyncClient, api: Api, sleeps: Sleeps
) -> None:
    api.answer(
        "/api/user",
        httpx.Response(401, json={"message": "Unauthenticated."}),
        httpx.Response(
            200, json={"id": "usr-1", "name": "Ada Lovelace", "email": "ada@example.com"}
        ),
    )
    source = ClientCredentials(http, "svc", "secret", base_url=BASE)
    client = make_client(http, sleeps, token_source=source)

    user = await client.current_user()

    assert (user.id, user.email) == ("usr-1", "ada@example.com")
    assert [r.headers["Authorization"] for r in api.api_requests()] == [
        "Bearer svc-1",
        "Bearer svc-2",
    ]


async def test_a_second_refusal_says_to_reconnect(
    http: httpx.AsyncClient, api: Api, sleeps: Sleeps
) -> None:
    api.answer("/api/user", httpx.Response(401, json={"message": "Unauthenticated."}))
    client = make_client(
        http, sleeps, token_source=ClientCredentials(http, "svc", "s", base_url=BASE)
    )

    with pytest.raises(AuthenticationFailed, match="reconnect Claritalk"):
        await client.current_user()
    assert len(api.api_requests()) == 2


async def test_a_refused_pat_is_not_sent_again(
    http: httpx.AsyncClient, api: Api, sleeps: Sleeps
) -> None:
    api.answer("/api/user", httpx.Response(401, json={"message": "Unauthenticated."}))

    with pytest.raises(AuthenticationFailed, match="reconnect Claritalk"):
        await make_client(http, sleeps).current_user()
    assert len(api.api_requests()) == 1


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (403, {"message": "This action is unauthorized."}, PermissionDenied, "denied permission"),
        (404, {"message": "Meeting not found."}, NotFound, "Meeting not found."),
        (
            409,
            {"message": "An active recording already exists."},
            Conflict,
            "active recording already exists",
        ),
        (
            422,
            {
                "message": "The given data was invalid.",
                "errors": {"webhook_url": ["The webhook url must be a valid URL."]},
            },
            BadRequest,
            "could not process the request: webhook_url: The webhook url must be a valid URL.",
        ),
        (400, {"message": "Bad request."}, BadRequest, "refused the request: Bad request."),
    ],
)
async def test_documented_statuses_map_to_clear_errors(
    http: httpx.AsyncClient,
    api: Api,
    sleeps: Sleeps,
    status: int,
    body: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    api.answer("/api/client/webhook", httpx.Response(status, json=body))

    with pytest.raises(error, match=message) as raised:
        await make_client(http, sleeps).register_webhook("https://x.test/h")
    assert getattr(raised.value, "status_code", None) == status
    assert getattr(raised.value, "body", None) == body


async def test_429_backs_off_then_reports_when_to_retry(
    http: httpx.AsyncClient, api: Api, sleeps: Sleeps
) -> None:
    api.answer(
        "/api/meetings/m1",
        httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "Too Many Attempts."}),
    )
    limiter = RecordingLimiter()

    with pytest.raises(RateLimited, match="back off and try again in 7s") as limited:
        await make_client(http, sleeps, limiter=limiter).get_meeting("m1")

    assert limited.value.retry_after == 7.0
    assert sleeps.waits == [7.0, 7.0]
    assert limiter.paused == [7.0, 7.0, 7.0]


async def test_503_is_the_desktop_client_and_is_not_retried(
    http: httpx.AsyncClient, api: Api, sleeps: Sleeps
) -> None:
    api.answer(
        "/api/meetings/m1",
        httpx.Response(503, json={"message": "Claritalk Connect desktop client is not connected"}),
    )

    with pytest.raises(DesktopClientOffline, match="desktop client is not connected") as offline:
        await make_client(http, sleeps).get_meeting("m1")

    assert isinstance(offline.value, ProviderUnavailable) and offline.value.retryable is False
    assert len(api.api_requests()) == 1 and sleeps.waits == []


async def test_other_5xx_on_a_read_are_retried_then_raised(
    http: httpx.AsyncClient, api: Api, sleeps: Sleeps
) -> None:
    api.answer("/api/meetings/m1", httpx.Response(500, json={"message": "Server Error"}))

    with pytest.raises(ServerError, match=r"Claritalk failed \(500\): Server Error"):
        await make_client(http, sleeps).get_meeting("m1")
    assert len(api.api_requests()) == 3


async def test_an_unreachable_claritalk_is_a_provider_error(sleeps: Sleeps) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(ProviderUnavailable, match="unreachable"):
            await make_client(http, sleeps).current_user()


async def test_uploads_spend_from_their_own_budget_and_the_overall_one(
    http: httpx.AsyncClient, api: Api, sleeps: Sleeps
) -> None:
    api.answer("/api/recordings/upload", httpx.Response(201, json={"id": "rec-1"}))
    api.answer("/api/user", httpx.Response(200, json={"id": "u"}))
    overall, uploads = RecordingLimiter(), RecordingLimiter()
    client = make_client(http, sleeps, limiter=overall, upload_limiter=uploads)

    await client.call("POST", "/api/recordings/upload", json={"name": "r"})
    assert (len(uploads.acquired), len(overall.acquired)) == (1, 1)
    await client.current_user()
    assert (len(uploads.acquired), len(overall.acquired)) == (1, 2)


async def test_claritalks_budget_allows_480_in_any_minute() -> None:
    t = FakeTime()
    limiter = claritalk_rate_limiter(clock=t.clock, sleep=t.sleep)
    for _ in range(480):
        await limiter.acquire()
    assert t.now == 0.0
    await limiter.acquire()
    assert t.now == pytest.approx(60.25)  # the minute and its margin


async def test_the_default_budgets_are_claritalks_in_this_process(
    http: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    client = make_client(http, sleeps, limiter=None, upload_limiter=None)
    budgets = [client.limiter, client.upload_limiter]
    assert [(b.limit, b.window) for b in budgets if isinstance(b, WindowBudget)] == [
        (480, 60.0),
        (50, 60.0),
    ]
    assert all(isinstance(b, WindowBudget) and isinstance(b.ledger, MemoryLedger) for b in budgets)


async def test_meetings_are_unwrapped_and_paged_through_links_next(
    http: httpx.AsyncClient, api: Api, sleeps: Sleeps
) -> None:
    api.answer(
        "/api/meetings",
        httpx.Response(
            200,
            json={
                "data": [{"meetingId": "m1", "title": "One", "createdAt": "2025-01-15 10:00:00"}],
                "links": {"next": f"{BASE}/api/meetings?page=2"},
            },
        ),
        httpx.Response(200, json={"data": [{"meetingId": "m2"}], "links": {"next": None}}),
    )
    api.answer(
        "/api/meetings/m1", httpx.Response(200, json={"data": {"meetingId": "m1", "locale": "nl"}})
    )
    client = make_client(http, sleeps)

    meetings = [m async for m in client.iter_meetings(per_page=1)]
    single = await client.get_meeting("m1")

    assert [m.meeting_id for m in meetings] == ["m1", "m2"]
    assert meetings[0].created_at is not None and meetings[0].created_at.hour == 10
    assert [str(r.url) for r in api.requests[:2]] == [
        f"{BASE}/api/meetings?per_page=1",
        f"{BASE}/api/meetings?page=2",
    ]
    assert single.locale == "nl"
