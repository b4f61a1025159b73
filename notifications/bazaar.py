"""Bazaar days: announcements that come back every week, or on one
weekday of each month, for the people of a place.

A rule is written as staff say it: ``every sunday 07:00``, ``first monday
07:00``, ``last friday of the month 08:30`` (weekday names in English,
Uzbek, Russian or Spanish too). Each occurrence becomes one broadcast,
created under a unique key (the rule and the day), so a restart or a
second scheduler creates nothing twice. An occurrence the bot was down for
is still announced while the day is young (:data:`LATE`); older ones are
let go — yesterday's bazaar is no news.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import select

from flows.textnorm import fold
from storage.db import insert_new, session_scope
from storage.models import BazaarDay, Broadcast

log = logging.getLogger(__name__)
LATE = timedelta(hours=6)

WEEKDAYS = {
    0: ("monday", "mon", "dushanba", "понедельник", "душанба", "lunes"),
    1: ("tuesday", "tue", "seshanba", "вторник", "сешанба", "martes"),
    2: ("wednesday", "wed", "chorshanba", "среда", "чоршанба", "miercoles"),
    3: ("thursday", "thu", "payshanba", "четверг", "пайшанба", "jueves"),
    4: ("friday", "fri", "juma", "пятница", "жума", "viernes"),
    5: ("saturday", "sat", "shanba", "суббота", "шанба", "sabado"),
    6: ("sunday", "sun", "yakshanba", "воскресенье", "якшанба", "domingo"),
}
ORDINALS = {
    1: ("first", "1st", "birinchi", "первый", "первая", "первое", "primer", "primero"),
    2: ("second", "2nd", "ikkinchi", "второй", "вторая", "segundo"),
    3: ("third", "3rd", "uchinchi", "третий", "третья", "tercer", "tercero"),
    4: ("fourth", "4th", "to'rtinchi", "четвертый", "четвертая", "cuarto"),
    -1: ("last", "oxirgi", "последний", "последняя", "ultimo"),
}
EVERY = ("every", "each", "har", "каждый", "каждую", "каждое", "todos", "cada")
_TIME = re.compile(r"\b(\d{1,2}[:.]\d{2})\b")


@dataclass(frozen=True)
class Rule:
    weekday: int  # 0 = Monday
    nth: int | None  # None: every week; 1-4 or -1 (the last) of the month
    at: time

    def occurs_on(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if self.nth is None:
            return True
        if self.nth == -1:
            return (day + timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 + 1 == self.nth

    def next_after(self, moment: datetime) -> datetime:
        """The next occurrence after ``moment`` (an aware local time)."""
        day = moment.date()
        for _ in range(400):
            start = datetime.combine(day, self.at, tzinfo=moment.tzinfo)
            if self.occurs_on(day) and start > moment:
                return start
            day += timedelta(days=1)
        raise ValueError("no occurrence within a year")


def read_rule(written: str) -> Rule:
    """``every sunday 07:00`` / ``first monday of the month 07:00``; ValueError when it does not read."""
    from bot.visit_planning import read_time

    clock = _TIME.search(written)
    if clock is None:
        raise ValueError(written)
    at = read_time(clock.group(1))
    words = fold(written[:clock.start()] + " " + written[clock.end():]).replace("'", "").split()
    weekday = next((day for word in words for day, names in WEEKDAYS.items() if word in {fold(n) for n in names}), None)
    nth = next((n for word in words for n, names in ORDINALS.items() if word in {fold(x).replace("'", "") for x in names}), None)
    if weekday is None:
        raise ValueError(written)
    return Rule(weekday, nth, at)


def rule_of(row: BazaarDay) -> Rule:
    hour, minute = (int(part) for part in row.at.split(":"))
    return Rule(row.weekday, row.nth, time(hour, minute))


def say_rule(rule: Rule) -> str:
    """The rule back in words, the same for everyone: ``every sunday 07:00``."""
    day = WEEKDAYS[rule.weekday][0]
    which = "every" if rule.nth is None else ORDINALS[rule.nth][0]
    return f"{which} {day}{'' if rule.nth is None else ' of the month'} {rule.at:%H:%M}"


def due_occurrence(row: BazaarDay, zone, now: datetime) -> datetime | None:
    """Today's occurrence of the rule if it has come and is not stale (nor
    older than the rule itself), in UTC; else None."""
    local = now.astimezone(zone)
    rule = rule_of(row)
    if not rule.occurs_on(local.date()):
        return None
    start = datetime.combine(local.date(), rule.at, tzinfo=zone)
    if not start <= local < start + LATE or start < row.created_at:
        return None
    return start.astimezone(now.tzinfo)


def create_due(database, catalog, now: datetime) -> int:
    """Create the broadcast of every bazaar day that has come; returns how many were created now."""
    created = 0
    with session_scope(database) as session:
        rows = list(session.exec(select(BazaarDay).where(BazaarDay.active).order_by(BazaarDay.id)))
        for row in rows:
            place = catalog.localities.get(row.locality_id)
            moment = due_occurrence(row, place.zone if place else now.tzinfo, now)
            if moment is None:
                continue
            key = f"bazaar:{row.id}:{moment:%Y-%m-%d}"
            if insert_new(session, Broadcast, dict(
                texts=row.texts, fallback=row.fallback, audience=row.audience, urgent=False, status="confirmed",
                send_at=moment, cursor={}, recipients=0, occurrence=key, created_by=f"bazaar:{row.id}", created_at=now,
                confirmed_by=row.created_by, confirmed_at=now,
            ), "occurrence"):
                created += 1
                log.info("bazaar day %s: announcement created for %s", row.id, f"{moment:%Y-%m-%d}")
    return created
