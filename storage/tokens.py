"""One-time tokens and keys are kept only as their SHA-256: a copy of the
store hands out no working link or key."""

from __future__ import annotations

import hashlib


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
