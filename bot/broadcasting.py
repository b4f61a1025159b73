"""Writing an announcement, from the staff desk (``/broadcast``) and the
shell (``onewindow broadcast``): reading who it is for, its texts and its
time as people write them, previewing it, and confirming or cancelling it.

One line says it all, parts split by ``|``::

    place Sardoba, lang uz | uz: Ertaga bozor kuni ... | ru: Завтра ... | at 2026-12-08 09:00 | fallback uz

The first part is the audience, terms split by commas: ``all``,
``place NAME`` (a region, district or village: the citizens living there),
``lang CODE``, ``category CODE`` (citizens with an open request of it),
``subscribers NAME`` (those who asked to hear of the place's visits),
``channels NAME`` (the place's Telegram channels and groups, one post each)
and ``numbers +998901234567 telegram:123 …``. ``place``, ``lang`` and
``category`` narrow the citizens; the others add people. Then a text per
language (``uz:``, ``uz-Cyrl:``, ``ru:``, ``es:``, ``en:``; a part with no
language is in the author's), and optionally ``at YYYY-MM-DD HH:MM`` (the
place's local time), ``urgent`` (goes at night too: emergency warnings)
and ``fallback LANG`` (the text for a citizen whose language has none; the
author's language by default).

Nothing is written until all of it reads; a mistake is a
:class:`BroadcastError` naming what was wrong.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from sqlmodel import Session, select

from bot.visit_planning import find_place, read_time
from flows.i18n import LANGUAGES
from storage import broadcasts as store
from storage.models import Broadcast, utcnow

TERMS = ("all", "place", "lang", "category", "subscribers", "channels", "numbers")
_LANGUAGE_PART = re.compile(r"^(en|es|ru|uz-cyrl|uz)\s*:\s*(.*)$", re.S | re.I)
_TELEGRAM = re.compile(r"^(?:telegram:|tg:)?(-?\d{1,15})$", re.I)
STOPPABLE = ("draft", "confirmed", "writing", "queued")


class BroadcastError(ValueError):
    """Something in an announcement that cannot be read; ``key`` is the text
    that explains it, ``value`` what was written."""

    def __init__(self, key: str, value: str = ""):
        super().__init__(f"{key}: {value}")
        self.key, self.value = key, value


@dataclass
class Draft:
    texts: dict[str, str] = field(default_factory=dict)
    fallback: str = "en"
    audience: dict = field(default_factory=dict)
    send_at: datetime | None = None
    urgent: bool = False


def language_code(word: str) -> str | None:
    """``uz-cyrl`` -> ``uz-Cyrl``: a language we have texts in, or None."""
    return next((code for code in LANGUAGES if code.lower() == word.strip().lower()), None)


def read(catalog, line: str, author_language: str, now: datetime | None = None) -> Draft:
    """The announcement written on one line (see the module's docstring)."""
    parts = [part.strip() for part in line.split("|")]
    texts, fallback, at, urgent = {}, None, None, False
    for part in parts[1:]:
        lowered = part.lower()
        if match := _LANGUAGE_PART.match(part):
            texts[language_code(match.group(1))] = match.group(2).strip()
        elif lowered == "urgent":
            urgent = True
        elif lowered.startswith("at "):
            at = part[3:].strip()
        elif lowered.startswith("fallback "):
            fallback = part[9:].strip()
        elif part:
            texts[author_language] = part
    return compose(catalog, parts[0], texts, author_language, at=at, urgent=urgent, fallback=fallback, now=now)


def compose(catalog, audience: str, texts: dict[str, str], author_language: str, *, at: str | None = None, urgent: bool = False,
            fallback: str | None = None, now: datetime | None = None) -> Draft:
    """An announcement from its parts, each checked: the audience's terms,
    a text per language code, the local time to send it, the fallback."""
    now = now or utcnow()
    draft = Draft(audience=read_audience(catalog, audience), urgent=urgent)
    for language, body in texts.items():
        code = language_code(language) or _fail("staff_broadcast_bad_language", language)
        draft.texts[code] = body.strip()
    if not draft.texts or not all(draft.texts.values()):
        raise BroadcastError("staff_broadcast_no_text")
    if fallback is not None:
        draft.fallback = language_code(fallback) or _fail("staff_broadcast_bad_language", fallback)
    else:
        draft.fallback = author_language if author_language in draft.texts else next(iter(draft.texts))
    if draft.fallback not in draft.texts:
        raise BroadcastError("staff_broadcast_bad_fallback", draft.fallback)
    if at is not None:
        draft.send_at = read_when(at, draft.audience["zone"], now)
    return draft


def read_when(written: str, zone: str, now: datetime) -> datetime:
    """``YYYY-MM-DD HH:MM`` in ``zone``, in UTC; in the future."""
    day, _, hour = written.strip().partition(" ")
    try:
        local = datetime.combine(date.fromisoformat(day), read_time(hour or "00:00"), tzinfo=ZoneInfo(zone))
    except ValueError:
        raise BroadcastError("staff_broadcast_bad_time", written) from None
    if local <= now:
        raise BroadcastError("staff_broadcast_past", written)
    return local.astimezone(now.tzinfo)


def read_audience(catalog, written: str) -> dict:
    """The audience's terms as stored on the broadcast."""
    audience: dict = {}
    places = []
    for term in (t.strip() for t in written.split(",") if t.strip()):
        word, _, rest = term.partition(" ")
        word, rest = word.lower(), rest.strip()
        if word == "all" and not rest:
            audience["citizens"] = True
        elif word == "place" and rest:
            place = _place(catalog, rest)
            places.append(place)
            audience["citizens"] = True
            audience.setdefault("named", {}).setdefault("place", []).append(place.id)
            audience.setdefault("localities", []).extend(catalog.within(place.id))
        elif word == "lang" and rest:
            audience["language"] = language_code(rest) or _fail("staff_broadcast_bad_language", rest)
            audience["citizens"] = True
        elif word == "category" and rest:
            if catalog.category(rest) is None:
                raise BroadcastError("staff_broadcast_bad_category", rest)
            audience["category"], audience["citizens"] = rest, True
        elif word in ("subscribers", "channels") and rest:
            place = _place(catalog, rest)
            places.append(place)
            audience.setdefault(word, []).extend(catalog.within(place.id))
            audience.setdefault("named", {}).setdefault(word, []).append(place.id)
        elif word == "numbers" and rest:
            audience.setdefault("numbers", []).extend(read_number(n) or _fail("staff_broadcast_bad_number", n) for n in rest.split())
        else:
            raise BroadcastError("staff_broadcast_bad_audience", term)
    if not any(audience.get(k) for k in ("citizens", "subscribers", "numbers", "channels")):
        raise BroadcastError("staff_broadcast_no_audience", written)
    audience["zone"] = _zone(catalog, places)
    return audience


def read_number(written: str) -> str | None:
    """An address from a phone number (``+998 90 123-45-67``: WhatsApp) or a
    Telegram id (``telegram:123`` or the bare id); None when it is neither."""
    written = written.strip()
    if written.lower().startswith("whatsapp:"):
        written = written[9:]
    if match := _TELEGRAM.match(written.replace(" ", "")) if not written.startswith("+") else None:
        return f"telegram:{match.group(1)}"
    try:
        number = phonenumbers.parse(written, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return "whatsapp:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def read_numbers_csv(source: str) -> tuple[list[str], list[tuple[int, str]]]:
    """Addresses from a CSV with one number or Telegram id per row (a
    ``phone``, ``telegram`` or ``number`` column, or the first one): the
    good ones, and the bad rows by line."""
    rows = list(csv.reader(io.StringIO(source)))
    if not rows:
        return [], []
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(name) for name in ("phone", "number", "telegram", "telegram_id") if name in header), None)
    start = 1 if column is not None or not any(read_number(cell) for cell in rows[0]) else 0
    column = column or 0
    found, errors = [], []
    for line, row in enumerate(rows[start:], start + 1):
        cell = row[column].strip() if len(row) > column else ""
        if not cell and not any(c.strip() for c in row):
            continue
        address = read_number(cell)
        if address is None:
            errors.append((line, cell))
        elif address not in found:
            found.append(address)
    return found, errors


