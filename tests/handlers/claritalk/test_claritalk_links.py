"""Signed connect links: bound to one user, short-lived, valid across a key rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from handlers.claritalk.links import (
    InvalidLink,
    confirm_code,
    confirm_matches,
    sign_link,
    verify_link,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_a_link_names_its_user_until_it_expires() -> None:
    token = sign_link([NEW], "T1", "U0ADA", NOW + timedelta(minutes=15))
    claim = verify_link([NEW], token, NOW + timedelta(minutes=14))
    assert (claim.team_id, claim.user_id) == ("T1", "U0ADA")
    with pytest.raises(InvalidLink, match="expired"):
        verify_link([NEW], token, NOW + timedelta(minutes=15))


def test_a_rotation_keeps_links_signed_with_the_previous_key_working() -> None:
    token = sign_link([OLD], "T1", "U0ADA", NOW + timedelta(minutes=15))
    assert verify_link([NEW, OLD], token, NOW).user_id == "U0ADA"
    with pytest.raises(InvalidLink, match="signature"):
        verify_link([NEW], token, NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(t.split(".")[0], sign_link([NEW], "T1", "U0GRACE", NOW).split(".")[0]),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.split(".")[0],
        lambda t: "",
        lambda t: t + ".x",
        lambda t: "x" * 5000,
        lambda t: "e30." + t.split(".")[1],
    ],
    ids=["other-user", "signature", "unsigned", "empty", "extra-dot", "huge", "empty-claim"],
)
def test_an_altered_link_is_refused(tamper: object) -> None:
    token = sign_link([NEW], "T1", "U0ADA", NOW + timedelta(minutes=15))
    with pytest.raises(InvalidLink):
        verify_link([NEW], tamper(token), NOW)  # type: ignore[operator]


def test_no_key_no_link() -> None:
    with pytest.raises(InvalidLink):
        sign_link([], "T1", "U0ADA", NOW)
    token = sign_link([NEW], "T1", "U0ADA", NOW + timedelta(minutes=1))
    with pytest.raises(InvalidLink):
        verify_link([], token, NOW)


def test_two_links_for_the_same_user_and_minute_are_two_links() -> None:
    """Spending one (by its id) must not spend the other."""
    first, second = (sign_link([NEW], "T1", "U0ADA", NOW + timedelta(minutes=15)) for _ in "ab")
    assert first != second
    assert verify_link([NEW], first, NOW).link_id != verify_link([NEW], second, NOW).link_id
    assert verify_link([NEW, OLD], first, NOW).link_id == verify_link([NEW], first, NOW).link_id


def test_a_confirmation_code_holds_for_its_link_and_browser_only() -> None:
    token = sign_link([NEW], "T1", "U0ADA", NOW + timedelta(minutes=15))
    other = sign_link([NEW], "T1", "U0GRACE", NOW + timedelta(minutes=15))
    code = confirm_code([NEW], token, "browser-a")
    assert confirm_matches([NEW], token, "browser-a", code)
    assert confirm_matches([OLD, NEW], token, "browser-a", code), "valid across a rotation"
    assert not confirm_matches([NEW], token, "browser-b", code)
    assert not confirm_matches([NEW], other, "browser-a", code)
    assert not confirm_matches([NEW], token, "", confirm_code([NEW], token, ""))
    assert not confirm_matches([NEW], token, "browser-a", "")
    assert not confirm_matches([NEW], token, "browser-a", "é" * 10)
