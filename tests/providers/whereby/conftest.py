"""Fixtures for the Whereby provider tests: recorded payloads and a live stand-in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.http import RetryPolicy
from providers.whereby import WherebyClient
from sandbox.whereby import DEFAULT_API_KEY, WherebyStandIn

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "whereby"


@pytest.fixture
def payload() -> Callable[[str], Any]:
    """Load ``tests/payloads/whereby/<name>.json``."""

    def load(name: str) -> Any:
        return json.loads((PAYLOADS / f"{name}.json").read_text())

    return load


@pytest.fixture
async def standin() -> AsyncIterator[WherebyStandIn]:
    server = WherebyStandIn()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def client(standin: WherebyStandIn, http: httpx.AsyncClient) -> WherebyClient:
    """A client of the stand-in with quick retries."""
    return WherebyClient(
        http,
        api_key=DEFAULT_API_KEY,
        base_url=standin.api_url,
        retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
    )
