"""Distances on the Earth and "which known place is this?".

A citizen may share a location (a Telegram or WhatsApp pin) instead of typing
the name of a village. To route the request to the right district office, or to
tell them when a mobile public-service unit comes near, the bot needs the
closest known locality to that point. The lists involved are small (hundreds or
a few thousand places), so a plain linear scan with the haversine formula is
fast enough and needs nothing beyond the standard library, which this package
must not go past.
"""

from __future__ import annotations

import math
from typing import Iterable

__all__ = ["EARTH_RADIUS_KM", "haversine_km", "nearest"]

#: Mean Earth radius (IUGG). The Earth is not a sphere, so any spherical
#: formula is off by up to ~0.5 %; that is a few hundred metres over the
#: distances that matter here, far below the precision of a village's
#: coordinates.
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points in decimal degrees.

    The haversine form is used rather than the spherical law of cosines
    because it stays accurate for points a few metres apart (two pins in the
    same mahalla), where the cosine form loses precision to rounding.
    """
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = math.radians(lat2 - lat1)
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    # Rounding can push ``a`` a hair outside [0, 1] for (near-)antipodal
    # points, which would make asin() raise; clamp it instead.
    a = min(1.0, max(0.0, a))
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def nearest(
    lat: float,
    lon: float,
    places: Iterable[tuple[str, float, float]],
    max_km: float | None = None,
) -> tuple[str, float] | None:
    """Return ``(place_id, distance_km)`` of the place closest to ``(lat, lon)``.

    ``places`` yields ``(id, lat, lon)`` tuples; it is read once, so a
    generator is fine. On a tie the place seen first wins, so the answer does
    not change from one run to the next.

    ``max_km`` is a sanity limit: a pin dropped in the sea or in another
    country should not be silently "matched" to some village hundreds of
    kilometres away, so when the closest place is farther than ``max_km``
    (or there are no places at all) the result is ``None`` and the caller can
    ask the citizen to name the place instead.
    """
    if max_km is not None and max_km < 0:
        raise ValueError("max_km must not be negative")
    best: tuple[str, float] | None = None
    for place_id, plat, plon in places:
        d = haversine_km(lat, lon, plat, plon)
        if best is None or d < best[1]:
            best = (place_id, d)
    if best is None or (max_km is not None and best[1] > max_km):
        return None
    return best
