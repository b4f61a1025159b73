"""Finding requests that are one case.

The same broken pipe is reported by ten neighbours, or by one citizen on
WhatsApp and again on Telegram, or filed three times in an office's sheet
with the phone written three ways. These rules say when two reports are one
case; the intake (a request as it arrives), the import of old sheets and
the staff card all ask the same rules, so a case is the same case wherever
it is seen.

Two reports are **one case** when either

* **the same person re-files the same need**: the same citizen, or the same
  phone with a compatible name, or a compatible name in the same place when a
  phone is missing on one side; *and* the same need — they name a common
  topic (water, pension, the deed of a plot...), or, when one names none,
  the same category and words alike; *and* within ``person_days``;
* **neighbours report one problem**: other people in the same locality,
  same category, within ``neighbour_days``, naming a common *shared* topic
  (a problem of the place — water, power, gas, rubbish, a pothole, a
  bridge, a soup kitchen — never a person's own pension or plot), or,
  with no topic named, near-identical words.

And they are **never** one case (the traps) when they are more than
``person_days`` apart (a new occurrence), when one person asks two different
things (their topics differ), when a shared family phone is used by two
people (names that do not fit each other), or when the same words come
from another locality.

A name is compatible with another when the shorter one's words all fit the
longer one's (``GOMEZ Maria`` ~ ``Gómez, María Eugenia``, ``Leiva M.`` ~
``Leiva Marcelo``, ``Каримов Азиз`` ~ ``Karimov Aziz Anvarovich``),
compared folded (no case, accents or script) and with small spelling slips
forgiven (``Abdullaev`` ~ ``Abdullayev``), but ``Bahodir`` is not ``Bahrom``.
Argentine mobiles are compared with and without the 9.

:func:`group` turns the pairs into groups: strongest links first, and two
groups are never joined when it would put a trap pair inside one.

Everything here is pure: no storage, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from rapidfuzz import fuzz

from flows.textnorm import fold, match_key, words

MIN_SCORE = 70.0
SAME_PERSON = "same_person"
NEIGHBOURS = "neighbours"


@dataclass(frozen=True)
class Candidate:
    code: str
    text: str
    category_id: str
    locality_id: str | None
    citizen_id: int


@dataclass(frozen=True)
class Rules:
    """The thresholds of :func:`same_case` (defaults chosen on two old sheets
    with known groups; see ``bench/duplicates.py``)."""

    person_days: int = 183  # the same person, the same need: half a year; later it is a new occurrence
    neighbour_days: int = 30  # neighbours reporting one problem do so within weeks
    person_likeness: float = 45.0  # the same person, no topic named: words at least this alike (and one category)
    person_any_category: float = 80.0  # ...or words this alike whatever the category
    neighbour_likeness: float = 85.0  # neighbours, no shared topic named: near-identical words
    mine_days: int = 30  # at intake, the citizen's own open requests this recent are offered ("you already asked this")


RULES = Rules()


@dataclass(frozen=True)
class Report:
    """One request as the rules see it. Every field but ``text`` may be
    missing; a missing field neither joins nor separates.

    ``locality`` is a catalogue id (or, for a place not in the catalogue,
    its folded name); ``phone`` is E.164; ``citizen`` is a known citizen's
    id (the same id is the same person whatever the names say)."""

    text: str
    category: str | None = None
    locality: str | None = None
    phone: str | None = None
    name: str | None = None
    when: date | datetime | None = None
    citizen: int | None = None
    topics: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        if not self.topics:
            object.__setattr__(self, "topics", topics(self.text))


# ---------------------------------------------------------------- topics
# What a report is about, more finely than its category. Words are written
# naturally in any script; they go through fold + match_key like the text.
# ``word*`` matches any word starting so; ``word`` only that word; several
# words must follow each other.
SHARED_TOPICS: dict[str, tuple[str, ...]] = {
    "water": ("agua", "canilla", "bidon*", "aysa", "water", "suv", "suvi", "suvsiz", "suvni", "suvga", "suvdan",
              "ichimlik*", "voda", "vodi", "vodu", "vodoy", "vodoprovod*", "vodosnab*", "pitev*", "pityev*"),
    "power": ("luz", "electric*", "electro*", "elektr*", "svet", "sveta", "svetu", "tok", "power", "apagon",
              "transformator*", "transformador*", "edelap", "edenor", "edesur", "kuchlanish*", "voltage"),
    "gas": ("gas", "gaz", "gaza", "gazi", "gazni", "gazga", "gazsiz", "garrafa*", "ballon*", "camuzzi", "propan*"),
    "rubbish": ("basura*", "residuo*", "recolec*", "chiqindi*", "axlat*", "musor*", "garbage", "rubbish", "trash"),
    "sewer": ("cloaca*", "kanaliz*", "sewer*", "sewage", "oqova*", "agua servida", "pozo ciego"),
    "road": ("bache*", "pozo", "pozos", "asfalt*", "pavimen*", "camino*", "yol", "yoli", "yolni", "yolda", "yollar*",
             "doroga*", "dorogi", "dorogu", "chuqur*", "yama", "yamy", "pothole*", "road*", "vialidad", "intransitable"),
    "street_light": ("alumbrado*", "luminaria*", "farol*", "chiroq*", "fonar*", "osvesh*", "street light*", "streetlight*"),
    "bridge": ("puente*", "ko'prik*", "mosta", "mostu", "bridge*"),
    "ditch": ("zanja*", "anega*", "inund*", "desborde*", "desbord*", "ariq*", "kanava*", "sel", "podtop*", "flood*",
              "drain*", "ditch*", "desag*"),
    "bus": ("colectivo*", "avtobus*", "autobus*", "bus", "buses", "marshrut*", "micro"),
    "pole": ("poste*", "ustun*", "stolb*", "pole", "cables"),
    "soup_kitchen": ("comedor*", "merendero*", "olla popular", "oshxona*"),
}
PERSONAL_TOPICS: dict[str, tuple[str, ...]] = {
    "pension": ("pension*", "pensi*", "jubila*"),
    "allowance": ("auh", "asignacion*", "nafaqa*", "posobi*", "allowance*"),
    "disability": ("discapac*", "cud", "invalid*", "nogiron*", "disabil*"),
    "food": ("alimento*", "alimentar*", "alimentario*", "mercaderia*", "bolson*", "oziq*", "ovqat*", "produkt*", "food"),
    "roof": ("techo*", "chapa*", "tom", "tomi", "tomini", "krish*", "roof*", "tirante*"),
    "eviction": ("desalojo*", "desalojar*", "alquil*", "ijara*", "chiqarib*", "evict*", "vyselen*"),
    "plot": ("lote", "lotes", "terreno*", "uchastka*", "uchastok*", "uchastk*", "parcela*", "plot"),
    "deed": ("escritur*", "titulo*", "sucesion*", "kadastr*", "catastr*", "deed*", "boleto*"),
    "id_document": ("dni", "pasport*", "pasaport*", "passport*", "id karta*", "renaper", "documento*"),
    "registration": ("propisk*", "domicilio*", "registration"),
    "civil_record": ("partida*", "acta de*", "guvohnoma*", "metrika*", "zags", "fhdyo", "certificate"),
    "job": ("trabajo*", "empleo*", "ish", "ishsiz*", "bandlik*", "rabota", "raboty", "rabotu", "rabotoy", "job", "jobs", "work"),
    "wages": ("sueldo*", "salario*", "indemniz*", "ish haqi*", "zarplat*", "wage*", "salary"),
    "kindergarten": ("jardin*", "vacante*", "bog'cha*", "detsad*", "detskiy sad", "kindergarten*", "maktabgacha*"),
    "permit": ("habilita*", "monotributo*", "ruxsatnoma*", "litsenz*", "yatt", "tadbirkor*", "permit*", "licen*"),
    "doctor": ("pediatra*", "medico*", "oculista*", "shifokor*", "vrach*", "doctor*", "turno para"),
    "medicine": ("medicamento*", "remedio*", "dori*", "lekarstv*", "insulin*", "medicine*"),
}


def _compile(table: dict[str, tuple[str, ...]]) -> list[tuple[str, tuple[tuple[str, bool], ...]]]:
    compiled = []
    for topic, stems in table.items():
        for stem in stems:
            prefix = stem.endswith("*")
            keys = tuple(match_key(w) for w in words(stem.rstrip("*")))
            compiled.append((topic, tuple((k, prefix and i == len(keys) - 1) for i, k in enumerate(keys))))
    return compiled


_SHARED = _compile(SHARED_TOPICS)
_PERSONAL = _compile(PERSONAL_TOPICS)
SHARED = frozenset(SHARED_TOPICS)


@lru_cache(maxsize=65536)
def topics(text: str) -> frozenset[str]:
    """The topics ``text`` names (see the tables above), in any script."""
    keys = [match_key(w) for w in words(text)]
    found = set()
    for topic, stem in _SHARED + _PERSONAL:
        if topic in found:
            continue
        n = len(stem)
        for i in range(len(keys) - n + 1):
            if all((keys[i + j].startswith(k) if prefix else keys[i + j] == k) for j, (k, prefix) in enumerate(stem)):
                found.add(topic)
                break
    return frozenset(found)


# ---------------------------------------------------------------- words, names, phones
def likeness(a: str, b: str) -> float:
    """0-100: how alike two descriptions are, whatever the order of words,
    the script (Latin or Cyrillic) or the accents."""
    return fuzz.token_set_ratio(_folded(a), _folded(b))


# A new request is compared with the same few hundred of its place's: each folded once.
_folded = lru_cache(maxsize=65536)(fold)


def phone_key(e164: str | None) -> str | None:
    """A phone as compared. Argentine numbers by their last eight digits: a
    mobile written with or without the 9, with the 15 and with or without
    its area code ("15-5566-2211" and "+54 9 11 5566-2211") is one number."""
    if not e164:
        return None
    return "+54…" + e164[-8:] if e164.startswith("+54") else e164


_PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "da", "di", "van", "von", "ibn", "ogli", "qizi", "kizi"})


@lru_cache(maxsize=65536)
def _name_parts(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(full words, initials) of a name, folded. An initial is a word of one
    or two letters or one written with a dot (``M.``, ``SH.``)."""
    full, initials = [], []
    for raw in re.split(r"[\s,()]+", name):
        for key in (match_key(w) for w in words(raw)):
            if key in _PARTICLES:
                continue
            if len(key) <= 2 or (raw.endswith(".") and len(key) <= 3):
                initials.append(key)
            else:
                full.append(key)
    return tuple(full), tuple(initials)


