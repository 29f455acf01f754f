"""The one error tree that callers of any provider client see.

httpx and pydantic exceptions never leave ``providers/``: every client maps them to one of
these, chaining the original with ``raise … from exc``.
"""

from __future__ import annotations


class ProviderError(Exception):
    """A provider could not do what was asked; ``provider`` names which one."""

    #: Whether trying the same request again later may succeed.
    retryable: bool = False

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message


class ProviderUnavailable(ProviderError):
    """The provider could not be reached, timed out or failed on its side (5xx)."""

    retryable = True


class ProviderResponseError(ProviderError):
    """The provider answered, but not with what its documentation promises."""

    retryable = True


class ProviderStatusError(ProviderError):
    """The provider answered with an error status."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status_code: int,
        body: object = None,
    ) -> None:
        super().__init__(provider, message)
        self.status_code = status_code
        self.body = body


class BadRequest(ProviderStatusError):
    """400 or 422: the request was refused as invalid; ``message`` says why."""


class AuthenticationFailed(ProviderStatusError):
    """401: the credential is missing, wrong, expired or revoked."""


class PermissionDenied(ProviderStatusError):
    """403: the credential may not do this."""


class NotFound(ProviderStatusError):
    """404: no such object."""


class Conflict(ProviderStatusError):
    """409: the object is in a state that does not allow this."""


class RateLimited(ProviderStatusError):
    """429 after the retries ran out; ``retry_after`` says when to try again, in seconds."""

    retryable = True

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status_code: int = 429,
        body: object = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, message, status_code=status_code, body=body)
        self.retry_after = retry_after


class ServerError(ProviderStatusError, ProviderUnavailable):
    """5xx after the retries ran out."""

    retryable = True


class WebhookError(Exception):
    """A webhook delivery was refused; ``status`` is the HTTP status to answer with."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidSignature(WebhookError):
    """Missing, wrong or stale authentication on a webhook delivery."""

    status = 401


class MalformedPayload(WebhookError):
    """The delivery was authentic but its body is not what the provider documents."""

    status = 400


_STATUS_ERRORS: dict[int, type[ProviderStatusError]] = {
    400: BadRequest,
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: BadRequest,
    429: RateLimited,
}


def error_for_status(status_code: int) -> type[ProviderStatusError]:
    """The error class for an HTTP error status."""
    if status_code >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status_code, ProviderStatusError)
