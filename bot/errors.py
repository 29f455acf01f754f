"""Errors whose message is meant for the person who asked."""

from __future__ import annotations


class UserFacingError(Exception):
    """Shown to the Slack user as it is: say what went wrong and what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