def _word_fits(a: str, b: str) -> bool:
    if a == b:
        return True
    return min(len(a), len(b)) >= 5 and fuzz.ratio(a, b) >= 85


def names_compatible(a: str | None, b: str | None) -> bool:
    """Whether two written names can be one person: every word of the one with
    fewer words fits a distinct word of the other, and its initials start
    words of the other that are left (``Leiva M.`` ~ ``Leiva Marcelo``, not
    ``Leiva Juan``)."""
    if not a or not b:
        return False
    (fa, ia), (fb, _) = _name_parts(a), _name_parts(b)
    if not fa or not fb:
        return False
    if len(fa) > len(fb):
        (fa, ia), (fb, _) = (fb, _name_parts(b)[1]), (fa, ia)
    unused = list(fb)
    for word in fa:
        match = next((w for w in unused if _word_fits(word, w)), None)
        if match is None:
            return False
        unused.remove(match)
    for initial in ia:
        if not unused:
            break  # the other name simply does not write it
        match = next((w for w in unused if w.startswith(initial)), None)
        if match is None:
            return False
        unused.remove(match)
    return True


def _days_apart(a: Report, b: Report) -> int | None:
    if a.when is None or b.when is None:
        return None
    da = a.when.date() if isinstance(a.when, datetime) else a.when
    db = b.when.date() if isinstance(b.when, datetime) else b.when
    return abs((da - db).days)


