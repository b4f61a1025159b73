"""The engine: one incoming message, one transaction.

For every :class:`~flows.messages.Incoming` it stores the message (keyed by
the channel's own id, so a redelivery does nothing twice), loads the
conversation, runs the flows, performs their actions and queues the replies
in the outbox — all in one transaction. Commit, then deliver.

Every message is first cleaned of what a store refuses (NUL, lone
surrogates: :mod:`flows.storable`), the original kept escaped beside it.
If anything fails, the transaction is rolled back, the message is stored
flagged ``needs_attention`` for a person, and the citizen gets a short
apology in their language. The process keeps serving.
"""

from __future__ import annotations

import logging
import threading
import traceback
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy.engine import Connection, Engine as Database
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from bot import answers, privacy, visits
from bot.catalog import Catalog
from flows.duplicates import RULES, Rules
from bot.view import StoreView
from flows import actions as act
from flows.core import State
from flows.i18n import DEFAULT_LANGUAGE, guess_language, text
from flows.messages import Incoming, Outgoing
from flows.masking import log_failure, mask
from flows.router import respond
from flows.storable import storable
from flows.tracking import new_code
from handlers.staff import StaffDesk
from storage import groups, identities
from storage import message_path as path
from storage.models import utcnow

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
    also_done: bool = False  # the caller's ``also`` was committed with the message


class Engine:
    def __init__(
        self,
        database: Database,
        catalog: Catalog,
        *,
        on_queued: Callable[[], None] | None = None,
        make_code: Callable[[], str] = new_code,
        duplicate_rules: Rules = RULES,
        web_url: str = "",
    ):
        self.database = database
        self.catalog = catalog
        self.duplicate_rules = duplicate_rules
        self.on_queued = on_queued or (lambda: None)
        self._make_code = make_code
        self.desk = StaffDesk(database, catalog, web_url)  # web_url: where the dashboard's sign-in links lead
        # Messages of one conversation are handled one at a time, in order.
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def handle(self, msg: Incoming, *, also: Callable[[Connection], None] | None = None) -> Handled:
        """Handle ``msg``: flows, then one transaction with its row, its
        replies and what it changed. ``also`` is the caller's own write
        that belongs with it (the inbox clearing the raw update): run in
        that transaction, and ``also_done`` says so; a staff command, a
        duplicate or a failure leave it undone for the caller to do."""
        msg = storable(msg)  # no character a store refuses gets past here (flows.storable)
        try:
            for_desk = self.desk.wants(msg)
            handled = self._desk(msg) if for_desk else None
        except Exception:
            for_desk, handled = True, self._fail(msg)  # a staff command that broke: kept for a person, with an apology
        if for_desk:
            self.on_queued()  # replies to staff, and what they sent citizens
            return handled
        if not msg.private:
            return Handled()  # group chatter that is not a staff command is not for us
        with self._locks[zlib.crc32(msg.address.encode()) % LOCK_STRIPES]:
            handled = self._handle(msg, also)
        if handled.replies:
            self.on_queued()
        return handled

    def _desk(self, msg: Incoming) -> Handled:
        done = self.desk.handle(msg)
        return Handled(duplicate=done.duplicate, replies=done.replies)

    def _handle(self, msg: Incoming, also: Callable[[Connection], None] | None = None) -> Handled:
        for attempt in range(3):
            try:
                return self._process(msg, also)
            except IntegrityError:
                if self._already_stored(msg):
                    return Handled(duplicate=True)
                if attempt == 2:
                    return self._fail(msg)
                # Lost a race creating the citizen or the conversation row: try again.
            except (OperationalError, path.ConversationChanged):
                if attempt == 2:
                    return self._fail(msg)
            except Exception:
                return self._fail(msg)
        return self._fail(msg)

    def _already_stored(self, msg: Incoming) -> bool:
        if not msg.external_id:
            return False
        with self.database.connect() as conn:
            return path.inbound_exists(conn, msg.channel, msg.external_id)

    def _process(self, msg: Incoming, also: Callable[[Connection], None] | None = None) -> Handled:
        """Run the flows for ``msg`` and write everything in one transaction.

        The inbound row goes in with the replies at the end: a redelivered
        message then fails on the unique channel id and the whole transaction
        is rolled back, so nothing is done twice and no look-up is spent on
        the rare duplicate."""
        with self.database.begin() as conn:
            path.lock_address(conn, msg.address)
            conversation = path.load_conversation(conn, msg.address)
            citizen = path.load_citizen(conn, msg.address) or path.create_citizen(conn, msg.channel, msg.address, msg.name)
            if citizen.blocked_at is not None:
                path.unblock(conn, msg.address)  # writing to us again means we may answer again
            state = State(conversation.flow, conversation.step, dict(conversation.data or {}), conversation.version) if conversation else State()

            result = respond(state, msg, StoreView(conn, citizen, self.catalog, self._make_code, self.duplicate_rules))

            handled = Handled(replies=result.replies)
            inbound = inbound_values(msg, citizen.id, "processed")
            request_id = None
            changes: dict = {}
            for action in result.actions:
                request_id = self._apply(conn, action, citizen, changes, inbound, msg, handled) or request_id
            if changes:
                path.update_citizen(conn, citizen.id, **changes)
            path.save_conversation(
                conn, msg.address, read=conversation,
                flow=result.state.flow, step=result.state.step, data=result.state.data,
                version=result.state.version, last_inbound_at=msg.received_at,
            )
            # The inbound row's citizen: None once the citizen was erased this turn.
            outbound = [outbound_values(reply, inbound["citizen_id"], request_id) for reply in handled.replies]
            path.insert_messages(conn, [inbound, *outbound])
            if also is not None:
                also(conn)
                handled.also_done = True
            return handled

    def _apply(self, conn, action: act.Action, citizen, changes: dict, inbound: dict, msg: Incoming, handled: Handled) -> int | None:
        match action:
            case act.SetLanguage(language=language):
                changes["language"] = language
            case act.SetLocality(locality_id=locality_id):
                changes["locality_id"] = locality_id
            case act.NamePlace(name=name, parent_id=parent_id):
                path.insert_named_place(conn, {"name": name, "parent_id": parent_id, "citizen_id": citizen.id, "created_at": utcnow()})
            case act.SetConsent(consent=consent):
                changes.update(consent=consent, consent_at=utcnow())
            case act.SetBroadcastOptOut(opted_out=opted_out):
                changes["broadcasts_opted_out_at"] = utcnow() if opted_out else None
            case act.LinkPhone(addresses=addresses):
                identities.link(conn, citizen.id, addresses)
            case act.FlagForPerson(reason=reason):
                inbound.update(status="needs_attention", error=reason)
            case act.SubmitRequest():
                locality = changes.get("locality_id", citizen.locality_id)
                language = changes.get("language", citizen.language)
                values = _request_values(action, citizen.id, locality, language, msg)
                values["department_id"] = self.catalog.department_for(action.category_id, locality)
                request_id = path.insert_request(conn, values, actor=f"citizen:{citizen.id}")
                groups.link_at_intake(Session(bind=conn), request_id, self.duplicate_rules)
                inbound["request_id"] = request_id
                handled.request_codes.append(action.code)
                return request_id
            case act.ConfirmResolved() | act.RateRequest() | act.AnswerRequest():
                answers.apply(conn, citizen.id, action)
            case act.EraseAfterRefusal() | act.SendMyData() | act.ForgetMe() | act.KeepNoWords():
                privacy.apply(conn, citizen.id, action, inbound, handled.replies)
            case act.BookVisit() | act.CancelBooking() | act.SubscribeVisits() | act.NoteQuestion():
                visits.apply(conn, citizen, action, changes.get("locality_id", citizen.locality_id),
                             changes.get("language", citizen.language), msg.address, handled.replies)
            case _:
                raise TypeError(f"unknown action {action!r}")
        return None

    def _fail(self, msg: Incoming) -> Handled:
        """Keep the message for a person, then apologise; never raise.

        The message is stored first and on its own, so that it survives even
        when what broke also breaks the apology."""
        log_failure(log, "could not handle message %s from %s", msg.external_id, mask(msg.address))
        try:
            with self.database.begin() as conn:
                path.insert_messages(conn, [inbound_values(msg, None, "needs_attention", error=_error_text())])
        except IntegrityError:
            return Handled(duplicate=True)  # it was stored before; nothing was lost
        except Exception:
            log_failure(log, "could not store the failed message %s from %s", msg.external_id, mask(msg.address))
            return Handled(failed=True)
        try:
            with self.database.begin() as conn:
                citizen = path.load_citizen(conn, msg.address)
                language = _apology_language(citizen, msg)
                apology = Outgoing(address=msg.address, text=text(language, "apology"))
                path.insert_messages(conn, [outbound_values(apology, citizen.id if citizen else None, None)])
            return Handled(failed=True, replies=[apology])
        except Exception:
            log_failure(log, "could not queue an apology to %s", mask(msg.address))
            return Handled(failed=True)


