"""The mutation score per module, from mutmut's results (``make mutate``).

mutmut changes the modules named in ``[tool.mutmut]`` of ``pyproject.toml``
one small mistake at a time and runs the tests that reach the changed
function. A mutant the tests fail on is *killed*; one they pass is a
*survivor*. Survivors judged equivalent (the change cannot alter what the
product does) are listed in ``tests/mutation_equivalent.txt``, one per line
with the reason, and counted apart.

    python -m tests.mutation_score             # the table
    python -m tests.mutation_score --survivors # and every survivor not judged equivalent
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "tests" / "mutation_equivalent.txt"
TARGET = 90.0
_LINE = re.compile(r"^\s*(?P<name>[\w.ǁ]+__mutmut_\d+): (?P<status>.+)$")
_MODULE = re.compile(r"^(?P<module>.+?)\.x(?:_|ǁ)")


# mutmut files a mutant whose test run raised (pytest refused its command line,
# say) under exit code 255, which it reports as a timeout. That is no kill.
NOT_RUN = 255


def results() -> dict[str, str]:
    """Every mutant's name and status, as mutmut reports them, except that a
    mutant whose tests could not even start is "not run", never killed."""
    mutmut = Path(sys.executable).with_name("mutmut")
    shown = subprocess.run([str(mutmut), "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    statuses = {m["name"]: m["status"].strip() for line in shown.splitlines() if (m := _LINE.match(line))}
    for meta in (ROOT / "mutants").rglob("*.meta"):
        for name, code in json.loads(meta.read_text("utf-8")).get("exit_code_by_key", {}).items():
            if code == NOT_RUN and name in statuses:
                statuses[name] = "not run"
    return statuses


def seconds_spent() -> dict[str, float]:
    """How long each mutant's tests ran (mutmut's measure, one worker's time)."""
    spent = {}
    for meta in (ROOT / "mutants").rglob("*.meta"):
        spent.update({name: s for name, s in json.loads(meta.read_text("utf-8")).get("durations_by_key", {}).items() if s})
    return spent


def equivalent() -> dict[str, str]:
    if not EQUIVALENT.exists():
        return {}
    judged = {}
    for line in EQUIVALENT.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, why = line.partition(" ")
            judged[name] = why.strip()
    return judged


def module_of(name: str) -> str:
    match = _MODULE.match(name)
    return match["module"] if match else name.rsplit(".", 1)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true", help="list the survivors not judged equivalent")
    args = parser.parse_args()
    statuses, judged, spent = results(), equivalent(), seconds_spent()
    by_module: dict[str, Counter] = defaultdict(Counter)
    minutes: Counter = Counter()
    survivors: dict[str, list[str]] = defaultdict(list)
    for name, status in statuses.items():
        module = module_of(name)
        if status == "survived" and name in judged:
            status = "equivalent"
        elif status == "survived":
            survivors[module].append(name)
        by_module[module][status] += 1
        minutes[module] += spent.get(name, 0.0) / 60
    print(f"{'module':32} {'mutants':>7} {'killed':>7} {'survived':>8} {'equiv.':>6} {'no test':>7} {'timeout':>7} {'score':>6} {'minutes':>7}")
    below = 0
    for module in sorted(by_module):
        c = by_module[module]
        total = sum(c.values())
        killed = c["killed"] + c["timeout"] + c["caught by type check"]
        counted = total - c["equivalent"] - c["not checked"] - c["skipped"]
        score = 100.0 * killed / counted if counted else None
        below += score is None or score < TARGET  # a module not measured has not met the target
        shown = "    —" if score is None else f"{score:5.1f}"
        print(f"{module:32} {total:7} {c['killed']:7} {c['survived']:8} {c['equivalent']:6} {c['no tests']:7} {c['timeout']:7} {shown}% {minutes[module]:7.1f}"
              + ("" if not c["not checked"] else f"  ({c['not checked']} not run yet)"))
    if args.survivors:
        for module, names in sorted(survivors.items()):
            print(f"\n{module}: {len(names)} survivors (mutmut show NAME)")
            for name in sorted(names):
                print(f"  {name}")
    if broken := sorted(name for name, status in statuses.items() if status == "not run"):
        print(f"\n{len(broken)} mutants counted as not killed: their tests could not start (mutmut debug = true shows why)")
        for name in broken[:20]:
            print(f"  {name}")
    print(f"\n{sum(minutes.values()):.0f} minutes of tests in all, over mutmut's workers (make mutate's --max-children)")
    print(f"target: {TARGET:.0f}% killed in each module; {below} module(s) below it or not measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