# ---------------------------------------------------------------- the rules
def same_person(a: Report, b: Report) -> bool:
    """Whether two reports come from one person (see the module docstring)."""
    if a.citizen is not None and a.citizen == b.citizen:
        return True
    pa, pb = phone_key(a.phone), phone_key(b.phone)
    if pa and pb and pa != pb:
        return False  # two numbers: two people (a person with two phones is rare in one sheet)
    if pa and pa == pb:
        # a shared family phone: the same number, names that do not fit
        return not (a.name and b.name) or names_compatible(a.name, b.name)
    # one phone missing: the name must fit, in the same place
    return names_compatible(a.name, b.name) and (a.locality is None or b.locality is None or a.locality == b.locality)


def same_need(a: Report, b: Report, rules: Rules = RULES) -> bool:
    """Whether one person's two reports ask for the same thing."""
    ta, tb = a.topics, b.topics
    if ta & tb:
        return True
    score = likeness(a.text, b.text)
    if ta and tb:
        return score >= 95  # two different things named: only near-identical words say otherwise
    if score >= rules.person_any_category:
        return True
    return a.category is not None and a.category == b.category and score >= rules.person_likeness


def one_problem(a: Report, b: Report, rules: Rules = RULES) -> bool:
    """Whether two people's reports are one problem of one place."""
    if not a.locality or a.locality != b.locality:
        return False
    if a.category and b.category and a.category != b.category:
        return False
    sa, sb = a.topics & SHARED, b.topics & SHARED
    if sa & sb:
        return True
    if sa and sb:
        return False  # a pothole and a dark street: two problems of one street
    if (a.topics - SHARED) or (b.topics - SHARED):
        return False  # a person's own pension or plot is never a neighbourhood's problem
    return likeness(a.text, b.text) >= rules.neighbour_likeness


