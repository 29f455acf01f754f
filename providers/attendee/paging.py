"""What every Attendee list request shares: times as Attendee reads them, and following a page's
``next`` link by its query alone (its host may be Attendee's internal one behind a proxy, and
the API key must never go anywhere but the configured base URL)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from providers.errors import ProviderResponseError

PROVIDER = "attendee"


def iso(value: datetime) -> str:
    """A timezone-aware time in UTC, ``Z``-suffixed, as Attendee's filters take it."""
    if value.tzinfo is None:
        raise ValueError("datetimes sent to Attendee must be timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def cursor_params(cursor: str) -> list[tuple[str, str]]:
    """Query parameters for the page ``cursor`` names: a ``next`` URL or a bare cursor value."""
    if "://" in cursor or cursor.startswith("/") or "?" in cursor:
        params = parse_qsl(urlsplit(cursor).query, keep_blank_values=True)
        if not any(name == "cursor" for name, _ in params):
            raise ProviderResponseError(PROVIDER, "paging link without a cursor")
        return params
    return [("cursor", cursor)]
