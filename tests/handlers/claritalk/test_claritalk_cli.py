"""`debrief rotate-keys` and `debrief claritalk register-webhook`."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.cli import rotate_keys
from bot.crypto import SecretBox
from bot.store.db import create_engine, create_sessionmaker, transaction
from bot.store.models import StoredSecret
from bot.store.secrets import put_secret
from handlers.claritalk.plugin import claritalk_register_webhook
from providers.claritalk import EVENTS
from sandbox.claritalk import ClaritalkStandIn
from tests.conftest import make_settings
from tests.handlers.claritalk.support import START

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
PAT = "ctk-pat-for-the-cli"


async def rows(database_url: str) -> dict[str, str]:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            found = await session.execute(select(StoredSecret))
            return {row.name: row.ciphertext for row in found.scalars()}
    finally:
        await engine.dispose()


async def store_secrets(database_url: str, key: str, values: dict[str, str]) -> None:
    engine = create_engine(database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            for name, value in values.items():
                await put_secret(session, SecretBox([key]), name, value, START)
    finally:
        await engine.dispose()


async def test_rotate_keys_re_encrypts_everything_with_the_newest_key(database_url: str) -> None:
    secrets = {"claritalk.user.U0ADA": '{"access_token": "a"}', "other.secret": "b"}
    await store_secrets(database_url, OLD, secrets)
    before = await rows(database_url)
    out = io.StringIO()
    settings = make_settings(database_url=database_url, encryption_keys=f"{NEW},{OLD}")
    assert await rotate_keys(settings, out) == 0
    assert "re-encrypted 2 stored secret(s)" in out.getvalue()
    after = await rows(database_url)
    newest_only = SecretBox([NEW])
    assert {name: newest_only.decrypt(c) for name, c in after.items()} == secrets
    assert all(after[name] != before[name] for name in secrets)


async def test_rotate_keys_changes_nothing_when_a_secret_is_unreadable(database_url: str) -> None:
    await store_secrets(database_url, OLD, {"a": "1"})
    await store_secrets(database_url, NEW, {"b": "2"})
    before = await rows(database_url)
    out = io.StringIO()
    settings = make_settings(database_url=database_url, encryption_keys=NEW)
    assert await rotate_keys(settings, out) == 1
    assert "'a' cannot be decrypted" in out.getvalue()
    assert await rows(database_url) == before


async def test_rotate_keys_needs_a_key(sqlite_url: str) -> None:
    out = io.StringIO()
    assert await rotate_keys(make_settings(database_url=sqlite_url), out) == 1
    assert "DEBRIEF_ENCRYPTION_KEYS is not set" in out.getvalue()
    out = io.StringIO()
    assert await rotate_keys(make_settings(encryption_keys="not-a-key"), out) == 1
    assert "must be Fernet keys" in out.getvalue()


@pytest.fixture
async def claritalk() -> AsyncIterator[ClaritalkStandIn]:
    stand_in = ClaritalkStandIn(
        personal_access_tokens={PAT: "ada@example.com"},
        service_accounts={"svc-debrief": "svc-secret"},
    )
    async with stand_in:
        yield stand_in


@pytest.mark.parametrize("credential", ["pat", "service-account"])
async def test_register_webhook(claritalk: ClaritalkStandIn, credential: str) -> None:
    auth = (
        {"claritalk_token": PAT}
        if credential == "pat"
        else {"claritalk_client_id": "svc-debrief", "claritalk_client_secret": "svc-secret"}
    )
    settings = make_settings(
        public_url="https://debrief.example.com/",
        claritalk_api_url=claritalk.url,
        claritalk_webhook_secret="url-token-s3cret",
        **auth,
    )
    out = io.StringIO()
    assert await claritalk_register_webhook(settings, out) == 0
    assert claritalk.webhook_url == (
        "https://debrief.example.com/webhooks/claritalk?token=url-token-s3cret"
    )
    assert claritalk.webhook_events == list(EVENTS)
    assert "registered https://debrief.example.com/webhooks/claritalk" in out.getvalue()
    assert "s3cret" not in out.getvalue()
    grants = [c.body for c in claritalk.calls_to("/oauth/token")]
    assert len(grants) == (0 if credential == "pat" else 1)
    assert all(b"grant_type=client_credentials" in grant for grant in grants)


async def test_register_webhook_says_what_is_missing_or_refused(
    claritalk: ClaritalkStandIn,
) -> None:
    out = io.StringIO()
    assert await claritalk_register_webhook(make_settings(), out) == 1
    assert "set CLARITALK_TOKEN" in out.getvalue()

    base = {"claritalk_api_url": claritalk.url, "claritalk_token": PAT}
    out = io.StringIO()
    settings = make_settings(claritalk_webhook_secret="t", **base)
    assert await claritalk_register_webhook(settings, out) == 1
    assert "set PUBLIC_URL and CLARITALK_WEBHOOK_SECRET" in out.getvalue()

    claritalk.fail(
        "/api/client/webhook",
        status=422,
        body={"message": "Invalid.", "errors": {"webhook_url": ["The URL is not reachable."]}},
    )
    out = io.StringIO()
    settings = make_settings(
        public_url="https://debrief.example.com", claritalk_webhook_secret="t", **base
    )
    assert await claritalk_register_webhook(settings, out) == 1
    assert "(422): webhook_url: The URL is not reachable." in out.getvalue()

    out = io.StringIO()
    settings = make_settings(
        public_url="https://debrief.example.com",
        claritalk_webhook_secret="t",
        claritalk_api_url=claritalk.url,
        claritalk_token="revoked",
    )
    assert await claritalk_register_webhook(settings, out) == 1
    assert "refused Debrief's credentials (401)" in out.getvalue()
