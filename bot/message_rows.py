"""The stored rows of messages and requests, as column values: what the
engine writes for an incoming message, its replies and a new request, and
what tests and tools use to put a message in the outbox as the engine would."""

from __future__ import annotations

from dataclasses import asdict

from flows import actions as act
from flows.messages import Incoming, Outgoing
from storage.models import utcnow


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
    # The rows of one turn are inserted in one statement: each has the same
    # keys. What is left out (attempts, next_attempt_at, sent_at) takes the
    # column's default.
    row = {"external_id": None, "citizen_id": None, "request_id": None, "error": None, "created_at": utcnow()}
    row.update(values)
    row["payload"] = {k: v for k, v in payload.items() if v}
    return row


def request_values(action: act.SubmitRequest, citizen_id: int, locality_id: str | None, language: str | None, msg: Incoming) -> dict:
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
