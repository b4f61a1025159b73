"""Cutting a long text into pieces a channel accepts, at line or sentence
boundaries where possible (Telegram: 4096 characters; WhatsApp: 1600)."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_text(text: str, limit: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n")
        if cut < limit // 2:
            ends = [m.end() for m in _SENTENCE_END.finditer(window)]
            cut = ends[-1] if ends and ends[-1] >= limit // 2 else -1
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
