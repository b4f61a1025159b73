"""Several people on one store, each in a terminal of their own: every
message reaches the terminal of the person it is for, and waits for it
while that terminal is closed."""

from __future__ import annotations

import io
import re

from bot.commands.chat import STAFF_BANNER, chat
from bot.settings import Settings
from bot.wiring import open_store
from handlers.staff.team import add
from storage.db import session_scope

ANA_FILES = "\n".join([
    "/start", "5", "/location 40.4897 68.7842", "1",
    "Three days without electricity in our street", "yes", "/quit",
])


async def talk(settings: Settings, user: str, lines: str, banner: str | None = None) -> str:
    out = io.StringIO()
    await chat(settings, user, lines=io.StringIO(lines + "\n"), out=out, **({"banner": banner} if banner else {}))
    return out.getvalue()


async def test_each_terminal_shows_only_its_own_persons_messages(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'one.sqlite3'}")
    database = open_store(settings.database)
    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")
    database.dispose()

    ana = await talk(settings, "ana", ANA_FILES)
    code = re.search(r"\b([A-Z0-9]{3}-[A-Z0-9]{3})\b", ana.split("Three days")[-1]).group(1)

    karim = await talk(settings, "karim", f"/inbox\n/reply {code} A crew comes tomorrow\n/quit", STAFF_BANNER)
    assert f"Your reply on {code}" in karim
    assert "About your request" not in karim and "A crew comes tomorrow\n—" not in karim  # Ana's message is not his

    again = await talk(settings, "ana", "/quit")  # her terminal, opened later, gets what waited for her
    assert f"About your request {code}" in again and "A crew comes tomorrow" in again
    assert "Your reply on" not in again


def test_the_outbox_claims_only_the_addresses_it_is_told(database):
    from datetime import timedelta

    from storage import casework, queries
    from storage.models import utcnow

    with session_scope(database) as session:
        for address in ("console:ana", "console:karim", "console:ana"):
            casework.queue(session, address, f"for {address}")
    with session_scope(database) as session:
        claimed = queries.claim_outbound(session, utcnow(), 10, timedelta(minutes=1), channels=["console"], addresses=["console:ana"])
        assert [m.text for m in claimed] == ["for console:ana", "for console:ana"]
    with session_scope(database) as session:
        rest = queries.claim_outbound(session, utcnow(), 10, timedelta(minutes=1), channels=["console"])
        assert [m.address for m in rest] == ["console:karim"]
