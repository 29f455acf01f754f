"""The Otter stand-in driven over real loopback HTTP by OtterClient, and its webhooks received
by a small aiohttp receiver that verifies them with providers.otter.webhooks."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from providers.errors import AuthenticationFailed, BadRequest, NotFound
from providers.http import RetryPolicy, Unlimited
from providers.otter import (
    OtterClient,
    OtterWebhook,
    otter_rate_limiter,
    parse_webhook,
    verify_request,
)
from providers.otter.models import parse_transcript
from sandbox.otter import (
    ACME_CALL_ID,
    DESIGN_REVIEW_ID,
    PRODUCT_SYNC_ID,
    SANDBOX_API_KEY,
    OtterStandIn,
    huge_conversation,
)
from tests.conftest import FakeTime
from tests.sandbox.conftest import Check, Received, WebhookReceiver

SLACK_PEOPLE = {"ada@example.com", "grace@example.com", "alan@example.com"}


@pytest.fixture
async def otter() -> AsyncIterator[OtterStandIn]:
    standin = OtterStandIn(requests_per_second=None)
    await standin.start()
    yield standin
    await standin.stop()


def otter_client(http: httpx.AsyncClient, otter: OtterStandIn, **options: Any) -> OtterClient:
    """A client of the stand-in: the sandbox key and no pacing unless ``options`` say otherwise."""
    options.setdefault("api_key", SANDBOX_API_KEY)
    options.setdefault("limiter", Unlimited())
    return OtterClient(http, base_url=otter.api_url, **options)


@pytest.fixture
def client(otter: OtterStandIn, http: httpx.AsyncClient) -> OtterClient:
    return otter_client(http, otter)


def verified_by(secret: str | None = None, bearer: str | None = None) -> Check:
    """A Debrief-like endpoint's check: an HMAC ``secret`` or a ``bearer`` token, then the body."""

    def check(request: Received) -> None:
        verify_request(request.body, request.headers, hmac_secret=secret, bearer_token=bearer)
        parse_webhook(request.body)

    return check


def accepted_hooks(receiver: WebhookReceiver) -> list[OtterWebhook]:
    """The deliveries the receiver accepted, parsed."""
    return [parse_webhook(r.body) for r in receiver.accepted()]


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver("/webhooks/otter", check=verified_by()) as hook:
        yield hook


# ---- API ------------------------------------------------------------------------------------


async def test_wrong_key_is_401(otter: OtterStandIn, http: httpx.AsyncClient) -> None:
    client = otter_client(http, otter, api_key="wrong")

    with pytest.raises(AuthenticationFailed):
        await client.get_workspace()
    response = await http.get(f"{otter.api_url}/workspace")
    assert response.status_code == 401


async def test_own_conversations_most_recent_first(client: OtterClient) -> None:
    page = await client.list_conversations()

    assert [c.id for c in page.data] == [DESIGN_REVIEW_ID, PRODUCT_SYNC_ID]
    assert page.meta.has_more is False and page.meta.next_cursor is None
    assert page.data[0].action_items is None  # lists carry no relationships


async def test_paging_through_shared_conversations(
    client: OtterClient, otter: OtterStandIn
) -> None:
    ids = [c.id async for c in client.iter_conversations(include_shared=True, limit=1)]

    assert ids == [DESIGN_REVIEW_ID, PRODUCT_SYNC_ID, ACME_CALL_ID]
    cursors = [call.query.get("cursor") for call in otter.calls_to("/v1/conversations")]
    assert cursors[0] is None and len(set(cursors)) == 3


async def test_paging_survives_new_conversations(client: OtterClient, otter: OtterStandIn) -> None:
    first = await client.list_conversations(include_shared=True, limit=2)
    otter.add_conversation("Arrived meanwhile")
    second = await client.list_conversations(
        include_shared=True, limit=2, cursor=first.meta.next_cursor
    )

    assert [c.id for c in first.data + second.data] == [
        DESIGN_REVIEW_ID,
        PRODUCT_SYNC_ID,
        ACME_CALL_ID,
    ]


