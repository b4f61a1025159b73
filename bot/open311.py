"""Open311 GeoReport v2: the categories as services, requests read and filed
by other systems (city portals, open-data tools, Open311 apps).

What this module answers is plain data (lists of dicts, in the field names
of the specification); :mod:`handlers.open311` turns it into JSON or XML.

What a GET answer never holds: the citizen's name, phone or e-mail, and the
citizen's own words (``description`` is always empty): people write names,
phone numbers and their troubles into them. A request's point is rounded
to about a hundred metres, so a map shows the street, not the house;
``media_url`` is given only for the links an API client filed itself (a
photo sent in a chat can be a passport). ``status_notes`` is the standard
sentence for the status, never a caseworker's free text.

A request filed here is one more channel: it gets a tracking code, is routed
to its department, waits in the queue like any other and is in the
department's next digest (:mod:`notifications.jobs`). Its reporter's
phone and e-mail are kept as the citizen's contact (``phone:`` and
``email:`` identities), for caseworkers to reach them; the same phone filing
again is the same citizen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.catalog import Catalog
from bot.sheet_import import PlaceFinder
from flows import lifecycle
from flows.i18n import text
from flows.tracking import new_code
from storage import api_keys, message_path
from storage.models import Category, Citizen, Department, Identity, Request, utcnow

CHANNEL = "open311"
DEFAULT_DAYS = 90
MAX_REQUESTS = 1000
MAX_DESCRIPTION = 4000
MAX_URL = 500
POINT_DECIMALS = 3  # about 110 m of latitude
_PHONE = re.compile(r"^\+?\d{6,15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Open311Error(Exception):
    """An answer in the specification's error format: ``[{"code": status, "description": ...}]``."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass(frozen=True)
class Filed:
    code: str
    first_response_hours: int


