"""The Claritalk stand-in driven over real loopback HTTP by the providers.claritalk package."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from providers.claritalk import (
    ClaritalkClient,
    ClientCredentials,
    ConnectionLapsed,
    DesktopClientOffline,
    MeetingProcessed,
    MeetingStatusChanged,
    PersonalAccessToken,
    Token,
    UserTokenSource,
    authorize_url,
    decode_pdf,
    exchange_code,
    parse_webhook,
    refresh,
    verify_request,
)
from providers.claritalk.models import ClaritalkUser
from providers.errors import AuthenticationFailed, BadRequest
from providers.http import RetryPolicy
from sandbox.claritalk import ClaritalkStandIn, build_pdf_report
from tests.conftest import FakeTime
from tests.sandbox.conftest import Check, Received, WebhookReceiver

CALLBACK = "http://127.0.0.1:9/claritalk/callback"
WEBHOOK_SECRET = "sandbox-webhook-token"
DAY = 24 * 3600.0


def verified_by(hmac_secret: str | None = None) -> Check:
    """Debrief's check of a delivery: the URL token, or the HMAC signature if there is a key."""

    def check(request: Received) -> None:
        verify_request(
            request.query.get("token"),
            request.headers,
            request.body,
            token_secret=None if hmac_secret else WEBHOOK_SECRET,
            hmac_secret=hmac_secret,
        )
        parse_webhook(request.body)

    return check


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime(now=1_736_935_200.0)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    path = f"/webhooks/claritalk?token={WEBHOOK_SECRET}"
    async with WebhookReceiver(path, check=verified_by()) as hook:
        yield hook


@pytest.fixture
async def standin(clock: FakeTime) -> AsyncIterator[ClaritalkStandIn]:
    server = ClaritalkStandIn(redirect_uris=[CALLBACK], clock=clock, page_size=2)
    await server.start()
    yield server
    await server.stop()


async def _no_sleep(seconds: float) -> None:
    return None


class Storage:
    def __init__(self, token: Token | None = None) -> None:
        self.token = token

    async def load(self) -> Token | None:
        return self.token

    async def save(self, token: Token) -> None:
        self.token = token


async def _authorize(
    http: httpx.AsyncClient, standin: ClaritalkStandIn, **overrides: str
) -> httpx.Response:
    params = {
        "client_id": standin.client_id,
        "redirect_uri": CALLBACK,
        "state": "st-1",
        **overrides,
    }
    url = authorize_url(
        params["client_id"],
        params["redirect_uri"],
        params["state"],
        params.get("scope", "api.connect offline_access"),
        base_url=standin.url,
    )
    return await http.get(url)


async def _connect(http: httpx.AsyncClient, standin: ClaritalkStandIn, clock: FakeTime) -> Token:
    redirected = await _authorize(http, standin)
    code = parse_qs(urlsplit(redirected.headers["Location"]).query)["code"][0]
    return await exchange_code(
        http,
        code,
        CALLBACK,
        standin.client_id,
        standin.client_secret,
        base_url=standin.url,
        clock=clock,
    )


def _user_source(
    http: httpx.AsyncClient, standin: ClaritalkStandIn, storage: Storage, clock: FakeTime
) -> UserTokenSource:
    return UserTokenSource(
        http,
        load=storage.load,
        save=storage.save,
        client_id=standin.client_id,
        client_secret=standin.client_secret,
        base_url=standin.url,
        clock=clock,
    )


def _client(http: httpx.AsyncClient, standin: ClaritalkStandIn, source: Any) -> ClaritalkClient:
    return ClaritalkClient(
        http,
        token_source=source,
        base_url=standin.url,
        sleep=_no_sleep,
        retry=RetryPolicy(attempts=2),
    )


