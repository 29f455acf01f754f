"""OtterClient on httpx.MockTransport: requests sent, paging, errors, backoff and pacing."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from providers.budget import MemoryLedger, WindowBudget
from providers.errors import (
    AuthenticationFailed,
    BadRequest,
    NotFound,
    ProviderResponseError,
    ProviderUnavailable,
    RateLimited,
)
from providers.http import RetryPolicy, Unlimited, build_http_client
from providers.otter import (
    DIGEST_INCLUDE,
    OtterClient,
    conversation_id_from,
    include_param,
    otter_rate_limiter,
)

API = "https://api.otter.ai/v1"
KEY = "test-key"


class FakeOtter:
    """Answers from a handler and keeps every request it saw."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


@pytest.fixture
async def make_client(fake_time):
    clients: list[httpx.AsyncClient] = []

    def make(handler, **kwargs) -> tuple[OtterClient, FakeOtter]:
        fake = FakeOtter(handler)
        http = build_http_client(transport=httpx.MockTransport(fake))
        clients.append(http)
        kwargs.setdefault("limiter", Unlimited())
        kwargs.setdefault("sleep", fake_time.sleep)
        return OtterClient(http, api_key=KEY, **kwargs), fake

    yield make
    for http in clients:
        await http.aclose()


def conversation(cid: str, created: str) -> dict:
    return {"id": cid, "title": f"Meeting {cid}", "created_at": created}


async def test_list_channels_sends_bearer_and_parses(make_client, payload) -> None:
    client, fake = make_client(lambda r: httpx.Response(200, json=payload("channels_list")))

    channels = await client.list_channels()

    assert [c.name for c in channels] == ["backend product meeting"]
    [request] = fake.requests
    assert request.method == "GET" and str(request.url) == f"{API}/channels"
    assert request.headers["Authorization"] == f"Bearer {KEY}"


async def test_iter_conversations_follows_cursors_across_three_pages(make_client) -> None:
    c5, c4, c3, c2, c1 = (conversation(f"c{n}", f"2025-07-0{n}T00:00:00Z") for n in (5, 4, 3, 2, 1))
    pages = {None: ([c5, c4], "p2"), "p2": ([c3, c2], "p3"), "p3": ([c1], None)}

    def handler(request: httpx.Request) -> httpx.Response:
        data, following = pages[request.url.params.get("cursor")]
        meta = {"retrieved_at": "2025-07-31T12:00:00Z", "has_more": following is not None}
        if following:
            meta["next_cursor"] = following
        return httpx.Response(200, json={"meta": meta, "data": data})

    client, fake = make_client(handler)

    ids = [c.id async for c in client.iter_conversations(include_shared=True, limit=2)]

    assert ids == ["c5", "c4", "c3", "c2", "c1"]
    assert [r.url.params.get("cursor") for r in fake.requests] == [None, "p2", "p3"]
    assert all(r.url.params["limit"] == "2" for r in fake.requests)
    assert all(r.url.params["include_shared"] == "true" for r in fake.requests)
    assert all(r.url.path == "/v1/conversations" for r in fake.requests)


async def test_iter_conversation_pages_yields_each_page(make_client) -> None:
    answers = iter(
        [
            {"meta": {"has_more": True, "next_cursor": "b"}, "data": [conversation("x", "")]},
            {"meta": {"has_more": False}, "data": []},
        ]
    )
    client, _ = make_client(lambda r: httpx.Response(200, json=next(answers)))

    pages = [page async for page in client.iter_conversation_pages(channel_id="ch1")]

    assert [len(p.data) for p in pages] == [1, 0]
    assert pages[0].meta.next_cursor == "b"


async def test_paging_stops_when_otter_repeats_a_cursor(make_client) -> None:
    body = {"meta": {"has_more": True, "next_cursor": "same"}, "data": []}
    client, fake = make_client(lambda r: httpx.Response(200, json=body))

    with pytest.raises(ProviderResponseError, match="next_cursor"):
        async for _ in client.iter_conversations():
            pass
    assert len(fake.requests) == 2


