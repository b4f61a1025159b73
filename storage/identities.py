"""One citizen, several channels: joining identities.

A citizen who proves they own a phone number on one channel (Telegram's
shared contact of their own account) is joined with whoever writes from that
number on WhatsApp. If nobody has yet, the WhatsApp address is registered for
them, so their first WhatsApp message finds them already known.

Joining two citizens moves everything that points at the other one — every
column of every table with a foreign key to ``citizen.id``, so tables added
later are covered too — and keeps what the current one has set, filling its
blanks (language, place, consent) from the other.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage.models import Citizen, Identity, utcnow

_I = Identity.__table__
_Z = Citizen.__table__
FILLED_FROM_OTHER = ("display_name", "language", "locality_id", "consent", "consent_at")


def link(conn: Connection, citizen_id: int, addresses: tuple[str, ...]) -> int | None:
    """Join ``citizen_id`` with the first of ``addresses`` someone uses
    (the same number may be written more than one way), or register the
    first address for them. Returns the id of the citizen joined, if any."""
    if not addresses:
        return None
    found = None
    for address in addresses:
        found = conn.execute(select(_I.c.citizen_id).where(_I.c.address == address)).first()
        if found is not None:
            break
    if found is None:
        channel = addresses[0].split(":", 1)[0]
        conn.execute(insert(_I), {"address": addresses[0], "channel": channel, "citizen_id": citizen_id, "created_at": utcnow()})
        return None
    if found.citizen_id != citizen_id:
        merge(conn, into=citizen_id, other=found.citizen_id)
    return found.citizen_id


def merge(conn: Connection, *, into: int, other: int) -> None:
    """Make ``other`` part of ``into`` and delete it."""
    mine = conn.execute(select(_Z).where(_Z.c.id == into)).one()
    theirs = conn.execute(select(_Z).where(_Z.c.id == other)).one()
    blanks = {name: getattr(theirs, name) for name in FILLED_FROM_OTHER if getattr(mine, name) is None and getattr(theirs, name) is not None}
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table is _Z and fk.column.name == "id" for fk in column.foreign_keys):
                conn.execute(update(table).where(column == other).values({column.name: into}))
    if blanks:
        conn.execute(update(_Z).where(_Z.c.id == into).values(**blanks))
    conn.execute(delete(_Z).where(_Z.c.id == other))
