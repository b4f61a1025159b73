"""Tracking codes a citizen can read aloud and type on a phone.

Six symbols from an alphabet with no look-alikes (no 0/O/Q, no 1/I/L, no
U/V), shown as ``KX7-4MP``: what is read aloud or copied from a screen can
only be typed one way. Reading a code forgives what people do: lower case,
spaces or no dash, and Cyrillic letters that look like Latin ones (an Uzbek
or Russian keyboard left on).
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPRSTWXYZ"  # 28 symbols: 28**6 ≈ 482 million codes
LENGTH = 6

# What a phone keyboard in another script types for a symbol of the alphabet.
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic capitals that look like Latin letters or digits
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "Р": "P",
        "С": "C", "Т": "T", "Х": "X", "З": "3", "У": "Y",
    }
)
_SEPARATORS = re.compile(r"[\s\-_.#№]+")
_CANDIDATE = re.compile(r"(?<![A-Za-zА-Яа-я0-9])[A-Za-zА-Яа-я0-9]{3}[\s\-_.]?[A-Za-zА-Яа-я0-9]{3}(?![A-Za-zА-Яа-я0-9])")


def new_code(randbelow=secrets.randbelow) -> str:
    """A random code with at least one digit, so that it never reads as a
    word and can be picked out of a sentence ("where is kx7 4mp?")."""
    while True:
        symbols = "".join(ALPHABET[randbelow(len(ALPHABET))] for _ in range(LENGTH))
        if any(ch.isdigit() for ch in symbols):
            return format_code(symbols)


def format_code(symbols: str) -> str:
    return f"{symbols[:3]}-{symbols[3:]}"


def parse_code(text: str) -> str | None:
    """The code in ``text`` in its canonical form, or None.

    >>> parse_code(" kx7 4mp ")
    'KX7-4MP'
    """
    raw = _SEPARATORS.sub("", text.strip()).upper().translate(_LOOKALIKES)
    if len(raw) == LENGTH and all(ch in ALPHABET for ch in raw):
        return format_code(raw)
    return None


def find_code(text: str) -> str | None:
    """A tracking code written somewhere inside a sentence ("status of KX7-4MP?")."""
    whole = parse_code(text)
    if whole:
        return whole
    for match in _CANDIDATE.finditer(text):
        code = parse_code(match.group(0))
        if code and any(ch.isdigit() for ch in match.group(0)):
            return code
    return None
