"""The statements on the path of every incoming message, built once.

Each citizen message costs a handful of statements: read the conversation
and the citizen, write the new state and the message rows. Through the ORM
that is about three times slower than these prebuilt Core statements with
bound parameters (``bench/inbound.py`` shows it), so this one path uses
them; everything else uses the ORM and :mod:`storage.queries`.

Every function takes the open :class:`~sqlalchemy.engine.Connection` of the
message's transaction first.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, bindparam, exists, insert, select, text, update
from sqlalchemy.engine import Connection, Row

from storage.models import Caseworker, Citizen, Conversation, Identity, Message, NamedPlace, Request, RequestEvent, utcnow

_C = Conversation.__table__
_I = Identity.__table__
_Z = Citizen.__table__
_M = Message.__table__
_R = Request.__table__
_E = RequestEvent.__table__
_W = Caseworker.__table__

_IS_STAFF = select(_W.c.address).where(_W.c.address == bindparam("address"), _W.c.active.is_(True))
_LOCK_ADDRESS = text("SELECT pg_advisory_xact_lock(hashtextextended(:address, 0))")
# Several at once, in the order given (callers sort them, so two processes
# locking overlapping sets never wait for each other in a circle).
_LOCK_ADDRESSES = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(a.address, 0)) FROM unnest(CAST(:addresses AS text[])) WITH ORDINALITY AS a(address, n) ORDER BY a.n"
)
_UPDATE_CONVERSATION = (
    update(_C).where(_C.c.address == bindparam("key"), _C.c.revision == bindparam("read_revision")).values(revision=_C.c.revision + 1)
)
_LOAD_CITIZEN = (
    select(_Z, _I.c.blocked_at)
    .join(_I, _I.c.citizen_id == _Z.c.id)
    .where(_I.c.address == bindparam("address"))
)

# Everything a citizen's message needs before the flows run, in one round
# trip: the conversation, the citizen with the identity's ``blocked_at``,
# and whether the author is on the staff (then the message is the desk's).
_KEY = select(bindparam("address", type_=String).label("address")).subquery("turn")
_TURN = (
    select(
        *(column.label(f"c_{column.name}") for column in _C.c),
        *(column.label(f"z_{column.name}") for column in _Z.c),
        _I.c.blocked_at.label("z_blocked_at"),
        exists().where(_W.c.address == bindparam("author"), _W.c.active.is_(True)).label("author_is_staff"),
    )
    .select_from(_KEY)
    .outerjoin(_C, _C.c.address == _KEY.c.address)
    .outerjoin(_I, _I.c.address == _KEY.c.address)
    .outerjoin(_Z, _Z.c.id == _I.c.citizen_id)
)
ConversationRow = namedtuple("ConversationRow", [column.name for column in _C.c])
CitizenRow = namedtuple("CitizenRow", [*(column.name for column in _Z.c), "blocked_at"])
_UNBLOCK = update(_I).where(_I.c.address == bindparam("key")).values(blocked_at=None)
_REQUESTS_OF = (
    select(_R).where(_R.c.citizen_id == bindparam("citizen_id")).order_by(_R.c.created_at.desc(), _R.c.id.desc()).limit(bindparam("limit"))
)
_REQUEST_BY_CODE = select(_R).where(_R.c.code == bindparam("code"))
_CODE_EXISTS = select(_R.c.id).where(_R.c.code == bindparam("code"))
_CODE_OF = select(_R.c.code).where(_R.c.id == bindparam("id"))
_INBOUND_EXISTS = select(_M.c.id).where(
    _M.c.channel == bindparam("channel"), _M.c.direction == "in", _M.c.external_id == bindparam("external_id")
)

_STORED_INBOUND = select(_M.c.channel, _M.c.external_id).where(
    _M.c.direction == "in", _M.c.external_id.in_(bindparam("ids", expanding=True))
)


class ConversationChanged(Exception):
    """Someone wrote the conversation between this message's read and its
    write: the message is handled again from the new state, never written
    over it."""


def is_staff(conn: Connection, address: str) -> bool:
    """Whether ``address`` is an active member of staff: asked of every
    message that is not a command, so one prebuilt statement."""
    return conn.execute(_IS_STAFF, {"address": address}).first() is not None


def lock_address(conn: Connection, address: str) -> None:
    """Handle one address's messages one at a time across processes: on
    PostgreSQL a lock on the address held until the transaction ends (taken
    before anything is read, so also a first message, with no row yet to
    lock); SQLite has one writer process anyway."""
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_ADDRESS, {"address": address})


def lock_addresses(conn: Connection, addresses: list[str]) -> None:
    """:func:`lock_address` for messages handled together: one statement,
    the addresses locked in the order given (sorted by the caller)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_ADDRESSES, {"addresses": addresses})


