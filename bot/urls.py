"""Refuse URLs whose host is, or resolves to, an address no meeting lives at."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

Resolver = Callable[[str], Awaitable[list[str]]]


async def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to; empty when it does not resolve in time."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(1.5):
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        return []
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def host_is_public(host: str, resolver: Resolver = resolve) -> bool:
    """False when ``host`` is, or resolves to, a private, loopback or link-local address.

    A host that does not resolve is not refused here: the provider will say it cannot join.
    """
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return is_public_address(host)
    return all(is_public_address(address) for address in await resolver(host))