async def test_channel_filter(client: OtterClient) -> None:
    channels = await client.list_channels()
    by_name = {c.name: c.id for c in channels}

    page = await client.list_conversations(channel_id=by_name["All customer calls"])

    assert [c.name for c in channels] == ["All customer calls", "Product team"]
    assert [c.id for c in page.data] == [ACME_CALL_ID]
    with pytest.raises(NotFound, match="Channel not found"):
        await client.list_conversations(channel_id="ch_nope")


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=ten",
        "cursor=%%%",
        "cursor=bm9waXBl",
        "include_shared=maybe",
    ],
)
async def test_bad_list_parameters_are_400(otter: OtterStandIn, http, query) -> None:
    response = await http.get(
        f"{otter.api_url}/conversations?{query}",
        headers={"Authorization": f"Bearer {SANDBOX_API_KEY}"},
    )

    assert response.status_code == 400
    assert response.json()["error"]


async def test_the_references_example_query_with_empty_values(otter: OtterStandIn, http) -> None:
    response = await http.get(
        f"{otter.api_url}/conversations?include_shared=false&channel_id=&limit=20&cursor=",
        headers={"Authorization": f"Bearer {SANDBOX_API_KEY}"},
    )

    assert response.status_code == 200
    assert len(response.json()["data"]) == 2


async def test_only_requested_relationships_are_returned(otter: OtterStandIn, http) -> None:
    async def relationships(include: str | None) -> Any:
        params = {"include": include} if include is not None else {}
        response = await http.get(
            f"{otter.api_url}/conversations/{PRODUCT_SYNC_ID}",
            params=params,
            headers={"Authorization": f"Bearer {SANDBOX_API_KEY}"},
        )
        assert response.status_code == 200
        return response.json()["data"].get("relationships")

    assert set(await relationships("action_items")) == {"action_items"}
    assert set(await relationships("insights,transcript")) == {"insights", "transcript"}
    assert set(await relationships("all")) == {
        "action_items",
        "insights",
        "outlines",
        "transcript",
        "custom_prompt",
    }
    assert await relationships(None) is None


async def test_unknown_include_is_400(client: OtterClient) -> None:
    with pytest.raises(BadRequest, match="unknown include"):
        await client.get_conversation(PRODUCT_SYNC_ID, ["action_items", "sentiment"])


async def test_seeded_product_sync(client: OtterClient) -> None:
    c = await client.get_conversation(PRODUCT_SYNC_ID, "all")

    assert c.ready and c.abstract_summary
    assert c.url == f"https://otter.ai/u/{PRODUCT_SYNC_ID}"
    emails = {item.assignee_email for item in c.action_items or []}
    assert emails == SLACK_PEOPLE
    assert [item.completed for item in c.action_items or []] == [False, False, False, True]
    assert c.insights and c.outline and len(c.outline) == 4
    assert c.transcript is not None and len(c.transcript.segments) > 25
    assert set(c.speakers) == {"Ada Lovelace", "Grace Hopper", "Alan Turing"}
    assert c.shared_channels[0].channel is not None


async def test_processing_conversation_has_null_statuses(client: OtterClient) -> None:
    c = await client.get_conversation(DESIGN_REVIEW_ID, "all")

    assert not c.ready
    assert c.process_status.abstract_summary is None
    assert c.process_status.action_item is None and c.process_status.outline is None
    assert c.abstract_summary is None
    assert c.action_items == [] and c.insights == [] and c.outline == []
    assert c.transcript is not None and c.transcript.segments


async def test_legacy_shapes_parse_the_same(http: httpx.AsyncClient) -> None:
    async with OtterStandIn(requests_per_second=None, legacy_shapes=True) as otter:
        assert isinstance(otter, OtterStandIn)
        raw = await http.get(
            f"{otter.api_url}/conversations/{PRODUCT_SYNC_ID}?include=all",
            headers={"Authorization": f"Bearer {SANDBOX_API_KEY}"},
        )
        client = otter_client(http, otter)
        c = await client.get_conversation(PRODUCT_SYNC_ID, "all")

    relationships = raw.json()["data"]["relationships"]
    assert "outline" in relationships and "outlines" not in relationships
    assert isinstance(relationships["insights"][0]["text"][0], list)
    assert c.outline is not None and len(c.outline) == 4
    assert c.insights is not None
    assert c.insights[0].text == [
        "Ship the redesigned digest on Thursday behind a feature flag.",
        "Keep the old digest format for two weeks as a fallback.",
    ]


