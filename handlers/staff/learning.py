"""Teaching the classifier: ``/category`` puts a request in the right
category (and the right department), and its words become an example for
that category; ``/examples`` lists what was taught and takes back a bad one."""

from __future__ import annotations

from rapidfuzz import fuzz, process

from flows.textnorm import fold
from handlers.staff.cards import department_name
from handlers.staff.context import Desk, Refusal
from storage import casework, learning


def category(desk: Desk) -> None:
    """``/category CODE CATEGORY``: the category by id or by its name in any language."""
    code, _, word = desk.args.strip().partition(" ")
    if not code or not word.strip():
        raise Refusal(desk.t("staff_usage", usage="/category CODE CATEGORY"))
    request = desk.request(code)
    desk.may_change(request)
    target = _category(desk, word.strip())
    if target is None:
        ids = ", ".join(c.id for c in desk.catalog.categories)
        raise Refusal(desk.t("staff_unknown_category", word=word.strip(), categories=ids))
    old = request.category_id
    if target.id == old:
        raise Refusal(desk.t("staff_category_unchanged", code=request.code, category=target.name(desk.language)))
    request.category_id = target.id
    casework.record(desk.session, request, desk.actor, "category", f"{old} → {target.id}")
    department = desk.catalog.department_for(target.id, request.locality_id)
    if department and department != request.department_id:
        # Another category, another department: it goes to them, to be taken afresh.
        request.department_id, request.assignee_id, request.digested_at = department, None, None
        casework.record(desk.session, request, desk.actor, "assign", f"department {department}")
    conn = desk.session.connection()
    if request.text.strip():
        learning.add(conn, request_id=request.id, text=request.text, category_id=target.id, previous=old, by=desk.me.id)
        desk.catalog.learn(conn)
    previous = desk.catalog.category(old)
    desk.say(desk.t("staff_category_changed", code=request.code, old=previous.name(desk.language) if previous else old,
                    new=target.name(desk.language), department=department_name(desk, request.department_id) if request.department_id else "—"))


def examples(desk: Desk) -> None:
    """``/examples`` lists the corrections in force; ``/examples remove ID`` takes one back."""
    action, _, rest = desk.args.strip().partition(" ")
    conn = desk.session.connection()
    if action == "remove":
        number = rest.strip().lstrip("#")
        if not number:
            raise Refusal(desk.t("staff_usage", usage="/examples remove ID"))
        if not number.isdecimal() or not learning.remove(conn, int(number), desk.me.id):
            raise Refusal(desk.t("staff_no_example", id=rest.strip()))
        desk.catalog.learn(conn)
        desk.say(desk.t("staff_example_removed", id=number))
        return
    if action:
        raise Refusal(desk.t("staff_usage", usage="/examples [remove ID]"))
    rows = learning.listing(conn)
    if not rows:
        desk.say(desk.t("staff_examples_empty"))
        return
    lines = [desk.t("staff_examples_title", count=len(rows))]
    for row in rows:
        words = row.text if len(row.text) <= 80 else row.text[:80] + "…"
        lines.append(f"#{row.id} · {row.previous_category_id or '—'} → {row.category_id} · {row.created_at:%d.%m.%Y} · «{words}»")
    desk.say("\n".join(lines))


def _category(desk: Desk, word: str):
    """A category named by its id, or by its name in any language, typos and all."""
    by_id = {c.id: c for c in desk.catalog.categories}
    if word in by_id:
        return by_id[word]
    names = [(c.id, fold(name)) for c in desk.catalog.categories for name in [*c.names.values(), c.id.replace("_", " ")]]
    found = process.extractOne(fold(word), [name for _, name in names], scorer=fuzz.WRatio, score_cutoff=80)
    return by_id[names[found[2]][0]] if found else None