async def test_connect_register_and_receive_a_processed_meeting(
    http: httpx.AsyncClient, standin: ClaritalkStandIn, receiver: WebhookReceiver, clock: FakeTime
) -> None:
    storage = Storage(await _connect(http, standin, clock))
    client = _client(http, standin, _user_source(http, standin, storage, clock))

    me = await client.current_user()
    await client.register_webhook(receiver.url)
    delivery = await standin.process_meeting("Quarterly planning")

    assert (me.name, me.email) == ("Ada Lovelace", "ada@example.com")
    assert standin.webhook_url == receiver.url
    assert delivery.status == 200, delivery.response
    (got,) = receiver.requests
    assert got.query == {"token": WEBHOOK_SECRET}
    event = parse_webhook(got.body)
    meeting = event.data
    assert isinstance(meeting, MeetingProcessed)
    assert meeting.title == "Quarterly planning" and meeting.user_id == "usr-ada"
    assert [t.assignee.email if t.assignee else None for t in meeting.todos] == [
        "ada@example.com",
        "grace@example.com",
        None,
    ]
    assert all(theme.questions for theme in meeting.themes)
    assert meeting.discussion_topics[0].points
    report = decode_pdf(meeting.files)
    assert report.ok and report.filename == "quarterly-planning-summary-report.pdf"
    assert report.content is not None and b"(Quarterly planning) Tj" in report.content
    # The API now lists it for its owner.
    assert [m.meeting_id async for m in client.iter_meetings()] == [meeting.meeting_id]