def same_case(a: Report, b: Report, rules: Rules = RULES) -> str | None:
    """``"same_person"`` or ``"neighbours"`` when two reports are one case,
    else None (see the module docstring for the rules and the traps)."""
    days = _days_apart(a, b)
    if days is not None and days > rules.person_days:
        return None
    if same_person(a, b):
        return SAME_PERSON if same_need(a, b, rules) else None
    if days is not None and days > rules.neighbour_days:
        return None
    return NEIGHBOURS if one_problem(a, b, rules) else None


def kept_apart(a: Report, b: Report, rules: Rules = RULES) -> bool:
    """Whether two reports must never share a group, even through others: a
    new occurrence, one person's two needs, two places, two problems."""
    days = _days_apart(a, b)
    if days is not None and days > rules.person_days:
        return True
    if same_person(a, b):
        return not same_need(a, b, rules)
    if a.locality and b.locality and a.locality != b.locality:
        return True
    sa, sb = a.topics & SHARED, b.topics & SHARED
    if sa & sb:
        return False
    if a.category and b.category and a.category != b.category:
        return True
    # two problems named, or two people's own needs (a pension, a plot)
    return bool(sa and sb) or bool((a.topics | b.topics) - SHARED)


def group(reports: list[Report], rules: Rules = RULES) -> list[list[int]]:
    """The groups (lists of indexes into ``reports``, each sorted, groups
    ordered by their first index) of two or more reports that are one case.

    Pairs are joined strongest first (the same person before neighbours,
    then by likeness); two groups are not joined when any pair across them
    is :func:`kept_apart`."""
    links = []
    for i in range(len(reports)):
        for j in range(i + 1, len(reports)):
            kind = same_case(reports[i], reports[j], rules)
            if kind:
                links.append((kind != SAME_PERSON, -likeness(reports[i].text, reports[j].text), i, j))
    links.sort()
    owner = list(range(len(reports)))
    members = {i: [i] for i in range(len(reports))}
    for _, _, i, j in links:
        gi, gj = owner[i], owner[j]
        if gi == gj:
            continue
        if any(kept_apart(reports[x], reports[y], rules) for x in members[gi] for y in members[gj]):
            continue
        for x in members[gj]:
            owner[x] = gi
        members[gi].extend(members.pop(gj))
    return sorted(sorted(m) for m in members.values() if len(m) > 1)


def similar(request: Candidate, others: list[Candidate], *, limit: int = 3) -> list[tuple[str, float]]:
    """The codes of the ``others`` most like ``request``, best first.

    The same citizen writing twice counts for more; another category never
    counts."""
    scored = []
    for other in others:
        if other.code == request.code or other.category_id != request.category_id:
            continue
        score = likeness(request.text, other.text)
        if other.citizen_id == request.citizen_id:
            score = min(100.0, score + 15)
        if request.locality_id and other.locality_id == request.locality_id:
            score = min(100.0, score + 10)
        if score >= MIN_SCORE:
            scored.append((other.code, round(score, 1)))
    return sorted(scored, key=lambda pair: -pair[1])[:limit]
