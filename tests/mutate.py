"""Mutation testing of the core: do the tests notice when the code is wrong?

Each mutant below is one deliberate mistake a person could make in
``flows/router.py``, ``flows/choices.py``, ``flows/storable.py``,
``bot/engine.py`` or ``notifications/outbox.py`` (and its
``retrying.py``): an off-by-one, a check
dropped, a limit changed. For each, the code is copied to a scratch folder
(the working tree is never touched), the mistake is made there and the fast
tests of that module are run on SQLite. A mutant the tests fail on is
*killed*; one they pass is a *survivor*: a mistake nobody would notice.

    make mutate                   # every mutant
    make mutate ONLY=outbox       # those whose module or description contains "outbox"

A mutant whose code is no longer there (the module changed) is reported as
*stale*: update its ``old`` text. This is a developer's tool, not part of
``make test``; it takes a few minutes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "flows", "handlers", "storage", "notifications", "tests")
TIMEOUT = 600


@dataclass(frozen=True)
class Mutant:
    module: str
    what: str
    old: str
    new: str


FLOW_TESTS = ("tests/test_choices.py", "tests/test_flows.py", "tests/test_conversations.py", "tests/test_bad_input.py", "tests/test_fuzz_conversations.py")
TESTS = {
    "flows/router.py": FLOW_TESTS,
    "flows/choices.py": FLOW_TESTS,
    "flows/storable.py": ("tests/test_storable.py", "tests/test_fuzz_conversations.py"),
    "bot/engine.py": ("tests/test_bad_input.py", "tests/test_conversations.py", "tests/test_storable.py", "tests/test_whatsapp_linking.py",
                      "tests/test_whatsapp_optout.py", "tests/test_fuzz_conversations.py"),
    "notifications/outbox.py": ("tests/test_outbox.py", "tests/test_whatsapp_outbound.py", "tests/test_whatsapp_optout.py"),
    "notifications/retrying.py": ("tests/test_outbox.py", "tests/test_whatsapp_outbound.py", "tests/test_outbox_command.py"),
}

MUTANTS = [
    # flows/choices.py
    Mutant("flows/choices.py", "a number one past the list picks nothing... or crashes",
           "0 <= index < len(choices)", "0 <= index <= len(choices)"),
    Mutant("flows/choices.py", "typed numbers count from 0", "index = int(number.group(1)) - 1", "index = int(number.group(1))"),
    Mutant("flows/choices.py", "a yes/no word answers any menu", "if synonym in keys:", "if synonym:"),
    Mutant("flows/choices.py", "looser fuzzy matching", "MIN_SCORE = 80", "MIN_SCORE = 60"),
    Mutant("flows/choices.py", "long sentences may be taken for a choice", "len(wanted) > len(label) * 1.5 + 4", "len(wanted) > len(label) * 4 + 4"),
    Mutant("flows/choices.py", "no matching on part of a label", "score = max(score, fuzz.partial_ratio(wanted, label) - 5)", "score = score"),
    Mutant("flows/choices.py", "the last of equal choices wins", "if score > best_score:", "if score >= best_score:"),
    # flows/router.py
    Mutant("flows/router.py", "buttons of an old menu are taken", "int(match.group(1)) != state.version or ", ""),
    Mutant("flows/router.py", "button data not on the menu is taken", " or match.group(2) not in {k for k, _ in shown}", ""),
    Mutant("flows/router.py", "'menu' skips onboarding", "if words in _MENU and registry.onboarded(ctx):", "if words in _MENU:"),
    Mutant("flows/router.py", "emoji alone count as words", "has_words = any(ch.isalnum() for ch in msg.text)", "has_words = bool(msg.text.strip())"),
    Mutant("flows/router.py", "a new menu at the same step keeps the old version",
           "version = before.version + 1 if moved or changed_menu else before.version", "version = before.version + 1 if moved else before.version"),
    Mutant("flows/router.py", "one hop between flows only", "MAX_HOPS = 4", "MAX_HOPS = 1"),
    Mutant("flows/router.py", "STOP not honoured first", "for early in (optout.answer, linking.answer, privacy.answer):",
           "for early in (linking.answer, privacy.answer):"),
    Mutant("flows/router.py", "the prompt after choosing a language stays in the old one",
           "return chosen[-1] if chosen else current", "return current"),
    Mutant("flows/router.py", "unknown commands go to the step", "if _COMMAND.match(msg.text.strip()):", "if False:"),
    # flows/storable.py
    Mutant("flows/storable.py", "a lone surrogate vanishes without a mark", '"\\ufffd" if _SURROGATE.match(m.group()) else ""', '""'),
    Mutant("flows/storable.py", "backslashes not doubled in the escaped copy", 'return "\\\\\\\\"', 'return "\\\\"'),
    Mutant("flows/storable.py", "the original is not kept", "return replace(msg, **changes, originals=cleaner.originals)", "return replace(msg, **changes)"),
    Mutant("flows/storable.py", "NaN places are kept", "if not (math.isfinite(latitude) and math.isfinite(longitude)):", "if False:"),
    # bot/engine.py
    Mutant("bot/engine.py", "nothing cleaned at the door", "msg = storable(msg)  # no character", "msg = msg  # no character"),
    Mutant("bot/engine.py", "a redelivery is processed again", "if self._already_stored(msg):", "if False:"),
    Mutant("bot/engine.py", "writing again does not unblock", "path.unblock(conn, msg.address)", "pass"),
    Mutant("bot/engine.py", "a message for a person is not flagged", 'inbound.update(status="needs_attention", error=reason)', "inbound.update(error=reason)"),
    Mutant("bot/engine.py", "consent given is not stored", "changes.update(consent=consent, consent_at=utcnow())", "changes.update(consent_at=utcnow())"),
    Mutant("bot/engine.py", "the apology in the default language", "        return citizen.language\n", "        return DEFAULT_LANGUAGE\n"),
    Mutant("bot/engine.py", "a broken staff command escapes", "for_desk, handled = True, self._fail(msg)", "raise"),
    Mutant("bot/engine.py", "the locality chosen is not stored", 'changes["locality_id"] = locality_id', "pass"),
    # notifications/outbox.py
    Mutant("notifications/retrying.py", "no cap on the back-off", "min(self.max_delay, 2.0 ** max(1, attempts))", "2.0 ** max(1, attempts)"),
    Mutant("notifications/retrying.py", "the channel's retry_after ignored", "        if retry_after is not None:\n", "        if False:\n"),
    Mutant("notifications/outbox.py", "later messages to an address overtake a failed one",
           "await asyncio.to_thread(self._release, [m for m, _, _ in items if m > message_id])", "pass"),
    Mutant("notifications/retrying.py", "holding costs an attempt", 'row.status, row.next_attempt_at, row.attempts = "held", None, max(0, attempts - 1)',
           'row.status, row.next_attempt_at = "held", None'),
    Mutant("notifications/outbox.py", "announcements reach those who opted out", "rows = _drop_opted_out(session, ", "rows = (lambda s, r: r)(session, "),
    Mutant("notifications/outbox.py", "a blocked contact is not stopped", "_stop_contact(session, row.address, now)", "pass"),
]


def run(mutant: Mutant, scratch: Path, python: str) -> tuple[str, float]:
    target = scratch / mutant.module
    original = target.read_text("utf-8")
    if original.count(mutant.old) != 1:
        return "stale", 0.0
    target.write_text(original.replace(mutant.old, mutant.new), "utf-8")
    started = time.monotonic()
    try:
        result = subprocess.run(
            [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-k", "not postgresql", *TESTS[mutant.module]],
            cwd=scratch, capture_output=True, timeout=TIMEOUT,
        )
        outcome = "survived" if result.returncode == 0 else "killed"
    except subprocess.TimeoutExpired:
        outcome = "killed (timeout)"
    finally:
        target.write_text(original, "utf-8")
    return outcome, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="run the mutants whose module or description contains this")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if args.only in m.module or args.only in m.what]
    with tempfile.TemporaryDirectory(prefix="onewindow-mutants-") as folder:
        scratch = Path(folder)
        for package in PACKAGES:
            shutil.copytree(ROOT / package, scratch / package, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
        shutil.copy(ROOT / "pyproject.toml", scratch)
        tally: dict[str, list[Mutant]] = {}
        for number, mutant in enumerate(chosen, 1):
            outcome, seconds = run(mutant, scratch, sys.executable)
            tally.setdefault(outcome.split()[0], []).append(mutant)
            print(f"{number:3}/{len(chosen)} {outcome:16} {seconds:5.0f} s  {mutant.module}: {mutant.what}", flush=True)
    print(f"\n{len(tally.get('killed', []))} killed, {len(tally.get('survived', []))} survived, {len(tally.get('stale', []))} stale of {len(chosen)}")
    for mutant in tally.get("survived", []):
        print(f"  survived: {mutant.module}: {mutant.what}")
    for mutant in tally.get("stale", []):
        print(f"  stale (update it): {mutant.module}: {mutant.what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