class GeoReport:
    """The GeoReport v2 resources over the store and the catalogue."""

    def __init__(self, database: Engine, catalog: Catalog):
        self.database = database
        self.catalog = catalog
        self._places: PlaceFinder | None = None

    # -- services --------------------------------------------------------

    def services(self, language: str) -> list[dict]:
        with self.database.connect() as conn:
            rows = conn.execute(select(Category).where(Category.active).order_by(Category.position)).all()
            departments = self._departments(conn, language)
        return [self._service(row, departments, language) for row in rows]

    def definition(self, code: str) -> dict:
        """A service's definition: none of ours asks extra questions (``metadata`` false)."""
        self._active_category(code)
        return {"service_code": code, "attributes": []}

    def _service(self, row, departments: dict[str, str], language: str) -> dict:
        category = self.catalog.category(row.id)
        keywords = row.keywords.get(language) or row.keywords.get("en") or []
        return {
            "service_code": row.id,
            "service_name": category.name(language) if category else row.id,
            "description": category.description(language) if category else "",
            "metadata": False,
            "type": "realtime",
            "keywords": ", ".join(keywords[:12]),
            "group": departments.get(self.catalog.department_for(row.id, None) or "", ""),
        }

    def _active_category(self, code: str) -> None:
        with self.database.connect() as conn:
            found = conn.execute(select(Category.id).where(Category.id == code, Category.active)).first()
        if found is None:
            raise Open311Error(404, f"no service {code!r}; the services are listed at services.json")

    @staticmethod
    def _departments(conn, language: str) -> dict[str, str]:
        return {
            row.id: row.names.get(language) or row.name
            for row in conn.execute(select(Department.id, Department.name, Department.names))
        }

    # -- reading requests ------------------------------------------------

    def requests(self, query: Mapping[str, str], language: str, now: datetime | None = None) -> list[dict]:
        """``GET requests``: by ``service_request_id`` (comma-separated codes;
        the other filters are then ignored), else by ``service_code``,
        ``status`` and ``start_date``/``end_date`` (the last 90 days by
        default); newest first, at most 1,000."""
        table = Request.__table__
        chosen = select(table).where(table.c.kind == "request")
        codes = _listed(query.get("service_request_id"))
        if codes:
            chosen = chosen.where(table.c.code.in_([code.upper() for code in codes]))
        else:
            now = now or utcnow()
            end = _date(query, "end_date") or now
            start = _date(query, "start_date") or end - timedelta(days=DEFAULT_DAYS)
            if start > end:
                raise Open311Error(400, "start_date is after end_date")
            chosen = chosen.where(table.c.created_at >= start, table.c.created_at <= end)
            services = _listed(query.get("service_code"))
            if services:
                chosen = chosen.where(table.c.category_id.in_(services))
            statuses = _listed(query.get("status"))
            if statuses:
                if not set(statuses) <= {"open", "closed"}:
                    raise Open311Error(400, "status is open or closed")
                if set(statuses) == {"open"}:
                    chosen = chosen.where(table.c.status.in_(sorted(lifecycle.OPEN)))
                elif set(statuses) == {"closed"}:
                    chosen = chosen.where(table.c.status.not_in(sorted(lifecycle.OPEN)))
                # both: every status
        chosen = chosen.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(MAX_REQUESTS)
        with self.database.connect() as conn:
            rows = conn.execute(chosen).all()
            departments = self._departments(conn, language)
            originals = self._codes_of(conn, {row.duplicate_of_id for row in rows if row.duplicate_of_id})
        return [self._public(row, departments, originals, language) for row in rows]

    def request(self, code: str, language: str) -> list[dict]:
        found = self.requests({"service_request_id": code}, language)
        if not found:
            raise Open311Error(404, f"no request {code!r}")
        return found

    @staticmethod
    def _codes_of(conn, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        table = Request.__table__
        return dict(conn.execute(select(table.c.id, table.c.code).where(table.c.id.in_(ids))).all())

    def _public(self, row, departments: dict[str, str], originals: dict[int, str], language: str) -> dict:
        """One request as anyone may read it (see the module's docstring)."""
        category = self.catalog.category(row.category_id)
        open_ = row.status in lifecycle.OPEN
        notes = (
            text(language, "open311_status_duplicate", code=originals.get(row.duplicate_of_id, "?"))
            if row.status == "duplicate" else text(language, f"open311_status_{row.status}")
        )
        latitude, longitude = self._point(row)
        return {
            "service_request_id": row.code,
            "status": "open" if open_ else "closed",
            "status_notes": notes,
            "service_name": category.name(language) if category else row.category_id,
            "service_code": row.category_id,
            "description": None,
            "agency_responsible": departments.get(row.department_id or ""),
            "service_notice": None,
            "requested_datetime": _iso(row.created_at),
            "updated_datetime": _iso(row.updated_at),
            "expected_datetime": _iso(row.created_at + self.catalog.routing.sla(row.category_id).resolution) if open_ else None,
            "address": self._address(row.locality_id, language),
            "address_id": row.locality_id,
            "zipcode": None,
            "lat": latitude,
            "long": longitude,
            "media_url": next((a["ref"] for a in row.attachments or [] if row.channel == CHANNEL and a.get("ref")), None),
        }

    def _point(self, row) -> tuple[float | None, float | None]:
        if row.latitude is not None and row.longitude is not None:
            return round(row.latitude, POINT_DECIMALS), round(row.longitude, POINT_DECIMALS)
        place = self.catalog.localities.get(row.locality_id or "")
        return (place.latitude, place.longitude) if place else (None, None)

    def _address(self, locality_id: str | None, language: str) -> str | None:
        places = [self.catalog.localities[p] for p in self.catalog.places_of(locality_id)]
        return ", ".join(place.name(language) for place in places) or None

    # -- filing a request ------------------------------------------------

    def file(self, form: Mapping[str, str], language: str | None) -> list[dict]:
        """``POST requests``: a new request from an API client (``api_key``)."""
        key = api_keys.check(self.database, form.get("api_key", "").strip())
        if key is None:
            raise Open311Error(403, "api_key is missing, wrong or revoked")
        service = form.get("service_code", "").strip()
        if not service:
            raise Open311Error(400, "service_code is required")
        if self.catalog.category(service) is None:
            raise Open311Error(400, f"service_code {service!r} is not a service; the services are listed at services.json")
        point = _point(form)
        locality_id = self._locality(form, point)
        if point is None and locality_id is None and not form.get("address_string", "").strip():
            raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
        description = form.get("description", "").strip()
        if len(description) > MAX_DESCRIPTION:
            raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
        address_string = form.get("address_string", "").strip()
        if address_string and locality_id is None:  # a place we do not list: keep the words for the caseworker
            description = f"{description}\n📍 {address_string}".strip()
        media = _media(form.get("media_url", "").strip())
        phone, email = _contact(form)
        name = " ".join(part for part in (form.get("first_name", "").strip(), form.get("last_name", "").strip()) if part)
        with self.database.begin() as conn:
            citizen_id = self._reporter(conn, name, phone, email, language, locality_id)
            code = message_path.free_code(conn, new_code)
            message_path.insert_request(conn, {
                "code": code, "citizen_id": citizen_id, "category_id": service, "locality_id": locality_id,
                "department_id": self.catalog.department_for(service, locality_id), "kind": "request",
                "text": description, "channel": CHANNEL, "address": "", "language": language,
                "attachments": [{"kind": "photo", "ref": media, "mime_type": None, "size": None, "name": None}] if media else [],
                "latitude": point[0] if point else None, "longitude": point[1] if point else None,
            }, actor=f"{CHANNEL}:{key.name}"[:80])
        hours = int(self.catalog.routing.sla(service).first_response.total_seconds() // 3600)
        return [{"service_request_id": code, "token": None, "service_notice": text(language, "open311_filed", hours=hours, code=code),
                 "account_id": None}]

    def _locality(self, form: Mapping[str, str], point: tuple[float, float] | None) -> str | None:
        given = form.get("address_id", "").strip()
        if given:
            if given not in self.catalog.localities:
                raise Open311Error(400, f"address_id {given!r} is not a place we serve")
            return given
        if point is not None:
            found = self.catalog.nearest_locality(*point)
            if found:
                return found[0].id
        written = form.get("address_string", "").strip()
        if written:
            if self._places is None:
                self._places = PlaceFinder(self.catalog)
            return self._places.find(written)
        return None

    @staticmethod
    def _reporter(conn, name: str, phone: str | None, email: str | None, language: str | None, locality_id: str | None) -> int:
        """The citizen who filed: the one known by this phone or e-mail, else a new one."""
        addresses = [a for a in (f"phone:{phone}" if phone else None, f"email:{email}" if email else None) if a]
        identities = Identity.__table__
        known = dict(conn.execute(select(identities.c.address, identities.c.citizen_id).where(identities.c.address.in_(addresses))).all())
        citizen_id = next(iter(known.values()), None)
        if citizen_id is None:
            citizen_id = conn.execute(insert(Citizen.__table__).returning(Citizen.__table__.c.id), {
                "display_name": name[:200] or None, "language": language, "locality_id": locality_id, "created_at": utcnow(),
            }).scalar_one()
        for address in addresses:
            if address not in known:
                conn.execute(insert(identities), {"address": address, "channel": address.split(":")[0], "citizen_id": citizen_id,
                                                  "created_at": utcnow()})
        return citizen_id


def _listed(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _date(query: Mapping[str, str], name: str) -> datetime | None:
    """A W3C date-time (``2010-01-01T00:00:00Z``, or with an offset, or a
    bare date); without a zone it is UTC."""
    value = (query.get(name) or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "+") if "T" in value else value)
    except ValueError:
        raise Open311Error(400, f"{name} is not a date-time such as 2026-01-31T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _point(form: Mapping[str, str]) -> tuple[float, float] | None:
    lat, long = form.get("lat", "").strip(), form.get("long", "").strip()
    if not lat and not long:
        return None
    try:
        latitude, longitude = float(lat), float(long)
    except ValueError:
        raise Open311Error(400, "lat and long are decimal degrees, both given") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise Open311Error(400, "lat is between -90 and 90, long between -180 and 180")
    return latitude, longitude


def _media(url: str) -> str | None:
    if not url:
        return None
    if len(url) > MAX_URL or not re.match(r"^https?://[^\s/]+\S*$", url):
        raise Open311Error(400, "media_url is an http or https address")
    return url


def _contact(form: Mapping[str, str]) -> tuple[str | None, str | None]:
    phone = re.sub(r"[\s().-]", "", form.get("phone", ""))
    email = form.get("email", "").strip().lower()
    if phone and not _PHONE.match(phone):
        raise Open311Error(400, "phone is a number of 6 to 15 digits, with + and the country code")
    if email and (len(email) > 110 or not _EMAIL.match(email)):
        raise Open311Error(400, "email is not an e-mail address")
    return phone or None, email or None
