"""No personal data in the logs at INFO and above.

Whole conversations run end to end — signed WhatsApp webhooks through the
real ASGI app and the loopback Twilio, a Telegram chat through the Bot API
emulator and ``onewindow run``'s own code — with every logger at DEBUG, and
through the failure paths where data used to leak: a flow raising with the
message in its error, the store refusing a row (SQL parameters, PostgreSQL's
``DETAIL: Key (…)=(…)``), Twilio answering 500 and refusing the number, a
citizen trying a staff command. No record at INFO or above may carry a
phone number, a Telegram id, a name or the words of a message; DEBUG may."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import text as sql

import bot.engine as engine_module
from bot.commands.run import serve
from bot.settings import Settings
from flows.masking import KeepPersonalDataOut, error_summary, mask
from storage.db import make_engine
from tests.fake_twilio import Phone, fake_twilio, whatsapp_bot  # noqa: F401

ROSA = "+5492215550134"
ROSA_NAME = "Rosa Benítez"
DILNOZA_ID = 5550107301
DILNOZA_NAME = "Dilnozaxon"
WORDS = {
    "whatsapp": "El transformador de la esquina hace chispas desde anoche",
    "boom": "El medidor de gas pierde olor fuerte",
    "store": "Necesito el certificado de domicilio urgente",
    "telegram": "Hisoblagichimiz buzilgan, yordam bering",
}
SECRETS = [ROSA, ROSA[1:], ROSA[4:], str(DILNOZA_ID), "Rosa", "Benítez", DILNOZA_NAME,
           "transformador", "chispas", "medidor", "certificado", "domicilio", "Hisoblagich", "buzilgan"]


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, level: int) -> list[str]:
        formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        return [formatter.format(r) for r in self.records if r.levelno >= level]


@pytest.fixture
def logs():
    collect, root = Collect(), logging.getLogger()
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    yield collect
    root.removeHandler(collect)
    root.setLevel(level)


@pytest.fixture
def failing_flows(monkeypatch):
    """A flow that raises, quoting the message, its sender and their name; and
    a store that refuses a row, with the citizen's number among its values."""
    respond = engine_module.respond

    def flaky(state, msg, view):
        if "medidor" in msg.text or "Hisoblagich" in msg.text:
            raise RuntimeError(f"cannot route {msg.text!r} from {msg.name} at {msg.address}")
        if "certificado" in msg.text:
            view._conn.execute(sql("INSERT INTO identity (address, channel, citizen_id) VALUES (:a, 'whatsapp', NULL)"), {"a": msg.address})
        return respond(state, msg, view)

    monkeypatch.setattr(engine_module, "respond", flaky)


def leaks(lines: list[str]) -> list[tuple[str, str]]:
    return [(secret, line) for line in lines for secret in SECRETS if secret in line]


async def test_a_conversation_on_both_channels_leaves_no_personal_data_in_the_logs(
    database_url, fake_twilio, telegram_emulator, logs, failing_flows,  # noqa: F811
):
    async with whatsapp_bot(database_url, fake_twilio) as bot:
        rosa = Phone(bot, ROSA, ROSA_NAME)
        await rosa.onboard("4", -34.92, -57.95)  # Español, near La Plata
        fake_twilio.fail_next(500, 20500, "Internal Server Error")
        await rosa.send(WORDS["whatsapp"])
        await rosa.send("1")  # yes, file it
        fake_twilio.fail_next(400, 21211, f"The 'To' number {ROSA} is not a valid phone number.")
        await rosa.send(WORDS["boom"])  # the flow raises; the apology's send is refused
        await rosa.send(WORDS["store"])  # the store refuses a row
        await rosa.send("/inbox")  # a staff command from a citizen

    token = telegram_emulator.new_token()
    settings = Settings(database_url=database_url, telegram_bot_token=token,
                        telegram_api_base_url=telegram_emulator.url, telegram_poll_interval=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, web=False, stop=stop))
    try:
        dilnoza = telegram_emulator.user(token, DILNOZA_ID, DILNOZA_NAME, language_code="uz")
        await dilnoza.send("/start")
        await dilnoza.wait_for(lambda m: any("Sirdaryo" in b for b in m.button_texts))  # her app is in Uzbek
        await dilnoza.send(WORDS["telegram"])  # the flow raises
        await dilnoza.wait_for("Kechirasiz")  # the apology
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)

    loud = logs.lines(logging.INFO)
    assert leaks(loud) == []
    # The failures were logged, masked and with their codes: the test saw what it guards.
    said = "\n".join(loud)
    assert said.count(f"from whatsapp:{mask(ROSA)}: ") == 2 and said.count("could not handle message") == 3
    assert "RuntimeError at test_private_logs.py" in said and "IntegrityError/" in said
    assert "not delivered (Twilio 20500 (HTTP 500))" in said and "failed (Twilio 21211 (HTTP 400))" in said
    assert f"staff command /inbox from whatsapp:{mask(ROSA)}, who is not staff" in said
    assert f"telegram:{mask(str(DILNOZA_ID))}" in said
    # DEBUG keeps the details for whoever turns it on.
    assert any("medidor" in line for line in logs.lines(logging.DEBUG))


def test_the_store_never_puts_statement_parameters_in_its_errors(database):
    with pytest.raises(Exception) as raised:
        with database.begin() as conn:
            conn.execute(sql("INSERT INTO identity (address, channel, citizen_id) VALUES (:a, 'whatsapp', NULL)"), {"a": f"whatsapp:{ROSA}"})
    assert "parameters hidden" in str(raised.value)
    assert ROSA not in str(raised.value).split("[SQL:")[1]  # PostgreSQL's own DETAIL may quote it: summaries leave it out
    assert ROSA not in error_summary(raised.value) and "IntegrityError" in error_summary(raised.value)
    assert make_engine("sqlite://").hide_parameters


def test_the_log_handlers_mask_what_other_libraries_log():
    record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application for %s", (f"whatsapp:{ROSA}",), None)
    try:
        raise ValueError(f"{ROSA_NAME} wrote {WORDS['whatsapp']} from {ROSA} (telegram:{DILNOZA_ID})")
    except ValueError as error:
        record.exc_info = (type(error), error, error.__traceback__)
    KeepPersonalDataOut().filter(record)
    line = logging.Formatter().format(record)
    assert leaks([line]) == [] and f"whatsapp:{mask(ROSA)}" in line and "ValueError at test_private_logs.py" in line
    debug = logging.LogRecord("x", logging.DEBUG, __file__, 1, "to %s", (f"whatsapp:{ROSA}",), None)
    KeepPersonalDataOut().filter(debug)
    assert ROSA in debug.getMessage()
