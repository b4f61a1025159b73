"""Checks of the sample localities in storage/seed/localities.json.

The file is hand-made sample data; these tests keep it consistent (ids,
hierarchy, names in every language, plausible coordinates) so that whatever
reads it can rely on its shape, and so that a careless edit is caught.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from flows.geo import haversine_km

SEED = Path(__file__).parents[1] / "storage" / "seed" / "localities.json"
LANGS = {"uz", "uz-Cyrl", "ru", "en", "es"}
KIND_PARENT = {"region": None, "district": "region", "village": "district"}

# Generous bounding boxes (lat_min, lat_max, lon_min, lon_max).
UZ_BOX = (37.1, 45.6, 55.9, 73.2)
BA_BOX = (-41.1, -33.2, -63.4, -56.6)


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(SEED.read_text("utf-8"))


@pytest.fixture(scope="module")
def locs(doc: dict) -> list[dict]:
    return doc["localities"]


@pytest.fixture(scope="module")
def by_id(locs: list[dict]) -> dict[str, dict]:
    return {e["id"]: e for e in locs}


def children(locs: list[dict], parent_id: str, **where) -> list[dict]:
    return [
        e for e in locs
        if e["parent"] == parent_id and all(e.get(k) == v for k, v in where.items())
    ]


def test_file_says_it_is_sample_data(doc: dict) -> None:
    assert doc["sample"] is True
    note = doc["note"].lower()
    assert "sample" in note and "replace" in note


def test_ids_are_unique_stable_slugs(locs: list[dict]) -> None:
    ids = [e["id"] for e in locs]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, dupes
    for e in locs:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", e["id"]), e["id"]
        assert e["id"].startswith(e["country"].lower() + "-"), e["id"]
        if e["parent"] is not None:
            # A child's id starts with its parent's: readable, and unique by construction.
            assert e["id"].startswith(e["parent"] + "-"), e["id"]


def test_parents_exist_and_kinds_nest(locs: list[dict], by_id: dict[str, dict]) -> None:
    for e in locs:
        assert e["kind"] in KIND_PARENT, e
        want = KIND_PARENT[e["kind"]]
        if want is None:
            assert e["parent"] is None, e["id"]
            continue
        parent = by_id.get(e["parent"])
        assert parent is not None, f"{e['id']}: missing parent {e['parent']}"
        assert parent["kind"] == want, e["id"]
        assert parent["country"] == e["country"], e["id"]


def test_every_entry_has_all_five_names(locs: list[dict]) -> None:
    for e in locs:
        assert set(e["names"]) == LANGS, e["id"]
        for lang, name in e["names"].items():
            assert isinstance(name, str) and name.strip() == name and name, (e["id"], lang)


def test_uzbek_scripts(locs: list[dict]) -> None:
    uzbek = [e for e in locs if e["country"] == "UZ"]
    assert uzbek
    for e in uzbek:
        uz, cyr = e["names"]["uz"], e["names"]["uz-Cyrl"]
        # Latin Uzbek with the ASCII apostrophe (o' g'), never ʻ ‘ ’ or Cyrillic.
        assert re.fullmatch(r"[A-Za-z' ()-]+", uz), (e["id"], uz)
        assert any("\u0400" <= ch <= "\u04ff" for ch in cyr), (e["id"], cyr)
        assert not re.search(r"[A-Za-z]", cyr), (e["id"], cyr)
        assert "'" not in cyr, (e["id"], cyr)
        assert any("\u0400" <= ch <= "\u04ff" for ch in e["names"]["ru"]), e["id"]
    # The Uzbek-only Cyrillic letters are really used, not replaced by Russian ones.
    all_cyr = "".join(e["names"]["uz-Cyrl"] for e in uzbek)
    for letter in "ўқғҳ":
        assert letter in all_cyr, letter


def test_argentine_places_keep_their_spanish_name(locs: list[dict]) -> None:
    for e in locs:
        if e["country"] == "AR" and e["kind"] != "region":
            assert len(set(e["names"].values())) == 1, e["id"]


def test_coordinates_are_plausible(locs: list[dict], by_id: dict[str, dict]) -> None:
    for e in locs:
        lat, lon = e["lat"], e["lon"]
        assert isinstance(lat, float) and isinstance(lon, float), e["id"]
        assert round(lat, 4) == lat and round(lon, 4) == lon, e["id"]
        box = UZ_BOX if e["country"] == "UZ" else BA_BOX
        assert box[0] <= lat <= box[1] and box[2] <= lon <= box[3], e["id"]
        assert e["coord_quality"] in {"checked", "estimated"}, e["id"]
        if e["kind"] == "village":
            d = by_id[e["parent"]]
            km = haversine_km(lat, lon, d["lat"], d["lon"])
            assert km <= 80, f"{e['id']} is {km:.0f} km from {d['id']}"
        if e["kind"] == "district":
            r = by_id[e["parent"]]
            assert haversine_km(lat, lon, r["lat"], r["lon"]) <= 700, e["id"]


def test_district_sizes(locs: list[dict]) -> None:
    for e in locs:
        if e["kind"] != "district":
            continue
        n = len(children(locs, e["id"]))
        if e["type"] == "tuman":
            assert 3 <= n <= 6, (e["id"], n)
        elif e["type"] == "partido":
            assert 2 <= n <= 5, (e["id"], n)
        else:
            assert e["type"] == "city", e["id"]
            assert 1 <= n <= 6, (e["id"], n)


def test_region_coverage(locs: list[dict], by_id: dict[str, dict]) -> None:
    assert {e["id"] for e in locs if e["kind"] == "region"} >= {"uz-syr", "uz-jiz", "ar-ba"}
    syr = children(locs, "uz-syr", type="tuman")
    jiz = children(locs, "uz-jiz", type="tuman")
    ba = children(locs, "ar-ba", type="partido")
    assert len(syr) >= 8 and len(jiz) >= 8 and len(ba) >= 15

    # All tumanlar of both regions (2024 division), by their Uzbek name.
    assert {e["names"]["uz"] for e in syr} >= {
        "Oqoltin tumani", "Boyovut tumani", "Guliston tumani", "Sardoba tumani",
        "Mirzaobod tumani", "Sayxunobod tumani", "Sirdaryo tumani", "Xovos tumani",
    }
    assert {e["names"]["uz"] for e in jiz} >= {
        "Arnasoy tumani", "Baxmal tumani", "G'allaorol tumani", "Sharof Rashidov tumani",
        "Do'stlik tumani", "Zomin tumani", "Zarbdor tumani", "Mirzacho'l tumani",
        "Zafarobod tumani", "Paxtakor tumani", "Forish tumani", "Yangiobod tumani",
    }

    def plain(s: str) -> str:
        return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()

    partidos = {plain(e["names"]["es"]).removeprefix("partido de ") for e in ba}
    assert partidos >= {
        "la plata", "la matanza", "quilmes", "lomas de zamora", "bahia blanca",
        "general pueyrredon", "tandil", "olavarria", "pergamino", "junin", "lujan",
        "merlo", "moreno", "azul", "chivilcoy",
    }
    assert by_id["uz-syr-gulistan-d"]["kind"] == "district"
