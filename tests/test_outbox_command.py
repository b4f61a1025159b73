"""``onewindow outbox list|retry`` from the shell, on the same store the bot runs on."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.message_rows import outbound_values
from bot.settings import Settings
from bot.wiring import open_store
from flows.messages import Outgoing
from storage.db import session_scope
from storage.models import Message, utcnow
from storage.queries import identity_for
from tests.test_cli import onewindow


def stuck_messages(tmp_path) -> dict[str, int]:
    database = open_store(Settings(data_dir=str(tmp_path / "data")).database)
    now = utcnow()
    rows = {
        "failed": Message(**outbound_values(Outgoing("whatsapp:+5492215550134", "Su turno es el martes"), None, None)),
        "held": Message(**outbound_values(Outgoing("whatsapp:+998901234567", "Ertaga mobil bo'lim keladi", template="broadcast"), None, None)),
        "blocked": Message(**outbound_values(Outgoing("telegram:123456789", "Hola"), None, None)),
        "sent": Message(**outbound_values(Outgoing("telegram:555000111", "Hola"), None, None)),
    }
    rows["failed"].status, rows["failed"].error, rows["failed"].failed_at = "failed", "Twilio 21211: Invalid 'To' Phone Number: +5492215550134", now
    rows["held"].status, rows["held"].error = "held", "held: the WhatsApp 24-hour window is closed"
    rows["blocked"].status, rows["blocked"].error = "failed", "Forbidden: bot was blocked by the user"
    rows["sent"].status = "sent"
    rows["failed"].created_at = now - timedelta(hours=3)
    with session_scope(database) as session:
        identity, _citizen = identity_for(session, "telegram", "telegram:123456789")
        identity.blocked_at = now
        session.add(identity)
        session.add_all(rows.values())
        session.flush()
        ids = {name: row.id for name, row in rows.items()}
    database.dispose()
    return ids


def statuses(tmp_path) -> dict[int, str]:
    database = open_store(Settings(data_dir=str(tmp_path / "data")).database)
    with session_scope(database) as session:
        found = {m.id: m.status for m in session.exec(select(Message))}
    database.dispose()
    return found


def test_outbox_list_shows_what_was_not_delivered_masked(tmp_path):
    ids = stuck_messages(tmp_path)
    listed = onewindow("outbox", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 3 and "3 of 3 not delivered" in listed.stderr
    assert f"#{ids['failed']} · failed · 3h · whatsapp:+54922****134 · Twilio 21211: Invalid 'To' Phone Number: +54922****134" in lines
    assert any(line.startswith(f"#{ids['held']} · held · ") and "whatsapp:+9989****567" in line for line in lines)
    assert "5492215550134" not in listed.stdout and "martes" not in listed.stdout
    only_held = onewindow("outbox", "list", "held", cwd=tmp_path)
    assert [line.split(" · ")[0] for line in only_held.stdout.splitlines()] == [f"#{ids['held']}"]


def test_outbox_retry_queues_them_again_but_not_to_a_contact_that_blocked_the_bot(tmp_path):
    ids = stuck_messages(tmp_path)
    retried = onewindow("outbox", "retry", "all", cwd=tmp_path)
    assert retried.returncode == 0, retried.stderr
    assert "2 messages queued to go again; 1 skipped (the contact blocked the bot)" in retried.stdout
    now = statuses(tmp_path)
    assert (now[ids["failed"]], now[ids["held"]], now[ids["blocked"]], now[ids["sent"]]) == ("queued", "queued", "failed", "sent")

    asked = onewindow("outbox", "retry", str(ids["blocked"]), cwd=tmp_path)  # asked by id, it is tried
    assert asked.returncode == 0 and "1 message queued" in asked.stdout
    assert onewindow("outbox", "retry", str(ids["sent"]), cwd=tmp_path).returncode == 1
    wrong = onewindow("outbox", "retry", "everything", cwd=tmp_path)
    assert wrong.returncode == 2 and "takes message ids" in wrong.stderr