@dataclass(frozen=True)
class Turn:
    """What a citizen's message is handled from."""

    conversation: ConversationRow | None  # None: the first message here
    citizen: CitizenRow | None  # None: nobody has written from this address yet
    author_is_staff: bool


def load_turn(conn: Connection, address: str, author: str) -> Turn:
    """The conversation at ``address``, its citizen and whether ``author``
    is active staff, in one statement (see :data:`_TURN`). No row lock: the
    address lock serialises the engine's writers and the revision check on
    save catches anyone else (:func:`save_conversation`)."""
    row = conn.execute(_TURN, {"address": address, "author": author or ""}).one()
    conversation_columns, citizen_columns = len(ConversationRow._fields), len(CitizenRow._fields)
    conversation = ConversationRow(*row[:conversation_columns])
    citizen = CitizenRow(*row[conversation_columns:conversation_columns + citizen_columns])
    return Turn(
        conversation if conversation.address is not None else None,
        citizen if citizen.id is not None else None,
        bool(row.author_is_staff),
    )


def save_conversation(conn: Connection, address: str, *, read: Row | None, **values: Any) -> None:
    """Write the conversation read as ``read`` (None: there was none), if
    nobody wrote it since; else :class:`ConversationChanged` (a new row
    someone else created first fails on its key: IntegrityError)."""
    values["updated_at"] = utcnow()
    if read is None:
        conn.execute(insert(_C), {"address": address, **values})
    elif conn.execute(_UPDATE_CONVERSATION, {"key": address, "read_revision": read.revision, **values}).rowcount != 1:
        raise ConversationChanged(address)


def load_citizen(conn: Connection, address: str) -> Row | None:
    """The citizen behind ``address``, with the identity's ``blocked_at``."""
    return conn.execute(_LOAD_CITIZEN, {"address": address}).first()


def create_citizen(conn: Connection, channel: str, address: str, name: str | None) -> Row:
    now = utcnow()
    citizen_id = conn.execute(
        insert(_Z).returning(_Z.c.id), {"display_name": name[:200] if name else None, "created_at": now}
    ).scalar_one()
    conn.execute(insert(_I), {"address": address, "channel": channel, "citizen_id": citizen_id, "created_at": now})
    return load_citizen(conn, address)


def update_citizen(conn: Connection, citizen_id: int, **values: Any) -> None:
    conn.execute(update(_Z).where(_Z.c.id == citizen_id).values(**values))


def unblock(conn: Connection, address: str) -> None:
    conn.execute(_UNBLOCK, {"key": address})


def inbound_exists(conn: Connection, channel: str, external_id: str) -> bool:
    return conn.execute(_INBOUND_EXISTS, {"channel": channel, "external_id": external_id}).first() is not None


def stored_inbound(conn: Connection, external_ids: list[str]) -> set[tuple[str, str]]:
    """Which of ``external_ids`` are stored inbound messages, as (channel,
    external id): asked once for messages handled together, so that a
    redelivery among them does not cost the others their transaction."""
    if not external_ids:
        return set()
    return {(row.channel, row.external_id) for row in conn.execute(_STORED_INBOUND, {"ids": external_ids})}


def insert_messages(conn: Connection, rows: list[dict]) -> None:
    conn.execute(insert(_M), rows)


def requests_of(conn: Connection, citizen_id: int, limit: int) -> list[Row]:
    return list(conn.execute(_REQUESTS_OF, {"citizen_id": citizen_id, "limit": limit}))


def request_by_code(conn: Connection, code: str) -> Row | None:
    return conn.execute(_REQUEST_BY_CODE, {"code": code}).first()


def code_of(conn: Connection, request_id: int) -> str | None:
    return conn.execute(_CODE_OF, {"id": request_id}).scalar()


def code_exists(conn: Connection, code: str) -> bool:
    return conn.execute(_CODE_EXISTS, {"code": code}).first() is not None


def free_code(conn: Connection, make_code) -> str:
    """A tracking code from ``make_code`` that no request has yet."""
    for _ in range(20):
        code = make_code()
        if not code_exists(conn, code):
            return code
    raise RuntimeError("could not find a free tracking code")


def insert_request(conn: Connection, values: dict, actor: str) -> int:
    """Store a new request and its first event; returns the request's id."""
    now = values.setdefault("created_at", utcnow())
    values.setdefault("updated_at", now)
    values.setdefault("status", "new")
    request_id = conn.execute(insert(_R).returning(_R.c.id), values).scalar_one()
    conn.execute(insert(_E), {"request_id": request_id, "at": now, "actor": actor, "kind": "created", "to_status": values["status"]})
    return request_id


def insert_named_place(conn: Connection, values: dict) -> None:
    """A place a citizen named that is not in the list (see ``/places``)."""
    conn.execute(insert(NamedPlace.__table__), values)
