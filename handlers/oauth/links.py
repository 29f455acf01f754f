"""Signed, short-lived, single-use connect links: ``/claritalk/connect?t=<token>`` (or a
calendar's) names the Slack user the connection will belong to, so the token is signed
(HMAC-SHA256 with a key derived from ``DEBRIEF_ENCRYPTION_KEYS``) and expires; anyone who alters
it, or uses it late, is refused. Each token carries a random nonce, so that two links are never
the same and spending one (see ``handlers.oauth.states.spend_link``) spends only that one. Each
kind of connection signs with its own pair of purposes (:class:`LinkSigner`), so a link made for
one never opens another.

The page a link opens asks to continue with a form; its ``confirm`` field is an HMAC of the link
and of a random cookie of the browser that was shown the page, so that only that page, in that
browser, can post it (a form posted from another site has neither).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

#: Longer tokens are refused before any decoding.
MAX_TOKEN = 1024


class InvalidLink(ValueError):
    """The link was altered, signed with a key no longer configured, or has expired."""


@dataclass(frozen=True)
class LinkClaim:
    """Whom a verified link is for, and until when it is good."""

    team_id: str
    user_id: str
    expires_at: datetime
    #: Names this link and no other (the SHA-256 of its signed part); what spending it records.
    link_id: str


def _link_keys(keys: Sequence[str], purpose: bytes) -> list[bytes]:
    return [hmac.new(key.encode(), purpose, hashlib.sha256).digest() for key in keys if key]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _confirm_mac(key: bytes, token: str, browser: str) -> bytes:
    return hmac.new(key, f"{token}\n{browser}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class LinkSigner:
    """Signs and checks one kind of connect link and its page's confirmation.

    The purposes keep each key apart from the encryption key it is derived from, and each kind
    of link apart from every other (``b"debrief/<what>/connect-link/v1"``).
    """

    link_purpose: bytes
    confirm_purpose: bytes

    def sign(self, keys: Sequence[str], team_id: str, user_id: str, expires_at: datetime) -> str:
        """A token for ``user_id`` valid until ``expires_at``, signed with the newest key.

        Raises:
            InvalidLink: no key is configured.
        """
        derived = _link_keys(keys, self.link_purpose)
        if not derived:
            raise InvalidLink("no key to sign the link with (DEBRIEF_ENCRYPTION_KEYS)")
        claim = {
            "t": team_id,
            "u": user_id,
            "e": int(expires_at.timestamp()),
            "n": secrets.token_urlsafe(12),
        }
        payload = _b64(json.dumps(claim, separators=(",", ":")).encode())
        signature = hmac.new(derived[0], payload.encode(), hashlib.sha256).digest()
        return f"{payload}.{_b64(signature)}"

    def verify(self, keys: Sequence[str], token: str, now: datetime) -> LinkClaim:
        """The claim of a token signed with any configured key and not yet expired.

        Raises:
            InvalidLink: malformed, forged, signed with an unknown key, or expired.
        """
        if not token or len(token) > MAX_TOKEN or token.count(".") != 1:
            raise InvalidLink("the link is incomplete or malformed")
        payload, _, signature = token.partition(".")
        try:
            given = _unb64(signature)
        except (binascii.Error, ValueError):
            raise InvalidLink("the link is incomplete or malformed") from None
        expected = [
            hmac.new(k, payload.encode(), hashlib.sha256).digest()
            for k in _link_keys(keys, self.link_purpose)
        ]
        # Every key is compared, so the time taken says nothing about which one matched.
        matches = [hmac.compare_digest(given, e) for e in expected]
        if not any(matches):
            raise InvalidLink("the link's signature does not match")
        try:
            claim = json.loads(_unb64(payload))
            team_id, user_id, expires = str(claim["t"]), str(claim["u"]), int(claim["e"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise InvalidLink("the link is incomplete or malformed") from None
        expires_at = datetime.fromtimestamp(expires, UTC)
        if expires_at <= now or not user_id:
            raise InvalidLink("the link has expired")
        return LinkClaim(team_id, user_id, expires_at, hashlib.sha256(payload.encode()).hexdigest())

    def confirm_code(self, keys: Sequence[str], token: str, browser: str) -> str:
        """The ``confirm`` field of the page opened by ``token`` in the browser with this cookie.

        Raises:
            InvalidLink: no key is configured.
        """
        derived = _link_keys(keys, self.confirm_purpose)
        if not derived:
            raise InvalidLink("no key to sign the link with (DEBRIEF_ENCRYPTION_KEYS)")
        return _b64(_confirm_mac(derived[0], token, browser))

    def confirm_matches(self, keys: Sequence[str], token: str, browser: str, given: str) -> bool:
        """Whether ``given`` is the ``confirm`` field of the page ``token`` opened here."""
        if not browser or not given or len(given) > 64:
            return False
        try:
            raw = _unb64(given)
        except (binascii.Error, ValueError):
            return False
        expected = [_confirm_mac(k, token, browser) for k in _link_keys(keys, self.confirm_purpose)]
        return any([hmac.compare_digest(raw, e) for e in expected])
