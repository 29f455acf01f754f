"""Signed connect links: bound to one user, short-lived, valid across a key rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from handlers.claritalk.links import InvalidLink, sign_link, verify_link

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
