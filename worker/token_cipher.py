"""Encryption at rest for shop access and refresh tokens.

`TOKEN_ENCRYPTION_KEY` holds one or more Fernet keys separated by commas. The
first key encrypts; every key decrypts, so a key is rotated by putting a new
one in front, re-encrypting stored tokens with `rotate`, then dropping the old
key.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenDecryptionError(ValueError):
    """The ciphertext was not made by any of the configured keys, or was altered."""


def generate_key() -> str:
    """A fresh Fernet key, as text for an environment variable."""
    return Fernet.generate_key().decode("ascii")


def _fernet(key: str, position: int) -> Fernet:
    try:
        return Fernet(key.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        # The key itself is a secret: name its position, never its value.
        raise ValueError(
            f"token encryption key #{position + 1} is not a valid Fernet key (32 url-safe base64-encoded bytes)"
        ) from None


class TokenCipher:
    def __init__(self, keys: Sequence[str]) -> None:
        if isinstance(keys, str):
            raise TypeError("TokenCipher takes a sequence of keys; use from_setting() for a comma-separated string")
        fernets = [_fernet(key, i) for i, key in enumerate(keys)]
        if not fernets:
            raise ValueError("at least one token encryption key is required")
        self._cipher = MultiFernet(fernets)

    @classmethod
    def from_setting(cls, value: str) -> "TokenCipher":
        """Build from a setting like `TOKEN_ENCRYPTION_KEY="newkey,oldkey"`."""
        keys = [part.strip() for part in (value or "").split(",") if part.strip()]
        return cls(keys)

    def encrypt(self, plaintext: str) -> str:
        return self._cipher.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._cipher.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise TokenDecryptionError(
                "stored token cannot be decrypted with the configured TOKEN_ENCRYPTION_KEY "
                "(wrong or removed key, or altered ciphertext)"
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the first (current) key; readable by this cipher either way."""
        try:
            return self._cipher.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise TokenDecryptionError("stored token cannot be rotated: no configured key decrypts it") from None
