"""Default data shipped with the package (JSON files next to this module).

Kept as plain JSON so it can be reviewed and translated without touching code;
the store copies it in on first run and staff edit their own copy from then on.
"""

from __future__ import annotations

import json
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def read_seed(name: str) -> dict:
    """The parsed JSON seed file ``name`` (e.g. ``"categories.json"``)."""
    return json.loads((_HERE / name).read_text(encoding="utf-8"))