async def test_unknown_ids_are_404(client: OtterClient) -> None:
    with pytest.raises(NotFound):
        await client.get_conversation("nope")
    with pytest.raises(NotFound):
        await client.get_audio("nope")


async def test_audio_link_downloads(client: OtterClient, http: httpx.AsyncClient) -> None:
    link = await client.get_audio(ACME_CALL_ID)

    audio = await http.get(link.url)

    assert audio.status_code == 200
    assert audio.headers["Content-Type"] == "audio/mpeg"
    assert audio.content.startswith(b"ID3")


async def test_workspace(client: OtterClient) -> None:
    workspace = await client.get_workspace()

    assert workspace.id == "42" and workspace.type == "business"


async def test_import_creates_a_processing_conversation(client: OtterClient) -> None:
    result = await client.create_conversation(
        "https://files.example.com/calls/dialer-0412.mp3", name="Dialer call"
    )
    page = await client.list_conversations(limit=1)

    assert result.ok and result.file == "dialer-0412.mp3" and result.completed_at
    assert page.data[0].title == "Dialer call" and not page.data[0].ready


async def test_import_without_a_file_url_is_400(client: OtterClient) -> None:
    with pytest.raises(BadRequest, match="file"):
        await client.create_conversation("not a url")


async def test_huge_conversation_round_trip(client: OtterClient, otter: OtterStandIn) -> None:
    conversation_id = otter.add_record(huge_conversation())

    c = await client.get_conversation(conversation_id, "all")

    assert len(c.action_items or []) == 120
    assert len(c.outline or []) == 40
    assert c.transcript is not None and len(c.transcript.content.encode()) >= 200_000
    assert {item.assignee_email for item in c.action_items or []} == SLACK_PEOPLE
    assert huge_conversation(5, 2, 1000) == huge_conversation(5, 2, 1000)


# ---- rate limit -----------------------------------------------------------------------------


async def test_eleventh_request_in_a_second_is_429_without_retry_after(http) -> None:
    time = FakeTime(now=5_000.0)
    async with OtterStandIn(clock=time.clock) as otter:
        auth = {"Authorization": f"Bearer {SANDBOX_API_KEY}"}
        statuses = [
            (await http.get(f"{otter.url}/v1/workspace", headers=auth)).status_code
            for _ in range(10)
        ]
        throttled = await http.get(f"{otter.url}/v1/workspace", headers=auth)
        time.now += 0.5
        still = await http.get(f"{otter.url}/v1/workspace", headers=auth)
        time.now += 0.5
        again = await http.get(f"{otter.url}/v1/workspace", headers=auth)

    assert statuses == [200] * 10
    assert throttled.status_code == 429 and "Retry-After" not in throttled.headers
    assert still.status_code == 429
    assert again.status_code == 200


async def test_client_backs_off_through_429s(http) -> None:
    time = FakeTime(now=5_000.0)
    otter = OtterStandIn(clock=time.clock)
    async with otter:
        client = otter_client(http, otter, sleep=time.sleep, retry=RetryPolicy(attempts=6))
        for _ in range(15):
            await client.get_workspace()
        statuses = [call.status for call in otter.calls]

    assert statuses.count(200) == 15
    assert statuses.count(429) >= 1
    assert time.sleeps and all(delay > 0 for delay in time.sleeps)


async def test_default_pacing_stays_under_the_limit(http) -> None:
    time = FakeTime(now=5_000.0)
    otter = OtterStandIn(clock=time.clock)
    async with otter:
        limiter = otter_rate_limiter(clock=time.clock, sleep=time.sleep)
        client = otter_client(http, otter, limiter=limiter, sleep=time.sleep)
        for _ in range(30):
            await client.get_workspace()
        statuses = [call.status for call in otter.calls]

    assert statuses == [200] * 30


