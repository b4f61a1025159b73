"""Working one request: show, take, assign, reply, ask, note, status,
close, reopen, merge. Each writes its event; the citizen hears of what
concerns them."""

from __future__ import annotations

from flows import closure, lifecycle
from flows import answer as answer_flow
from flows.i18n import text
from handlers.staff.cards import card
from handlers.staff.context import Desk, Refusal
from storage import casework, groups
from storage.models import Department, Request


def _split(desk: Desk, usage: str, *, need_text: bool = True) -> tuple[Request, str]:
    code, _, rest = desk.args.strip().partition(" ")
    if not code or (need_text and not rest.strip()):
        raise Refusal(desk.t("staff_usage", usage=usage))
    return desk.request(code), rest.strip()


def _open(desk: Desk, request: Request) -> None:
    if request.status in lifecycle.FINISHED:
        raise Refusal(desk.t("staff_request_finished", code=request.code, status=request.status))
    if not request.address:  # anonymized, or filed where there is no chat (the API, an old sheet)
        no_contact = "staff_request_anonymized_no_contact" if request.anonymized_at else "staff_request_no_chat"
        raise Refusal(desk.t(no_contact, code=request.code, channel=request.channel))


def show(desk: Desk) -> None:
    request, _ = _split(desk, "/show CODE", need_text=False)
    body, choices = card(desk, request)
    desk.say(body, choices)


def take(desk: Desk) -> None:
    request, _ = _split(desk, "/take CODE", need_text=False)
    _open(desk, request)
    desk.may_change(request)
    if request.assignee_id != desk.me.id:  # taking one's own request again changes nothing
        request.assignee_id = desk.me.id
        request.department_id = request.department_id or desk.me.department_id
        casework.record(desk.session, request, desk.actor, "assign", desk.me.name)
    if request.status in ("new", "reopened"):
        desk.move(request, "in_progress")
    desk.say(desk.t("staff_taken", code=request.code))


def assign(desk: Desk) -> None:
    request, target = _split(desk, "/assign CODE person-or-department")
    _open(desk, request)
    desk.may_change(request)
    person = desk.person(target)
    if person is not None:  # past may_change, a caseworker holds the request or no one does: theirs to give
        if person.id == request.assignee_id:
            raise Refusal(desk.t("staff_already_assigned", code=request.code, to=person.name))
        request.assignee_id, request.department_id = person.id, person.department_id or request.department_id
        casework.record(desk.session, request, desk.actor, "assign", person.name)
        desk.tell_staff(person, text(person.language, "staff_assigned_to_you", code=request.code, by=desk.me.name), request)
        desk.say(desk.t("staff_assigned", code=request.code, to=person.name))
        return
    department = desk.department(target)
    if department is None:
        raise Refusal(desk.t("staff_no_such_assignee", name=target))
    request.department_id, request.assignee_id, request.digested_at = department.id, None, None
    casework.record(desk.session, request, desk.actor, "assign", f"department {department.id}")
    desk.say(desk.t("staff_assigned", code=request.code, to=department.name))


def reply(desk: Desk) -> None:
    request, words = _split(desk, "/reply CODE text")
    _open(desk, request)
    desk.may_change(request)
    citizen = desk.citizen(request)
    service = _service_name(desk, request, citizen.language)
    body = "\n".join([text(citizen.language, "reply_from_service", code=request.code), words, text(citizen.language, "signed_by_service", service=service)])
    desk.tell_citizen(request, body, kind="reply")
    casework.record(desk.session, request, desk.actor, "reply", words)
    casework.responded(request)
    if request.status in ("new", "reopened"):
        desk.move(request, "in_progress", push=False)
    reached = 0
    for member in _reporters(desk, request):  # neighbours who reported the same problem hear the same answer
        if not member.address:
            continue
        neighbour = desk.citizen(member)
        service = _service_name(desk, member, neighbour.language)
        desk.tell_citizen(member, "\n".join([text(neighbour.language, "reply_from_service", code=member.code), words,
                                             text(neighbour.language, "signed_by_service", service=service)]), kind="reply")
        casework.record(desk.session, member, desk.actor, "reply", f"(to the group of {request.code}) {words}")
        casework.responded(member)
        if member.status in ("new", "reopened"):
            casework.move(desk.session, member, "in_progress", desk.actor, f"group of {request.code}")
        reached += 1
    desk.say(desk.t("staff_replied", code=request.code) + (("\n" + desk.t("staff_group_told", count=reached)) if reached else ""))


def ask(desk: Desk) -> None:
    request, question = _split(desk, "/ask CODE question")
    _open(desk, request)
    desk.may_change(request)
    desk.move(request, "waiting_citizen", question, push=False)
    casework.responded(request)
    citizen = desk.citizen(request)
    casework.interrupt(desk.session, request.address, answer_flow.FLOW.name, answer_flow.REPLY, {"code": request.code, "question": question})
    desk.tell_citizen(request, answer_flow.question(citizen.language, request.code, question), kind="reply")
    desk.say(desk.t("staff_asked", code=request.code))


