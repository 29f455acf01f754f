"""Logging: one line per request and per job run, tied together by an id, secrets redacted."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

#: The id of the request or job run being handled; every log line carries it.
trace_id: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id", default="-")

#: Query parameters and token fields that carry a capability: a connect link's ``t``, an OAuth
#: ``code`` or ``state``, a webhook URL's ``token``, a token answer's ``access_token``…
_CAPABILITIES = "t|token|code|state|access_token|refresh_token|id_token|client_secret"
_TOKEN_FIELDS = "access_token|refresh_token|id_token|client_secret"

# Slack and provider tokens have recognisable shapes, and capabilities recognisable places;
# redact them even when not configured here.
_TOKEN_PATTERNS = [
    (re.compile(r"xox[abposr]-[A-Za-z0-9-]{8,}"), "[redacted]"),
    (re.compile(r"(?i)(authorization:\s*(?:bearer|token|basic)\s+)[^\s'\"]+"), r"\1[redacted]"),
    # In a URL, also inside Slack's mrkdwn (`<url|label>`) and its `&amp;`-escaped text.
    (
        re.compile(rf"(?i)([?&](?:amp;)?(?:{_CAPABILITIES})=)[^&#\s\"'<>|\\]+"),
        r"\1[redacted]",
    ),
    # As a key of a dict or JSON object, or a form field (`refresh_token=…`, `'access_token': …`).
    (
        re.compile(rf"(?i)(\b(?:{_TOKEN_FIELDS})[\"']?\s*[:=]\s*[\"']?)[^\"'\s,&}}]+"),
        r"\1[redacted]",
    ),
]

#: Set on a record once redacted, so that the handler's filter does not redact it again.
_DONE = "_debrief_redacted"


class RedactingFilter(logging.Filter):
    """Replaces every configured secret, and anything shaped like a token, with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        # Longest first so that a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        for pattern, replacement in _TOKEN_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def scrub(self, record: logging.LogRecord) -> None:
        """Redact a record's message, traceback and stack in place (once)."""
        if not hasattr(record, "trace_id"):
            record.trace_id = trace_id.get()
        if getattr(record, _DONE, False):
            return
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            # Arguments that do not fit the format: logging reports that itself when it emits.
            return
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        setattr(record, _DONE, True)

    def filter(self, record: logging.LogRecord) -> bool:
        self.scrub(record)
        return True


class RedactingRecordFactory:
    """Makes every log record already redacted, so that no handler (a test's capture, a
    library's own) ever sees a secret: a filter on one handler protects only that handler."""

    def __init__(self, inner: Callable[..., logging.LogRecord], redactor: RedactingFilter) -> None:
        self.inner = inner
        self.redactor = redactor

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        self.redactor.scrub(record)
        return record


FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(trace_id)s] %(message)s"


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> RedactingFilter:
    """Route all logging to stderr through one redacting handler, and redact every record as it
    is made; returns the redactor."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_debrief", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._debrief = True  # type: ignore[attr-defined]
    redactor = RedactingFilter(secrets)
    handler.addFilter(redactor)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    factory = logging.getLogRecordFactory()
    if isinstance(factory, RedactingRecordFactory):
        factory = factory.inner  # configured again: replace the redactor, do not stack another
    logging.setLogRecordFactory(RedactingRecordFactory(factory, redactor))
    root.setLevel(level.upper())
    # Library chatter at INFO drowns the one-line-per-request log.
    for noisy in (
        "aiohttp.access",
        "httpx",
        "httpcore",
        "slack_bolt",
        "slack_sdk",
        "apscheduler",
        "alembic",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return redactor


class MalformedHttpFilter(logging.Filter):
    """aiohttp logs a request it cannot even parse (a control character in a header, say) as an
    ERROR with a traceback, after answering it 400. That is the sender's fault, not ours: one
    WARNING line with the reason instead, so that errors in the log stay ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            reason = str(exc.message).replace("\n", " ").strip()
            record.msg, record.args = f"{record.getMessage()}: {exc.code} {reason[:200]}", None
            record.exc_info, record.exc_text = None, None
        return True


def quiet_malformed_http() -> None:
    """Install :class:`MalformedHttpFilter` on aiohttp's server logger (once per process)."""
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedHttpFilter) for f in server.filters):
        server.addFilter(MalformedHttpFilter())
