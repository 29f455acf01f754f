"""Building blocks shared by the providers' webhook verifiers.

Each provider's own ``webhooks`` module composes these into its documented scheme; verification
always runs on the bytes received, before anything is parsed into models.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pydantic

from providers import jsoncodec
from providers.errors import InvalidSignature, MalformedPayload

Clock = Callable[[], float]
wall_clock: Clock = time.time
Model = TypeVar("Model", bound=pydantic.BaseModel)

#: How deeply a webhook body may nest objects and arrays. Every provider's events nest under ten
#: levels; deeper is refused (400) before parsing, because parsers, validators and serialisers
#: each recurse on it and give up (or run out of stack) at different depths.
MAX_DEPTH = 32


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """The raw HMAC-SHA256 digest of ``message`` under ``key``."""
    return hmac.new(key, message, hashlib.sha256).digest()


def decode_digest(signature: str) -> Iterable[bytes]:
    """Every reading of a signature header value: standard base64, hex, URL-safe base64."""
    value = signature.strip()
    padded = value + "=" * (-len(value) % 4)
    with contextlib.suppress(binascii.Error, ValueError):
        yield base64.b64decode(padded)
    with contextlib.suppress(ValueError):
        yield bytes.fromhex(value)
    with contextlib.suppress(binascii.Error, ValueError):
        yield base64.urlsafe_b64decode(padded)


def digest_matches(expected: bytes, signature: str | None) -> bool:
    """Whether ``signature`` (hex or base64) encodes ``expected``; compared in constant time."""
    if not signature:
        return False
    return any(hmac.compare_digest(expected, candidate) for candidate in decode_digest(signature))


def secret_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a shared secret (URL token, Bearer credential)."""
    if not given or not expected:
        return False
    # Header values the server could not decode carry lone surrogates: compare them as bytes too.
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogateescape"), given.encode("utf-8", "surrogateescape")
    )


def is_unix_seconds(text: str) -> bool:
    """Whether ``text`` is written as a timestamp is: ASCII digits only (``int()`` would also
    take other scripts' digits, which no signer writes and no signed message can hold)."""
    return 0 < len(text) <= 20 and text.isascii() and text.isdigit()


def check_timestamp(timestamp: str | None, *, tolerance: float, clock: Clock = wall_clock) -> int:
    """Parse a unix-seconds timestamp and refuse it when outside ``tolerance`` of ``clock()``."""
    if timestamp is None or not is_unix_seconds(timestamp):
        raise InvalidSignature("missing or malformed signature timestamp")
    value = int(timestamp)
    if abs(clock() - value) > tolerance:
        raise InvalidSignature("signature timestamp outside the tolerance window")
    return value


def json_object(body: bytes) -> dict[str, Any]:
    """Decode a webhook body that must be a JSON object, with a clear reason when it is not."""
    try:
        data = jsoncodec.loads(body, max_depth=MAX_DEPTH)
    except jsoncodec.TooDeep:
        raise MalformedPayload(f"body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        # JSONDecodeError, UnicodeDecodeError, and the integer of more than 4,300 digits that
        # json.loads refuses with a plain ValueError.
        raise MalformedPayload(f"body is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise MalformedPayload("body must be a JSON object")
    return data


def describe_validation_error(exc: Exception) -> str:
    """A one-line reason from a pydantic ``ValidationError``, for a 400 answer."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        items = errors()
        if items:
            first = items[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            return f"{where}: {first.get('msg', 'invalid')}"
    return "invalid payload"


def validate_payload(
    model: type[Model], data: dict[str, Any], explain: Callable[[str], str] = str
) -> Model:
    """Validate a decoded webhook object as ``model``, refusing a misfit with a 400 reason.

    Every provider turns a pydantic error into :class:`MalformedPayload` the same way; only the
    wording differs, so ``explain`` receives the one-line reason and returns the message.
    """
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise MalformedPayload(explain(describe_validation_error(exc))) from None
