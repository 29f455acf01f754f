"""Encryption at rest for secrets Debrief stores (provider tokens): Fernet with key rotation.

``DEBRIEF_ENCRYPTION_KEYS`` lists Fernet keys newest first. New values are encrypted with the
newest; every listed key can still decrypt, so a key is rotated by putting a new one in front,
running ``debrief rotate-keys`` (which re-encrypts with the newest) and then dropping the old one.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretsUnavailable(RuntimeError):
    """No encryption key is configured, so secrets cannot be stored."""


class UnreadableSecret(RuntimeError):
    """A stored value none of the configured keys can decrypt (a key was dropped too early)."""


class SecretBox:
    """Encrypts and decrypts stored secrets with the configured keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        try:
            self._fernets = [Fernet(key.encode()) for key in keys]
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "DEBRIEF_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes each); "
                "make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            ) from exc
        self._multi = MultiFernet(self._fernets) if self._fernets else None

    @property
    def enabled(self) -> bool:
        return self._multi is not None

    def _require(self) -> MultiFernet:
        if self._multi is None:
            raise SecretsUnavailable(
                "DEBRIEF_ENCRYPTION_KEYS is not set: Debrief will not store secrets unencrypted"
            )
        return self._multi

    def encrypt(self, plaintext: str) -> str:
        return self._require().encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._require().decrypt(token.encode()).decode()
        except InvalidToken:
            raise UnreadableSecret(
                "a stored secret cannot be decrypted with any configured key"
            ) from None

    def rotate(self, token: str) -> str:
        """The same secret, encrypted with the newest key."""
        try:
            return self._require().rotate(token.encode()).decode()
        except InvalidToken:
            raise UnreadableSecret(
                "a stored secret cannot be decrypted with any configured key"
            ) from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()
