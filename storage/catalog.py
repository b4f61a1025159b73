"""Loading the default catalogue (categories, sample localities) from the
seed files in ``storage/seed`` into the store.

Loading is an upsert: run it again after editing the files and rows are
updated in place; nothing a caseworker created is removed.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.db import session_scope
from storage.models import Category, Department, Locality
from storage.seed import read_seed


def load(engine: Engine) -> dict[str, int]:
    """Upsert the seed catalogue; returns how many rows of each kind."""
    with session_scope(engine) as session:
        return {
            "categories": _load_categories(session),
            "localities": _load_localities(session),
            "departments": _load_departments(session),
        }


def ensure_loaded(engine: Engine) -> bool:
    """Load the catalogue on first start (an empty category table)."""
    with session_scope(engine) as session:
        if session.exec(select(Category.id)).first() is not None:
            return False
    load(engine)
    return True


def _load_categories(session: Session) -> int:
    entries = read_seed("categories.json")["categories"]
    for position, entry in enumerate(entries):
        row = session.get(Category, entry["id"]) or Category(id=entry["id"])
        row.names = entry["names"]
        row.descriptions = entry.get("descriptions", {})
        row.keywords = entry.get("keywords", {})
        row.position = position
        session.add(row)
    return len(entries)


def _load_localities(session: Session) -> int:
    seed = read_seed("localities.json")
    entries = seed["localities"]
    session.flush()
    for position, entry in enumerate(entries):  # parents come before children in the file
        row = session.get(Locality, entry["id"]) or Locality(id=entry["id"], kind=entry["kind"], country=entry["country"])
        row.kind, row.country, row.parent_id = entry["kind"], entry["country"], entry.get("parent")
        row.names = entry["names"]
        row.latitude, row.longitude = entry.get("lat"), entry.get("lon")
        row.position, row.sample = position, bool(seed.get("sample"))
        session.add(row)
        session.flush()
    return len(entries)


def _load_departments(session: Session) -> int:
    entries = read_seed("routing.json")["departments"]
    for entry in entries:
        row = session.get(Department, entry["id"]) or Department(id=entry["id"], name=entry["names"]["en"])
        row.name, row.names = entry["names"].get("en", entry["id"]), entry["names"]
        row.assignment = entry.get("assignment", "manual")
        session.add(row)
    return len(entries)
