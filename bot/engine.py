"""The engine: an incoming message and all it changes, in one transaction.

For every :class:`~flows.messages.Incoming` it stores the message (keyed by
the channel's own id, so a redelivery does nothing twice), loads the
conversation, runs the flows, performs their actions and queues the replies
in the outbox — all in one transaction. Commit, then deliver. Messages of
different citizens that arrive together share one transaction and one
commit (:meth:`Engine.handle_together`); a new request is linked to its
neighbours' reports of the same problem right after it is stored.

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
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection, Engine as Database
from sqlalchemy.exc import IntegrityError, OperationalError

from bot import answers, privacy, visits
from bot.catalog import Catalog
from bot.message_rows import inbound_values, outbound_values, request_values
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
TRIES = 3  # a message that lost a race, or met a busy store, is handled again: this many tries in all


@dataclass
class Handled:
    """What became of one incoming message."""

    duplicate: bool = False
    failed: bool = False
    replies: list[Outgoing] = field(default_factory=list)
    request_codes: list[str] = field(default_factory=list)
    also_done: bool = False  # the caller's ``also`` was committed with the message
    by_desk: bool = False  # a staff command or staff words: it may have queued messages to citizens
    request_ids: list[int] = field(default_factory=list)  # the requests it filed, linked to their neighbours' once stored


DESK, CITIZEN, CITIZEN_UNLESS_STAFF, NOT_OURS, BROKEN = "desk", "citizen", "citizen unless staff", "not ours", "broken"
Also = Callable[[Connection], None]  # a caller's own write that belongs in the message's transaction


def _stripe(address: str) -> int:
    return zlib.crc32(address.encode()) % LOCK_STRIPES


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

    def handle(self, msg: Incoming, *, also: Also | None = None) -> Handled:
        """Handle ``msg``: flows, then one transaction with its row, its
        replies and what it changed. ``also`` is the caller's own write
        that belongs with it (the inbox clearing the raw update): run in
        that transaction, and ``also_done`` says so; a staff command, a
        duplicate or a failure leave it undone for the caller to do."""
        return self.handle_together([msg], also=[also])[0]

    def handle_together(self, messages: list[Incoming], *, also: list[Also | None] | None = None) -> list[Handled]:
        """Handle messages that arrived together, as :meth:`handle` would
        one by one, in order (``also``: each one's, as for :meth:`handle`);
        what each became, in the same order.

        Citizens' messages share one transaction and one commit (group
        commit: one flush to disk for many, which is what a busy store is
        short of). If any of them fails, nothing of that transaction is
        kept and each is handled again on its own, with the retries and
        the apology of a single message, so one bad message costs the
        others time, never their answer."""
        results: list[Handled] = []
        waiting: list[tuple[Incoming, Also | None, bool]] = []  # citizens' messages for the next transaction
        for msg, its_also in zip(messages, also or [None] * len(messages), strict=True):
            msg = storable(msg)  # no character a store refuses gets past here (flows.storable)
            try:
                route = self._route(msg)
            except Exception as error:  # a staff command that broke: kept for a person, with an apology
                route, broke = BROKEN, error
            if route in (DESK, BROKEN):
                results += self._citizens_then_staff(waiting)  # in the order they came
                waiting = []
                results.append(self._desk(msg) if route == DESK else self._fail(msg, broke))
            elif route == NOT_OURS:
                results.append(Handled())
            else:
                waiting.append((msg, its_also, route == CITIZEN_UNLESS_STAFF))
        results += self._citizens_then_staff(waiting)
        if any(handled.replies or handled.by_desk for handled in results):
            self.on_queued()
        return results

    def _citizens_then_staff(self, waiting: list[tuple[Incoming, Also | None, bool]]) -> list[Handled]:
        done = self._for_citizens(waiting)
        return [self._desk(msg) if handled is None else handled for (msg, _, _), handled in zip(waiting, done)]

    def _route(self, msg: Incoming) -> str:
        """Whose ``msg`` is. Whether a private chat's words are staff's is
        asked in the message's own transaction (one round trip fewer)."""
        claim = self.desk.claims(msg)
        if claim is None and not msg.private:
            claim = self.desk.is_staff(msg.author)
        if claim:
            return DESK
        if not msg.private:
            return NOT_OURS  # group chatter that is not a staff command
        return CITIZEN_UNLESS_STAFF if claim is None else CITIZEN

    def _desk(self, msg: Incoming) -> Handled:
        """A staff command or staff words: the desk's, with its own record.
        A staff command that broke is kept for a person, with an apology."""
        try:
            done = self.desk.handle(msg)
        except Exception as error:
            return self._fail(msg, error)
        return Handled(duplicate=done.duplicate, replies=done.replies, by_desk=True)

    def _for_citizens(self, waiting: list[tuple[Incoming, Also | None, bool]]) -> list[Handled | None]:
        """``waiting``'s messages in one transaction if they can, else each on
        its own; None for a message whose author turned out to be staff."""
        if not waiting:
            return []
        stripes = sorted({_stripe(msg.address) for msg, _, _ in waiting})  # always in one order: no two batches wait for each other
        for stripe in stripes:
            self._locks[stripe].acquire()
        try:
            done: list[Handled | None] | None = None
            if len(waiting) > 1:
                try:
                    done = self._process(waiting)
                except Exception:  # a race lost, a redelivery, a bug: each again on its own, as if alone
                    log.debug("messages handled together failed; handling each on its own", exc_info=True)
            if done is None:
                done = [self._handle(msg, also, ask_staff) for msg, also, ask_staff in waiting]
        finally:
            for stripe in reversed(stripes):
                self._locks[stripe].release()
        for handled in done:
            for request_id in handled.request_ids if handled else ():
                self._group(request_id)
        return done

    def _group(self, request_id: int) -> None:
        """Link a new request to its neighbours' reports of the same problem
        (:func:`storage.groups.link_at_intake`), in a transaction of its own
        after the request is stored: it writes to other citizens' requests,
        and two processes doing that inside their batches would wait for
        each other. A failure leaves the request ungrouped, never unfiled."""
        try:
            with self.database.begin() as conn:
                groups.link_at_intake(conn, request_id, self.duplicate_rules)
        except Exception:
            log_failure(log, "could not group request %s with its neighbours'", request_id)

    def _handle(self, msg: Incoming, also: Also | None = None, ask_staff: bool = False) -> Handled | None:
        """:meth:`_process` for one message, tried again (:data:`TRIES` times
        in all) when it lost a race creating the citizen or the conversation
        row, or the store was busy; anything else, or a last try that failed,
        keeps the message for a person (:meth:`_fail`)."""
        failure: Exception | None = None
        for _ in range(TRIES):
            try:
                return self._process([(msg, also, ask_staff)])[0]
            except IntegrityError as error:
                if self._already_stored(msg):
                    return Handled(duplicate=True)
                failure = error
            except (OperationalError, path.ConversationChanged) as error:
                failure = error
            except Exception as error:
                failure = error
                break
        return self._fail(msg, failure)

    def _already_stored(self, msg: Incoming) -> bool:
        if not msg.external_id:
            return False
        with self.database.connect() as conn:
            return path.inbound_exists(conn, msg.channel, msg.external_id)

    def _process(self, waiting: list[tuple[Incoming, Also | None, bool]]) -> list[Handled | None]:
        """One transaction for ``waiting``'s messages: their addresses locked
        first (sorted, so that two processes never wait for each other in a
        circle), then each message's turn."""
        with self.database.begin() as conn:
            addresses = sorted({msg.address for msg, _, _ in waiting})
            if len(addresses) == 1:
                path.lock_address(conn, addresses[0])
            else:
                path.lock_addresses(conn, addresses)
            # A redelivery among messages handled together is known before it
            # can fail their transaction; alone, its unique key is the check.
            seen = path.stored_inbound(conn, [msg.external_id for msg, _, _ in waiting if msg.external_id]) if len(waiting) > 1 else set()
            done: list[Handled | None] = []
            for msg, also, ask_staff in waiting:
                if msg.external_id and (msg.channel, msg.external_id) in seen:
                    done.append(Handled(duplicate=True))
                    continue
                seen.add((msg.channel, msg.external_id))
                done.append(self._turn(conn, msg, also, ask_staff))
            return done

    def _turn(self, conn: Connection, msg: Incoming, also: Also | None, ask_staff: bool) -> Handled | None:
        """Run the flows for ``msg`` and write what came of it in ``conn``;
        None when ``ask_staff`` and its author is staff (nothing written:
        the desk's).

        The inbound row goes in with the replies at the end: a redelivered
        message then fails on the unique channel id and the whole transaction
        is rolled back, so nothing is done twice and no look-up is spent on
        the rare duplicate."""
        turn = path.load_turn(conn, msg.address, msg.author)
        if ask_staff and turn.author_is_staff:
            return None
        conversation = turn.conversation
        citizen = turn.citizen or path.create_citizen(conn, msg.channel, msg.address, msg.name)
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
                values = request_values(action, citizen.id, locality, language, msg)
                values["department_id"] = self.catalog.department_for(action.category_id, locality)
                request_id = path.insert_request(conn, values, actor=f"citizen:{citizen.id}")
                inbound["request_id"] = request_id
                handled.request_codes.append(action.code)
                handled.request_ids.append(request_id)
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

    def _fail(self, msg: Incoming, failure: BaseException) -> Handled:
        """Keep the message for a person, with what broke (``failure``), then
        apologise; never raise.

        The message is stored first and on its own, so that it survives even
        when what broke also breaks the apology."""
        log_failure(log, "could not handle message %s from %s", msg.external_id, mask(msg.address), error=failure)
        try:
            with self.database.begin() as conn:
                path.insert_messages(conn, [inbound_values(msg, None, "needs_attention", error=_error_text(failure))])
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


def _error_text(failure: BaseException) -> str:
    """What broke, for the person who looks at the message: the end of its traceback."""
    return "".join(traceback.format_exception(failure))[-MAX_ERROR:]
