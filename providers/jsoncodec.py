"""JSON at orjson's speed with the standard library's answers.

Webhook bodies are decoded, and job payloads encoded, on the path that must answer a provider
quickly; orjson does both several times faster than ``json``. It is used only where it gives
the same result: whatever it refuses or would read differently (``NaN``, integers beyond 64
bits, UTF-16 bodies, values of types ``json`` refuses too) goes to the standard library, which
then decodes it or raises its usual error. So nothing is accepted or refused differently than
with ``json`` alone; the payloads written are compact (no spaces), which only the bytes on disk
show.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

#: Types orjson would encode but ``json`` refuses are handed back (TypeError), so the two agree.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


#: Nineteen digits in a row may be an integer beyond 64 bits (below -2**63 already has 19), which
#: orjson would read as a float: such bodies go to json. Found
#: by mapping every digit to "0" and everything else to " " (faster than a regular expression).
_DIGITS = bytes(ord("0") if chr(byte).isdigit() and byte < 128 else ord(" ") for byte in range(256))
_LONG_NUMBER = b"0" * 19


class TooDeep(ValueError):
    """JSON nested deeper than the reader allows (refused before it is parsed)."""


#: Escapes that could hide a quote (``\\`` first: ``\\\"`` is a backslash, then a quote),
#: strings (whose brackets are text), and what is left of the structure: brackets only.
_ESCAPES = (b"\\\\", b'\\"')
_STRINGS = re.compile(rb'"[^"]*"')
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def deeper_than(data: bytes, limit: int) -> bool:
    """Whether the JSON text ``data`` nests arrays and objects more than ``limit`` deep.

    Read from the bytes without parsing (a few passes at C speed), so that a hostile body is
    refused before any parser recurses into it. Exact for valid JSON; for invalid JSON the
    answer does not matter, the parser refuses it anyway.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    for escape in _ESCAPES:
        data = data.replace(escape, b"")
    nesting = _STRINGS.sub(b"", data).translate(_BRACKETS, _NOT_BRACKETS)
    # Each pass removes the innermost level everywhere, so what survives ``limit`` passes is
    # deeper; a run of ``limit + 1`` opening brackets says so at once (and makes the worst case
    # a few passes, not ``limit``).
    too_deep = b"[" * (limit + 1)
    for _ in range(limit):
        if too_deep in nesting:
            return True
        shorter = nesting.replace(b"[]", b"")
        if len(shorter) == len(nesting):
            return False
        nesting = shorter
    return b"[]" in nesting


def loads(data: bytes | str, *, max_depth: int | None = None) -> Any:
    """``json.loads``, faster; with ``max_depth``, :class:`TooDeep` for deeper nesting.

    Raises:
        TooDeep: nested deeper than ``max_depth``, or deeper than the parser can go.
        json.JSONDecodeError, UnicodeDecodeError: as ``json.loads``.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if max_depth is not None and deeper_than(raw, max_depth):
        raise TooDeep(f"JSON nested deeper than {max_depth}")
    if _LONG_NUMBER not in raw.translate(_DIGITS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(data)
    except RecursionError:
        # orjson stops at 1024 levels; json recurses until Python's own limit.
        raise TooDeep("JSON nested deeper than the parser can go") from None


def dumps(value: Any) -> str:
    """``json.dumps`` without spaces, faster (a database column's serializer)."""
    try:
        return orjson.dumps(value, option=_STRICT).decode("utf-8")
    except TypeError:
        return json.dumps(value, separators=(",", ":"))
