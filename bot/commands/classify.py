"""``onewindow classify``: run the category classifier over lines of text.

For whoever tunes the catalogue: pipe in real messages (one per line) and see
where each lands — category, score, the top three and the intent (``request``,
``question`` or ``other``) — as JSON lines that ``jq`` and spreadsheets can
read. Uses the seed catalogue and the examples in the repository, so it needs
no database.
"""

from __future__ import annotations

import argparse
import json
import sys

from flows.classifier import Classifier
from storage.seed import read_seed

help = "classify each line of a file (or stdin) into a request category, one JSON object per line"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", default="-", help="a UTF-8 text file, one message per line; '-' (default) for stdin")


def run(args: argparse.Namespace) -> int:
    classifier = Classifier.from_catalog(read_seed("categories.json"))
    path = getattr(args, "file", "-") or "-"
    try:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
    except OSError as error:
        print(f"onewindow classify: {error}", file=sys.stderr)
        return 1
    try:
        for line in stream:
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            found = classifier.classify(text)
            row = {"text": text, "category": found.category, "score": found.score, "top3": [list(t) for t in found.top3], "intent": found.intent}
            print(json.dumps(row, ensure_ascii=False), flush=True)
    finally:
        if stream is not sys.stdin:
            stream.close()
    return 0