# ---- webhooks -------------------------------------------------------------------------------


async def test_finish_processing_sends_a_signed_completion_webhook(
    otter: OtterStandIn, client: OtterClient, receiver: WebhookReceiver
) -> None:
    receiver.check = verified_by(secret="otter-hook-secret")
    otter.configure_webhook(receiver.url, hmac_secret="otter-hook-secret")

    deliveries = await otter.finish_processing(DESIGN_REVIEW_ID)

    assert [d.status for d in deliveries] == [200]
    [hook] = accepted_hooks(receiver)
    assert hook.raw_event == "conversation_completed" and hook.is_completed
    assert hook.data.id == DESIGN_REVIEW_ID and hook.data.ready
    assert hook.data.abstract_summary and hook.data.abstract_summary.startswith("The review")
    assert [a.assignee_email for a in hook.data.action_items or []] == [
        "alan@example.com",
        "grace@example.com",
    ]
    assert hook.data.outline and hook.data.insights and hook.data.transcript
    assert hook.meta.webhook is not None and hook.meta.webhook.destination_url == receiver.url
    # The API now agrees with the webhook.
    fetched = await client.get_conversation(DESIGN_REVIEW_ID, "all")
    assert fetched.ready and fetched.abstract_summary == hook.data.abstract_summary


async def test_documented_body_shape(otter: OtterStandIn, receiver: WebhookReceiver) -> None:
    receiver.check = verified_by(secret="s")
    otter.configure_webhook(receiver.url, hmac_secret="s")

    await otter.finish_processing(DESIGN_REVIEW_ID)

    body = json.loads(receiver.accepted()[0].body)
    assert set(body) == {"meta", "data"}
    assert set(body["meta"]["webhook"]) == {
        "name",
        "source_type",
        "event",
        "destination_url",
        "created_by",
        "source",
    }
    assert body["meta"]["webhook"]["source_type"] == "channel"
    assert "channel" in body["meta"]["webhook"]["source"]
    assert {"abstract_summary", "action_items", "insights", "outline", "transcript"} <= set(
        body["data"]
    )
    assert "relationships" not in body["data"]


async def test_same_webhook_several_times(otter: OtterStandIn, receiver: WebhookReceiver) -> None:
    receiver.check = verified_by(secret="s")
    otter.configure_webhook(receiver.url, hmac_secret="s", encoding="base64")

    deliveries = await otter.finish_processing(DESIGN_REVIEW_ID, deliveries=3)

    assert [d.status for d in deliveries] == [200, 200, 200]
    assert len({hook.delivery_key for hook in accepted_hooks(receiver)}) == 1
    assert len(accepted_hooks(receiver)) == 3
    signature = deliveries[0].headers["X-HMAC-SHA256"]
    assert len(base64.b64decode(signature, validate=True)) == 32


async def test_bearer_webhook(otter: OtterStandIn, receiver: WebhookReceiver) -> None:
    receiver.check = verified_by(bearer="tok-123")
    otter.configure_webhook(receiver.url, bearer="tok-123")

    [delivery] = await otter.finish_processing(PRODUCT_SYNC_ID)

    assert delivery.status == 200
    assert "X-HMAC-SHA256" not in delivery.headers
    assert accepted_hooks(receiver)[0].data.id == PRODUCT_SYNC_ID


async def test_receiver_with_another_secret_refuses(
    otter: OtterStandIn, receiver: WebhookReceiver
) -> None:
    receiver.check = verified_by(secret="the-right-one")
    otter.configure_webhook(receiver.url, hmac_secret="an-old-one")

    [delivery] = await otter.finish_processing(DESIGN_REVIEW_ID)

    assert delivery.status == 401
    assert accepted_hooks(receiver) == [] and receiver.refused()


async def test_receiver_without_a_secret_refuses(
    otter: OtterStandIn, receiver: WebhookReceiver
) -> None:
    otter.configure_webhook(receiver.url, hmac_secret="s")

    [delivery] = await otter.finish_processing(DESIGN_REVIEW_ID)

    assert delivery.status == 401
    assert "no Otter webhook secret" in receiver.refused()[0].error


