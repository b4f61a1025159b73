"""``/places``: the places citizens named because they were not in the list
("my village is not listed"), most asked first, for whoever keeps the
catalogue to add them."""

from __future__ import annotations

from sqlmodel import select

from flows.textnorm import fold
from handlers.staff.context import Desk
from storage.models import NamedPlace

LISTED = 30


def places(desk: Desk) -> None:
    named = list(desk.session.exec(select(NamedPlace).order_by(NamedPlace.id.desc())))
    if not named:
        desk.say(desk.t("staff_places_empty"))
        return
    # One line per place and district, however its name was spelt.
    groups: dict[tuple[str, str | None], list[NamedPlace]] = {}
    for place in named:
        groups.setdefault((fold(place.name), place.parent_id), []).append(place)
    ranked = sorted(groups.values(), key=lambda group: -len(group))  # stable: the newest first among equals
    lines = [desk.t("staff_places_title", count=len(ranked))]
    for group in ranked[:LISTED]:
        parent = desk.catalog.localities.get(group[0].parent_id)  # None: a citizen named no district
        where = ", ".join(desk.catalog.localities[p].name(desk.language) for p in desk.catalog.places_of(parent.id)) if parent else "—"
        first, latest = group[-1], group[0]  # named first as the first citizen wrote it; the date of the latest
        lines.append(f"«{first.name}» · {where} · {desk.t('staff_places_citizens', count=len(group))} · {latest.created_at:%d.%m.%Y}")
    desk.say("\n".join(lines))
