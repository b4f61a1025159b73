"""Which test killed which mutant, kept with the code (``make mutate``).

A mutant with no history has its tests run in a guessed order (see
``tests/conftest.py``), and one the guess misses costs its whole budget of
test seconds. So after each run the kills mutmut saw (``mutants/.killers``)
are folded into ``tests/mutation_history.json``, and the next run, even from a
clean clone, starts each mutant with the test that killed it last time. Only
the order of the tests depends on the history, never a verdict: a mutant
survives when the tests run for it pass, whatever the history said.

    python -m tests.mutation_history   # fold the last run's kills in
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HISTORY = Path(__file__).with_name("mutation_history.json")
BY_MUTANT = "by-mutant"  # in the killers folder: one "mutant test" line per kill
MARK = "__mutmut_"


def split(mutant: str) -> tuple[str, str]:
    """``bot.web.xǁOwnRoutesǁhealthz__mutmut_7`` → (``bot.web.xǁOwnRoutesǁhealthz``, ``7``)."""
    function, _, number = mutant.rpartition(MARK)
    return function, number


def load(path: Path = HISTORY) -> dict[str, dict[str, str]]:
    """For each mutated function, the test that killed each of its mutants."""
    try:
        stored = json.loads(path.read_text("utf-8"))
        tests = stored["tests"]
        return {function: {number: tests[index] for number, index in killed.items()} for function, killed in stored["killed"].items()}
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return {}


def kills(history: dict[str, dict[str, str]], function: str, module: str) -> tuple[Counter, Counter]:
    """How many of the function's mutants, and of its module's, each test killed."""
    of_function = Counter(history.get(function, {}).values())
    of_module = Counter(test for name, killed in history.items() if name.startswith(module + ".x") for test in killed.values())
    return of_function, of_module


def fold(killers: Path, history: dict[str, dict[str, str]]) -> int:
    """Add the kills recorded in `killers` (the last one of each mutant wins); how many."""
    try:
        lines = (killers / BY_MUTANT).read_text("utf-8").splitlines()
    except OSError:
        return 0
    for line in lines:
        mutant, _, test = line.partition(" ")
        function, number = split(mutant)
        if function and number and test:
            history.setdefault(function, {})[number] = test
    return len(lines)


def agree(history: dict[str, dict[str, str]], verdicts: dict[str, str]) -> int:
    """Drop what mutmut's last verdicts contradict (how many): a remembered
    kill of a mutant that survived, or of one that no longer exists in a
    module mutmut ran (the code changed and its mutants were numbered anew).
    A kill noted in a run that did not confirm it (a test that failed for a
    reason of its own, say) is then never remembered as a killer."""
    from tests.mutation_score import module_of

    ran = {module_of(name) for name, status in verdicts.items() if status != "not checked"}
    dropped = 0
    for function, killed in list(history.items()):
        for number in list(killed):
            status = verdicts.get(f"{function}{MARK}{number}")
            if status == "survived" or (status is None and module_of(function) in ran):
                del killed[number]
                dropped += 1
        if not killed:
            del history[function]
    return dropped


def save(history: dict[str, dict[str, str]], path: Path = HISTORY) -> None:
    """One function a line, sorted, so that a run's changes read as a small diff."""
    tests = sorted({test for killed in history.values() for test in killed.values()})
    index = {test: position for position, test in enumerate(tests)}
    functions = [
        f"{json.dumps(function, ensure_ascii=False)}: {json.dumps({n: index[t] for n, t in sorted(killed.items(), key=lambda item: int(item[0]))})}"
        for function, killed in sorted(history.items())
    ]
    path.write_text(
        '{"tests": [\n' + ",\n".join(json.dumps(test, ensure_ascii=False) for test in tests) + '\n],\n"killed": {\n' + ",\n".join(functions) + "\n}}\n",
        "utf-8",
    )


def main() -> int:
    from tests.mutation_score import results

    history = load()
    folded = fold(ROOT / "mutants" / ".killers", history)
    dropped = agree(history, results())
    save(history)
    print(f"mutation history: {folded} kills folded in, {dropped} the last verdicts contradict dropped; "
          f"{sum(len(k) for k in history.values())} mutants of {len(history)} functions remembered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
