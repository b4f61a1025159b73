"""The labelled messages the classifier learns from.

``flows/examples/<language>[.<part>].tsv`` holds what citizens write,
labelled as a careful caseworker would route it: ``category<TAB>intent<TAB>text``. The
held-out messages the classifier is measured on live elsewhere
(``bench/data/``) and are never read here. Caseworkers' corrections join
these examples at run time (see :class:`flows.classifier.Classifier`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).with_name("examples")
INTENTS = ("request", "question", "other")


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    intent: str = "request"
    language: str | None = None


def read_tsv(path: Path, language: str | None = None) -> list[Example]:
    """``category<TAB>intent<TAB>text`` rows; ``#`` lines are comments."""
    found = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[1] not in INTENTS or not parts[2].strip():
            raise ValueError(f"{path.name} line {number}: expected category<TAB>intent<TAB>text")
        found.append(Example(parts[2].strip(), parts[0].strip(), parts[1], language))
    return found


def load(folder: Path = EXAMPLES) -> list[Example]:
    """Every example in ``folder``; a file's name starts with its language."""
    return read_tsv_files(folder.glob("*.tsv"))


def read_tsv_files(paths: Iterable[Path]) -> list[Example]:
    examples: list[Example] = []
    for path in sorted(paths):
        examples += read_tsv(path, path.name.split(".")[0])
    return examples


def digest(examples: Iterable[Example], *extra: str) -> str:
    """A fingerprint of what a model learns from, so one fitted model serves
    every catalogue built from the same examples and keywords."""
    h = hashlib.sha256()
    for example in examples:
        h.update(f"{example.category}\t{example.intent}\t{example.text}\n".encode())
    for item in extra:
        h.update(item.encode())
    return h.hexdigest()
