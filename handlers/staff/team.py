"""Who works the queue: /staff (add, list, remove, invite), /join, /help."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import select

from flows.i18n import text
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


ADD_USAGE = "/staff add ADDRESS caseworker|supervisor|admin [DEPARTMENT] [NAME] [--update]"
INVITE_USAGE = "/staff invite caseworker|supervisor|admin [DEPARTMENT]"


def _role_and_department(desk: Desk, words: list[str], usage: str = ADD_USAGE) -> tuple[str, str | None, list[str]]:
    if not words or words[0] not in ROLES:
        raise Refusal(desk.t("staff_usage", usage=usage))
    role, rest = words[0], words[1:]
    department = desk.department(rest[0]) if rest else None
    if department is not None:
        rest = rest[1:]
    return role, department.id if department else None, rest


UPDATE_FLAG = "--update"


class AlreadyStaff(Exception):
    """Adding someone who is already staff would change them: say what, and
    let the person who asked confirm (``--update``) rather than do it silently."""

    def __init__(self, person: Caseworker, changes: list[tuple[str, object, object]]):
        super().__init__()
        self.person, self.changes = person, changes


def _add(desk: Desk, words: list[str]) -> None:
    update = UPDATE_FLAG in words
    words = [w for w in words if w != UPDATE_FLAG]
    if not words:
        raise Refusal(desk.t("staff_usage", usage=ADD_USAGE))
    address = _address(words[0])
    role, department_id, name_words = _role_and_department(desk, words[1:])
    name = " ".join(name_words) or None
    existing = find(desk.session, address)
    changes = changes_to(existing, role, department_id, name) if existing and existing.active else None
    try:
        person = add(desk.session, address, role, department_id, name, update=update)
    except AlreadyStaff as known:
        raise Refusal(desk.t("staff_would_change", name=known.person.name, changes=describe(known.changes), command=f"/staff add {' '.join(words)} {UPDATE_FLAG}"))
    if changes is None:
        desk.tell_staff(person, text(person.language, "staff_welcome", role=role))
        desk.say(desk.t("staff_added", name=person.name, role=role, department=department_id or "—"))
    elif not changes:
        desk.say(desk.t("staff_unchanged", name=person.name, role=person.role, department=person.department_id or "—"))
    else:
        desk.say(desk.t("staff_updated", name=person.name, changes=describe(changes)))


def find(session, address: str) -> Caseworker | None:
    return session.exec(select(Caseworker).where(Caseworker.address == address)).first()


def add(session, address: str, role: str | None = None, department_id: str | None = None, name: str | None = None,
        language: str | None = None, *, update: bool = False) -> Caseworker:
    """Add a member of staff; shared with ``onewindow staff add``.

    Someone already active is changed only with ``update`` (what is not
    given is kept); otherwise :class:`AlreadyStaff` says what would change.
    Someone removed earlier is simply added back."""
    person = find(session, address)
    if person is None or not person.active:
        person = person or Caseworker(name=name or address, address=address)
        person.role, person.department_id, person.active = role or "caseworker", department_id, True
        person.name, person.language = name or person.name, language or person.language or "en"
    else:
        changes = changes_to(person, role, department_id, name, language)
        if changes and not update:
            raise AlreadyStaff(person, changes)
        for field, _, value in changes:
            setattr(person, field, value)
    session.add(person)
    session.flush()
    return person


def changes_to(person: Caseworker, role=None, department_id=None, name=None, language=None) -> list[tuple[str, object, object]]:
    """What adding ``person`` again with these values would change (``None``: not given, kept)."""
    wanted = {"role": role, "department_id": department_id, "name": name, "language": language}
    return [(field, getattr(person, field), value) for field, value in wanted.items() if value is not None and getattr(person, field) != value]


def describe(changes: list[tuple[str, object, object]]) -> str:
    """``role caseworker → admin, department utilities → water`` (what is not given is not a change)"""
    return ", ".join(f"{field.removesuffix('_id')} {old or '—'} → {new}" for field, old, new in changes)


def _list(desk: Desk, words: list[str]) -> None:
    people = desk.session.exec(select(Caseworker).where(Caseworker.active)
                               .order_by(Caseworker.department_id.is_not(None), Caseworker.department_id, Caseworker.name))
    lines = [f"#{p.id} {p.name} · {p.role} · {p.department_id or '—'} · {p.address}" for p in people]  # /staff is for admins
    desk.say("\n".join([desk.t("staff_list_title")] + lines))


def _remove(desk: Desk, words: list[str]) -> None:
    if not words:
        raise Refusal(desk.t("staff_usage", usage="/staff remove NAME|#ID"))
    person = desk.person(words[0])
    if person is None:
        raise Refusal(desk.t("staff_no_such_assignee", name=" ".join(words)))
    person.active = False
    desk.session.add(person)
    desk.say(desk.t("staff_removed", name=person.name))


def _invite(desk: Desk, words: list[str]) -> None:
    role, department_id, rest = _role_and_department(desk, words, INVITE_USAGE)
    if rest:
        raise Refusal(desk.t("staff_no_such_assignee", name=" ".join(rest)))
    invite = StaffInvite(
        code=secrets.token_hex(4).upper(), role=role, department_id=department_id,
        created_by=desk.me.id, expires_at=utcnow() + timedelta(days=INVITE_DAYS),
    )
    desk.session.add(invite)
    desk.say(desk.t("staff_invite_created", code=invite.code, role=role, days=INVITE_DAYS))


def join(desk: Desk) -> None:
    """``/join CODE``: anyone with a valid invite becomes staff."""
    invite = desk.session.get(StaffInvite, desk.args.strip().upper())
    if invite is None or invite.used_at is not None or invite.expires_at < utcnow():
        raise Refusal(desk.t("staff_invite_invalid"))
    # The invite is the admin's explicit word: it may change someone already on the staff.
    # Staff keep the name and language they have; a newcomer takes the name
    # their chat shows and the language they use with the service.
    name, language = (None, None) if desk.me else (desk.msg.name or desk.msg.author, desk.writer_language())
    person = add(desk.session, desk.msg.author, invite.role, invite.department_id, name, language, update=True)
    invite.used_by, invite.used_at = person.id, utcnow()
    desk.session.add(invite)
    desk.me = person
    desk.say(desk.t("staff_welcome", role=person.role))


def help(desk: Desk) -> None:
    from handlers.staff.commands import COMMANDS

    lines = [desk.t("staff_help_title")]
    lines += [f"{c.usage} — {desk.t(c.summary)}" for c in COMMANDS.values() if desk.at_least(c.role)]
    desk.say("\n".join(lines))