async def test_list_conversations_parameters(make_client, payload) -> None:
    client, fake = make_client(lambda r: httpx.Response(200, json=payload("conversations_list")))

    page = await client.list_conversations(
        include_shared=False, channel_id="ch 1", limit=100, cursor="abc"
    )

    assert page.meta.has_more and page.data[0].id == "conversation_id"
    assert dict(fake.requests[0].url.params) == {
        "include_shared": "false",
        "channel_id": "ch 1",
        "limit": "100",
        "cursor": "abc",
    }
    await client.list_conversations()
    assert dict(fake.requests[1].url.params) == {}


@pytest.mark.parametrize("limit", [0, 101, -1])
async def test_limit_outside_the_documented_range_is_refused_before_sending(
    make_client, limit
) -> None:
    client, fake = make_client(lambda r: httpx.Response(200, json={}))

    with pytest.raises(ValueError, match="between 1 and 100"):
        await client.list_conversations(limit=limit)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("include", "sent"),
    [
        (["insights", "transcript"], "insights,transcript"),
        (("action_items", " Insights ", "action_items"), "action_items,insights"),
        ("insights,transcript", "insights,transcript"),
        ("all", "all"),
        (["outlines", "all", "transcript"], "all"),
        (DIGEST_INCLUDE, "action_items,insights,outlines"),
    ],
)
async def test_include_parameter_encoding(make_client, payload, include, sent) -> None:
    client, fake = make_client(lambda r: httpx.Response(200, json=payload("conversation_all")))

    c = await client.get_conversation("conversation_id", include)

    assert c.ready
    request = fake.requests[0]
    assert request.url.path == "/v1/conversations/conversation_id"
    assert request.url.params["include"] == sent
    assert request.url.query == f"include={sent.replace(',', '%2C')}".encode()


async def test_default_include_and_empty_include(make_client, payload) -> None:
    client, fake = make_client(lambda r: httpx.Response(200, json=payload("conversation_all")))

    await client.get_conversation("conversation_id")
    await client.get_conversation("conversation_id", include=())

    assert fake.requests[0].url.params["include"] == "action_items,insights,outlines"
    assert "include" not in fake.requests[1].url.params


async def test_conversation_ids_are_quoted_in_the_path(make_client, payload) -> None:
    client, fake = make_client(lambda r: httpx.Response(200, json=payload("audio")))

    link = await client.get_audio("a/b?c")

    assert link.url == "https://test.com/audio.mp3"
    assert fake.requests[0].url.raw_path == b"/v1/conversations/a%2Fb%3Fc/audio"


async def test_404_is_not_found_with_the_reason(make_client) -> None:
    client, fake = make_client(
        lambda r: httpx.Response(404, json={"error": "Conversation not found"})
    )

    with pytest.raises(NotFound) as caught:
        await client.get_conversation("missing")

    assert caught.value.status_code == 404
    assert caught.value.provider == "otter"
    assert "Conversation not found" in str(caught.value)
    assert len(fake.requests) == 1


async def test_400_on_create_is_bad_request_and_not_retried(make_client) -> None:
    client, fake = make_client(lambda r: httpx.Response(400, json={"detail": "file must be a URL"}))

    with pytest.raises(BadRequest, match="file must be a URL"):
        await client.create_conversation("ftp://nowhere", name="Call")

    assert len(fake.requests) == 1
    assert fake.requests[0].method == "POST"
    assert json.loads(fake.requests[0].content) == {"file": "ftp://nowhere", "name": "Call"}


async def test_create_conversation(make_client, payload) -> None:
    client, fake = make_client(lambda r: httpx.Response(200, json=payload("create_conversation")))

    result = await client.create_conversation("https://example.com/file.mp4")

    assert result.ok and result.file == "audio.mp3"
    assert json.loads(fake.requests[0].content) == {"file": "https://example.com/file.mp4"}


async def test_401_is_authentication_failed(make_client) -> None:
    client, _ = make_client(lambda r: httpx.Response(401, json={"error": "Invalid API key"}))

    with pytest.raises(AuthenticationFailed):
        await client.get_workspace()


async def test_workspace(make_client, payload) -> None:
    client, fake = make_client(lambda r: httpx.Response(200, json=payload("workspace")))

    workspace = await client.get_workspace()

    assert workspace.name == "workspace name" and workspace.member_count == 50
    assert fake.requests[0].url.path == "/v1/workspace"


