"""One normal form for comparing what citizens type with catalogue keywords.

Citizens write the same word many ways: ``o'zbek``, ``oʻzbek``, ``o`zbek``,
``ozbek``, ``ўзбек``, ``узбек``; ``electricidad``/``electricidád``. :func:`fold`
maps all of them to one lowercase ASCII-ish Latin form, so keywords written in
any script match messages written in any other.

Steps, in order (each chosen for a reason):

1. Unicode NFKC and lowercase: full-width and compatibility letters collapse.
2. Every apostrophe look-alike (' ` ´ ‘ ’ ʻ ʼ ʹ ′ ‛ ʽ) becomes ASCII ``'``:
   the Uzbek oʻ/gʻ (U+02BB) and the tutuq belgisi (U+02BC) are typed with
   whatever key is at hand.
3. Cyrillic is transliterated to Latin using the official Uzbek Latin
   alphabet (ў→o', қ→q, ғ→g', ҳ→h, ш→sh, ч→ch, ж→j, х→x, ц→ts, ё→yo, ю→yu,
   я→ya, ъ→'), with ``е`` → ``ye`` at the start of a word or after a vowel
   (ер→yer, as Uzbeks write it in Latin). Russian-only letters get the nearest
   value (ы→i, щ→sh, э→e, ь dropped), so Russian keywords fold too.
4. Turkish-style letters some Uzbeks use (ş ç ğ ö ı) become sh ch g' o' i;
   remaining diacritics are removed (é→e, ñ→n, ü→u).
5. Everything that is not a letter, digit or in-word apostrophe separates
   words; an apostrophe survives inside a word or after a final o/g (tog').

:func:`match_key` is the coarser form the classifier compares. It drops the
apostrophes, because o'/g' written as plain o/g is the most common
"misspelling" of all and losing the o/o' distinction costs the classifier
almost nothing; and it merges q→k and x→h, because people typing Uzbek on a
Russian keyboard write к for қ and х for ҳ. Text and keywords go through the
same function, so the merge is consistent on both sides.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "words", "match_key"]

_APOSTROPHES = "`´‘’ʻʼʹ′‛ʽ＇"

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo",
    "ж": "j", "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "x", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "'",
    "ы": "i", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Uzbek
    "ў": "o'", "қ": "q", "ғ": "g'", "ҳ": "h",
    # neighbours that turn up in the same chats (Kazakh, Karakalpak, Ukrainian)
    "ң": "ng", "ө": "o'", "ү": "u", "ұ": "u", "ә": "a", "һ": "h", "і": "i",
    "ї": "yi", "є": "ye", "ґ": "g",
    # Turkish-style Latin Uzbek
    "ş": "sh", "ç": "ch", "ğ": "g'", "ö": "o'", "ı": "i", "ə": "a",
}
_QUOTES = str.maketrans({c: "'" for c in _APOSTROPHES})
_TABLE = str.maketrans({**{c: "'" for c in _APOSTROPHES}, **_CYRILLIC})

# е is "ye" at a word start or after a vowel (or a hard/soft sign).
_YE = re.compile(r"(?:(?<=[аеёиоуўэюяыъь])|(?<![^\W_]))е")
# A token: letters/digits joined by single apostrophes, plus a trailing
# apostrophe only after o or g (tog', bog'), never a quote mark.
_TOKEN = re.compile(r"[^\W_]+(?:'+[^\W_]+)*(?:(?<=[og])')?")
_LOOSE = str.maketrans({"'": None, "q": "k", "x": "h"})


def _strip_marks(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded tokens of ``text`` (see the module docstring)."""
    if not text:
        return []
    # apostrophes first: NFKC would turn ´ into a space and a combining accent
    text = unicodedata.normalize("NFKC", text.translate(_QUOTES)).lower()
    if "е" in text:
        text = _YE.sub("ye", text)
    text = _strip_marks(text.translate(_TABLE))
    if "''" in text:
        text = re.sub("'{2,}", "'", text)
    return _TOKEN.findall(text)


def fold(text: str) -> str:
    """``text`` in the normal form: folded words joined by single spaces."""
    return " ".join(words(text))


def match_key(word: str) -> str:
    """The coarse key of one folded word: no apostrophes, q→k, x→h."""
    return word.translate(_LOOSE)
