"""Secrets never reach the log, whatever logs them."""

from __future__ import annotations

import io
import logging

from bot.logs import RedactingFilter, configure_logging, trace_id
from tests.conftest import make_settings


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
