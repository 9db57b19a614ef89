"""The webhook signature: HMAC-SHA256 over the timestamp and the exact body.

Signing the timestamp with the body lets a receiver refuse old deliveries
replayed later; signing the bytes (not a re-encoding) means a receiver checks
what it received, before parsing it.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Imagetasks-Signature"
TIMESTAMP_HEADER = "X-Imagetasks-Timestamp"
DELIVERY_HEADER = "X-Imagetasks-Delivery"
EVENT_HEADER = "X-Imagetasks-Event"
SCHEME = "sha256="


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The header value for ``body`` sent at ``timestamp`` (Unix seconds, as a string)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SCHEME + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Whether ``header`` is the signature of ``body`` at ``timestamp`` (constant time)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")