def note(desk: Desk) -> None:
    request, words = _split(desk, "/note CODE text")
    casework.record(desk.session, request, desk.actor, "note", words)
    desk.say(desk.t("staff_noted", code=request.code))


def status(desk: Desk) -> None:
    request, rest = _split(desk, "/status CODE status [note]")
    word, _, words = rest.partition(" ")
    target = lifecycle.parse_status(word) or lifecycle.parse_status(rest)
    if target is None:
        raise Refusal(desk.t("staff_unknown_status", status=word, statuses=", ".join(lifecycle.STATUSES)))
    if target == "resolved":
        return _resolve(desk, request, words.strip() or None)
    if target == "duplicate":
        raise Refusal(desk.t("staff_use_merge"))
    desk.may_change(request)
    desk.move(request, target, words.strip() or None)
    moved = 0
    for member in _reporters(desk, request):
        if lifecycle.can_move(member.status, target):
            desk.move(member, target, f"group of {request.code}")  # each reporter told in their language
            moved += 1
    desk.say(desk.t("staff_status_changed", code=request.code, status=target) + (("\n" + desk.t("staff_group_told", count=moved)) if moved else ""))


def close(desk: Desk) -> None:
    request, resolution = _split(desk, "/close CODE resolution")
    _resolve(desk, request, resolution)


def _resolve(desk: Desk, request: Request, resolution: str | None) -> None:
    """Resolved, and the citizen asked to confirm (see :mod:`flows.closure`);
    for a group, every reporter."""
    _open(desk, request)
    desk.may_change(request)
    members = [m for m in _reporters(desk, request) if m.address and lifecycle.can_move(m.status, "resolved")]
    for member in members:
        _resolve_one(desk, member, resolution)
    _resolve_one(desk, request, resolution)
    desk.say(desk.t("staff_resolved", code=request.code) + (("\n" + desk.t("staff_group_told", count=len(members))) if members else ""))


def _resolve_one(desk: Desk, request: Request, resolution: str | None) -> None:
    request.resolution = resolution
    desk.move(request, "resolved", resolution, push=False)
    casework.responded(request)
    citizen = desk.citizen(request)
    body, choices = closure.question(citizen.language, request.code, resolution)
    version = casework.interrupt(
        desk.session, request.address, closure.FLOW.name, closure.CONFIRM, {"code": request.code},
        [(c.key, c.label) for c in choices],
    )
    desk.tell_citizen(request, body, choices, menu_id=str(version))


def _reporters(desk: Desk, request: Request) -> list[Request]:
    """The other reports of the group ``request`` is the first of (none for a lone request)."""
    return groups.members(desk.session, request) if request.group_id is None else []


def unlink(desk: Desk) -> None:
    """``/unlink CODE``: the report is not the same problem after all."""
    request, _ = _split(desk, "/unlink CODE", need_text=False)
    desk.may_change(request)
    first = groups.unlink(desk.session, request, desk.actor)
    if first is None:
        raise Refusal(desk.t("staff_not_in_group", code=request.code))
    desk.say(desk.t("staff_unlinked", code=request.code, first=first.code))


def reopen(desk: Desk) -> None:
    request, words = _split(desk, "/reopen CODE", need_text=False)
    desk.may_change(request)
    desk.move(request, "reopened", words or None)
    desk.say(desk.t("staff_status_changed", code=request.code, status="reopened"))


def merge(desk: Desk) -> None:
    request, primary_word = _split(desk, "/merge CODE PRIMARY")
    primary = desk.request(primary_word)
    if primary.id == request.id:
        raise Refusal(desk.t("staff_merge_into_itself"))
    if primary.status == "duplicate":
        raise Refusal(desk.t("staff_merge_into_merged", code=primary.code))
    if request.status == "duplicate":
        raise Refusal(desk.t("staff_already_merged", code=request.code))
    desk.may_change(request)
    request.duplicate_of_id = primary.id
    desk.move(request, "duplicate", f"merged into {primary.code}", push=False)
    casework.record(desk.session, primary, desk.actor, "merge", f"{request.code} merged into this request")
    citizen = desk.citizen(request)
    notice = lifecycle.notice(citizen.language, request.code, "duplicate")
    desk.tell_citizen(request, notice + "\n" + text(citizen.language, "push_merged_into", code=primary.code))
    desk.say(desk.t("staff_merged", code=request.code, primary=primary.code))


def _service_name(desk: Desk, request: Request, language: str | None) -> str:
    department = desk.session.get(Department, request.department_id) if request.department_id else None
    if department is None:
        return "onewindow"
    return (department.names or {}).get(language or "en") or department.name
