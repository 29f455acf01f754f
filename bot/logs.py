"""Logging: one line per request and per job run, tied together by an id, secrets redacted."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from collections.abc import Iterable

from aiohttp.http_exceptions import HttpProcessingError

#: The id of the request or job run being handled; every log line carries it.
trace_id: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id", default="-")

# Slack and provider tokens have recognisable shapes; redact them even when not configured here.
_TOKEN_PATTERNS = [
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{8,}"),
    re.compile(r"(?i)(authorization:\s*(?:bearer|token|basic)\s+)[^\s'\"]+"),
]


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
        text = _TOKEN_PATTERNS[0].sub("[redacted]", text)
        return _TOKEN_PATTERNS[1].sub(r"\1[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = trace_id.get()
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(trace_id)s] %(message)s"


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> RedactingFilter:
    """Route all logging to stderr through one redacting handler; returns its filter."""
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
    root.setLevel(level.upper())
    # Library chatter at INFO drowns the one-line-per-request log.
    for noisy in ("aiohttp.access", "httpx", "httpcore", "slack_bolt", "slack_sdk", "apscheduler"):
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
