"""Signed, short-lived connect links: ``/claritalk/connect?t=<token>`` names the Slack user the
connection will belong to, so the token is signed (HMAC-SHA256 with a key derived from
``DEBRIEF_ENCRYPTION_KEYS``) and expires; anyone who alters it, or uses it late, is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

#: Keeps the link key apart from the encryption key it is derived from.
_PURPOSE = b"debrief/claritalk/connect-link/v1"
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


def _link_keys(keys: Sequence[str]) -> list[bytes]:
    return [hmac.new(key.encode(), _PURPOSE, hashlib.sha256).digest() for key in keys if key]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_link(keys: Sequence[str], team_id: str, user_id: str, expires_at: datetime) -> str:
    """A token for ``user_id`` valid until ``expires_at``, signed with the newest key.

    Raises:
        InvalidLink: no key is configured.
    """
    derived = _link_keys(keys)
    if not derived:
        raise InvalidLink("no key to sign the link with (DEBRIEF_ENCRYPTION_KEYS)")
    claim = {"t": team_id, "u": user_id, "e": int(expires_at.timestamp())}
    payload = _b64(json.dumps(claim, separators=(",", ":")).encode())
    signature = hmac.new(derived[0], payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(signature)}"


def verify_link(keys: Sequence[str], token: str, now: datetime) -> LinkClaim:
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
    expected = [hmac.new(k, payload.encode(), hashlib.sha256).digest() for k in _link_keys(keys)]
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
    return LinkClaim(team_id, user_id, expires_at)
