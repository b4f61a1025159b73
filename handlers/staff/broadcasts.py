"""``/broadcast``: announcements to the people of a place; ``/bazaar``:
the ones that come back every bazaar day; ``/channels``: the place's
Telegram channels and groups the bot posts in. Supervisors and admins.

An announcement is written, previewed with the number of people it will
reach, and only sent once confirmed; see :mod:`bot.broadcasting` for how
it is written."""

from __future__ import annotations

from sqlmodel import select

from bot import broadcasting
from bot.visit_planning import find_place
from handlers.staff.context import Desk, Refusal
from notifications import bazaar
from storage import broadcasts as store
from storage.models import BazaarDay, BroadcastChannel, utcnow

LISTED = 10
PREVIEW = 300  # characters of each text in a list


def broadcast(desk: Desk) -> None:
    action, _, rest = desk.args.partition(" ")
    run = {"confirm": _confirm, "cancel": _cancel, "status": _status, "list": _list}.get(action.lower())
    try:
        if run is not None:
            run(desk, rest.strip())
        elif action.lower() == "new":
            _new(desk, rest.strip())
        elif "|" in desk.args:
            _new(desk, desk.args)
        else:
            raise Refusal(desk.t("staff_broadcast_usage"))
    except broadcasting.BroadcastError as error:
        raise Refusal(desk.t(error.key, value=error.value)) from None


def _new(desk: Desk, line: str) -> None:
    draft = broadcasting.read(desk.catalog, line, desk.language)
    created, counts = broadcasting.create(desk.session, draft, desk.actor)
    desk.say(preview(desk, created, counts))


def preview(desk: Desk, created, counts: dict[str, int]) -> str:
    total = sum(n for kind, n in counts.items() if kind != "skipped")
    breakdown = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "—"
    texts = "\n".join(f"[{language}{'*' if language == created.fallback else ''}] {body}" for language, body in created.texts.items())
    return desk.t(
        "staff_broadcast_preview", id=created.id, audience=broadcasting.describe(created.audience, desk.catalog, desk.language),
        count=total, breakdown=breakdown, when=_when(desk, created), urgent=desk.t("staff_broadcast_urgent") if created.urgent else "",
        texts=texts,
    )


def _when(desk: Desk, item) -> str:
    if item.send_at is None:
        return desk.t("staff_broadcast_now")
    return f"{broadcasting.local_time(item.send_at, item.audience.get('zone', 'UTC'))} ({item.audience.get('zone', 'UTC')})"


def _confirm(desk: Desk, word: str) -> None:
    confirmed = broadcasting.confirm(desk.session, broadcasting.find(desk.session, word).id, desk.actor)
    desk.say(desk.t("staff_broadcast_confirmed", id=confirmed.id, when=_when(desk, confirmed)))


def _cancel(desk: Desk, word: str) -> None:
    cancelled, stopped = broadcasting.cancel(desk.session, broadcasting.find(desk.session, word).id)
    desk.say(desk.t("staff_broadcast_cancelled", id=cancelled.id, count=stopped))


def _status(desk: Desk, word: str) -> None:
    item = broadcasting.find(desk.session, word)
    counts = store.progress(desk.session, item.id)
    desk.say(desk.t(
        "staff_broadcast_status", id=item.id, status=item.status, when=_when(desk, item), written=item.recipients,
        audience=broadcasting.describe(item.audience, desk.catalog, desk.language), **counts,
    ))


def _list(desk: Desk, _rest: str) -> None:
    items = broadcasting.recent(desk.session, LISTED)
    if not items:
        desk.say(desk.t("staff_broadcast_list_empty"))
        return
    desk.say("\n".join(
        desk.t("staff_broadcast_list_line", id=item.id, status=item.status, when=_when(desk, item),
               text=item.texts[item.fallback][:60], count=item.recipients)
        for item in items
    ))


# -- bazaar days ---------------------------------------------------------------


def bazaar_days(desk: Desk) -> None:
    action, _, rest = desk.args.partition(" ")
    action, rest = action.lower(), rest.strip()
    if action == "add":
        _bazaar_add(desk, rest)
    elif action == "list":
        _bazaar_list(desk)
    elif action == "remove":
        _bazaar_remove(desk, rest)
    else:
        raise Refusal(desk.t("staff_bazaar_usage"))


