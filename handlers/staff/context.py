"""What a staff command works with: the session of its transaction, who is
asking, the words after the command, and ways to answer and to tell others."""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import or_
from sqlmodel import Session, select

from flows import lifecycle
from flows.i18n import guess_language, text
from flows.messages import Choice, Incoming, Outgoing
from flows.tracking import parse_code
from storage import casework
from storage.models import Caseworker, Citizen, Department, Identity, Request

ROLES = ("caseworker", "supervisor", "admin")
SUGGESTED_FROM = 2000  # a mistyped code is compared with this many of the newest codes


class Refusal(Exception):
    """A command that cannot be done, with the reason to tell the person."""


@dataclass
class Desk:
    session: Session
    msg: Incoming
    me: Caseworker | None
    args: str
    catalog: object  # the bot's catalogue: category and locality names, routing
    replies: list[Outgoing] = field(default_factory=list)
    web_url: str = ""  # the web server's public address (the dashboard's links)

    # -- who may do what ------------------------------------------------------

    @property
    def actor(self) -> str:
        return f"caseworker:{self.me.id}"

    def at_least(self, role: str) -> bool:
        return self.me is not None and ROLES.index(self.me.role) >= ROLES.index(role)

    @property
    def language(self) -> str:
        return self.me.language if self.me else "en"

    def t(self, key: str, **values) -> str:
        """The text in this person's language (someone not on the staff yet: the one they use with the service)."""
        return text(self.me.language if self.me else self.writer_language(), key, **values)

    def writer_language(self) -> str | None:
        """The language of whoever wrote, as the citizens' side knows them (the
        language they chose, or a guess from their words): for someone not on
        the staff, or not yet."""
        identity = self.session.get(Identity, self.msg.author)
        citizen = self.session.get(Citizen, identity.citizen_id) if identity else None
        return (citizen.language if citizen else None) or guess_language(self.msg.text, self.msg.language_hint)

    def sees(self, request: Request) -> bool:  # the same rule as visible_to, for one request
        """Admins see everything; others their department's requests and their own."""
        if self.at_least("admin") or self.me.department_id is None:
            return True
        return request.department_id == self.me.department_id or request.assignee_id == self.me.id

    def may_change(self, request: Request) -> None:
        """A caseworker works unassigned requests and their own; a supervisor
        any in their department."""
        if not self.sees(request):
            raise Refusal(self.t("staff_not_your_department", code=request.code))
        if self.at_least("supervisor") or request.assignee_id in (None, self.me.id):
            return
        owner = self.session.get(Caseworker, request.assignee_id)
        raise Refusal(self.t("staff_assigned_to_other", code=request.code, name=owner.name if owner else "?"))

    # -- finding things -------------------------------------------------------

    def request(self, word: str) -> Request:
        """The request named by a code as typed (any case, any separator)."""
        code = parse_code(word or "")
        request = self.session.exec(select(Request).where(Request.code == code)).first() if code else None
        if request is None:
            raise Refusal(self._no_such_request(word))
        if not self.sees(request):
            raise Refusal(self.t("staff_not_your_department", code=request.code))
        return request

    def _no_such_request(self, word: str) -> str:
        """No request has this code: perhaps a slip in one of the newest codes."""
        codes = list(self.session.exec(select(Request.code).order_by(Request.id.desc()).limit(SUGGESTED_FROM)))
        guess = process.extractOne(word.upper(), codes, scorer=fuzz.ratio, score_cutoff=70)
        if guess:
            return self.t("staff_no_request_did_you_mean", code=word, guess=guess[0])
        return self.t("staff_no_request", code=word)

    def department(self, word: str) -> Department | None:
        departments = list(self.session.exec(select(Department)))
        names = {d.id: d for d in departments}
        if word in names:
            return names[word]
        labels = [f"{d.id} {d.name}" for d in departments]
        found = process.extractOne(word.lower(), [l.lower() for l in labels], scorer=fuzz.WRatio, score_cutoff=80)
        return departments[found[2]] if found else None

    def person(self, word: str) -> Caseworker | None:
        people = list(self.session.exec(select(Caseworker).where(Caseworker.active)))
        word = word.lstrip("@#")
        if word.isdigit():
            return next((p for p in people if p.id == int(word)), None)
        found = process.extractOne(word.lower(), [p.name.lower() for p in people], scorer=fuzz.WRatio, score_cutoff=85)
        return people[found[2]] if found else None

    def citizen(self, request: Request) -> Citizen:
        return self.session.get(Citizen, request.citizen_id)

    # -- answering ------------------------------------------------------------

    def say(self, body: str, choices: list[Choice] = ()) -> None:
        self.replies.append(Outgoing(self.msg.address, body, tuple(choices), menu_id="0"))

    def tell_staff(self, person: Caseworker, body: str, request: Request | None = None) -> None:
        """A message to a member of staff (on the record of ``request``), unless they are the one asking."""
        if person.address != self.msg.address:
            casework.queue(self.session, person.address, body, request_id=request.id if request else None)

    def tell_citizen(self, request: Request, body: str, choices: list[Choice] = (), menu_id: str | None = None, *, kind: str = "status") -> None:
        """``kind`` names the approved WhatsApp template used when the
        citizen's 24-hour window is closed: ``status`` or ``reply``."""
        casework.queue(
            self.session, request.address, body, choices=[(c.key, c.label) for c in choices], menu_id=menu_id,
            citizen_id=request.citizen_id, request_id=request.id, template=kind,
            template_variables={"1": request.code, "2": body},
        )

    def move(self, request: Request, to: str, note: str | None = None, *, push: bool = True, kind: str = "status") -> None:
        """Change status on the record and, where it concerns them, tell the citizen."""
        if not lifecycle.can_move(request.status, to):
            raise Refusal(self.t("staff_cannot_move", code=request.code, current=request.status, target=to))
        casework.move(self.session, request, to, self.actor, note, kind=kind)
        if push and (notice := lifecycle.notice(self.citizen(request).language, request.code, to)):
            casework.responded(request)
            self.tell_citizen(request, notice)


def visible_to(me: Caseworker):
    """The requests a member of staff may read, as a condition on
    :class:`Request` (None: all of them): admins and staff of no department
    see everything; others their department's and those assigned to them."""
    if me.role == "admin" or me.department_id is None:
        return None
    return or_(Request.department_id == me.department_id, Request.assignee_id == me.id)
