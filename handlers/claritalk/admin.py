"""What an operator does once: register Debrief's webhook URL with Claritalk."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from handlers.claritalk.access import redacted, webhook_url
from providers.claritalk import ClaritalkClient


async def register_webhook(client: ClaritalkClient, settings: Settings) -> dict[str, Any]:
    """``POST /client/webhook`` with ``PUBLIC_URL/webhooks/claritalk?token=<secret>``.

    Returns Claritalk's answer, with the URL's secret token left out wherever it appears.

    Raises:
        UserFacingError: ``PUBLIC_URL`` or ``CLARITALK_WEBHOOK_SECRET`` is not set.
        ProviderError: Claritalk refused (422 with its validation detail) or failed.
    """
    url = webhook_url(settings)
    answer = await client.register_webhook(url)
    return _scrub(answer, url)


def _scrub(value: Any, url: str) -> Any:
    if isinstance(value, str):
        return value.replace(url, redacted(url))
    if isinstance(value, dict):
        return {k: _scrub(v, url) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, url) for v in value]
    return value
