"""How well the classifier routes messages it has never seen, and how fast.

Three figures, printed side by side because only the last one counts:

* **development**: 5-fold cross-validation over the training examples
  (``flows/examples``) — what tuning looked at;
* **keywords alone** on the held-out set — the classifier before it learned;
* **held-out**: ``bench/data/heldout.tsv``, written separately by people who
  did not see the examples, before any tuning, and never trained on — top-1
  and top-3 per language and overall, easy and hard, and the intent
  (request / question / other).

Then the time per message (p50/p99, warm) and for a 20,000-character paste.
Targets on the held-out set: top-1 >= 92 %, top-3 >= 98 %, < 1 ms a message.

    .venv/bin/python bench/classify.py [--folds 5] [--calls 20000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows import training  # noqa: E402
from flows.classifier import Classifier, Model  # noqa: E402
from flows.keywords import KeywordClassifier  # noqa: E402
from storage.seed import read_seed  # noqa: E402

HELDOUT = ROOT / "bench" / "data" / "heldout.tsv"


def heldout() -> list[dict]:
    """Rows of the held-out set: category, intent, language, difficulty, text."""
    if not HELDOUT.exists():
        return []
    rows = []
    for line in HELDOUT.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, intent, language, difficulty, text = line.split("\t", 4)
        rows.append({"category": category, "intent": intent, "language": language, "difficulty": difficulty, "text": text})
    return rows


def cross_validate(keywords: KeywordClassifier, examples: list, folds: int) -> tuple[float, float, float]:
    """Top-1, top-3 and intent accuracy over ``folds`` folds of the examples."""
    shuffled = examples[:]
    random.Random(7).shuffle(shuffled)
    top1 = top3 = intent = 0
    for k in range(folds):
        test = shuffled[k::folds]
        train = [e for i, e in enumerate(shuffled) if i % folds != k]
        classifier = Classifier(keywords, model=Model.fit(keywords, train))
        for example in test:
            found = classifier.classify(example.text)
            top1 += found.category == example.category
            top3 += example.category in [c for c, _ in found.top3]
            intent += found.intent == example.intent
    n = len(shuffled)
    return top1 / n, top3 / n, intent / n


def score(classify, rows: list[dict]) -> dict:
    """Accuracy by group: overall, per language, per difficulty."""
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # n, top1, top3, intent
    for row in rows:
        found = classify(row["text"])
        hits = (1, found.category == row["category"], row["category"] in [c for c, _ in found.top3], found.intent == row["intent"])
        for group in ("all", row["language"], row["difficulty"]):
            for i, hit in enumerate(hits):
                groups[group][i] += hit
    return groups


def show(title: str, groups: dict) -> None:
    print(title)
    order = ["all", "uz", "uz-Cyrl", "ru", "es", "en", "easy", "hard"]
    for group in order + sorted(set(groups) - set(order)):
        if group in groups:
            n, top1, top3, intent = groups[group]
            # two decimals and the counts: 97.97 % (580 of 592) is not 98 %
            print(f"  {group:8} n={n:4}  top-1 {100 * top1 / n:6.2f} % ({top1:3})  top-3 {100 * top3 / n:6.2f} % ({top3:3})  "
                  f"intent {100 * intent / n:6.2f} %")


def timing(classifier: Classifier, texts: list[str], calls: int) -> None:
    latencies = []
    clock = time.perf_counter
    start = clock()
    for i in range(calls):
        t0 = clock()
        classifier.classify(texts[i % len(texts)])
        latencies.append(clock() - t0)
    total = clock() - start
    latencies.sort()
    print(f"time: {calls / total:,.0f} messages/s, p50 {latencies[len(latencies) // 2] * 1e6:.0f} us, "
          f"p99 {latencies[int(len(latencies) * 0.99)] * 1e6:.0f} us a message")
    paste = " ".join(texts)[:20_000]
    t0 = clock()
    classifier.classify(paste)
    print(f"time: one {len(paste):,}-character paste {(clock() - t0) * 1e3:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    keywords = KeywordClassifier.from_catalog(read_seed("categories.json"))
    examples = training.load()
    by_language = defaultdict(int)
    for example in examples:
        by_language[example.language] += 1
    print(f"examples: {len(examples)} ({', '.join(f'{k} {v}' for k, v in sorted(by_language.items()))})")
    t0 = time.perf_counter()
    classifier = Classifier(keywords, model=Model.fit(keywords, examples))
    print(f"fit: {time.perf_counter() - t0:.1f} s")
    if args.folds > 1:
        top1, top3, intent = cross_validate(keywords, examples, args.folds)
        print(f"development ({args.folds}-fold cross-validation on the examples): top-1 {100 * top1:.1f} %  "
              f"top-3 {100 * top3:.1f} %  intent {100 * intent:.1f} %")
    rows = heldout()
    if rows:
        show("keywords alone, held-out:", score(keywords.classify, rows))
        show("held-out (never trained or tuned on):", score(classifier.classify, rows))
    else:
        print(f"no held-out set at {HELDOUT.relative_to(ROOT)}")
    timing(classifier, [e.text for e in examples] or ["svet yo'q"], args.calls)


if __name__ == "__main__":
    main()
