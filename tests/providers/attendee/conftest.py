"""Recorded Attendee answers and deliveries (captured from a real server) as fixtures."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "attendee"
WEBHOOK_CAPTURES = sorted((PAYLOADS / "webhooks").glob("*.json"))


def _api_response(name: str, headers: dict[str, str] | None = None) -> httpx.Response:
    status_file = PAYLOADS / "api" / f"{name}.status"
    # err_no_auth was recorded without its status; Attendee answers it with 401.
    status = int(status_file.read_text().strip()) if status_file.exists() else 401
    body = (PAYLOADS / "api" / f"{name}.json").read_bytes()
    return httpx.Response(
        status, content=body, headers={"Content-Type": "application/json", **(headers or {})}
    )


@pytest.fixture
def api_response() -> Callable[..., httpx.Response]:
    """``api_response(name)``: the recorded REST answer ``api/<name>.json`` with its status."""
    return _api_response


@pytest.fixture(params=WEBHOOK_CAPTURES, ids=[p.stem for p in WEBHOOK_CAPTURES])
def webhook_capture(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each recorded delivery: ``raw_body``, ``headers``, ``json`` and ``secret_b64``."""
    return json.loads(Path(request.param).read_text())


@pytest.fixture
def load_webhook() -> Callable[[str], dict[str, Any]]:
    """``load_webhook(prefix)``: the recorded delivery whose file name starts with ``prefix``."""

    def load(prefix: str) -> dict[str, Any]:
        (path,) = [p for p in WEBHOOK_CAPTURES if p.name.startswith(prefix)]
        return json.loads(path.read_text())

    return load


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def now() -> list[float]:
    """The fake clock's reading, advanced only by ``fake_sleep``."""
    return [1000.0]


@pytest.fixture
def clock(now: list[float]) -> Callable[[], float]:
    return lambda: now[0]


@pytest.fixture
def fake_sleep(sleeps: list[float], now: list[float]) -> Callable[[float], Awaitable[None]]:
    """A sleep that returns at once, records the wait and moves the fake clock on."""

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    return sleep
