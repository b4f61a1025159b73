"""Service catalogue search speed, and question-or-request accuracy.

* **Search latency** with 500 services: the shipped sample catalogue plus
  synthetic variants of its services (same texts, a numbered suffix, so the
  vocabulary and the postings grow as a real catalogue would), queried with
  the questions of ``bench/data/service_questions.tsv``; p50/p99 per search,
  warm. Target: p99 under 5 ms.
* **Question or request** on ``bench/data/question_or_request_heldout.tsv``,
  written before the rules were tuned and never tuned on: how many were
  answered as the right kind, asked about (the bot's numbered question), or
  taken for the wrong kind.

    .venv/bin/python bench/search.py [--services 500] [--rounds 20]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.services import SERVICES_DIR, read  # noqa: E402
from flows.classifier import Classifier  # noqa: E402
from flows.intent import UNSURE, question_or_request  # noqa: E402
from flows.service_catalogue import ServiceCatalogue  # noqa: E402
from flows.service_search import ServiceIndex  # noqa: E402
from storage.seed import read_seed  # noqa: E402

VARIANT_WORDS = ["district", "tuman", "rayon", "partido", "extra", "express", "online", "mahalla", "urgente", "renew"]


def catalogue_of(size: int) -> ServiceCatalogue:
    categories = {c["id"] for c in read_seed("categories.json")["categories"]}
    real = list(read(SERVICES_DIR, categories)[0].services)
    services = list(real)
    n = 0
    while len(services) < size:
        base, word = real[n % len(real)], VARIANT_WORDS[(n // len(real)) % len(VARIANT_WORDS)]
        suffix = f" {word} {n}"
        services.append(replace(
            base, id=f"{base.id}-v{n}",
            names={k: v + suffix for k, v in base.names.items()},
            descriptions={k: v + suffix for k, v in base.descriptions.items()},
        ))
        n += 1
    return ServiceCatalogue.of(services)


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    started = time.perf_counter()
    index = ServiceIndex(catalogue_of(args.services))
    built = time.perf_counter() - started
    with (ROOT / "bench" / "data" / "service_questions.tsv").open(encoding="utf-8") as handle:
        questions = [line.rstrip("\n").split("\t")[2] for line in handle if not line.startswith("#") and line.count("\t") >= 2]
    for text in questions:  # warm up
        index.search(text)
    times = []
    for _ in range(args.rounds):
        for text in questions:
            t0 = time.perf_counter()
            index.search(text, limit=3, locality_id="uz-syr-gulistan-c")
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p50, p99 = statistics.median(times), times[int(len(times) * 0.99) - 1]
    print(f"catalogue: {len(index.catalogue.services)} services, {len(index.vocabulary)} searchable words, index built in {built * 1000:.0f} ms")
    print(f"search: {len(times)} searches, p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {times[-1]:.3f} ms (target p99 < 5 ms)")

    small = ServiceIndex(catalogue_of(0))
    classifier = Classifier.from_catalog(read_seed("categories.json"))
    held = rows(ROOT / "bench" / "data" / "question_or_request_heldout.tsv")
    right = asked = wrong = 0
    misses = []
    for row in held:
        best = small.search(row["text"], limit=1)
        kind = question_or_request(row["text"], classifier.classify(row["text"]), best[0].score if best else 0.0) or "other"
        if kind == row["kind"]:
            right += 1
        elif kind == UNSURE:
            asked += 1
        else:
            wrong += 1
            misses.append(f"  {row['kind']} taken as {kind}: {row['text']}")
    total = len(held)
    print(f"question or request (held-out, {total} messages): right {right} ({right / total:.0%}), "
          f"asked {asked} ({asked / total:.0%}), wrong {wrong} ({wrong / total:.0%})")
    print("\n".join(misses))


if __name__ == "__main__":
    main()
