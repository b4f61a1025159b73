"""The service catalogue files, read into memory and re-read when they change.

The files live in ``storage/seed/services`` (one per deployment region). A
running bot looks at their modification stamps at most every
:data:`RECHECK_SECONDS` (a ``stat`` per file, no store query), so after
``onewindow catalog load`` — or any edit — the next message after that is
answered from the new catalogue without a restart. A file that fails
validation is reported and the previous catalogue is kept, so a typo in a
file never leaves citizens without answers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from flows.service_catalogue import Problem, ServiceCatalogue, parse
from flows.service_search import ServiceIndex

log = logging.getLogger(__name__)

SERVICES_DIR = Path(__file__).resolve().parent.parent / "storage" / "seed" / "services"
RECHECK_SECONDS = 1.0


def read(directory: Path, category_ids: set[str], locality_ids: set[str] | None = None) -> tuple[ServiceCatalogue, list[Problem]]:
    """Every ``*.json`` file in ``directory``, validated; problems name the file."""
    services, problems = [], []
    files = sorted(directory.glob("*.json"))
    if not files:
        problems.append(Problem(str(directory), "", "(files)", "no service catalogue files"))
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            problems.append(Problem(path.name, "", "(file)", f"not readable JSON: {error}"))
            continue
        found, wrong = parse(data, path.name, category_ids, locality_ids)
        services.extend(found)
        problems.extend(wrong)
    ids = [s.id for s in services]
    for sid in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(Problem("(all files)", sid, "id", "used in more than one file"))
    return ServiceCatalogue.of(services), problems


class ServiceFiles:
    """The current catalogue, re-read when the files' stamps change."""

    def __init__(self, category_ids: set[str], locality_ids: set[str] | None = None, directory: Path = SERVICES_DIR) -> None:
        self.directory = directory
        self.category_ids, self.locality_ids = category_ids, locality_ids
        self.catalogue = ServiceCatalogue()
        self.index = ServiceIndex(self.catalogue)
        self._stamp: tuple | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self.refresh()

    def stamp(self) -> tuple:
        try:
            return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(self.directory.glob("*.json")))
        except OSError:
            return ()

    def refresh(self) -> list[Problem]:
        """Re-read the files if they changed; the problems found, if any."""
        with self._lock:
            self._checked_at = time.monotonic()
            stamp = self.stamp()
            if stamp == self._stamp:
                return []
            catalogue, problems = read(self.directory, self.category_ids, self.locality_ids)
            self._stamp = stamp
            if problems:
                for problem in problems:
                    log.error("service catalogue not reloaded: %s", problem)
                return problems
            self.catalogue, self.index = catalogue, ServiceIndex(catalogue)
            return []

    def current(self) -> ServiceCatalogue:
        return self.current_index().catalogue

    def current_index(self) -> ServiceIndex:
        """The search index of the current catalogue (built once per reload)."""
        if time.monotonic() - self._checked_at >= RECHECK_SECONDS:
            self.refresh()
        return self.index
