"""Bearer tokens, one way for the whole site: made long and random, stored as a digest.

The built-in cloud's Keystone tokens and the dashboard's API tokens are both made and
looked up here. Only the digest is ever stored; the clear value exists in the answer
that hands it out and in the requests that carry it.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str) -> str:
    """A fresh token: ``prefix`` (which says whose token it is) and 256 random bits."""
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are looked up on every request, so a fast digest (not a slow KDF) is right here:
    they are long random strings, not guessable passwords."""
    return hashlib.sha256(token.encode()).hexdigest()
