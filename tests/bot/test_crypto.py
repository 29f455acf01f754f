"""Stored secrets: encrypted, readable with any listed key, rotated to the newest."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.crypto import SecretBox, SecretsUnavailable, UnreadableSecret


def test_round_trip_and_no_plaintext() -> None:
    box = SecretBox([SecretBox.generate_key()])
    token = box.encrypt("access-token-123")
    assert "access-token-123" not in token
    assert box.decrypt(token) == "access-token-123"


def test_rotation_moves_to_the_newest_key() -> None:
    old, new = SecretBox.generate_key(), SecretBox.generate_key()
    token = SecretBox([old]).encrypt("refresh-token")
    both = SecretBox([new, old])
    rotated = both.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == "refresh-token"
    with pytest.raises(UnreadableSecret):
        SecretBox([new]).decrypt(token)
    assert Fernet(new.encode()).decrypt(rotated.encode()) == b"refresh-token"


def test_without_keys_nothing_is_stored() -> None:
    with pytest.raises(SecretsUnavailable):
        SecretBox([]).encrypt("x")


def test_a_bad_key_is_explained() -> None:
    with pytest.raises(ValueError, match="Fernet"):
        SecretBox(["not-a-key"])
