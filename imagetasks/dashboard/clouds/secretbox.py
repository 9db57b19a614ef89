"""Encryption at rest for cloud secrets (passwords, API keys, application credentials).

Keys come from ``CLOUD_SECRET_KEYS`` (Fernet keys, newest first, so a key can
be rotated without losing old secrets) or, by default, are derived from
``SECRET_KEY``. Decrypted values exist only in memory, for the client.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with the configured keys."""


def _fernet() -> MultiFernet:
    keys = list(settings.CLOUD_SECRET_KEYS)
    if not keys:
        digest = hashlib.sha256(b"imagetasks cloud secrets\0" + settings.SECRET_KEY.encode())
        keys = [base64.urlsafe_b64encode(digest.digest()).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(clear: str) -> str:
    if not clear:
        return ""
    return _fernet().encrypt(clear.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The cloud's secret cannot be decrypted: SECRET_KEY or CLOUD_SECRET_KEYS changed. "
            "Enter the secret again in the cloud's admin page."
        ) from None
