"""Slack's request signing, as Slack applies it to every request it sends to an app."""

from __future__ import annotations

from providers.webhooks import hmac_sha256

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def sign(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:<timestamp>:<body>`` under the signing secret."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac_sha256(signing_secret.encode(), base).hex()


def signed_headers(
    signing_secret: str, timestamp: int | str, body: bytes | str, content_type: str
) -> dict[str, str]:
    """The headers Slack sends with a request: content type, timestamp and signature."""
    return {
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(signing_secret, timestamp, body),
    }
