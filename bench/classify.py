"""Throughput and per-call latency of the category classifier.

The engine classifies inside the message path (target: 1000 messages/s
overall), so this replays the labelled corpus about 20,000 times and reports
both the warm figure (per-word cache filled, as in a long-running bot) and
the cold one (cache disabled: every word analysed, rapidfuzz included).

    .venv/bin/python bench/classify.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.classifier import Classifier  # noqa: E402
from storage.seed import read_seed  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "classifier_cases.tsv"


def corpus() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[2] for line in lines if line.strip() and not line.startswith("#")]


def thirty_words(texts: list[str]) -> list[str]:
    """Consecutive corpus messages joined into messages of about 30 words."""
    out, bag = [], []
    for text in texts * 2:
        bag += text.split()
        if len(bag) >= 30:
            out.append(" ".join(bag[:30]))
            bag = bag[30:]
    return out


def measure(classifier: Classifier, texts: list[str], calls: int) -> dict[str, float]:
    latencies = []
    clock = time.perf_counter
    start = clock()
    for i in range(calls):
        text = texts[i % len(texts)]
        t0 = clock()
        classifier.classify(text)
        latencies.append(clock() - t0)
    total = clock() - start
    latencies.sort()
    return {
        "per_second": calls / total,
        "mean_us": statistics.fmean(latencies) * 1e6,
        "p50_us": latencies[len(latencies) // 2] * 1e6,
        "p99_us": latencies[int(len(latencies) * 0.99)] * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    catalog = read_seed("categories.json")
    texts = corpus()
    t0 = time.perf_counter()
    warm = Classifier.from_catalog(catalog)
    build_ms = (time.perf_counter() - t0) * 1e3
    long_text = " ".join(texts) * 3  # ~20,000 characters
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"corpus: {len(texts)} messages, {words:.1f} words on average; build {build_ms:.1f} ms")
    cold = Classifier.from_catalog(catalog, cache_size=0)
    for name, classifier in (("warm", warm), ("cold", cold)):
        for label, sample in (("corpus", texts), ("30-word", thirty_words(texts))):
            r = measure(classifier, sample, args.calls)
            print(
                f"{name} {label:7}: {r['per_second']:,.0f} classifications/s, mean {r['mean_us']:.0f} us,"
                f" p50 {r['p50_us']:.0f} us, p99 {r['p99_us']:.0f} us"
            )
        t0 = time.perf_counter()
        classifier.classify(long_text)
        print(f"{name}: one {len(long_text):,}-character message: {(time.perf_counter() - t0) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