def _apology_language(citizen, msg: Incoming) -> str:
    if citizen and citizen.language:
        return citizen.language
    try:
        return guess_language(msg.text, msg.language_hint) or DEFAULT_LANGUAGE
    except Exception:
        return DEFAULT_LANGUAGE


def _error_text() -> str:
    return traceback.format_exc()[-MAX_ERROR:]


def inbound_values(msg: Incoming, citizen_id: int | None, status: str, error: str | None = None) -> dict:
    """The stored row of an inbound message, as column values."""
    payload = {
        "attachments": [asdict(a) for a in msg.attachments],
        "location": asdict(msg.location) if msg.location else None,
        "event": msg.event,
        "name": msg.name,
        "original": msg.originals,
    }
    return _message_values(
        direction="in", channel=msg.channel, address=msg.address, external_id=msg.external_id,
        citizen_id=citizen_id, text=msg.text, payload=payload, status=status, error=error, created_at=msg.received_at,
    )


def outbound_values(reply: Outgoing, citizen_id: int | None, request_id: int | None) -> dict:
    """The stored row of a reply waiting in the outbox, as column values."""
    payload = {
        "choices": [[c.key, c.label] for c in reply.choices],
        "menu_id": reply.menu_id,
        "template": reply.template,
        "template_variables": reply.template_variables,
        "document": reply.document,
    }
    return _message_values(
        direction="out", channel=reply.channel, address=reply.address, citizen_id=citizen_id,
        request_id=request_id, text=reply.text, payload=payload, status="queued",
    )


def _message_values(*, payload: dict, **values) -> dict:
    row = {"external_id": None, "citizen_id": None, "request_id": None, "error": None, "attempts": 0,
           "next_attempt_at": None, "sent_at": None, "created_at": utcnow()}
    row.update(values)
    row["payload"] = {k: v for k, v in payload.items() if v}
    return row


def _request_values(action: act.SubmitRequest, citizen_id: int, locality_id: str | None, language: str | None, msg: Incoming) -> dict:
    return {
        "code": action.code,
        "citizen_id": citizen_id,
        "category_id": action.category_id,
        "locality_id": locality_id,
        "kind": action.kind,
        "text": action.text,
        "channel": msg.channel,
        "address": msg.address,
        "language": language,
        "suggested_category_id": action.suggested_category_id,
        "suggested_score": action.suggested_score,
        "attachments": [asdict(a) for a in action.attachments],
        "latitude": action.latitude,
        "longitude": action.longitude,
    }