def _place(catalog, name: str):
    return find_place(catalog, name) or _fail("staff_broadcast_bad_place", name)


def _fail(key: str, value: str):
    raise BroadcastError(key, value)


def _zone(catalog, places) -> str:
    """The clock an announcement's time is read in: its place's, else the
    one country's the bot serves, else UTC."""
    if places:
        return places[0].zone.key
    zones = {place.zone.key for place in catalog.localities.values()}
    return zones.pop() if len(zones) == 1 else "UTC"


# -- what staff do with a broadcast ---------------------------------------------------


def create(session: Session, draft: Draft, actor: str) -> tuple[Broadcast, dict[str, int]]:
    """Store the draft and count its audience: the preview to confirm."""
    counts = store.count(session, draft.audience)
    broadcast = Broadcast(texts=draft.texts, fallback=draft.fallback, audience=draft.audience, urgent=draft.urgent,
                          send_at=draft.send_at, created_by=actor)
    session.add(broadcast)
    session.flush()
    return broadcast, counts


def confirm(session: Session, broadcast_id: int, actor: str, now: datetime | None = None) -> Broadcast:
    broadcast = store.lock(session, broadcast_id)
    if broadcast is None:
        raise BroadcastError("staff_broadcast_not_found", str(broadcast_id))
    if broadcast.status != "draft":
        raise BroadcastError("staff_broadcast_not_draft", broadcast.status)
    broadcast.status, broadcast.confirmed_by, broadcast.confirmed_at = "confirmed", actor, now or utcnow()
    session.add(broadcast)
    return broadcast


