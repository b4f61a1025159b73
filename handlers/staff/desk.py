"""The staff desk: where staff commands arrive, whatever the channel.

A message is the desk's when it is a staff command (``/inbox``, ``/close``
…), a press of a button from a request card, or anything a member of staff
writes to the bot privately: a mistyped command gets a "did you mean", a
number or the words of a choice ("1" after ``/inbox``, "take" under a card,
where WhatsApp and the console show choices as a numbered list) picks from
the list last shown to that person, and other words get a short hint —
never the citizens' sign-up. Everyone else's staff commands get a polite
refusal, and the attempt stays on record with its sender.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from flows.choices import NUMBER, match_choice
from flows.messages import Incoming, Outgoing
from flows.masking import mask
from flows.storable import storable
from handlers.staff.commands import BUTTON_ACTIONS, COMMANDS, OPEN
from handlers.staff.context import Desk, Refusal
from storage import casework
from storage import message_path as path
from storage.db import reading, session_scope
from storage.models import Caseworker, Message

log = logging.getLogger(__name__)
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
_BUTTON = re.compile(r"^(?:\d+\|)?s\|([a-z_]+)\|([A-Z0-9]+)$")
SHARED = {"help", "start"}  # also citizens' words: theirs unless a member of staff says them
SHOWN_AT_ONCE = {"web"}  # the dashboard shows the desk's answer on the page: nothing to send


@dataclass
class DeskResult:
    replies: list[Outgoing] = field(default_factory=list)
    duplicate: bool = False


class StaffDesk:
    def __init__(self, database, catalog, web_url: str = ""):
        self.database = database
        self.catalog = catalog
        self.web_url = web_url

    def wants(self, msg: Incoming) -> bool:
        """Whether ``msg`` is the desk's."""
        claim = self.claims(msg)
        return self.is_staff(msg.author) if claim is None else claim

    def claims(self, msg: Incoming) -> bool | None:
        """Whether ``msg`` is the desk's by its form alone; None when that
        depends on whether its author is staff (the engine asks that in the
        message's own transaction, see :func:`storage.message_path.load_turn`)."""
        if msg.button is not None:
            return bool(_BUTTON.match(msg.button))
        match = _COMMAND.match(msg.text.strip())
        if not match:  # words, a number, a file: theirs to work with, never a citizen's sign-up
            return None if msg.private else False
        name = match.group(1).lower()
        if (name in COMMANDS or name in OPEN) and name not in SHARED:
            return True
        return None

    def is_staff(self, address: str) -> bool:
        with reading(self.database) as conn:
            return path.is_staff(conn, address)

    def handle(self, msg: Incoming) -> DeskResult:
        msg = storable(msg)  # as the engine does; a no-op when it already did
        try:
            with session_scope(self.database) as session:
                me = _caseworker(session, msg.author)
                inbound = _inbound(msg)
                session.add(inbound)
                session.flush()
                name, args = _parse(msg, me.shown if me else [])
                desk = Desk(session, msg, me, args, self.catalog, web_url=self.web_url)
                if name is None:
                    self._hint(desk)
                else:
                    self._run(desk, name, inbound)
                for reply in desk.replies if msg.channel not in SHOWN_AT_ONCE else ():
                    casework.queue(session, reply.address, reply.text, choices=[(c.key, c.label) for c in reply.choices], menu_id=reply.menu_id)
                _remember_choices(desk)
                return DeskResult(desk.replies)
        except IntegrityError:
            return DeskResult(duplicate=True)

    def _hint(self, desk: Desk) -> None:
        """Words from a member of staff that are neither a command nor a choice."""
        shown = desk.me.shown if desk.me else []
        if (number := NUMBER.match(desk.msg.text)) and shown:
            desk.say(desk.t("staff_no_such_choice", number=number.group(1), count=len(shown)))
        else:
            desk.say(desk.t("staff_plain_text_hint"))

    def _run(self, desk: Desk, name: str, inbound: Message) -> None:
        """Run the command; one refused for who asked is on the record (the inbound message's status)."""
        command = OPEN.get(name) or (COMMANDS.get("help") if name == "start" else COMMANDS.get(name))
        if desk.me is None and name not in OPEN:
            log.warning("staff command /%s from %s, who is not staff", name, mask(desk.msg.author))
            inbound.status, inbound.error = "refused", f"staff command /{name} from someone who is not staff"
            desk.say(desk.t("staff_only"))
            return
        if command is None:
            guess = process.extractOne(name, list(COMMANDS), scorer=fuzz.ratio, score_cutoff=60)
            desk.say(desk.t("staff_did_you_mean", command=name, guess=guess[0]) if guess else desk.t("staff_unknown_command", command=name))
            return
        if name not in OPEN and not desk.at_least(command.role):
            log.warning("/%s refused to staff #%s (%s)", name, desk.me.id, desk.me.role)
            inbound.status, inbound.error = "refused", f"/{name} needs the role {command.role}"
            desk.say(desk.t("staff_role_refused", command=name, role=command.role))
            return
        savepoint = desk.session.begin_nested()
        try:
            command.run(desk)
            savepoint.commit()
        except Refusal as refusal:
            savepoint.rollback()
            desk.replies.clear()
            desk.say(str(refusal))


def _parse(msg: Incoming, shown: list) -> tuple[str | None, str]:
    """The command and its words; for plain words, the choice they pick from
    ``shown`` (what this person was last offered), or ``None``."""
    if msg.button is not None:
        return _button(msg.button) or (None, "")
    if match := _COMMAND.match(msg.text.strip()):
        return match.group(1).lower(), (match.group(2) or "").strip()
    key = match_choice(msg.text, [tuple(pair) for pair in shown]) if shown and msg.text else None
    return (_button(key) if key else None) or (None, "")


def _button(data: str) -> tuple[str, str] | None:
    if not (match := _BUTTON.match(data)):
        return None
    action, code = match.groups()
    if action not in BUTTON_ACTIONS:  # a button of an older version, or made up: no command
        return None
    name, extra = BUTTON_ACTIONS[action]
    return name, f"{code} {extra}".strip()


def _remember_choices(desk: Desk) -> None:
    """Keep the last list shown to this person, so that "2" picks from it."""
    shown = next(([[c.key, c.label] for c in r.choices] for r in reversed(desk.replies) if r.choices), None)
    if desk.me is not None and shown is not None and shown != desk.me.shown:
        desk.me.shown = shown
        desk.session.add(desk.me)


def _caseworker(session, address: str) -> Caseworker | None:
    return session.exec(select(Caseworker).where(Caseworker.address == address, Caseworker.active)).first()


def _inbound(msg: Incoming) -> Message:
    return Message(
        direction="in", channel=msg.channel, address=msg.address, external_id=msg.external_id, text=msg.text,
        payload={k: v for k, v in {"sender": msg.sender, "event": msg.event, "name": msg.name, "original": msg.originals}.items() if v},
        status="processed", created_at=msg.received_at,
    )

