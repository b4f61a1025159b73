"""What a Twilio outage costs: replies lost, duplicated and delayed.

Builds the bot as ``onewindow run`` does (its store, its outbox, the real
twilio client) with WhatsApp sending to a loopback fake Twilio, and runs the
outbox on a simulated clock, so hours pass in seconds. Replies are queued
all through the outage (one every ``--every`` simulated seconds); Twilio
answers 500 for the first third of it, 429 for the second, and refuses
connections for the last; then it is back. Prints, per outage length, the
replies queued, delivered, failed (lost), delivered twice, the longest wait
after Twilio's return, Twilio's error answers, and the outbox's log lines at
WARNING and above (one per message in trouble, plus give-ups).

    python bench/outage.py [--minutes 5 120 1500] [--every 30] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.settings import Settings  # noqa: E402
from bot.wiring import build  # noqa: E402
from handlers.whatsapp import connect  # noqa: E402
from storage.db import session_scope  # noqa: E402
from storage.models import Conversation, Message, utcnow  # noqa: E402
from tests.fake_twilio import OUR_NUMBER, PUBLIC_URL, TEMPLATES, FakeTwilio  # noqa: E402

REFUSED = "http://127.0.0.1:9"  # nothing listens there


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


class Count(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        if record.name.startswith("notifications"):
            self.lines.append(record.getMessage())


async def outage(database_url: str, minutes: float, every: float, citizens: int = 50) -> dict:
    twilio = FakeTwilio().start()
    bot = build(Settings(database_url=database_url))
    clock = bot.outbox.clock = Clock()
    webhook = connect(bot.engine, bot.outbox, bot.database, account_sid=twilio.account_sid, auth_token=twilio.auth_token,
                      public_url=PUBLIC_URL, sender=OUR_NUMBER, templates=TEMPLATES, api_base_url=twilio.url)
    http = bot.outbox.senders["whatsapp"].client.http_client
    addresses = [f"whatsapp:+54922155{n:05d}" for n in range(citizens)]
    with session_scope(bot.database) as session:
        session.add_all(Conversation(address=a, last_inbound_at=utcnow() + timedelta(days=30)) for a in addresses)  # window open
    logs = Count()
    logging.getLogger().addHandler(logs)
    start, end = clock(), clock() + timedelta(minutes=minutes)
    arrivals = [start + timedelta(seconds=s) for s in range(0, int(minutes * 60), int(every))] or [start]
    queued = 0
    began = time.perf_counter()
    try:
        while True:
            now = clock()
            third = (now - start) / (end - start) if now < end else None
            if third is None:
                twilio.up()
                http.base_url = twilio.url
            elif third < 1 / 3:
                twilio.down(500, 20500, "Internal Server Error")
            elif third < 2 / 3:
                twilio.down(429, 20429, "Too Many Requests")
            else:
                twilio.up()
                http.base_url = REFUSED
            while arrivals and arrivals[0] <= now:
                arrivals.pop(0)
                _queue(bot.database, addresses[queued % citizens], f"reply {queued}")
                queued += 1
            while await bot.outbox.deliver_due():
                pass
            waiting = _next_due(bot.database)
            if not arrivals and waiting is None:
                break
            moments = [m for m in (waiting, arrivals[0] if arrivals else None, end if now < end else None) if m is not None]
            clock.now = max(now + timedelta(seconds=1), min(moments))
            if clock.now - start > timedelta(days=3):
                raise RuntimeError("the outbox never settled")
    finally:
        logging.getLogger().removeHandler(logs)
        http.base_url = twilio.url
        await webhook.close()
    with session_scope(bot.database) as session:
        rows = list(session.exec(_outbound()))
    delivered = Counter(r.body for r in twilio.requests if r.status == 201)
    after = [(r.sent_at - end).total_seconds() for r in rows if r.status == "sent" and r.sent_at and r.sent_at > end]
    bot.database.dispose()
    twilio.stop()
    return {
        "outage_min": minutes, "queued": queued,
        "delivered": sum(1 for r in rows if r.status == "sent"),
        "lost": sum(1 for r in rows if r.status == "failed"),
        "twice": sum(1 for count in delivered.values() if count > 1),
        "max_wait_after_s": round(max(after, default=0)),
        "twilio_errors": sum(1 for r in twilio.requests if r.status != 201),
        "log_lines": len(logs.lines),
        "wall_s": round(time.perf_counter() - began, 1),
    }


def _queue(database, address: str, body: str) -> None:
    with session_scope(database) as session:
        session.add(Message(direction="out", channel="whatsapp", address=address, text=body, status="queued"))


def _next_due(database):
    with session_scope(database) as session:
        return session.exec(select(func.min(Message.next_attempt_at)).where(
            Message.direction == "out", Message.status.in_(("retry", "sending", "queued")))).one()


def _outbound():
    return select(Message).where(Message.direction == "out")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[5, 120, 1500])
    parser.add_argument("--every", type=float, default=30, help="simulated seconds between replies queued during the outage")
    parser.add_argument("--database", help="a store URL (default: a new SQLite file per run)")
    args = parser.parse_args()
    logging.getLogger().addHandler(logging.NullHandler())  # counted, not printed
    logging.getLogger().setLevel(logging.WARNING)
    columns = ["outage_min", "queued", "delivered", "lost", "twice", "max_wait_after_s", "twilio_errors", "log_lines", "wall_s"]
    print("\t".join(columns))
    for minutes in args.minutes:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database or f"sqlite:///{Path(folder) / 'outage.sqlite3'}"
            figures = asyncio.run(outage(url, minutes, args.every))
        print("\t".join(str(figures[c]) for c in columns), flush=True)


if __name__ == "__main__":
    main()