def cancel(session: Session, broadcast_id: int, now: datetime | None = None) -> tuple[Broadcast, int]:
    """Stop it: what is not yet sent is not sent. Returns how many messages were stopped."""
    now = now or utcnow()
    broadcast = store.lock(session, broadcast_id)
    if broadcast is None:
        raise BroadcastError("staff_broadcast_not_found", str(broadcast_id))
    if broadcast.status not in STOPPABLE:
        raise BroadcastError("staff_broadcast_not_stoppable", broadcast.status)
    broadcast.status, broadcast.finished_at = "cancelled", now
    session.add(broadcast)
    return broadcast, store.cancel_waiting(session, broadcast.id, now)


def find(session: Session, word: str) -> Broadcast:
    number = word.strip().lstrip("#")
    broadcast = session.get(Broadcast, int(number)) if number.isdigit() else None
    if broadcast is None:
        raise BroadcastError("staff_broadcast_not_found", number)
    return broadcast


def recent(session: Session, limit: int = 10) -> list[Broadcast]:
    return list(session.exec(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)))


def describe(audience: dict, catalog, language: str) -> str:
    """The audience in words, for the preview and the status."""
    def names(ids):
        return ", ".join(catalog.localities[i].name(language) if i in catalog.localities else i for i in ids)

    named = audience.get("named", {})
    parts = []
    if audience.get("citizens"):
        citizens = [f"place {names(named['place'])}"] if named.get("place") else ["all"]
        if audience.get("language"):
            citizens.append(f"lang {audience['language']}")
        if audience.get("category"):
            citizens.append(f"category {audience['category']}")
        parts.append(", ".join(citizens))
    for word in ("subscribers", "channels"):
        if named.get(word):
            parts.append(f"{word} {names(named[word])}")
    if audience.get("numbers"):
        parts.append(f"numbers ×{len(audience['numbers'])}")
    return "; ".join(parts)


def local_time(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if moment else "—"

