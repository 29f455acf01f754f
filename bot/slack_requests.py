"""What `POST /slack/events` checks before Bolt sees a request.

Bolt parses a request's body (``payload`` JSON and all) when its request object is built, before
its middleware checks the signature, and it reads ``X-Slack-Request-Timestamp`` with ``int()``,
which raises on a malformed value and takes other scripts' digits. So the signature is checked
here first, exactly as Slack computes it, on the raw bytes: no sender without the signing secret
gets any parsing, whatever the size or shape of what they send, and a bad header of any shape is
a 401 with its reason. Only then is the body decoded and its shape checked the way Bolt will
read it (a JSON object, within the depth limit), so that a signed but malformed body is a 400,
not an exception inside Bolt.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl

from providers import jsoncodec
from providers.webhooks import MAX_DEPTH, is_unix_seconds

TIMESTAMP = "X-Slack-Request-Timestamp"
SIGNATURE = "X-Slack-Signature"
#: Slack's and Bolt's tolerance for the timestamp, either side of our clock.
TOLERANCE = 300


class Refused(Exception):
    """A request refused before Bolt: ``status`` (401 or 400) and the reason to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: float) -> str:
    """Check Slack's ``v0`` signature of ``body``; return the signature.

    Raises:
        Refused: 401, a header missing or malformed, the timestamp outside five minutes, or the
            signature wrong.
    """
    timestamp = headers.get(TIMESTAMP, "")
    signature = headers.get(SIGNATURE, "")
    if not timestamp:
        raise Refused(401, f"missing {TIMESTAMP}")
    if not is_unix_seconds(timestamp):
        raise Refused(401, f"malformed {TIMESTAMP}")
    if abs(now - int(timestamp)) > TOLERANCE:
        raise Refused(401, f"{TIMESTAMP} is more than five minutes off")
    if not signature:
        raise Refused(401, f"missing {SIGNATURE}")
    if not (signature.isascii() and signature.startswith("v0=")):
        raise Refused(401, f"malformed {SIGNATURE}")
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("ascii")):
        raise Refused(401, f"{SIGNATURE} does not match the body")
    return signature


def decode(body: bytes, content_type: str) -> str:
    """The authentic body as Bolt will read it, once it is known to read as Bolt expects.

    Mirrors ``slack_bolt.request.internals.parse_body``: JSON when so labelled or when it starts
    with ``{``, else form fields, whose ``payload`` field (if any) is JSON.

    Raises:
        Refused: 400, the body is not UTF-8, or its JSON is not an object or nests too deeply.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the body is not UTF-8") from None
    if not text:
        return text
    if content_type == "application/json" or text.startswith("{"):
        _json_object(text, "the body")
    elif "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        if payload is not None:
            _json_object(payload, "the payload field")
    return text


def _json_object(text: str, what: str) -> None:
    try:
        value = jsoncodec.loads(text, max_depth=MAX_DEPTH)
    except jsoncodec.TooDeep:
        raise Refused(400, f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # also an integer of more than 4,300 digits (json's own limit)
        raise Refused(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")