async def test_429_without_retry_after_backs_off_exponentially(
    make_client, payload, fake_time
) -> None:
    answers = iter(
        [
            httpx.Response(429, json={"error": "Too Many Requests"}),
            httpx.Response(429, json={"error": "Too Many Requests"}),
            httpx.Response(200, json=payload("workspace")),
        ]
    )
    client, fake = make_client(lambda r: next(answers))

    workspace = await client.get_workspace()

    assert workspace.handle == "otter.ai"
    assert len(fake.requests) == 3
    assert len(fake_time.sleeps) == 2
    first, second = fake_time.sleeps
    assert 0 < first < second


async def test_429_that_never_ends_is_rate_limited(make_client, fake_time) -> None:
    client, fake = make_client(
        lambda r: httpx.Response(429, json={"error": "Too Many Requests"}),
        retry=RetryPolicy(attempts=3),
    )

    with pytest.raises(RateLimited) as caught:
        await client.list_channels()

    assert caught.value.retry_after is None
    assert len(fake.requests) == 3
    assert fake_time.sleeps == sorted(fake_time.sleeps)


async def test_unreachable_is_provider_unavailable(make_client) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client, _ = make_client(refuse, retry=RetryPolicy(attempts=2))

    with pytest.raises(ProviderUnavailable):
        await client.get_workspace()


@pytest.mark.parametrize(
    ("answer", "method"),
    [
        (httpx.Response(200, text="<html>maintenance</html>"), "get_workspace"),
        (httpx.Response(200, json={"meta": {}, "data": {"owner": "not a user"}}), "get_workspace"),
        (httpx.Response(200, json={"data": [{"title": "no id"}]}), "list_conversations"),
        (httpx.Response(204), "list_channels"),
    ],
)
async def test_unexpected_bodies_are_response_errors(make_client, answer, method) -> None:
    client, _ = make_client(lambda r: answer)

    with pytest.raises(ProviderResponseError):
        await getattr(client, method)()


def test_client_requires_a_key() -> None:
    with pytest.raises(ValueError, match="API key"):
        OtterClient(httpx.AsyncClient(), api_key="")


async def test_default_pacing_never_puts_more_than_ten_requests_in_a_second(fake_time) -> None:
    limiter = otter_rate_limiter(clock=fake_time.clock, sleep=fake_time.sleep)
    sent: list[float] = []

    for _ in range(40):
        await limiter.acquire()
        sent.append(fake_time.now)

    busiest = max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent)
    assert busiest <= 10
    # ... while still using most of the budget.
    assert sent[-1] - sent[0] < 40 / 8


async def test_the_default_limiter_is_otters(make_client) -> None:
    client, _ = make_client(lambda r: httpx.Response(200, json={}), limiter=None)

    assert isinstance(client.limiter, WindowBudget)
    assert (client.limiter.limit, client.limiter.window) == (10.0, 1.0)
    assert isinstance(client.limiter.ledger, MemoryLedger)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://otter.ai/u/AbC123_-xyz", "AbC123_-xyz"),
        ("https://otter.ai/u/AbC123?utm_source=copy_url", "AbC123"),
        ("https://otter.ai/u/AbC123/", "AbC123"),
        ("https://otter.ai/u/AbC123/?view=summary#top", "AbC123"),
        ("otter.ai/u/AbC123?tab=transcript", "AbC123"),
        ("http://www.otter.ai/u/AbC123", "AbC123"),
        ("  <https://otter.ai/u/AbC123|Weekly sync>  ", "AbC123"),
        ("<https://otter.ai/u/AbC123>", "AbC123"),
        ("AbC123", "AbC123"),
        (" conversation_id ", "conversation_id"),
    ],
)
def test_conversation_id_from(text, expected) -> None:
    assert conversation_id_from(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "https://example.com/u/AbC123",
        "https://otter.ai.evil.com/u/AbC123",
        "https://otter.ai/s/AbC123",
        "https://otter.ai/u/",
        "https://otter.ai/u/AbC123/extra",
        "two words",
        "https://[bad",
    ],
)
def test_conversation_id_from_refuses_other_text(text) -> None:
    with pytest.raises(ValueError, match="not an Otter conversation"):
        conversation_id_from(text)


def test_include_param() -> None:
    assert include_param([]) is None
    assert include_param(" , ") is None
    assert include_param(["ALL"]) == "all"