async def test_unknown_event_is_delivered_and_reported(
    otter: OtterStandIn, receiver: WebhookReceiver
) -> None:
    receiver.check = verified_by(secret="s")
    otter.configure_webhook(receiver.url, hmac_secret="s", event="conversation.shared")

    await otter.deliver_webhook(ACME_CALL_ID)

    [hook] = accepted_hooks(receiver)
    assert hook.event == "conversation_shared" and not hook.is_known_event


async def test_unreachable_receiver_is_recorded(otter: OtterStandIn) -> None:
    otter.configure_webhook("http://127.0.0.1:9/webhooks/otter", hmac_secret="s")

    [delivery] = await otter.finish_processing(DESIGN_REVIEW_ID)

    assert delivery.status is None
    assert otter.conversations[DESIGN_REVIEW_ID]["process_status"]["outline"] == "finished"


async def test_finish_without_webhook_only_updates_state(
    otter: OtterStandIn, client: OtterClient
) -> None:
    conversation_id = otter.add_conversation("Quick chat", transcript=[("Ada Lovelace", "Hi.")])

    assert await otter.finish_processing(conversation_id) == []
    c = await client.get_conversation(conversation_id)
    assert c.ready and c.abstract_summary and c.abstract_summary.startswith("Quick chat")


# ---- control endpoints ----------------------------------------------------------------------


async def test_control_endpoints(otter: OtterStandIn, receiver: WebhookReceiver, http) -> None:
    receiver.check = verified_by(secret="panel-secret")
    control = f"{otter.url}/_sandbox/otter"
    http.headers.update(otter.lock.headers())  # as the sandbox page's proxy sends them

    configured = await http.post(
        f"{control}/webhook", json={"url": receiver.url, "hmac_secret": "panel-secret"}
    )
    added = await http.post(
        f"{control}/conversations",
        json={
            "title": "Panel meeting",
            "summary": "Added from the panel.",
            "action_items": [{"text": "Ship it", "assignee_email": "grace@example.com"}],
            "transcript": [["Grace Hopper", "Let's ship it."]],
        },
    )
    conversation_id = added.json()["id"]
    finished = await http.post(f"{control}/conversations/{conversation_id}/finish", json={})
    listed = await http.get(f"{control}/conversations")
    deliveries = await http.get(f"{control}/deliveries")
    bad = await http.post(f"{control}/conversations", json={"summary": "no title"})

    assert configured.status_code == 200 and configured.json()["hmac_secret"] is True
    assert "panel-secret" not in configured.text
    assert added.status_code == 201
    assert finished.json()["deliveries"][0]["status"] == 200
    [hook] = accepted_hooks(receiver)
    assert hook.data.title == "Panel meeting"
    assert hook.data.abstract_summary == "Added from the panel."
    assert [a.assignee_email for a in hook.data.action_items or []] == ["grace@example.com"]
    rows = {row["id"]: row for row in listed.json()["conversations"]}
    assert rows[conversation_id]["ready"] is True and rows[DESIGN_REVIEW_ID]["ready"] is False
    assert len(deliveries.json()["deliveries"]) == 1
    assert bad.status_code == 400
    assert not [call for call in otter.calls if call.path.startswith("/_sandbox")]


async def test_control_finish_unknown_is_404(otter: OtterStandIn, http) -> None:
    response = await http.post(
        f"{otter.url}/_sandbox/otter/conversations/nope/finish",
        json={},
        headers=otter.lock.headers(),
    )

    assert response.status_code == 404


def test_seeded_meetings_last_as_long_as_what_they_say(otter: OtterStandIn) -> None:
    # A digest shows how long a meeting lasted: a design review of 11 seconds cannot be true.
    for conversation_id, record in otter.conversations.items():
        turns = parse_transcript(record["relationships"]["transcript"]["content"])
        assert len(turns) >= 6, conversation_id
        assert (turns[-1].start or 0) >= 60, conversation_id
