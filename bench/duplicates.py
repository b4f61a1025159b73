"""How well old sheets' duplicates are found: pair precision and recall
against the known groups of ``bench/data/old_requests*.csv`` (written by
people who did not build the finder; see ``bench/data/README.md``), trap
pairs that must stay apart, and unreadable rows.

    python bench/duplicates.py

Targets: F1 at least 0.95 on each sheet, no trap pair grouped.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.catalog import Catalog  # noqa: E402
from bot.sheet_import import category_of, duplicate_groups, parse, read_rows  # noqa: E402
from bot.wiring import open_store  # noqa: E402

DATA = ROOT / "bench" / "data"


def pairs(groups: list[list[int]]) -> set[tuple[int, int]]:
    return {pair for members in groups for pair in combinations(sorted(members), 2)}


def main() -> int:
    store = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    database = open_store(f"sqlite:///{store}")
    catalog = Catalog.from_store(database)
    print(f"{'sheet':24} {'rows':>5} {'groups':>6} {'found':>6} {'precision':>9} {'recall':>7} {'F1':>6} {'traps joined':>12} {'unreadable ok':>13} {'ms':>6}")
    worst = 1.0
    for sheet in sorted(DATA.glob("old_requests*.csv")):
        truth = json.loads(sheet.with_suffix(".truth.json").read_text("utf-8"))
        started = time.perf_counter()
        rows, skipped = parse(read_rows(sheet), catalog)
        groups = duplicate_groups(rows, [category_of(row, catalog) for row in rows])
        elapsed = (time.perf_counter() - started) * 1000
        found, expected = pairs(groups), pairs(truth["duplicate_groups"])
        right = len(found & expected)
        precision = right / len(found) if found else 1.0
        recall = right / len(expected) if expected else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        traps = sum(1 for a, b in truth["traps"] if any(a in g and b in g for g in groups))
        unreadable = sorted(n for n, _ in skipped) == sorted(truth["unreadable_rows"])
        worst = min(worst, f1)
        print(f"{sheet.name:24} {len(rows) + len(skipped):5} {len(truth['duplicate_groups']):6} {len(groups):6} "
              f"{precision:9.3f} {recall:7.3f} {f1:6.3f} {traps:12} {'yes' if unreadable else 'no':>13} {elapsed:6.0f}")
        for members in groups:
            if not any(set(members) <= set(t) for t in truth["duplicate_groups"]):
                print(f"    grouped but not one case: {members}")
        for members in truth["duplicate_groups"]:
            if not any(set(members) <= set(g) for g in groups):
                print(f"    one case not (fully) grouped: {members}")
    database.dispose()
    print(f"\ntarget: F1 >= 0.95 on each sheet (worst {worst:.3f}), no trap pair grouped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
