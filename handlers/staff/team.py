"""Who works the queue: /staff (add, list, remove, invite), /join, /help."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import select

from handlers.staff.context import ROLES, Desk, Refusal
from storage.models import Caseworker, StaffInvite, utcnow

INVITE_DAYS = 7


def staff(desk: Desk) -> None:
    action, _, rest = desk.args.strip().partition(" ")
    actions = {"add": _add, "list": _list, "remove": _remove, "invite": _invite}
    if action not in actions:
        raise Refusal(desk.t("staff_usage", usage="/staff add|list|remove|invite"))
    actions[action](desk, rest.split())


def _address(word: str) -> str:
    """A bare number is a Telegram user id."""
    return f"telegram:{word}" if word.isdigit() else word


def _role_and_department(desk: Desk, words: list[str]) -> tuple[str, str | None, list[str]]:
    if not words or words[0] not in ROLES:
        raise Refusal(desk.t("staff_usage", usage="/staff add ADDRESS caseworker|supervisor|admin [DEPARTMENT] [NAME]"))
    role, rest = words[0], words[1:]
    department = desk.department(rest[0]) if rest else None
    if department is not None:
        rest = rest[1:]
    return role, department.id if department else None, rest


def _add(desk: Desk, words: list[str]) -> None:
    if not words:
        raise Refusal(desk.t("staff_usage", usage="/staff add ADDRESS ROLE [DEPARTMENT] [NAME]"))
    address = _address(words[0])
    role, department_id, name_words = _role_and_department(desk, words[1:])
    person = add(desk.session, address, role, department_id, " ".join(name_words) or address)
    desk.tell_staff(person, desk.t("staff_welcome", role=role))
    desk.say(desk.t("staff_added", name=person.name, role=role, department=department_id or "—"))


def add(session, address: str, role: str, department_id: str | None, name: str, language: str = "en") -> Caseworker:
    """Add (or update) a member of staff; shared with ``onewindow staff add``."""
    person = session.exec(select(Caseworker).where(Caseworker.address == address)).first() or Caseworker(name=name, address=address)
    person.role, person.department_id, person.active, person.name, person.language = role, department_id, True, name, language
    session.add(person)
    session.flush()
    return person


def _list(desk: Desk, words: list[str]) -> None:
    people = desk.session.exec(select(Caseworker).where(Caseworker.active).order_by(Caseworker.department_id, Caseworker.name))
    lines = [f"#{p.id} {p.name} · {p.role} · {p.department_id or '—'}" + (f" · {p.address}" if desk.at_least("admin") else "") for p in people]
    desk.say("\n".join([desk.t("staff_list_title")] + lines))


def _remove(desk: Desk, words: list[str]) -> None:
    person = desk.person(words[0]) if words else None
    if person is None:
        raise Refusal(desk.t("staff_no_such_assignee", name=" ".join(words)))
    person.active = False
    desk.session.add(person)
    desk.say(desk.t("staff_removed", name=person.name))


def _invite(desk: Desk, words: list[str]) -> None:
    role, department_id, _ = _role_and_department(desk, words)
    invite = StaffInvite(
        code=secrets.token_hex(4).upper(), role=role, department_id=department_id,
        created_by=desk.me.id, expires_at=utcnow() + timedelta(days=INVITE_DAYS),
    )
    desk.session.add(invite)
    desk.say(desk.t("staff_invite_created", code=invite.code, role=role, days=INVITE_DAYS))


def join(desk: Desk) -> None:
    """``/join CODE``: anyone with a valid invite becomes staff."""
    code = desk.args.strip().upper()
    invite = desk.session.get(StaffInvite, code) if code else None
    if invite is None or invite.used_at is not None or invite.expires_at < utcnow():
        raise Refusal(desk.t("staff_invite_invalid"))
    person = add(desk.session, desk.msg.author, invite.role, invite.department_id, desk.msg.name or desk.msg.author)
    invite.used_by, invite.used_at = person.id, utcnow()
    desk.session.add(invite)
    desk.me = person
    desk.say(desk.t("staff_welcome", role=person.role))


def help(desk: Desk) -> None:
    from handlers.staff.commands import COMMANDS

    lines = [desk.t("staff_help_title")]
    lines += [f"{c.usage} — {desk.t(c.summary)}" for c in COMMANDS.values() if desk.at_least(c.role)]
    desk.say("\n".join(lines))
