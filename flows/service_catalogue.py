"""The service catalogue: what each public service needs, costs and where it
is done, read from the data files in ``storage/seed/services``.

Kept pure (no file or store access): :func:`parse` turns the parsed JSON of
one file into :class:`Service` records and a list of :class:`Problem`, each
naming the file, the service and the field, so a person fixing the file knows
exactly where to look. A file with problems is never half-used: the caller
keeps the catalogue it had.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("uz", "uz-Cyrl", "ru", "es", "en")


@dataclass(frozen=True)
class Problem:
    file: str
    service: str  # "" for a problem outside any one service
    field: str
    message: str

    def __str__(self) -> str:
        where = f"service {self.service}" if self.service else "file"
        return f"{self.file}: {where}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Centre:
    id: str
    locality_id: str
    address: dict[str, str]
    hours: dict[str, str]


@dataclass(frozen=True)
class Portal:
    id: str
    url: str
    names: dict[str, str]
    steps: dict[str, list[str]]


@dataclass(frozen=True)
class Service:
    id: str
    region: str
    category_id: str
    names: dict[str, str]
    descriptions: dict[str, str]
    eligibility: dict[str, str]
    documents: tuple[dict[str, str], ...]
    fee_amount: float
    currency: str
    fee_exempt: dict[str, str]
    days: int
    mobile_unit: bool
    centres: tuple[Centre, ...]
    online: Portal | None
    keywords: tuple[str, ...] = ()

    def text(self, attribute: str, language: str) -> str:
        values = getattr(self, attribute)
        return values.get(language) or values.get("en", "")


@dataclass(frozen=True)
class ServiceCatalogue:
    services: tuple[Service, ...] = ()
    by_id: dict[str, Service] = field(default_factory=dict)

    @classmethod
    def of(cls, services: list[Service]) -> ServiceCatalogue:
        return cls(tuple(services), {s.id: s for s in services})

    def get(self, service_id: str) -> Service | None:
        return self.by_id.get(service_id)

    def in_category(self, category_id: str) -> list[Service]:
        return [s for s in self.services if s.category_id == category_id]


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, service: str, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, service, where, message))

    def texts(self, service: str, where: str, value: object) -> dict[str, str]:
        """A text in every language, each non-empty."""
        if not isinstance(value, dict):
            self.add(service, where, "must be an object with a text per language")
            return {}
        for language in LANGUAGES:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                self.add(service, f"{where}.{language}", "missing or empty")
        return {k: v for k, v in value.items() if isinstance(v, str)}


def parse(data: object, file: str, category_ids: set[str], locality_ids: set[str] | None = None) -> tuple[list[Service], list[Problem]]:
    """The services of one file, and every problem found in it.

    ``locality_ids``, when given, is checked against each centre's locality."""
    check = _Checker(file)
    if not isinstance(data, dict):
        check.add("", "(top)", "must be a JSON object")
        return [], check.problems
    if data.get("sample") and not str(data.get("note", "")).strip():
        check.add("", "note", "sample data must say so in a note")
    region = str(data.get("region") or "")
    if not region:
        check.add("", "region", "missing")
    documents = {key: check.texts("", f"documents.{key}", value) for key, value in (data.get("documents") or {}).items()}
    centres: dict[str, Centre] = {}
    for key, value in (data.get("centres") or {}).items():
        value = value if isinstance(value, dict) else {}
        locality = value.get("locality")
        if not isinstance(locality, str) or (locality_ids is not None and locality not in locality_ids):
            check.add("", f"centres.{key}.locality", f"unknown locality {locality!r}")
        centres[key] = Centre(key, str(locality), check.texts("", f"centres.{key}.address", value.get("address")), check.texts("", f"centres.{key}.hours", value.get("hours")))
    portals: dict[str, Portal] = {}
    for key, value in (data.get("portals") or {}).items():
        value = value if isinstance(value, dict) else {}
        url = value.get("url")
        if not isinstance(url, str) or not url.startswith("https://"):
            check.add("", f"portals.{key}.url", "must be an https:// link")
        steps = value.get("steps") if isinstance(value.get("steps"), dict) else {}
        for language in LANGUAGES:
            if not steps.get(language) or not all(isinstance(s, str) and s.strip() for s in steps[language]):
                check.add("", f"portals.{key}.steps.{language}", "missing or empty")
        portals[key] = Portal(key, str(url), check.texts("", f"portals.{key}.names", value.get("names")), steps)
    services: list[Service] = []
    seen: set[str] = set()
    entries = data.get("services")
    if not isinstance(entries, list) or not entries:
        check.add("", "services", "must be a non-empty list")
        entries = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            check.add(f"#{position + 1}", "(entry)", "must be an object")
            continue
        service = _service(check, entry, position, region, documents, centres, portals, category_ids, seen)
        if service:
            services.append(service)
    return services, check.problems


def _service(check, entry, position, region, documents, centres, portals, category_ids, seen) -> Service | None:
    sid = entry.get("id")
    name = sid if isinstance(sid, str) and sid else f"#{position + 1}"
    before = len(check.problems)
    if not isinstance(sid, str) or not sid.strip():
        check.add(name, "id", "missing")
    elif sid in seen:
        check.add(name, "id", "used twice")
    seen.add(name)
    if entry.get("category") not in category_ids:
        check.add(name, "category", f"unknown category {entry.get('category')!r}")
    names = check.texts(name, "names", entry.get("names"))
    descriptions = check.texts(name, "descriptions", entry.get("descriptions"))
    eligibility = check.texts(name, "eligibility", entry.get("eligibility"))
    docs = entry.get("documents")
    if not isinstance(docs, list) or not docs:
        check.add(name, "documents", "must be a non-empty list")
        docs = []
    for doc in docs:
        if doc not in documents:
            check.add(name, "documents", f"unknown document {doc!r}")
    fee = entry.get("fee") if isinstance(entry.get("fee"), dict) else {}
    amount = fee.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
        check.add(name, "fee.amount", "must be a number, 0 or more")
        amount = 0
    currency = fee.get("currency")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        check.add(name, "fee.currency", "must be a three-letter currency code")
    exempt = check.texts(name, "fee.exempt", fee["exempt"]) if "exempt" in fee else {}
    days = entry.get("days")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        check.add(name, "days", "must be a whole number of days, 0 or more")
        days = 0
    where = entry.get("where") if isinstance(entry.get("where"), dict) else {}
    if not isinstance(where.get("mobile_unit"), bool):
        check.add(name, "where.mobile_unit", "must be true or false")
    centre_ids = where.get("centres") if isinstance(where.get("centres"), list) else []
    for centre in centre_ids:
        if centre not in centres:
            check.add(name, "where.centres", f"unknown centre {centre!r}")
    online = where.get("online")
    if online is not None and online not in portals:
        check.add(name, "where.online", f"unknown portal {online!r}")
    if not where.get("mobile_unit") and not centre_ids and online is None:
        check.add(name, "where", "no mobile unit, centre or portal: nowhere to do it")
    keywords = entry.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
        check.add(name, "keywords", "must be a list of words")
        keywords = []
    if len(check.problems) > before:
        return None
    return Service(
        sid, region, entry["category"], names, descriptions, eligibility,
        tuple(documents[d] for d in docs), float(amount), fee["currency"], exempt, days,
        where["mobile_unit"], tuple(centres[c] for c in centre_ids), portals.get(online) if online else None,
        tuple(keywords),
    )
