"""Fixtures for the Otter provider tests: the recorded payloads and a fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FakeTime

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "otter"


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(now=1_000.0)


@pytest.fixture
def payload() -> Callable[[str], Any]:
    """Load a recorded payload by file stem, decoded."""

    def load(name: str) -> Any:
        return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))

    return load


@pytest.fixture
def raw_payload() -> Callable[[str], bytes]:
    """A recorded payload's bytes, exactly as stored."""

    def load(name: str) -> bytes:
        return (PAYLOADS / f"{name}.json").read_bytes()

    return load
