"""Tests of flows.geo: distances, and nearest() on the sample localities."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from flows.geo import EARTH_RADIUS_KM, haversine_km, nearest

SEED = Path(__file__).parents[1] / "storage" / "seed" / "localities.json"

TASHKENT = (41.2995, 69.2401)
SAMARKAND = (39.6542, 66.9597)
LA_PLATA = (-34.9215, -57.9545)
BUENOS_AIRES = (-34.6037, -58.3816)  # Plaza de Mayo / Obelisco area


@pytest.fixture(scope="module")
def seed() -> dict[str, dict]:
    doc = json.loads(SEED.read_text("utf-8"))
    return {e["id"]: e for e in doc["localities"]}


def villages(seed: dict[str, dict]) -> list[tuple[str, float, float]]:
    return [(e["id"], e["lat"], e["lon"]) for e in seed.values() if e["kind"] == "village"]


# --- haversine_km ---------------------------------------------------------

def test_tashkent_samarkand() -> None:
    assert haversine_km(*TASHKENT, *SAMARKAND) == pytest.approx(270, abs=10)


def test_la_plata_buenos_aires() -> None:
    assert haversine_km(*LA_PLATA, *BUENOS_AIRES) == pytest.approx(53, abs=4)


def test_zero_symmetric_and_extremes() -> None:
    assert haversine_km(*TASHKENT, *TASHKENT) == 0.0
    assert haversine_km(*TASHKENT, *SAMARKAND) == haversine_km(*SAMARKAND, *TASHKENT)
    half_circumference = math.pi * EARTH_RADIUS_KM
    assert haversine_km(0, 0, 0, 180) == pytest.approx(half_circumference)
    assert haversine_km(90, 0, -90, 0) == pytest.approx(half_circumference)
    # Crossing the antimeridian is short, not the long way round.
    assert haversine_km(0, 179.5, 0, -179.5) == pytest.approx(111.2, abs=0.5)


def test_short_distances_stay_precise() -> None:
    # 0.0001 degree of latitude is about 11 m.
    assert haversine_km(40.0, 68.0, 40.0001, 68.0) == pytest.approx(0.01112, rel=1e-3)


# --- nearest --------------------------------------------------------------

def test_nearest_basic_and_empty() -> None:
    places = [("a", 0.0, 0.0), ("b", 0.0, 1.0), ("c", 0.0, 2.0)]
    pid, km = nearest(0.0, 1.2, places)
    assert pid == "b" and km == pytest.approx(22.2, abs=0.2)
    assert nearest(0.0, 0.0, []) is None
    # A generator works (the iterable is consumed once).
    assert nearest(0.0, 1.9, (p for p in places))[0] == "c"


def test_nearest_tie_keeps_first() -> None:
    places = [("west", 0.0, -1.0), ("east", 0.0, 1.0)]
    assert nearest(0.0, 0.0, places)[0] == "west"
    assert nearest(0.0, 0.0, list(reversed(places)))[0] == "east"


def test_nearest_max_km() -> None:
    places = [("a", 0.0, 0.0)]
    assert nearest(0.0, 0.5, places, max_km=100)[0] == "a"
    assert nearest(0.0, 5.0, places, max_km=100) is None
    assert nearest(0.0, 0.0, places, max_km=0) == ("a", 0.0)
    with pytest.raises(ValueError):
        nearest(0.0, 0.0, places, max_km=-1)


@pytest.mark.parametrize(
    ("lat", "lon", "district"),
    [
        # Central Gulistan (regional hokimiyat area) -> a Gulistan locality.
        (40.4925, 68.7810, "uz-syr-gulistan-"),
        # Mar del Plata, Plaza San Martín -> General Pueyrredón.
        (-38.0055, -57.5426, "ar-ba-general-pueyrredon-d"),
        # La Plata, Plaza Moreno -> Partido de La Plata.
        (-34.9210, -57.9560, "ar-ba-la-plata-d"),
        # Jizzakh city centre -> Jizzakh city.
        (40.1200, 67.8300, "uz-jiz-jizzax-c"),
        # Bakht town, Sirdaryo district.
        (40.7130, 68.6950, "uz-syr-sirdaryo-d"),
        # Tandil centre.
        (-37.3270, -59.1350, "ar-ba-tandil-d"),
    ],
)
def test_nearest_on_seed(seed: dict[str, dict], lat: float, lon: float, district: str) -> None:
    found = nearest(lat, lon, villages(seed), max_km=25)
    assert found is not None
    pid, km = found
    assert seed[pid]["parent"].startswith(district), (pid, km)
    assert km < 10


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (-38.5, -55.0),  # Atlantic Ocean, off Mar del Plata
        (-45.0, -40.0),  # South Atlantic
        (44.0, 60.0),    # Aral Sea basin, far from both Uzbek regions
    ],
)
def test_nearest_on_seed_far_away(seed: dict[str, dict], lat: float, lon: float) -> None:
    assert nearest(lat, lon, villages(seed), max_km=50) is None
