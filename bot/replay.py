"""Refusal of replayed Slack requests.

Bolt refuses a request whose signature is wrong or whose timestamp is more than five minutes off;
inside that window the same signed bytes are authentic every time they are sent, so a captured
request could be sent again and acted on again. Here the signature of every authentic request is
remembered in the inbox table (provider ``slack``, the event id a hash of the signature), in the
database so that every process sees it, and a second arrival is refused before Bolt runs
anything.

Only authentic requests are remembered: the signature is checked first, exactly as Bolt checks it,
so a forged request is left to Bolt's own refusal and never fills the table.

Slack re-sends an Events API delivery that got no 2xx in time, marked ``X-Slack-Retry-Num``. Each
attempt is expected to be signed anew (the last retry comes about five minutes after the first
attempt, which a re-used timestamp would not survive Bolt's check), and is then no replay here.
Should a retry ever carry an earlier attempt's very signature, that attempt was received and
accepted: the retry is answered 200 "duplicate", so that Slack stops retrying, and nothing runs.
A request that Bolt answered with a 5xx is forgotten again, so that its retry is not refused.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.db import insert_ignore, transaction
from bot.store.models import InboxEvent

log = logging.getLogger(__name__)

PROVIDER = "slack"
KIND = "request"
#: Bolt's tolerance for ``X-Slack-Request-Timestamp``, either side of our clock (slack_sdk's).
WINDOW = timedelta(minutes=5)
#: How long a signature is remembered after its request was first seen. A signature stays valid
#: while its timestamp is within WINDOW of our clock on either side, so for up to 2 * WINDOW after
#: it is first seen; the rest is margin (a clock stepped back). The retention purge deletes them
#: (handlers/retention.py); one that runs late only refuses a stale request a second time.
RETENTION = 2 * WINDOW + timedelta(minutes=5)

TIMESTAMP = "x-slack-request-timestamp"
SIGNATURE = "x-slack-signature"
RETRY_NUM = "x-slack-retry-num"

#: Headers as Bolt holds them: lower-case names, each with its list of values.
Headers = Mapping[str, Sequence[str]]


class ReplayGuard:
    """Remembers authentic Slack requests by signature, in the database, for RETENTION."""

    def __init__(
        self,
        signing_secret: str,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
    ) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._sessions = sessions
        self._clock = clock

    def key(self, body: str, headers: Headers) -> str | None:
        """The SHA-256 of an authentic request's signature; None when Bolt will refuse it.

        The headers are read with Bolt's defaults and checked with Bolt's verifier, so that
        "authentic" here means what it means to Bolt.
        """
        timestamp = headers.get(TIMESTAMP, ["0"])[0]
        signature = headers.get(SIGNATURE, [""])[0]
        try:
            authentic = self._verifier.is_valid(body, timestamp, signature)
        except ValueError:  # a timestamp that is not a number: not authentic
            return None
        return replay_key(signature) if authentic else None

    async def claim(self, key: str) -> bool:
        """Remember ``key``; False when it was remembered already (the request is a replay)."""
        async with transaction(self._sessions) as session:
            return await insert_ignore(
                session,
                InboxEvent,
                {
                    "provider": PROVIDER,
                    "event_id": key,
                    "kind": KIND,
                    "received_at": self._clock(),
                },
            )

    async def release(self, key: str) -> None:
        """Forget ``key``: its request failed (5xx) before being acted on, and may come again."""
        async with transaction(self._sessions) as session:
            await session.execute(
                delete(InboxEvent).where(
                    InboxEvent.provider == PROVIDER, InboxEvent.event_id == key
                )
            )


def replay_key(signature: str) -> str:
    """What is remembered of an authentic request: the SHA-256 of its signature."""
    return hashlib.sha256(signature.encode()).hexdigest()


def answer_replay(key: str, headers: Headers) -> web.Response:
    """The answer to a replay: 401 with the reason, or 200 "duplicate" for a marked retry."""
    retry = headers.get(RETRY_NUM, [""])[0]
    stamp = headers.get(TIMESTAMP, [""])[0]
    if retry:
        log.warning(
            "Slack request dropped: retry %.8s of a request already accepted "
            "(timestamp %.16s, signature sha256 %s…)",
            retry,
            stamp,
            key[:12],
        )
        return web.json_response({"status": "duplicate"})
    log.warning(
        "Slack request refused: a replay of a request already accepted "
        "(timestamp %.16s, signature sha256 %s…)",
        stamp,
        key[:12],
    )
    return web.json_response(
        {"error": "replayed request: this signed request was already accepted"}, status=401
    )
