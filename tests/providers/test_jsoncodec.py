"""providers/jsoncodec: orjson's speed, the standard library's answers."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers import jsoncodec

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_what_it_writes_reads_back_as_json_reads_it(value: Any) -> None:
    try:
        written = jsoncodec.dumps(value)
    except (UnicodeEncodeError, ValueError):  # lone surrogates: json refuses them too on disk
        return
    assert _same(jsoncodec.loads(written), json.loads(written))
    assert jsoncodec.loads(written) == value


@given(st.binary(max_size=64) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_it_reads_what_json_reads_and_refuses_what_json_refuses(data: bytes) -> None:
    try:
        expected = json.loads(data)
    except (ValueError, UnicodeDecodeError) as refused:
        with pytest.raises(type(refused)):
            jsoncodec.loads(data)
        return
    assert _same(jsoncodec.loads(data), expected)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 is not 1.0 here); NaN is NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@pytest.mark.parametrize(
    "text",
    [
        b"NaN",
        b"[Infinity]",
        b"[1e400]",
        b'{"n": 123456789012345678901234567890}',
        b"[-18446744073709551616]",
        b"-9223372036854775809",
        b'{"a": 1, "a": 2}',
        "[1]".encode("utf-16"),
    ],
)
def test_what_orjson_refuses_goes_to_json(text: bytes) -> None:
    assert _same(jsoncodec.loads(text), json.loads(text))


@pytest.mark.parametrize("value", [{"at": datetime.now(UTC)}, {"s": {1, 2}}])
def test_it_refuses_what_json_refuses(value: Any) -> None:
    with pytest.raises(TypeError):
        jsoncodec.dumps(value)


def test_what_json_writes_but_orjson_cannot_is_still_written() -> None:
    assert json.loads(jsoncodec.dumps({"n": 2**70, "x": math.nan})) is not None


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


#: Text full of what could confuse a scan of the bytes: brackets, quotes and backslashes.
TRICKY = st.text(alphabet='[]{}"\\\\ab', max_size=6)
TRICKY_VALUES = st.recursive(
    st.none() | TRICKY | st.integers(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY, inner, max_size=3),
    max_leaves=30,
)


@given(TRICKY_VALUES, st.integers(0, 8), st.booleans())
def test_depth_is_read_from_the_bytes_exactly(value: Any, limit: int, ascii_only: bool) -> None:
    data = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert jsoncodec.deeper_than(data, limit) == (_depth(value) > limit)


@pytest.mark.parametrize("data", [b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000])
def test_too_deep_is_refused_before_any_parser_recurses(data: bytes) -> None:
    with pytest.raises(jsoncodec.TooDeep):
        jsoncodec.loads(data, max_depth=32)
    with pytest.raises(jsoncodec.TooDeep):  # no limit given: the parser's own, not a crash
        jsoncodec.loads(data)
