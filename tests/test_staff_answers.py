"""What the staff desk answers, word for word: a day at the desk where each
command, right or wrong, gets the one answer it should. Exact answers, so
that a wrong word, a missing value or a skipped check shows."""

from __future__ import annotations

import pytest

from tests.conversation import Chat
from tests.test_staff import ana, file_request, staff  # noqa: F401

# (who, what they type, the whole answer — or its start, ending in "…")
DAY = [
    ("karim", "/take", "Usage: /take CODE"),
    ("karim", "/show nothing", "There is no request nothing."),
    ("karim", "/reply {code}", "Usage: /reply CODE text"),
    ("karim", "/inbox nonsense", "I do not understand the filter nonsense."),
    ("karim", "/inbox closed", "Nothing in the queue for these filters."),
    ("karim", "/find", "Usage: /find words"),
    ("karim", "/find zebra", "Nothing found for zebra."),
    ("karim", "/category", "Usage: /category CODE CATEGORY"),
    ("karim", "/category {code} nonsense", "I know no category nonsense. Categories: …"),
    ("karim", "/status {code} flying", "Unknown status flying. Use one of: …"),
    ("karim", "/status {code} merged", "To mark a duplicate, use /merge CODE PRIMARY."),
    ("karim", "/merge {code} {code}", "A request cannot be merged into itself."),
    ("karim", "/assign {code} nobody", "I know no person or department called nobody."),
    ("karim", "/take {code}", "You have taken {code}."),
    ("karim", "/note {code} checked the meter", "Note added to {code}."),
    ("karim", "/reply {code} We are on it", "Your reply on {code} is on its way to the citizen."),
    ("karim", "/ask {code} Which house number?", "Question sent; the citizen's next message will be attached to {code}."),
    ("lola", "/take {code}", "Request {code} is assigned to Karim; only a supervisor can reassign it."),
    ("sara", "/assign {code} Lola", "{code} is now with Lola."),
    ("karim", "/note {code} me again", "Note added to {code}."),  # a note changes nothing: anyone in the department
    ("karim", "/status {code} in_progress", "Request {code} is assigned to Lola; only a supervisor can reassign it."),
    ("lola", "/close {code} The line is repaired", "{code} is resolved; the citizen is asked to confirm."),
    ("lola", "/reply {code} one more thing", "Your reply on {code} is on its way to the citizen."),
    ("lola", "/close {code} again", "Request {code} is resolved; it cannot go to resolved."),
    ("lola", "/reopen {code}", "{code} is now reopened."),
    ("root", "/outbox", "Nothing is held or failed: every reply has gone out."),
    ("root", "/outbox held extra", "Usage: /outbox [failed|held] | /outbox retry ID…|all|failed|held"),
    ("root", "/outbox retry", "Usage: /outbox [failed|held] | /outbox retry ID…|all|failed|held"),
    ("root", "/outbox retry 999", "No held or failed message 999. /outbox lists them."),
    ("root", "/examples", "Nobody has corrected a category yet."),
    ("root", "/examples remove 5", "There is no example 5 in force."),
    ("root", "/examples foo", "Usage: /examples [remove ID]"),
    ("root", "/staff", "Usage: /staff add|list|remove|invite"),
    ("root", "/staff remove nobody", "I know no person or department called nobody."),
    ("root", "/staff remove Lola", "Lola is no longer staff."),
    ("root", "/join ABCDEF", "That invite code is not valid (used, expired or mistyped)."),
]


def test_a_day_at_the_desk_word_for_word(engine, database, staff, ana):  # noqa: F811
    code = file_request(ana)
    for step, (who, typed, expected) in enumerate(DAY, 1):
        chat = Chat(engine, who)
        chat.send(typed.format(code=code))
        expected = expected.format(code=code)
        if expected.endswith("…") and not expected.endswith("held…"):
            assert chat.text.startswith(expected[:-1]) and len(chat.text) > len(expected), (step, typed, chat.text)
        else:
            assert chat.text == expected, (step, typed, chat.text)


@pytest.mark.parametrize("typed", ["/visit", "/visit fly", "/visit add", "/visit move 1", "/visit came 1 x", "/visit show"])
def test_a_visit_command_that_cannot_be_read_shows_its_usage(engine, database, staff, typed):  # noqa: F811
    sara = Chat(engine, "sara")
    sara.send(typed)
    assert sara.text.startswith("Usage:\n/visit add PLACE YYYY-MM-DD HH:MM-HH:MM SERVICE"), sara.text


def test_outbox_at_the_desk_lists_what_did_not_go_masked_with_its_request(engine, database, staff, ana):  # noqa: F811
    from datetime import timedelta

    from sqlmodel import select

    from bot.message_rows import outbound_values
    from flows.messages import Outgoing
    from storage.db import session_scope
    from storage.models import Message, Request, utcnow

    code = file_request(ana)
    with session_scope(database) as session:
        request_id = session.exec(select(Request.id).where(Request.code == code)).one()
        failed = Message(**outbound_values(Outgoing("whatsapp:+5492215550134", "Su turno es el martes"), None, request_id))
        failed.status, failed.error = "failed", "Twilio 21211: Invalid 'To' Phone Number: +5492215550134 (5492215550134)"
        failed.created_at = utcnow() - timedelta(hours=3)
        held = Message(**outbound_values(Outgoing("whatsapp:+998901234567", "Ertaga"), None, None))
        held.status, held.error = "held", "held: the WhatsApp 24-hour window is closed"
        session.add_all([failed, held])
        session.flush()
        ids = failed.id, held.id
    root = Chat(engine, "root")
    root.send("/outbox")
    lines = root.text.splitlines()
    assert (f"#{ids[0]} · failed · 3h · whatsapp:+54922****134 · {code} · "
            "Twilio 21211: Invalid 'To' Phone Number: +54922****134 (+54922****134)") in lines, root.text
    assert f"#{ids[1]} · held · 0m · whatsapp:+9989****567 · held: the WhatsApp 24-hour window is closed" in lines
    assert "5492215550134" not in root.text and "martes" not in root.text
    root.send("/outbox held")
    assert [line.split(" · ")[0] for line in root.text.splitlines() if line.startswith("#")] == [f"#{ids[1]}"]
    root.send("/outbox failed")
    assert [line.split(" · ")[0] for line in root.text.splitlines() if line.startswith("#")] == [f"#{ids[0]}"]
    root.send(f"/outbox retry {ids[1]}")
    assert root.text == "1 message queued to go again."
