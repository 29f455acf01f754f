"""Secrets never reach the log, whatever logs them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import RedactingFilter, configure_logging, trace_id
from tests.conftest import make_settings


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: leave it as it was for the other tests."""
    root = logging.getLogger()
    handlers, level, factory = list(root.handlers), root.level, logging.getLogRecordFactory()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.setLogRecordFactory(factory)


def test_configured_secrets_and_token_shapes_are_redacted() -> None:
    settings = make_settings(
        attendee_api_key="attendee-key-1234",
        otter_webhook_secret="otter-s3cr3t",
        encryption_keys="fernet-key-a,fernet-key-b",
    )
    stream = io.StringIO()
    redactor = configure_logging("INFO", settings.secret_values())
    handler = logging.getLogger().handlers[-1]
    handler.stream = stream  # type: ignore[attr-defined]
    log = logging.getLogger("debrief.test")
    token = trace_id.set("req-42")
    try:
        log.info("calling with %s and %s", "attendee-key-1234", "xoxb-123456789-abcdefgh")
        log.warning("header Authorization: Bearer otter-s3cr3t sent")
        log.error("keys %s", settings.encryption_keys.get_secret_value())  # type: ignore[union-attr]
        try:
            raise ValueError("failed with test-signing-secret-0000")
        except ValueError:
            log.exception("boom")
    finally:
        trace_id.reset(token)
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    for secret in settings.secret_values():
        assert secret not in text, secret
    assert "xoxb-123456789" not in text
    assert "[req-42]" in text and "[redacted]" in text
    assert isinstance(redactor, RedactingFilter)


def test_short_values_are_not_treated_as_secrets() -> None:
    assert RedactingFilter(["abc"]).redact("abc abc") == "abc abc"


@pytest.mark.parametrize(
    "line",
    [
        "sent <https://debrief.example.com/claritalk/connect?t=eyJ0IjoiVDEifQ.c2lnbmF0dXJl|Connect>",
        "GET /claritalk/callback?state=c2lnbmF0dXJl-state&code=c2lnbmF0dXJl-code HTTP/1.1",
        "posting to https://x.example/webhooks/claritalk?a=1&amp;token=c2lnbmF0dXJl",
        "body grant_type=refresh_token&refresh_token=c2lnbmF0dXJl&client_id=cid",
        "answer {'access_token': 'c2lnbmF0dXJl', \"refresh_token\": \"c2lnbmF0dXJl\"}",
    ],
    ids=["connect-link", "oauth-callback", "escaped-query", "form", "token-answer"],
)
def test_capabilities_in_urls_and_token_fields_are_redacted(line: str) -> None:
    redacted = RedactingFilter().redact(line)
    assert "c2lnbmF0dXJl" not in redacted and "[redacted]" in redacted


def test_harmless_lookalikes_are_left_alone() -> None:
    text = "Whereby-Signature t=1700000000,v1=ab; grant_type=refresh_token; error code=42"
    assert RedactingFilter().redact(text) == text


def test_every_record_is_redacted_when_made_whoever_handles_it() -> None:
    """A handler of a library's or a test's own, added before Debrief's, sees no secret."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("debrief.test.factory")
    logger.addHandler(Keep(logging.DEBUG))
    logger.setLevel(logging.DEBUG)
    try:
        configure_logging("DEBUG", ["s3cr3t-value"])
        configure_logging("DEBUG", ["s3cr3t-value"])  # again: one redaction, not two stacked
        logger.debug(
            "link %s and %s", "https://d.example/claritalk/connect?t=abc.def", "s3cr3t-value"
        )
        try:
            raise RuntimeError("failed at https://d.example/x?token=s3cr3t-other")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
    (link, boom) = seen
    assert (
        link.getMessage() == "link https://d.example/claritalk/connect?t=[redacted] and [redacted]"
    )
    assert "s3cr3t-other" not in (boom.exc_text or "") and "token=[redacted]" in (
        boom.exc_text or ""
    )
    formatted = logging.Formatter().format(boom)
    assert "s3cr3t-other" not in formatted
