"""The signed webhook's signature (as GitHub and Stripe sign theirs):

    X-Dashboard-Timestamp: <unix seconds>
    X-Dashboard-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

A receiver recomputes the HMAC over the raw body, compares in constant time, and refuses a
timestamp older than a few minutes (a replayed request). The README has a receiver.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Dashboard-Timestamp"
SIGNATURE_HEADER = "X-Dashboard-Signature"
DELIVERY_HEADER = "X-Dashboard-Delivery"
VERSION = "v1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
