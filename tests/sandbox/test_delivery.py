"""The one webhook-delivery mechanism of the provider stand-ins: hold, release, duplicate, retry,
fail, and a session that lives exactly as long as the worker."""

from __future__ import annotations

import gc
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator

import pytest

from sandbox.attendee import AttendeeStandIn
from sandbox.claritalk import ClaritalkStandIn
from sandbox.delivery import Deliveries
from sandbox.otter import DESIGN_REVIEW_ID, OtterStandIn
from sandbox.whereby import WherebyStandIn
from tests.sandbox.conftest import WebhookReceiver

BODY = b'{"event": "meeting.processed", "id": 1}'


def signed(body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Signature": hmac.new(b"secret", body, hashlib.sha256).hexdigest(),
    }


@pytest.fixture
async def outbox() -> AsyncIterator[Deliveries]:
    deliveries = Deliveries("test", attempts=3, backoff=0.01, timeout=2.0)
    await deliveries.start()
    yield deliveries
    await deliveries.stop()


async def test_hold_then_release_delivers_once(
    outbox: Deliveries, receiver: WebhookReceiver
) -> None:
    outbox.hold()
    (delivery,) = outbox.submit(receiver.url, BODY, signed(BODY))
    await outbox.settle(within=5)
    assert delivery.state == "held" and receiver.requests == [] and outbox.held == 1
    assert outbox.release() == 1
    await outbox.settle(within=5)
    assert delivery.state == "sent" and delivery.attempts == 1 and delivery.status == 200
    assert [r.body for r in receiver.requests] == [BODY]
    assert outbox.release() == 0, "nothing is held any more"


async def test_a_duplicate_is_the_same_body_and_signature_twice(
    outbox: Deliveries, receiver: WebhookReceiver
) -> None:
    outbox.duplicate()
    first, second = outbox.submit(receiver.url, BODY, signed(BODY))
    (third,) = outbox.submit(receiver.url, b"{}", signed(b"{}"))
    await outbox.settle(within=5)
    assert first.id != second.id and first.state == second.state == third.state == "sent"
    once, twice, other = receiver.requests
    assert once.body == twice.body == BODY and other.body == b"{}"
    assert (
        once.headers["X-Signature"] == twice.headers["X-Signature"] == signed(BODY)["X-Signature"]
    )


async def test_a_failing_answer_is_retried_then_marked_failed(
    outbox: Deliveries, receiver: WebhookReceiver
) -> None:
    receiver.fail(times=3, status=503)
    (delivery,) = outbox.submit(receiver.url, BODY, signed(BODY))
    await outbox.settle(within=5)
    assert (delivery.state, delivery.attempts, delivery.status) == ("failed", 3, 503)
    assert [(d.attempts, d.status) for d in outbox.log] == [(1, 503), (2, 503), (3, 503)]
    assert len(receiver.requests) == 3

    outbox.retry(delivery.id)  # the app is well again: sent by hand
    await outbox.settle(within=5)
    assert (delivery.state, delivery.status) == ("sent", 200)


async def test_a_client_error_is_not_retried_unless_the_provider_does(
    receiver: WebhookReceiver,
) -> None:
    receiver.fail(times=2, status=404)
    strict, lenient = (
        Deliveries("a", attempts=3, backoff=0.01),
        Deliveries("b", attempts=3, backoff=0.01),
    )
    lenient.retry_client_errors = True
    for outbox in (strict, lenient):
        await outbox.start()
    try:
        (refused,) = strict.submit(receiver.url, BODY, {})
        await strict.settle(within=5)
        (retried,) = lenient.submit(receiver.url, BODY, {})
        await lenient.settle(within=5)
    finally:
        for outbox in (strict, lenient):
            await outbox.stop()
    assert (refused.state, refused.attempts, refused.status) == ("failed", 1, 404)
    assert (retried.state, retried.attempts, retried.status) == ("sent", 2, 200)


async def test_no_answer_is_retried_and_recorded(
    outbox: Deliveries, receiver: WebhookReceiver
) -> None:
    receiver.drop(times=1)
    delivery = await outbox.send(receiver.url, BODY, {})
    assert delivery.state == "sent" and delivery.attempts == 2
    assert outbox.log[0].status is None and outbox.log[0].error


async def test_fail_drops_a_held_delivery_unsent(
    outbox: Deliveries, receiver: WebhookReceiver
) -> None:
    outbox.hold()
    kept, dropped = outbox.submit(receiver.url, BODY, {}), outbox.submit(receiver.url, b"{}", {})
    outbox.fail(dropped[0].id, "the sandbox page said so")
    assert outbox.release() == 1
    await outbox.settle(within=5)
    assert [r.body for r in receiver.requests] == [BODY]
    assert kept[0].state == "sent"
    assert (dropped[0].state, dropped[0].error) == ("failed", "the sandbox page said so")
    with pytest.raises(ValueError):
        outbox.fail(kept[0].id)


async def test_after_stop_a_webhook_is_dropped_and_no_session_is_opened(
    receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Deliveries("test")
    await outbox.start()
    await outbox.stop()
    caplog.set_level(logging.WARNING, logger="sandbox.delivery")
    delivery = await outbox.send(receiver.url, BODY, {})
    assert delivery.state == "failed" and delivery.attempts == 0
    assert receiver.requests == []
    assert any("not running" in r.getMessage() for r in caplog.records)
    gc.collect()  # an unclosed session would warn here, and warnings are errors


@pytest.mark.parametrize(
    "stand_in", [AttendeeStandIn, WherebyStandIn, OtterStandIn, ClaritalkStandIn]
)
async def test_every_stand_in_sends_through_one_outbox(stand_in: type) -> None:
    standin = stand_in()
    assert isinstance(standin.outbox, Deliveries)
    assert standin.deliveries is standin.outbox.log or standin.deliveries is standin.outbox.records


async def test_a_stand_in_stopped_sends_nothing_and_leaks_nothing(
    receiver: WebhookReceiver,
) -> None:
    """The earlier attempt's bug: a send after stop opened a session nobody closed."""
    otter = OtterStandIn(requests_per_second=None)
    await otter.start()
    otter.configure_webhook(receiver.url)
    await otter.stop()
    [delivery] = await otter.finish_processing(DESIGN_REVIEW_ID)
    assert delivery.state == "failed" and receiver.requests == []
    gc.collect()
