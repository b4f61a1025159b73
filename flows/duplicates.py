"""Finding requests that are probably the same problem.

The same broken pipe is reported by ten neighbours, or by one citizen on
WhatsApp and again on Telegram. A caseworker looking at a request sees the
open ones most like it (same category, same place or near it, similar words)
and can merge them with ``/merge``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from flows.textnorm import fold

MIN_SCORE = 70.0


@dataclass(frozen=True)
class Candidate:
    code: str
    text: str
    category_id: str
    locality_id: str | None
    citizen_id: int


def likeness(a: str, b: str) -> float:
    """0-100: how alike two descriptions are, whatever the order of words,
    the script (Latin or Cyrillic) or the accents."""
    return fuzz.token_set_ratio(fold(a), fold(b))


def similar(request: Candidate, others: list[Candidate], *, limit: int = 3) -> list[tuple[str, float]]:
    """The codes of the ``others`` most like ``request``, best first.

    The same citizen writing twice counts for more; another category never
    counts."""
    scored = []
    for other in others:
        if other.code == request.code or other.category_id != request.category_id:
            continue
        score = likeness(request.text, other.text)
        if other.citizen_id == request.citizen_id:
            score = min(100.0, score + 15)
        if request.locality_id and other.locality_id == request.locality_id:
            score = min(100.0, score + 10)
        if score >= MIN_SCORE:
            scored.append((other.code, round(score, 1)))
    return sorted(scored, key=lambda pair: -pair[1])[:limit]
