"""A fifth provider that lives entirely in tests/: "Acme Notes", declared by one descriptor.

It has its own settings (``ACME_WEBHOOK_SECRET``, ``DEBRIEF_MAX_ACME_WEBHOOK_BYTES``), a client,
an HMAC-signed webhook route at ``/webhooks/acme``, and a job mapping each delivery into the
neutral ``Meeting`` and publishing it through the common path (routing rules, the digest
renderer, action items), its own routing target (``acme-folder:<name>``) and a sandbox stand-in
(``fake_standin.py``, beside it). Nothing outside tests/ knows of it: a test installs it by giving
the settings ``plugins=(*PROVIDERS, ACME)``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
from aiohttp import web
from pydantic import BaseModel, Field, SecretStr

from bot.budgets import SharedBudgets
from bot.config import Settings
from bot.jobs import JobRun
from bot.meetings import ActionItem, Meeting, Person
from bot.plugins import FolderRule, Probe, Provider, ProviderSettings, Toggle
from bot.services import Services
from handlers.routing import publish_digest
from handlers.webhooks import Delivery, webhook_handler
from handlers.wiring import Wiring
from providers.errors import InvalidSignature, MalformedPayload

NAME = "acme"
SIGNATURE = "X-Acme-Signature"
JOB_MEETING = "acme.meeting"


class AcmeSettings(ProviderSettings):
    acme_api_key: SecretStr | None = Field(None, alias="ACME_API_KEY")
    acme_webhook_secret: SecretStr | None = Field(None, alias="ACME_WEBHOOK_SECRET")
    max_acme_webhook_bytes: int = Field(64 * 1024, gt=0, alias="DEBRIEF_MAX_ACME_WEBHOOK_BYTES")


class AcmeClient:
    """Acme's API: nothing the flow needs but its key."""

    def __init__(self, http: httpx.AsyncClient, api_key: str) -> None:
        self.http = http
        self.api_key = api_key

    async def whoami(self) -> dict[str, Any]:
        return {"key": self.api_key[:4]}


class AcmeMeeting(BaseModel):
    id: str
    title: str
    summary: str
    host_email: str
    attendees: list[str] = Field(default_factory=list)
    todos: list[dict[str, str]] = Field(default_factory=list)
    #: The folder it was filed in, if any: routed by `/debrief route acme-folder:<name>`.
    folder: str | None = None


class MeetingJob(BaseModel):
    meeting: dict[str, Any]


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def parse(services: Services, request: web.Request, body: bytes) -> Delivery | None:
    secret = services.settings.secret("acme_webhook_secret")
    given = request.headers.get(SIGNATURE, "")
    if not secret or not hmac.compare_digest(given, sign(secret, body)):
        raise InvalidSignature("the Acme signature does not match")
    try:
        event = json.loads(body)
        if event.get("type") != "meeting.ready":
            return None
        meeting = AcmeMeeting.model_validate(event["meeting"])
    except (ValueError, KeyError, AttributeError) as exc:
        raise MalformedPayload("not an Acme event") from exc
    return Delivery(event["id"], event["type"], JOB_MEETING, {"meeting": meeting.model_dump()})


def to_meeting(meeting: AcmeMeeting) -> Meeting:
    return Meeting(
        provider=NAME,
        meeting_id=meeting.id,
        title=meeting.title,
        summary=meeting.summary,
        owner=Person(name=meeting.host_email.split("@")[0], email=meeting.host_email),
        participants=[Person(name=e.split("@")[0], email=e) for e in meeting.attendees],
        provider_channels=[meeting.folder] if meeting.folder else [],
        action_items=[
            ActionItem(text=t["text"], assignee_email=t.get("owner"), provider_id=t["id"])
            for t in meeting.todos
        ],
    )


async def job_meeting(services: Services, payload: MeetingJob, run: JobRun) -> None:
    await publish_digest(services, to_meeting(AcmeMeeting.model_validate(payload.meeting)))


def register(wiring: Wiring) -> None:
    wiring.jobs.add(JOB_MEETING, job_meeting, MeetingJob)
    wiring.routes.post(f"/webhooks/{NAME}")(webhook_handler(NAME, parse))


def build_client(
    settings: Settings, http: httpx.AsyncClient, budgets: SharedBudgets
) -> AcmeClient | None:
    key = settings.secret("acme_api_key")
    return AcmeClient(http, key) if key else None


def probe(settings: Settings, http: httpx.AsyncClient) -> tuple[str, Probe] | None:
    key = settings.secret("acme_api_key")
    return ("ACME_API_KEY", AcmeClient(http, key).whoami) if key else None


ACME: Provider[AcmeClient, AcmeSettings] = Provider(
    name=NAME,
    display_name="Acme Notes",
    settings=AcmeSettings,
    client=AcmeClient,
    build_client=build_client,
    not_set_up="Acme Notes is not set up on this Debrief yet.",
    register=register,
    webhook_limit="max_acme_webhook_bytes",
    toggles=(Toggle("Acme Notes", ("ACME_WEBHOOK_SECRET",), ("ACME_API_KEY",)),),
    probe=probe,
    folder_rule=FolderRule("acme-folder", "Acme folder name", "Acme Notes meetings in the folder"),
    # Its sandbox stand-in, beside it in tests/ (a reference: nothing the app runs imports it).
    stand_in="tests.plugins.fake_standin:AcmePlugin",
)
