"""The engine: one incoming message, one transaction.

For every :class:`~flows.messages.Incoming` it stores the message (keyed by
the channel's own id, so a redelivery does nothing twice), loads the
conversation, runs the flows, performs their actions and queues the replies
in the outbox — all in one transaction. Commit, then deliver.

If anything fails, the transaction is rolled back, the message is stored
flagged ``needs_attention`` for a person, and the citizen gets a short
apology in their language. The process keeps serving.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy.engine import Engine as Database
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from bot.catalog import Catalog
from bot.view import StoreView
from flows import actions as act
from flows.core import State
from flows.i18n import DEFAULT_LANGUAGE, guess_language, text
from flows.messages import Incoming, Outgoing
from flows.router import respond
from flows.tracking import new_code
from storage import queries
from storage.db import session_scope
from storage.models import Citizen, Message, Request, utcnow

log = logging.getLogger(__name__)
LOCK_STRIPES = 256
MAX_ERROR = 2000


@dataclass
class Handled:
    """What became of one incoming message."""

    duplicate: bool = False
    failed: bool = False
    replies: list[Outgoing] = field(default_factory=list)
    request_codes: list[str] = field(default_factory=list)


class Engine:
    def __init__(
        self,
        database: Database,
        catalog: Catalog,
        *,
        on_queued: Callable[[], None] | None = None,
        make_code: Callable[[], str] = new_code,
    ):
        self.database = database
        self.catalog = catalog
        self.on_queued = on_queued or (lambda: None)
        self._make_code = make_code
        # Messages of one conversation are handled one at a time, in order.
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def handle(self, msg: Incoming) -> Handled:
        with self._locks[zlib.crc32(msg.address.encode()) % LOCK_STRIPES]:
            handled = self._handle(msg)
        if handled.replies:
            self.on_queued()
        return handled

    def _handle(self, msg: Incoming) -> Handled:
        for attempt in range(3):
            try:
                return self._process(msg)
            except IntegrityError:
                if self._already_stored(msg):
                    return Handled(duplicate=True)
                if attempt == 2:
                    return self._fail(msg)
                # Lost a race creating the citizen or the conversation row: try again.
            except OperationalError:
                if attempt == 2:
                    return self._fail(msg)
            except Exception:
                return self._fail(msg)
        return self._fail(msg)

    def _already_stored(self, msg: Incoming) -> bool:
        if not msg.external_id:
            return False
        with session_scope(self.database) as session:
            return queries.inbound_exists(session, msg.channel, msg.external_id)

    def _process(self, msg: Incoming) -> Handled:
        with session_scope(self.database) as session:
            if msg.external_id and queries.inbound_exists(session, msg.channel, msg.external_id):
                return Handled(duplicate=True)
            identity, citizen = queries.identity_for(session, msg.channel, msg.address, msg.name)
            identity.last_inbound_at = msg.received_at
            identity.blocked_at = None  # writing to us again means we may answer again
            inbound = queries.add_message(session, _inbound_row(msg, citizen.id, "received"))
            conversation = queries.conversation_for_update(session, msg.address)
            state = State(conversation.flow, conversation.step, dict(conversation.data or {}), conversation.version)

            view = StoreView(session, citizen, self.catalog, self._make_code)
            result = respond(state, msg, view)

            handled = Handled(replies=result.replies)
            inbound.status = "processed"
            request_id = None
            for action in result.actions:
                request_id = self._apply(session, action, citizen, inbound, msg, handled) or request_id
            conversation.flow, conversation.step = result.state.flow, result.state.step
            conversation.data, conversation.version = result.state.data, result.state.version
            conversation.updated_at = utcnow()
            session.add(conversation)
            for reply in result.replies:
                session.add(outbound_row(reply, citizen.id, request_id))
            return handled

    def _apply(self, session: Session, action: act.Action, citizen: Citizen, inbound: Message, msg: Incoming, handled: Handled) -> int | None:
        match action:
            case act.SetLanguage(language=language):
                citizen.language = language
            case act.SetLocality(locality_id=locality_id):
                citizen.locality_id = locality_id
            case act.SetConsent(consent=consent):
                citizen.consent, citizen.consent_at = consent, utcnow()
            case act.FlagForPerson(reason=reason):
                inbound.status, inbound.error = "needs_attention", reason
            case act.SubmitRequest():
                request = queries.add_request(session, _request_row(action, citizen, msg), actor=f"citizen:{citizen.id}")
                inbound.request_id = request.id
                handled.request_codes.append(request.code)
                return request.id
            case _:
                raise TypeError(f"unknown action {action!r}")
        session.add(citizen)
        return None

    def _fail(self, msg: Incoming) -> Handled:
        """Keep the message for a person, then apologise; never raise.

        The message is stored first and on its own, so that it survives even
        when what broke also breaks the apology."""
        log.exception("could not handle message %s from %s", msg.external_id, msg.address)
        try:
            with session_scope(self.database) as session:
                if msg.external_id and queries.inbound_exists(session, msg.channel, msg.external_id):
                    return Handled(duplicate=True)
                row = _inbound_row(msg, None, "needs_attention")
                row.error = _error_text()
                session.add(row)
        except Exception:
            log.exception("could not store the failed message %s from %s", msg.external_id, msg.address)
            return Handled(failed=True)
        try:
            with session_scope(self.database) as session:
                citizen = queries.citizen_by_address(session, msg.address)
                language = _apology_language(citizen, msg)
                apology = Outgoing(address=msg.address, text=text(language, "apology"))
                session.add(outbound_row(apology, citizen.id if citizen else None, None))
            return Handled(failed=True, replies=[apology])
        except Exception:
            log.exception("could not queue an apology to %s", msg.address)
            return Handled(failed=True)


def _apology_language(citizen: Citizen | None, msg: Incoming) -> str:
    if citizen and citizen.language:
        return citizen.language
    try:
        return guess_language(msg.text, msg.language_hint) or DEFAULT_LANGUAGE
    except Exception:
        return DEFAULT_LANGUAGE


def _error_text() -> str:
    import traceback

    return traceback.format_exc()[-MAX_ERROR:]


def _inbound_row(msg: Incoming, citizen_id: int | None, status: str) -> Message:
    payload = {
        "attachments": [asdict(a) for a in msg.attachments],
        "location": asdict(msg.location) if msg.location else None,
        "event": msg.event,
        "name": msg.name,
    }
    return Message(
        direction="in",
        channel=msg.channel,
        address=msg.address,
        external_id=msg.external_id,
        citizen_id=citizen_id,
        text=msg.text,
        payload={k: v for k, v in payload.items() if v},
        status=status,
        created_at=msg.received_at,
    )


def outbound_row(reply: Outgoing, citizen_id: int | None, request_id: int | None) -> Message:
    payload = {
        "choices": [[c.key, c.label] for c in reply.choices],
        "menu_id": reply.menu_id,
        "template": reply.template,
        "template_variables": reply.template_variables,
    }
    return Message(
        direction="out",
        channel=reply.channel,
        address=reply.address,
        citizen_id=citizen_id,
        request_id=request_id,
        text=reply.text,
        payload={k: v for k, v in payload.items() if v},
        status="queued",
    )


def _request_row(action: act.SubmitRequest, citizen: Citizen, msg: Incoming) -> Request:
    return Request(
        code=action.code,
        citizen_id=citizen.id,
        category_id=action.category_id,
        locality_id=citizen.locality_id,
        kind=action.kind,
        text=action.text,
        channel=msg.channel,
        address=msg.address,
        language=citizen.language,
        suggested_category_id=action.suggested_category_id,
        suggested_score=action.suggested_score,
        attachments=[asdict(a) for a in action.attachments],
        latitude=action.latitude,
        longitude=action.longitude,
    )
