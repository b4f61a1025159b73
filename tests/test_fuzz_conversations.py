"""Random conversations through the engine, on SQLite and PostgreSQL.

Hypothesis plays citizens who write anything in any of the five languages
and scripts (with typos, o'/oʻ/o` and ў қ ғ ҳ), emoji, control characters,
NUL, lone surrogates and very long text; who press the latest buttons, old
ones and forged ones; share places near, far and off the map; send photos,
voice notes, documents and stickers; whose channel delivers a message twice;
and whose bot restarts between two messages (a new engine on the same store).
After every message:

- nothing escapes the engine, and nothing went wrong inside it (no apology);
- the message is stored exactly once (by channel and id), a redelivery
  changes nothing;
- a message that is not a redelivery has at least one reply in the outbox;
- the conversation stands at a step that exists (``flows.registry``).

CI runs a small, fixed set of conversations (the ``ci`` profile in
``conftest.py``); ``make fuzz`` runs many more and prints how many it tried.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.engine import Engine
from flows import registry
from flows.messages import Attachment, Incoming, Location, Outgoing
from flows.router import button_data
from handlers import telegram, whatsapp_sender
from storage.models import Conversation, Message

_M, _C = Message.__table__, Conversation.__table__
_numbers = itertools.count(1)
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
TALLY: Counter = Counter()
DATABASES: set[str] = set()

# -- what citizens say -------------------------------------------------------------------------

PHRASES = [
    # Uzbek, Latin (every apostrophe people type) and Cyrillic
    "Assalomu alaykum", "salom", "O'zbekcha", "oʻzbekcha", "o`zbekcha", "ozbekcha", "Ўзбекча", "ўзбек тили",
    "Suv yo'q", "suv yoʻq uch kundan beri", "Ko'chamizda chiroq yo'q", "Gaz yo‘q", "bolalar puli qachon beriladi",
    "Сув йўқ", "Кўчада чироқ йўқ, ёрдам беринг", "газ қачон келади", "ҳа", "йўқ", "ha", "yo'q", "rahmat", "menyu",
    "bekor qilish", "yordam", "Guliston", "Гулистон", "Sirdaryo", "Jizzax", "Зомин", "Dehqonobod", "til", "tilni o'zgartirish",
    # Russian
    "Здравствуйте", "Русский", "Нет воды уже неделю", "нет света", "Помогите с пособием", "да", "нет", "меню", "отмена",
    "помощь", "поменять язык", "Сырдарьинская область", "мои заявки", "статус",
    # Spanish
    "Hola, buenas tardes", "Español", "espanol", "No hay luz en la calle", "¿Cuándo pasa el camión de la basura?", "sí", "si",
    "no, todavía no me llegó nada", "menú", "cancelar", "ayuda", "Buenos Aires", "La Plata", "Mi localidad no aparece",
    # English
    "hello", "English", "No electricity in our street for three days", "yes", "no", "menu", "cancel", "help", "my requests",
    "talk to a person", "change language", "status",
    # what else arrives
    "1", "2", "3", "4", "5", "6", "7", "9", "0", "10", "-1", "٣", "²", "?", "/start", "/help", "/inbox", "/take AB12CD",
    "/frobnicate", "STOP", "START", "AB12CD", "ab-12-cd", "🙂🙂🙂", "👍", "", " ", "\n\n", "+998901234567",
]
LANGUAGE_HINTS = [None, None, "ru", "es", "uz", "en", "de", "pt-BR", "\x00"]
NAMES = [None, "Ali", "Ольга", "Rosa Giménez", "Ro\x00sa", "x" * 500, "\ud800"]

weird_characters = st.characters(exclude_categories=())  # surrogates and controls too
texts = st.one_of(
    st.sampled_from(PHRASES),
    st.builds(lambda a, b: f"{a} {b}", st.sampled_from(PHRASES), st.sampled_from(PHRASES)),
    st.text(weird_characters, max_size=40),
    st.builds(lambda p, c, i: p[:i] + c + p[i:], st.sampled_from(PHRASES), st.sampled_from(["\x00", "\ud83d", "\udcd0", "\x1b[A", "\u200b", "\r"]), st.integers(0, 30)),
    st.builds(lambda p, n: (p + " ") * n, st.sampled_from(PHRASES[:60]), st.integers(50, 400)),  # very long
)
locations = st.one_of(
    st.builds(Location, st.floats(40.3, 40.7), st.floats(68.5, 69.0)),  # around Guliston
    st.builds(Location, st.floats(-35.0, -34.8), st.floats(-58.1, -57.8)),  # around La Plata
    st.builds(Location, st.floats(-90, 90), st.floats(-180, 180)),  # anywhere on Earth, mostly far away
    st.builds(Location, st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True),
              label=st.none() | st.text(weird_characters, max_size=10)),  # off the map
)
files = st.tuples(st.sampled_from(["photo", "voice", "audio", "video", "document", "contact"]),
                  st.none() | st.text(weird_characters, max_size=12), st.sampled_from(PHRASES) | st.just(""))
forged = st.one_of(
    st.text(weird_characters, max_size=20),
    st.builds(lambda n, k: f"{n}|{k}", st.integers(-5, 10**12), st.sampled_from(["uz", "ru", "yes", "no", "1", "back", "x" * 100, "\x00"])),
    st.sampled_from(["", "|", "1|", "|yes", "s|take|AB12CD", "0|s|close|ZZZZZZ", "NaN|yes"]),
)

phones = st.one_of(
    st.builds(lambda n: f"+99890{n:07d}", st.integers(1, 12)),  # the WhatsApp number of an earlier citizen
    st.sampled_from(["998901234567", "+54 9 221 555-0134", "00998 90 123-45-67", "²", "\x00", "", "+" + "9" * 300, "+1"]),
)
events = st.dictionaries(
    st.sampled_from(["type", "data", "kind", "payload", "phone"]),
    st.one_of(st.sampled_from(["button", "unsupported", "own_contact", "template_button", "yes"]), st.text(weird_characters, max_size=8),
              st.integers(), st.none(), st.lists(st.integers(), max_size=2)),
)

steps = st.one_of(
    st.tuples(st.just("press"), st.integers(0, 20)),
    st.tuples(st.just("press"), st.integers(0, 20)),
    st.tuples(st.just("press"), st.integers(0, 20)),
    st.tuples(st.just("text"), texts),
    st.tuples(st.just("text"), texts),
    st.tuples(st.just("stale"), st.integers(0, 20)),
    st.tuples(st.just("forged"), forged),
    st.tuples(st.just("location"), locations),
    st.tuples(st.just("file"), files),
    st.tuples(st.just("sticker"), st.sampled_from(["sticker", "reaction", "poll", "\x00"])),
    st.tuples(st.just("contact"), phones),
    st.tuples(st.just("event"), events),
    st.tuples(st.just("again"), st.integers(0, 50)),
    st.tuples(st.just("restart"), st.none()),
)
conversations = st.tuples(
    st.sampled_from(["telegram", "whatsapp", "console"]), st.sampled_from(LANGUAGE_HINTS), st.sampled_from(NAMES),
    st.lists(steps, min_size=3, max_size=20),
)


# -- one citizen, and what must hold after each message -----------------------------------------

@dataclass
class Citizen:
    engine: Engine
    channel: str
    language_hint: str | None
    name: str | None
    number: int = field(default_factory=lambda: next(_numbers))
    sent: list[Incoming] = field(default_factory=list)
    menus: list[Outgoing] = field(default_factory=list)

    @property
    def address(self) -> str:
        return {"telegram": f"telegram:{7_000_000 + self.number}", "whatsapp": f"whatsapp:+99890{self.number:07d}"}.get(
            self.channel, f"console:fuzz-{self.number}")

    def message(self, **fields) -> Incoming:
        return Incoming(self.channel, self.address, external_id=f"fuzz-{self.number}-{len(self.sent)}",
                        name=self.name, language_hint=self.language_hint, **fields)

    def step(self, kind: str, value) -> Incoming | None:
        """The message for one step of the conversation (None for a restart)."""
        match kind:
            case "text":
                return self.message(text=value)
            case "press" | "stale":
                menus = self.menus if kind == "press" else self.menus[:-1]
                if not menus:
                    return self.message(text=PHRASES[value % len(PHRASES)])
                menu = menus[-1] if kind == "press" else menus[value % len(menus)]
                choice = menu.choices[value % len(menu.choices)]
                return self.message(event={"type": "button", "data": button_data(int(menu.menu_id), choice.key)})
            case "forged":
                return self.message(event={"type": "button", "data": value})
            case "location":
                return self.message(location=value)
            case "file":
                file_kind, file_name, caption = value
                return self.message(text=caption, attachments=(Attachment(file_kind, f"ref-{len(self.sent)}", None, 1024, file_name),))
            case "sticker":
                return self.message(event={"type": "unsupported", "kind": value})
            case "contact":
                return self.message(event={"type": "own_contact", "phone": value})
            case "event":
                return self.message(event=value)
            case "again":
                return self.sent[value % len(self.sent)] if self.sent else self.message(text="hello")
        raise AssertionError(kind)

    def send(self, msg: Incoming) -> None:
        redelivery = msg in self.sent
        database = self.engine.database
        replies_before = _count(database, _M.c.direction == "out", _M.c.address == self.address)
        handled = self.engine.handle(msg)  # nothing may escape

        assert not handled.failed, f"the engine failed on {msg!r}:\n{_last_error(database, self.address)}"
        assert _count(database, _M.c.direction == "in", _M.c.channel == msg.channel, _M.c.external_id == msg.external_id) == 1
        replies = _count(database, _M.c.direction == "out", _M.c.address == self.address) - replies_before
        if redelivery:
            assert handled.duplicate and replies == 0, f"a redelivery was handled again: {msg!r}"
            TALLY["redeliveries"] += 1
        else:
            assert not handled.duplicate and replies >= 1, f"no reply to {msg!r}"
            for reply in handled.replies:
                _assert_sendable(reply)
            self.sent.append(msg)
            self.menus += [r for r in handled.replies if r.choices and r.menu_id]
        _assert_valid_step(database, self.address)
        TALLY["messages"] += 1


def _assert_sendable(reply: Outgoing) -> None:
    """A reply its channel can send as it is: words, every placeholder
    filled, choices that can be told apart and fit in a Telegram button."""
    assert reply.text.strip() and not _PLACEHOLDER.search(reply.text), f"unfinished reply: {reply.text!r}"
    keys = [c.key for c in reply.choices]
    assert len(keys) == len(set(keys)) and all(c.label.strip() for c in reply.choices), f"unclear choices: {reply.choices!r}"
    if reply.channel == "telegram":
        telegram.keyboard(reply)  # raises when button data is longer than Telegram takes
    if reply.channel == "whatsapp":
        assert all(len(piece) <= 1600 for piece in whatsapp_sender.pieces(reply))


def _count(database, *where) -> int:
    with database.connect() as conn:
        return conn.execute(select(func.count()).select_from(_M).where(*where)).scalar_one()


def _last_error(database, address: str) -> str:
    with database.connect() as conn:
        return conn.execute(select(_M.c.error).where(_M.c.address == address, _M.c.direction == "in").order_by(_M.c.id.desc())).scalar() or ""


def _assert_valid_step(database, address: str) -> None:
    with database.connect() as conn:
        row = conn.execute(select(_C.c.flow, _C.c.step).where(_C.c.address == address)).first()
    if row is None or (row.flow, row.step) == ("", ""):
        return
    assert row.flow in registry.FLOWS and row.step in registry.get(row.flow).steps, f"not a step: {row.flow}/{row.step}"


# -- the property ---------------------------------------------------------------------------------

def summary() -> str | None:
    """What was tried, for the end of the run (``conftest.py`` prints it)."""
    if not TALLY["conversations"]:
        return None
    return (f"fuzz: {TALLY['conversations']} conversations, {TALLY['messages']} messages "
            f"({TALLY['redeliveries']} redeliveries, {TALLY['restarts']} restarts) on {', '.join(sorted(DATABASES))}")


EVERY_KIND = ("telegram", "ru", "Ol\x00ga", [  # every kind of step at least once, on every run
    ("text", "Здравствуйте\x00"), ("press", 2), ("text", "сало\udcd0"), ("location", Location(40.49, 68.78)), ("press", 0),
    ("text", "Нет воды\x1b[A " * 300), ("stale", 0), ("forged", "99|uz"), ("again", 1), ("restart", None),
    ("file", ("voice", "\ud800.ogg", "")), ("sticker", "sticker"), ("location", Location(math.nan, math.inf)),
    ("location", Location(0.0, 0.0)), ("press", 1), ("text", "\x00"), ("again", 0),
])
UZBEK_ON_WHATSAPP = ("whatsapp", None, None, [
    ("text", "Assalomu alaykum"), ("text", "oʻzbekcha"), ("text", "Sirdaryo"), ("press", 0), ("press", 0), ("press", 0),
    ("text", "Ko`chamizda chiroq yo'q"), ("press", 0), ("text", "ha"), ("file", ("photo", None, "mana rasm")),
    ("restart", None), ("text", "menyu"), ("text", "9"), ("text", "yo‘q"), ("press", 3),
])


@example(conversation=EVERY_KIND)
@example(conversation=UZBEK_ON_WHATSAPP)
@given(conversation=conversations)
def test_any_conversation_is_kept_answered_and_stays_at_a_real_step(database, catalog, conversation):
    channel, language_hint, name, plan = conversation
    citizen = Citizen(Engine(database, catalog), channel, language_hint, name)
    TALLY["conversations"] += 1
    DATABASES.add({"sqlite": "SQLite", "postgresql": "PostgreSQL"}[database.dialect.name])
    for kind, value in plan:
        if kind == "restart":
            citizen.engine = Engine(database, catalog)  # the process restarted: only the store remembers
            TALLY["restarts"] += 1
            continue
        citizen.send(citizen.step(kind, value))

