"""A broadcast to many at the channels' limits: nothing lost, nothing twice.

Seeds a store with N citizens (three in four on Telegram, one in four on
WhatsApp, a few who said STOP), confirms one announcement to all of them
(urgent, so the night does not hold it whatever the hour here), and runs
``onewindow run`` as in production against loopback fakes of Telegram and
Twilio (``bench/fake_channels.py``) that enforce the limits and answer 429
past them. It prints, per run:

- rate: messages a second the fakes accepted, per channel, as a fraction of
  what they allow (target at least 0.95);
- 429s the fakes answered (target 0), duplicates (target 0), losses (target 0);
- reply: seconds from a citizen's reply being committed while the broadcast
  runs until the channel has it (target under 2 s);
- peak memory of the bot process (VmHWM), for 10,000 and 100,000 recipients
  (target under 200 MB and flat);
- and the same counts after a run killed with SIGKILL half-way and restarted.

The fakes allow three times the real limits (Telegram 90 a second, Twilio
30), which is what a three times faster clock would give, so that 100,000
recipients take minutes; ``TELEGRAM_PER_SECOND`` and ``WHATSAPP_PER_SECOND``
are set to match, as a deployment with higher limits would. Three, not
more: one bot process spends about 5 ms of CPU on a send (python-telegram-bot
reading each answer, its HTTP client checking its pooled connections, the
store), so at four times (160 a second) it uses 80% of a core on this
two-core machine, shared with the fakes, and the figure starts to measure
the CPU rather than the pacing (``--speed 4`` shows it). At the real limits
a send costs the same and the bot idles.

    python bench/broadcast.py [--sizes 10000,100000] [--kill 10000] [--speed 3]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bench.fake_channels import FakeChannels  # noqa: E402
from bot.broadcasting import compose, confirm, create  # noqa: E402
from bot.catalog import Catalog  # noqa: E402
from bot.wiring import open_store  # noqa: E402
from storage.db import session_scope  # noqa: E402
from storage.models import Citizen, Identity, Message  # noqa: E402

TOKEN = "123456:BENCH-broadcast"
ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER = "AC" + "b" * 32, "bench-auth-token", "whatsapp:+14155238886"
TELEGRAM_LIMIT, TWILIO_LIMIT = 30, 10  # a second, the real ones
SENDER_SHARE = 1.0  # the bot paces at the limit itself: its window counts a send until a second after its answer, so none arrives one too many
LANGUAGES = ["uz"] * 5 + ["ru"] * 3 + ["uz-Cyrl", "en"]


def seed(database, catalog, n: int) -> int:
    """N citizens and their identities, written in bulk; returns how many said STOP."""
    village = next(p.id for p in catalog.localities.values() if p.kind == "village" and p.country == "UZ")
    now, stopped = datetime.now(timezone.utc), 0
    rng = random.Random(7)
    with session_scope(database) as session:
        for start in range(0, n, 5000):
            citizens, identities = [], []
            for number in range(start + 1, min(n, start + 5000) + 1):
                said_stop = number % 100 == 0
                stopped += said_stop
                citizens.append(dict(id=number, language=rng.choice(LANGUAGES), locality_id=village, consent=True, created_at=now,
                                     broadcasts_opted_out_at=now if said_stop else None))
                address = f"telegram:{10_000_000 + number}" if number % 4 else f"whatsapp:+99890{number:07d}"
                identities.append(dict(address=address, channel=address.split(":")[0], citizen_id=number, created_at=now))
            session.execute(insert(Citizen), citizens)
            session.execute(insert(Identity), identities)
    return stopped


def announce(database, catalog) -> int:
    with session_scope(database) as session:
        draft = compose(catalog, "all", {"uz": "Ertaga bozor kuni: ko'chma xizmat bozorda.", "ru": "Завтра базарный день."}, "uz",
                        urgent=True)
        item, _ = create(session, draft, "bench")
        confirm(session, item.id, "bench")
        return item.id


def start(folder: Path, database_url: str, fakes: FakeChannels, speed: float) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "DATABASE_URL", "WHATSAPP_"))}
    env.update({
        "PYTHONPATH": str(ROOT), "DATA_DIR": str(folder / "data"), "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fakes.url, "TELEGRAM_PER_SECOND": str(TELEGRAM_LIMIT * speed * SENDER_SHARE),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": OUR_NUMBER,
        "TWILIO_API_BASE_URL": fakes.url, "TWILIO_STATUS_CALLBACK": "off",
        # citizens who never wrote on WhatsApp are outside its 24-hour window: the approved template goes
        "WHATSAPP_TEMPLATES": f"reply=HX{'a1' * 16},status=HX{'b2' * 16},broadcast=HX{'c3' * 16}", "WHATSAPP_PER_SECOND": str(TWILIO_LIMIT * speed * SENDER_SHARE),
    })
    log = open(folder / "run.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--no-web"], cwd=folder, env=env, stdout=log, stderr=log)


def peak_memory_mb(process: subprocess.Popen, field: str = "VmHWM") -> float:
    """The process's peak resident memory (``VmRSS``: the present one)."""
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(process: subprocess.Popen) -> float:
    """User and system CPU time the process has used so far."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def queue_reply(database) -> tuple[str, float]:
    """A reply to a citizen, committed as the engine commits one."""
    text = f"Your request KX-{uuid.uuid4().hex[:6]} is in progress"
    with session_scope(database) as session:
        session.add(Message(direction="out", channel="telegram", address="telegram:999999999", text=text, payload={"template": "reply"},
                            status="queued", priority=0))
    return text, time.monotonic()


def wait_until(check, timeout: float, process: subprocess.Popen | None = None, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        if process is not None and process.poll() is not None:
            raise SystemExit(f"onewindow run stopped (exit {process.returncode}); see its run.log")
        time.sleep(step)
    return False


def address_of(channel: str, to: str) -> str:
    return f"telegram:{to}" if channel == "telegram" else to


def counts(fakes: FakeChannels, expected: set[str]) -> dict:
    per_address = Counter(address_of(channel, to) for _, channel, to, _ in fakes.received())
    got = {a for a in per_address if a in expected}
    return {"duplicates": sum(c - 1 for a, c in per_address.items() if a in expected and c > 1),
            "losses": len(expected - got), "received": len(got)}


def rate(fakes: FakeChannels, channel: str, since: float = 0.0, leaving_out_last: int = 0) -> float:
    times = sorted(t for t, c, _, text in fakes.received(channel) if not text.startswith("Your request") and t >= since)
    times = times[:len(times) - leaving_out_last]
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def expected_addresses(database) -> set[str]:
    with session_scope(database) as session:
        rows = session.execute(select(Identity.address).join(Citizen, Citizen.id == Identity.citizen_id)
                               .where(Citizen.broadcasts_opted_out_at.is_(None)))
        return {a for (a,) in rows}


def one_run(n: int, speed: float, kill: bool) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="onewindow-broadcast-"))
    database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    database = open_store(database_url)
    catalog = Catalog.from_store(database)
    stopped = seed(database, catalog, n)
    expected = expected_addresses(database)
    announce(database, catalog)
    fakes = FakeChannels(TELEGRAM_LIMIT * speed, TWILIO_LIMIT * speed).start()
    process = start(folder, database_url, fakes, speed)
    figures: dict = {"n": n, "stopped": stopped, "kill": kill}
    began = time.monotonic()
    try:
        if kill:
            wait_until(lambda: fakes.count >= len(expected) // 2, 3600, process)
            process.send_signal(signal.SIGKILL)
            process.wait()
            with session_scope(database) as session:
                confirmed = {a for (a,) in session.execute(select(Message.address).where(Message.status == "sent"))}
                # Claimed by the killed process: these go when their lease ends (a minute), after the rest.
                leased = Counter(c for (c,) in session.execute(select(Message.channel).where(Message.status == "sending")))
                figures["leased"] = sum(leased.values())
            figures["at_kill"] = fakes.count
            process, restarted = start(folder, database_url, fakes, speed), time.monotonic()
            wait_until(lambda: fakes.count > figures["at_kill"], 600, process)
            figures["down_seconds"] = time.monotonic() - restarted  # from the restart until the first send
        else:
            wait_until(lambda: fakes.count >= 50, 600, process)
            figures["start_mb"] = peak_memory_mb(process, "VmRSS")  # up and sending: what the broadcast adds is on top
            wait_until(lambda: fakes.count >= len(expected) * 0.3, 3600, process)
            text, asked = queue_reply(database)
            wait_until(lambda: text in fakes.texts, 60, process, step=0.005)
            figures["reply_seconds"] = time.monotonic() - asked
        wait_until(lambda: len(fakes.addresses & expected) >= len(expected) if len(fakes.addresses) >= len(expected) else False,
                   3600 + 90, process, step=0.2)
        time.sleep(2)  # anything more would arrive now
        figures["seconds"] = time.monotonic() - began
        figures["peak_mb"] = peak_memory_mb(process)
        figures["cpu"] = cpu_seconds(process) / figures["seconds"]
        figures.update(counts(fakes, expected))
        since = restarted + figures["down_seconds"] if kill else 0.0  # killed: the restarted process's own pace...
        leased = leased if kill else Counter()  # ...up to the messages that waited out the killed one's lease
        figures["rate_telegram"] = rate(fakes, "telegram", since, leased["telegram"]) / (TELEGRAM_LIMIT * speed)
        figures["rate_whatsapp"] = rate(fakes, "whatsapp", since, leased["whatsapp"]) / (TWILIO_LIMIT * speed)
        figures["429s"] = sum(fakes.refused.values())
        if kill:
            again = Counter(address_of(channel, to) for _, channel, to, _ in fakes.received())
            figures["confirmed_twice"] = sum(1 for a in confirmed if again[a] > 1)
        with session_scope(database) as session:
            figures["skipped"] = len(session.execute(select(Message.id).where(Message.status == "skipped")).all())
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        fakes.stop()
        database.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="recipients per run, comma-separated")
    parser.add_argument("--kill", type=int, default=10000, help="recipients of the run killed half-way (0: none)")
    parser.add_argument("--speed", type=float, default=3, help="the fakes allow this many times the real limits")
    args = parser.parse_args()
    print(f"fakes allow Telegram {TELEGRAM_LIMIT * args.speed:g}/s (and 1/s per chat), Twilio {TWILIO_LIMIT * args.speed:g}/s: "
          f"{args.speed:g} times the real limits; the bot paces at {SENDER_SHARE} of them; SQLite store, urgent announcement")
    runs = [one_run(int(size), args.speed, False) for size in args.sizes.split(",")]
    if args.kill:
        runs.append(one_run(args.kill, args.speed, True))
    header = (f"{'recipients':>10} {'run':<9} {'seconds':>8} {'telegram':>9} {'whatsapp':>9} {'429s':>5} {'dup':>4} {'lost':>5} "
              f"{'reply s':>8} {'peak MB':>8} {'start MB':>8} {'bot CPU':>8}")
    print(header)
    for f in runs:
        print(f"{f['n']:>10} {'SIGKILL' if f['kill'] else 'whole':<9} {f['seconds']:>8.1f} {f['rate_telegram']:>9.3f} {f['rate_whatsapp']:>9.3f} "
              f"{f['429s']:>5} {f['duplicates']:>4} {f['losses']:>5} {f.get('reply_seconds', float('nan')):>8.2f} {f['peak_mb']:>8.1f} "
              f"{f.get('start_mb', float('nan')):>8.1f} {f['cpu']:>8.0%}")
    for f in runs:
        print(f"  {f['n']} recipients: {f['received']} reached, {f['stopped']} said STOP and were skipped ({f['skipped']} on record)"
              + (f"; killed after {f['at_kill']} sent, confirmed-and-sent-again {f['confirmed_twice']}, "
                 f"{f['down_seconds']:.1f} s from the restart to its first send, {f['leased']} in flight at the kill "
                 "sent after their lease" if f["kill"] else ""))
    print("rate: accepted a second / allowed a second (after a SIGKILL: the restarted process's, from its first send to the last "
          "but those in flight at the kill, which wait out their lease). dup: sends beyond one per recipient. "
          "reply: a citizen's reply committed mid-broadcast until the channel had it. "
          "peak MB: the bot process's peak resident memory; start MB: its memory once up and sending. "
          "bot CPU: the bot process's CPU time over the run's time (after a restart: the second process's).")


if __name__ == "__main__":
    main()
