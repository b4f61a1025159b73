"""Transcripts: a scripted conversation with the bot, kept word for word.

A transcript file holds lines a person typed (``karim> /take {A}``) or
buttons they pressed (``ana> [Yes]``) and,
under each, what the bot answered and whom else it told (indented, with
the WhatsApp template the message would take outside the window). The
test replays the typed lines and compares the whole answer with the file:
any change in what the bot says, to whom, or in what it did that a later
``/show`` reveals, fails with a diff. ``UPDATE_TRANSCRIPTS=1`` rewrites the
files from what the bot says now; read the diff before committing it.

Only what cannot repeat is replaced before comparing: request codes by the
names the script gives them (``{A}``; ``{A~}`` types it with its last symbol
wrong), codes the bot makes up by names it gives them in order (``{I1}`` for
invitations, ``{R1}`` for requests filed during the script), dates near today by ``<today>``, ``<today+4>``..., a clock
time of the run by ``<now>``, and a request's age in the queue by ``<age>``.
"""

from __future__ import annotations

import difflib
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flows.tracking import ALPHABET
from tests.conversation import Chat, _take_from_outbox

FOLDER = Path(__file__).with_name("transcripts")
UPDATE = os.environ.get("UPDATE_TRANSCRIPTS") == "1"
_TYPED = re.compile(r"^(?P<who>[a-z]+)> ?(?P<text>.*)$")
# Codes the bot makes up as it goes: each new one gets a name (I1, I2, ...)
# the rest of the script can type, as a person would copy it.
GENERATED = {"I": re.compile(r"(?<=Invite code )[0-9A-F]{8}|(?<=/join )[0-9A-F]{8}"),
             "R": re.compile(rf"(?<![\w-])[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}(?![\w-])")}  # a request filed in the script
# Dates that hang on the weekday the test runs (the next Sunday's bazaar).
WEEKDAY_BOUND = re.compile(r"(?:(?<=The next one: )|(?<=Следующий: ))\S+")
# A request's age in a queue line ("· 0m ·"): it grows while the day is replayed.
AGE = re.compile(r"(?<=· )\d+[mhd](?= ·)")


class Transcript:
    """The people of one script, and what each typed line brought back."""

    def __init__(self, engine, people: dict[str, Chat], codes: dict[str, str], started: datetime):
        self.engine, self.people, self.codes, self.started = engine, people, codes, started

    def play(self, script: str, expected: str | None = None) -> str:
        """What the script brings back; with ``expected``, only up to the first
        line that differs from it (the rest of the day cannot repair it)."""
        out: list[str] = []
        wanted = expected.splitlines() if expected is not None else None
        for line in script.splitlines():
            if wanted is not None and out != wanted[:len(out)]:
                break
            typed = _TYPED.match(line)
            if not typed:  # a comment
                out.append(line)
                continue
            who, text = typed["who"], typed["text"]
            out.append(line)
            chat = self.people[who]
            if text.startswith("[") and text.endswith("]"):  # a button of the latest menu, pressed
                try:
                    chat.press(self._fill(text[1:-1]))
                except StopIteration:
                    out.append(f"  (no button {text} on the latest menu)")
                    continue
            else:
                chat.send(self._fill(text))
            for reply in chat.replies:
                out.extend(self._shown(reply.text, reply.choices))
            for name, other in self.people.items():
                if other is chat:
                    continue
                pushed = _take_from_outbox(self.engine.database, other.address)
                for message in pushed:
                    out.extend(self._shown(message.text, message.choices, to=name, template=message.template))
                if pushed:  # what reached them is what their next button press answers
                    other.replies = pushed
        return "\n".join(out).rstrip("\n") + "\n"

    def _fill(self, text: str) -> str:
        for name, code in list(self.codes.items()):
            if "{" + name + "~}" in text:  # {A~}: the code mistyped, its last symbol the next one
                self.codes[name + "~"] = code[:-1] + ALPHABET[(ALPHABET.index(code[-1]) + 1) % len(ALPHABET)]
        for name, code in sorted(self.codes.items(), key=lambda item: -len(item[0])):  # {a}: as a person types it, in lower case
            text = text.replace("{" + name + "}", code).replace("{" + name.lower() + "}", code.lower())
        return text

    def _shown(self, text: str, choices, to: str | None = None, template: str | None = None) -> list[str]:
        """What was said; to someone else, with the WhatsApp template it
        would go out as once their 24-hour window has closed."""
        text = self._anonymous(text)
        lead = f"  → {to}{f' ({template})' if template else ''}: " if to else "  "
        indent = " " * len(lead)
        lines = [(indent if i else lead) + line for i, line in enumerate(text.splitlines() or [""])]
        if choices:
            lines.append(indent + "[" + "] [".join(self._anonymous(c.label) for c in choices) + "]")
        return [line.rstrip() for line in lines]

    def _anonymous(self, text: str) -> str:
        for prefix, pattern in GENERATED.items():
            for made in pattern.findall(text):
                if made not in self.codes.values():
                    self.codes[f"{prefix}{sum(n.startswith(prefix) for n in self.codes) + 1}"] = made
        for name, code in self.codes.items():
            text = text.replace(code, "{" + name + "}").replace(code.lower(), "{" + name.lower() + "}")
        text = AGE.sub("<age>", WEEKDAY_BOUND.sub("<date>", text))
        now = datetime.now(UTC)
        for days in range(-7, 15):  # dates with their year near today; 2031's visits stay as they are
            day, word = (now + timedelta(days=days)).date(), f"<today{days:+d}>" if days else "<today>"
            for shown in (day.isoformat(), f"{day:%d.%m.%Y}"):
                text = re.sub(rf"(?<![\d.]){re.escape(shown)}(?![\d])", word, text)
        for day in {self.started.date(), now.date()}:  # a message's day and time, "04.12 15:09"
            text = re.sub(rf"(?<![\d.]){day:%d\.%m}(?= \d\d:\d\d)", "<today>", text)
        for minutes in range(self.started_minutes_ago(now) + 1):  # the clock time of something done in this run
            text = re.sub(rf"(?<=<today> ){(now - timedelta(minutes=minutes)):%H:%M}\b", "<now>", text)
        return text

    def started_minutes_ago(self, now: datetime) -> int:
        return int((now - self.started).total_seconds() // 60) + 1


def check(name: str, played: str) -> None:
    """The played transcript equals the file (or becomes it, when updating)."""
    path = FOLDER / name
    expected = expected_of(name)
    if expected is None:
        path.write_text(played, "utf-8")
        if not UPDATE:
            raise AssertionError(f"{path.name} did not exist; it was written from this run: read it, then run again")
        return
    if played != expected:
        shown = expected.splitlines(True)[:played.count("\n") + 3]  # a replay stops at its first difference
        diff = "".join(difflib.unified_diff(shown, played.splitlines(True), "expected", "said now"))
        raise AssertionError(f"the bot no longer says what {path.name} says:\n{diff}")


def expected_of(name: str) -> str | None:
    """The approved transcript, or None when it is being rewritten."""
    path = FOLDER / name
    return None if UPDATE or not path.exists() else path.read_text("utf-8")


def script_of(name: str) -> str:
    """The typed lines and comments of a transcript, its answers left out."""
    return "\n".join(line for line in (FOLDER / name).read_text("utf-8").splitlines() if _TYPED.match(line) or line.startswith("#"))
