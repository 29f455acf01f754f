"""Claritalk payloads (reconstructed from the published reference) and a settable clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FakeTime

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "claritalk"


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime(now=1_736_935_200.0)


@pytest.fixture
def payload_bytes() -> Callable[[str], bytes]:
    """``payload_bytes(name)``: the raw bytes of ``payloads/claritalk/<name>``."""
    return lambda name: (PAYLOADS / name).read_bytes()


@pytest.fixture
def payload() -> Callable[[str], dict[str, Any]]:
    """``payload(name)``: ``payloads/claritalk/<name>.json`` decoded."""
    return lambda name: json.loads((PAYLOADS / f"{name}.json").read_text())