def _bazaar_add(desk: Desk, rest: str) -> None:
    """/bazaar add PLACE | every sunday 07:00 | uz: text | ru: text"""
    parts = [part.strip() for part in rest.split("|")]
    if len(parts) < 3:
        raise Refusal(desk.t("staff_bazaar_usage"))
    try:
        rule = bazaar.read_rule(parts[1])
    except ValueError:
        raise Refusal(desk.t("staff_bazaar_bad_rule", value=parts[1])) from None
    place = find_place(desk.catalog, parts[0])
    if place is None:
        raise Refusal(desk.t("staff_broadcast_bad_place", value=parts[0]))
    try:
        # The place's citizens and its channels, in their languages.
        draft = broadcasting.read(desk.catalog, f"place {place.id}, channels {place.id} | " + " | ".join(parts[2:]), desk.language)
    except broadcasting.BroadcastError as error:
        raise Refusal(desk.t(error.key, value=error.value)) from None
    if draft.send_at is not None or draft.urgent:
        raise Refusal(desk.t("staff_bazaar_usage"))
    row = BazaarDay(locality_id=place.id, weekday=rule.weekday, nth=rule.nth, at=f"{rule.at:%H:%M}", texts=draft.texts,
                    fallback=draft.fallback, audience=draft.audience, created_by=desk.actor, created_at=utcnow())
    desk.session.add(row)
    desk.session.flush()
    following = rule.next_after(utcnow().astimezone(place.zone))
    desk.say(desk.t("staff_bazaar_added", id=row.id, place=place.name(desk.language), rule=bazaar.say_rule(rule),
                    next=f"{following:%Y-%m-%d %H:%M}"))


def _bazaar_list(desk: Desk) -> None:
    rows = list(desk.session.exec(select(BazaarDay).where(BazaarDay.active).order_by(BazaarDay.id)))
    if not rows:
        desk.say(desk.t("staff_bazaar_list_empty"))
        return
    lines = []
    for row in rows:
        place = desk.catalog.localities.get(row.locality_id)
        lines.append(desk.t("staff_bazaar_list_line", id=row.id, place=place.name(desk.language) if place else row.locality_id,
                            rule=bazaar.say_rule(bazaar.rule_of(row)), text=row.texts[row.fallback][:60]))
    desk.say("\n".join(lines))


def _bazaar_remove(desk: Desk, word: str) -> None:
    number = word.strip().lstrip("#")
    if not number:
        raise Refusal(desk.t("staff_bazaar_usage"))
    row = desk.session.get(BazaarDay, int(number)) if number.isdigit() else None
    if row is None or not row.active:
        raise Refusal(desk.t("staff_bazaar_not_found", id=number))
    row.active = False
    desk.session.add(row)
    desk.say(desk.t("staff_bazaar_removed", id=row.id))


# -- the places' Telegram channels and groups ------------------------------------------


def channels(desk: Desk) -> None:
    action, _, rest = desk.args.partition(" ")
    words = rest.split()
    if action.lower() == "add" and len(words) >= 2:
        _channel_add(desk, words)
    elif action.lower() == "list":
        _channel_list(desk)
    elif action.lower() == "remove" and len(words) == 1:
        _channel_remove(desk, words[0])
    else:
        raise Refusal(desk.t("staff_channels_usage"))


def _chat_address(desk: Desk, word: str) -> str:
    chat = word.removeprefix("telegram:")
    if not chat.lstrip("-").isdigit() or not chat.startswith("-"):
        raise Refusal(desk.t("staff_channels_bad_id", value=word))
    return f"telegram:{chat}"


def _channel_add(desk: Desk, words: list[str]) -> None:
    """/channels add CHAT_ID PLACE [— title]"""
    address = _chat_address(desk, words[0])
    name, _, title = " ".join(words[1:]).partition("—")
    place = find_place(desk.catalog, name)
    if place is None:
        raise Refusal(desk.t("staff_broadcast_bad_place", value=name.strip()))
    row = desk.session.get(BroadcastChannel, address) or BroadcastChannel(address=address, locality_id=place.id)
    row.locality_id, row.title, row.active, row.added_by = place.id, title.strip(), True, desk.actor
    desk.session.add(row)
    desk.say(desk.t("staff_channels_added", chat=address.partition(":")[2], place=place.name(desk.language)))


def _channel_list(desk: Desk) -> None:
    rows = list(desk.session.exec(select(BroadcastChannel).where(BroadcastChannel.active).order_by(BroadcastChannel.locality_id)))
    if not rows:
        desk.say(desk.t("staff_channels_list_empty"))
        return
    desk.say("\n".join(
        desk.t("staff_channels_list_line", chat=row.address.partition(":")[2], title=row.title or "—",
               place=desk.catalog.localities[row.locality_id].name(desk.language) if row.locality_id in desk.catalog.localities else row.locality_id)
        for row in rows
    ))


def _channel_remove(desk: Desk, word: str) -> None:
    address = _chat_address(desk, word)
    row = desk.session.get(BroadcastChannel, address)
    if row is None or not row.active:
        raise Refusal(desk.t("staff_channels_not_found", chat=word))
    row.active = False
    desk.session.add(row)
    desk.say(desk.t("staff_channels_removed", chat=address.partition(":")[2]))
