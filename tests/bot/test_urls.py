"""Meeting hosts that are, or resolve to, private addresses are refused."""

from __future__ import annotations

import pytest

from bot.urls import host_is_public


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str) -> list[str]:
        return table.get(host, [])

    return resolve


@pytest.mark.parametrize(
    ("host", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.5", False),
        ("169.254.169.254", False),
        ("[::1]", False),
        ("::ffff:127.0.0.1", False),
        ("localhost", False),
        ("db.internal", False),
        ("8.8.8.8", True),
        ("zoom.us", True),
        ("sneaky.example", False),
        ("unresolvable.example", True),
    ],
)
async def test_private_hosts_are_refused(host: str, public: bool) -> None:
    table = {"zoom.us": ["170.114.52.2"], "sneaky.example": ["203.0.113.9", "10.0.0.8"]}
    assert await host_is_public(host, resolver(table)) is public
