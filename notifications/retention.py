"""Retention: requests closed more than ``RETENTION_MONTHS`` months ago are
anonymized (see :func:`storage.privacy.anonymize_request`: the citizen's
words, files, exact place and contact go; category, district, dates, status
and rating stay for the figures). 0 months keeps everything.

Run by the scheduler every hour; it takes the time as an argument, so a
test drives it with any clock.
"""

from __future__ import annotations

import calendar
import logging
from datetime import datetime

from storage import privacy
from storage.db import session_scope

log = logging.getLogger(__name__)


def months_before(now: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (31 March - 1 month = 28/29 February)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def anonymize_expired(database, months: int, now: datetime) -> int:
    """Anonymize what was closed ``months`` ago or earlier; returns how many requests."""
    if months <= 0:
        return 0
    with session_scope(database) as session:
        done = privacy.anonymize_closed(session, months_before(now, months), now)
    if done:
        log.info("retention: anonymized %d requests closed more than %d months ago", len(done), months)
    return len(done)
