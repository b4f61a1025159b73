"""How long erasure and retention take on a store of a given size.

Fills a SQLite file (or the PostgreSQL at DATABASE_URL) with C citizens,
each with R requests closed a year ago and M messages, then times: one
citizen's ``/forget`` (their requests anonymized, their messages erased,
staff messages naming their codes found), and one run of the retention job
(at most ``storage.privacy.RETENTION_BATCH`` requests a run). Prints the
figures; nothing is asserted.

    python bench/privacy.py [--citizens 2000] [--requests 2] [--messages 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402

from bot.wiring import open_store  # noqa: E402
from notifications import retention  # noqa: E402
from storage import privacy  # noqa: E402
from storage.db import session_scope  # noqa: E402
from storage.models import Citizen, Identity, Message, Request, utcnow  # noqa: E402


def fill(database, citizens: int, requests: int, messages: int) -> list[int]:
    run = uuid.uuid4().hex[:6]
    now = utcnow()
    closed = now - timedelta(days=400)
    ids = []
    with database.begin() as conn:
        for number in range(citizens):
            citizen_id = conn.execute(insert(Citizen.__table__).returning(Citizen.__table__.c.id), {
                "display_name": f"Citizen {number}", "language": "es", "locality_id": "uz-syr-gulistan-c-centre",
                "consent": True, "consent_at": closed, "created_at": closed}).scalar_one()
            address = f"whatsapp:+54922{run}{number:06d}"
            conn.execute(insert(Identity.__table__), {"address": address, "channel": "whatsapp", "citizen_id": citizen_id, "created_at": closed})
            rows = []
            for r in range(requests):
                code = f"{run[:3].upper()}-{number:05d}{r}"[:16]
                request_id = conn.execute(insert(Request.__table__).returning(Request.__table__.c.id), {
                    "code": code, "citizen_id": citizen_id, "category_id": "utilities", "locality_id": "uz-syr-gulistan-c-centre",
                    "status": "closed", "text": f"No water at Calle Falsa {number}", "channel": "whatsapp", "address": address,
                    "attachments": [], "created_at": closed, "updated_at": closed, "closed_at": closed}).scalar_one()
                rows.append({"direction": "out", "channel": "console", "address": "console:karim", "text": f"/show {code}",
                             "status": "sent", "payload": {}, "attempts": 0, "created_at": closed})
                rows += [{"direction": "in", "channel": "whatsapp", "address": address, "citizen_id": citizen_id,
                          "request_id": request_id if m == 0 else None, "text": f"message {m} from Calle Falsa {number}",
                          "status": "processed", "payload": {}, "attempts": 0, "created_at": closed}
                         for m in range(messages // max(requests, 1))]
            conn.execute(insert(Message.__table__), rows)
            ids.append(citizen_id)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    database = open_store(url)
    started = time.perf_counter()
    ids = fill(database, args.citizens, args.requests, args.messages)
    with database.connect() as conn:
        total = len(conn.execute(select(Message.__table__.c.id)).all())
    print(f"store: {database.url.get_backend_name()}, {args.citizens} citizens, {args.citizens * args.requests} requests, "
          f"{total} messages (filled in {time.perf_counter() - started:.1f} s)")

    started = time.perf_counter()
    with session_scope(database) as session:
        privacy.forget(session, ids[0])
    print(f"/forget of one citizen ({args.requests} requests): {1000 * (time.perf_counter() - started):.0f} ms")

    started = time.perf_counter()
    done = retention.anonymize_expired(database, 6, utcnow())
    elapsed = time.perf_counter() - started
    print(f"retention, one run: {done} requests in {elapsed:.2f} s ({1000 * elapsed / max(done, 1):.1f} ms a request)")
    database.dispose()


if __name__ == "__main__":
    main()