async def test_authorize_redirects_with_code_and_state_and_codes_are_single_use(
    http: httpx.AsyncClient, standin: ClaritalkStandIn, clock: FakeTime
) -> None:
    redirected = await _authorize(http, standin)

    assert redirected.status_code == 302
    location = urlsplit(redirected.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"] and query["code"][0]
    args = (query["code"][0], CALLBACK, standin.client_id, standin.client_secret)
    await exchange_code(http, *args, base_url=standin.url)
    with pytest.raises(AuthenticationFailed, match="invalid_grant"):
        await exchange_code(http, *args, base_url=standin.url)


async def test_authorize_refuses_unknown_clients_and_unregistered_redirects(
    http: httpx.AsyncClient, standin: ClaritalkStandIn
) -> None:
    wrong_client = await _authorize(http, standin, client_id="someone-else")
    wrong_redirect = await _authorize(http, standin, redirect_uri="http://evil.test/cb")
    standin.deny_authorization = True
    denied = await _authorize(http, standin)
    no_scope = await _authorize(http, standin, scope="profile")

    assert wrong_client.status_code == 401 and "Location" not in wrong_client.headers
    assert wrong_redirect.status_code == 400 and "Location" not in wrong_redirect.headers
    assert parse_qs(urlsplit(no_scope.headers["Location"]).query)["error"] == ["invalid_scope"]
    assert parse_qs(urlsplit(denied.headers["Location"]).query)["error"] == ["access_denied"]


async def test_access_tokens_lapse_after_an_hour_and_are_refreshed_and_rotated(
    http: httpx.AsyncClient, standin: ClaritalkStandIn, clock: FakeTime
) -> None:
    first = await _connect(http, standin, clock)
    storage = Storage(first)
    client = _client(http, standin, _user_source(http, standin, storage, clock))
    await client.current_user()

    clock.now += 3601
    stale = await http.get(
        f"{standin.url}/api/user", headers={"Authorization": f"Bearer {first.access_token}"}
    )
    user = await client.current_user()

    assert stale.status_code == 401 and stale.json() == {"message": "Unauthenticated."}
    assert user.email == "ada@example.com"
    assert storage.token is not None and storage.token.refresh_token != first.refresh_token
    assert first.refresh_token is not None
    with pytest.raises(ConnectionLapsed):
        await refresh(
            http,
            first.refresh_token,
            standin.client_id,
            standin.client_secret,
            base_url=standin.url,
        )


async def test_refresh_tokens_last_seven_days_since_their_last_use(
    http: httpx.AsyncClient, standin: ClaritalkStandIn, clock: FakeTime
) -> None:
    token = await _connect(http, standin, clock)
    creds = (standin.client_id, standin.client_secret)
    assert token.refresh_token is not None

    clock.now += 6 * DAY
    token = await refresh(http, token.refresh_token, *creds, base_url=standin.url, clock=clock)
    clock.now += 6 * DAY  # 12 days after connecting, 6 after the last use
    token = await refresh(
        http, token.refresh_token or "", *creds, base_url=standin.url, clock=clock
    )
    clock.now += 7 * DAY + 1

    with pytest.raises(ConnectionLapsed, match="connect Claritalk again") as lapsed:
        await refresh(http, token.refresh_token or "", *creds, base_url=standin.url)
    assert lapsed.value.body["hint"] == "Token has expired"  # type: ignore[index]


async def test_without_offline_access_there_is_no_refresh_token(
    http: httpx.AsyncClient, standin: ClaritalkStandIn
) -> None:
    redirected = await _authorize(http, standin, scope="api.connect")
    code = parse_qs(urlsplit(redirected.headers["Location"]).query)["code"][0]
    token = await exchange_code(
        http, code, CALLBACK, standin.client_id, standin.client_secret, base_url=standin.url
    )
    assert token.refresh_token is None and token.expires_in == 3600


async def test_a_service_account_sees_the_whole_organisation(
    http: httpx.AsyncClient, standin: ClaritalkStandIn, receiver: WebhookReceiver, clock: FakeTime
) -> None:
    standin.webhook_url = receiver.url
    await standin.process_meeting("Ada's", owner="ada@example.com")
    await standin.process_meeting("Grace's", owner="grace@example.com")
    await standin.process_meeting("Ada's again", owner="ada@example.com")
    service = ClientCredentials(
        http, "svc-sandbox", "svc-secret", base_url=standin.url, clock=clock
    )
    ada = PersonalAccessToken("ctk-pat-ada-sandbox")

    everything = [m.title async for m in _client(http, standin, service).iter_meetings()]
    own = [m.title async for m in _client(http, standin, ada).iter_meetings()]

    assert everything == ["Ada's", "Grace's", "Ada's again"]  # across two pages of 2
    assert own == ["Ada's", "Ada's again"]
    with pytest.raises(AuthenticationFailed, match="service account"):
        await ClientCredentials(http, "svc-sandbox", "nope", base_url=standin.url).token()


async def test_a_revoked_pat_is_refused(http: httpx.AsyncClient, standin: ClaritalkStandIn) -> None:
    pat = standin.create_personal_access_token("grace@example.com")
    client = _client(http, standin, PersonalAccessToken(pat))
    assert (await client.current_user()).email == "grace@example.com"

    assert standin.revoke(pat)

    with pytest.raises(AuthenticationFailed, match="reconnect Claritalk"):
        await client.current_user()


async def test_desktop_offline_is_a_503_the_client_names(
    http: httpx.AsyncClient, standin: ClaritalkStandIn, receiver: WebhookReceiver
) -> None:
    standin.webhook_url = receiver.url
    delivery = await standin.process_meeting()
    meeting_id = delivery.json["data"]["meetingId"]
    client = _client(http, standin, PersonalAccessToken("ctk-pat-ada-sandbox"))
    assert (await client.get_meeting(meeting_id)).meeting_id == meeting_id

    standin.set_desktop_connected(False)

    with pytest.raises(DesktopClientOffline):
        await client.get_meeting(meeting_id)
    assert [c.status for c in standin.calls_to(f"/api/meetings/{meeting_id}")] == [200, 503]


async def test_webhook_registration_validates_the_url(
    http: httpx.AsyncClient, standin: ClaritalkStandIn
) -> None:
    client = _client(http, standin, PersonalAccessToken("ctk-pat-ada-sandbox"))
    with pytest.raises(BadRequest, match="webhook_url: The webhook url field must be a valid URL"):
        await client.register_webhook("not a url")
    unauthenticated = await http.post(
        f"{standin.url}/api/client/webhook", json={"webhook_url": "http://x"}
    )
    assert unauthenticated.status_code == 401


async def test_a_corrupt_pdf_is_delivered_and_reported_by_decode_pdf(
    standin: ClaritalkStandIn, receiver: WebhookReceiver
) -> None:
    standin.webhook_url = receiver.url
    await standin.process_meeting(corrupt_pdf=True)
    await standin.process_meeting(with_pdf=False)

    corrupt, missing = (parse_webhook(r.body).data for r in receiver.requests)
    assert isinstance(corrupt, MeetingProcessed) and isinstance(missing, MeetingProcessed)
    assert decode_pdf(corrupt.files).reason == "the PDF report is truncated"
    assert decode_pdf(missing.files).reason == "the meeting has no PDF report"


async def test_status_changes_and_new_users_are_delivered(
    standin: ClaritalkStandIn, receiver: WebhookReceiver
) -> None:
    standin.webhook_url = receiver.url
    meeting_id = (await standin.process_meeting()).json["data"]["meetingId"]

    await standin.change_status(meeting_id, "Archived")
    await standin.create_user("Katherine Johnson", "katherine@example.com")

    status, user = (parse_webhook(r.body) for r in receiver.requests[1:])
    assert isinstance(status.data, MeetingStatusChanged)
    assert (status.data.meeting_id, status.data.status) == (meeting_id, "Archived")
    assert isinstance(user.data, ClaritalkUser) and user.data.email == "katherine@example.com"
    assert status.idempotency_key != parse_webhook(receiver.requests[0].body).idempotency_key


async def test_signed_deliveries_verify_by_hmac(receiver: WebhookReceiver, clock: FakeTime) -> None:
    receiver.check = verified_by(hmac_secret="shared-hmac-key")
    async with ClaritalkStandIn(webhook_hmac_secret="shared-hmac-key", clock=clock) as signed:
        assert isinstance(signed, ClaritalkStandIn)
        signed.webhook_url = receiver.url.split("?")[0]  # no URL token: the signature must do
        delivery = await signed.process_meeting()
    assert delivery.status == 200, delivery.response
    assert "X-Claritalk-Signature" in receiver.requests[0].headers


async def test_control_endpoints_drive_the_stand_in_without_being_recorded(
    http: httpx.AsyncClient, standin: ClaritalkStandIn, receiver: WebhookReceiver
) -> None:
    base = f"{standin.url}/_sandbox/claritalk"
    http.headers.update(standin.lock.headers())  # as the sandbox page's proxy sends them
    no_hook = await http.post(f"{base}/meetings", json={"title": "Early"})
    await http.post(f"{base}/webhook", json={"url": receiver.url})
    processed = (await http.post(f"{base}/meetings", json={"title": "Retro"})).json()
    moved = await http.post(
        f"{base}/meetings/{processed['meeting_id']}/status", json={"status": "Archived"}
    )
    offline = (await http.post(f"{base}/desktop", json={"connected": False})).json()
    user = (
        await http.post(f"{base}/users", json={"name": "Alan Turing", "email": "alan@example.com"})
    ).json()
    state = (await http.get(f"{base}/state")).json()

    assert no_hook.status_code == 409
    assert processed["status"] == 200 and processed["event"] == "meeting.processed"
    assert moved.status_code == 200
    assert offline == {"desktop_connected": False}
    assert user["delivery"]["status"] == 200
    assert state["webhook_url"] == receiver.url.split("?")[0]  # the token stays secret
    assert [d["event"] for d in state["deliveries"]] == [
        "meeting.processed",
        "meeting.status.changed",
        "users.created",
    ]
    assert standin.calls == []


def test_the_report_pdf_is_structurally_valid() -> None:
    pdf = build_pdf_report("Title (with) \\ parens", ["line one", "ünïcode"])
    xref_at = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    offsets = [int(line[:10]) for line in pdf[xref_at:].split(b"\n")[3:8]]
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert [pdf[o:].split(b"\n")[0] for o in offsets] == [b"%d 0 obj" % n for n in range(1, 6)]
    assert b"(Title \\(with\\) \\\\ parens) Tj" in pdf
    assert json.loads(json.dumps(base64.b64encode(pdf).decode()))  # travels in JSON
