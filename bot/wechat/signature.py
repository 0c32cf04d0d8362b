"""WeChat request signatures (SHA-1 over the sorted parameters), compared in constant time."""

from __future__ import annotations

import hashlib
import secrets


def sign(*parts: str) -> str:
    """SHA-1 hex of the lexicographically sorted, concatenated parts (token, timestamp, nonce[, Encrypt])."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check(expected_parts: tuple[str, ...], signature: str) -> bool:
    """True when ``signature`` matches; the comparison does not leak timing."""
    if not signature or len(signature) > 64:
        return False
    return secrets.compare_digest(sign(*expected_parts), signature.lower())


def timestamp_fresh(timestamp: str, now: float, window: int) -> bool:
    """WeChat timestamps are whole seconds; a stale or absurd one is treated like a bad signature."""
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(int(timestamp) - now) <= window
