"""``onewindow run``: every channel whose credentials are set, the outbox
and the web server, in one process and one event loop."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import socket
import sys
from dataclasses import dataclass

from bot.memory import fewer_malloc_arenas
from bot.one_process import AnotherBotRunning, only_bot
from bot.settings import Settings
from bot.wiring import build, configure_logging

help = "run the bot: every configured channel, the outbox and the web server"
log = logging.getLogger("onewindow")
GRACE_SECONDS = 30  # how long webhooks in flight may take to finish when stopping

NOTHING_CONFIGURED = """\
No channel is configured, so there is nobody to talk to but you.
To connect Telegram, set TELEGRAM_BOT_TOKEN (from @BotFather) in .env or the
environment; for WhatsApp, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
TWILIO_WHATSAPP_FROM. See .env.example for every setting.
"""
TRY_IN_A_BROWSER = """\
Open {url}/chat in a browser to talk to the bot as a citizen (each browser is
another citizen). For the staff's side: onewindow staff add --console NAME
--role admin --name NAME, then onewindow staff link NAME opens the dashboard.
Or talk in this terminal instead: onewindow chat. Ctrl-C stops the bot.
"""
CONSOLE_INSTEAD = "Opening the console chat instead: you are a citizen writing to the bot.\n"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-web", action="store_true", help="do not start the web server")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    configure_logging(settings.log_level)
    if settings.twilio_account_sid and not settings.whatsapp_enabled:
        log.warning("WhatsApp is off: TWILIO_ACCOUNT_SID must look like AC + 32 hex digits, with TWILIO_AUTH_TOKEN and a sender")
    if not settings.telegram_enabled and not settings.whatsapp_enabled:
        print(NOTHING_CONFIGURED, file=sys.stderr)
        if args.no_web or settings.web_chat == "off":
            print(CONSOLE_INSTEAD, file=sys.stderr)
            from bot.commands import chat

            return chat.run(argparse.Namespace(user="you", staff=None, language=None))
        announce = TRY_IN_A_BROWSER.format(url=settings.web_url)
    else:
        announce = None
    fewer_malloc_arenas()  # before the first thread: see bot/memory.py
    try:
        asyncio.run(serve(settings, web=not args.no_web, announce=announce))
    except (StartupError, AnotherBotRunning) as problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


class StartupError(Exception):
    """A setting that keeps the bot from starting, said plainly."""


WEBHOOK_WITHOUT_SECRET = (
    "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is empty: without a secret anyone could post "
    "updates to /telegram, so the bot will not start. Set TELEGRAM_WEBHOOK_SECRET to a long random string "
    "(letters, digits, _ and -), or remove TELEGRAM_WEBHOOK_URL to use long polling."
)


def check_startup(settings: Settings) -> None:
    """Refuse, before anything starts, settings that would run but not work."""
    if settings.telegram_enabled and settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        raise StartupError(WEBHOOK_WITHOUT_SECRET)


async def serve(settings: Settings, *, web: bool = True, stop: asyncio.Event | None = None, announce: str | None = None) -> None:
    """Run until ``stop`` (SIGINT or SIGTERM), then stop in the order of
    :func:`_shut_down`. ``announce``: said once the web server listens."""
    check_startup(settings)
    with only_bot(settings.database):
        await _serve(settings, web=web, stop=stop, announce=announce)


async def _serve(settings: Settings, *, web: bool, stop: asyncio.Event | None, announce: str | None = None) -> None:
    stop = stop or _stop_on_signals()
    bot = build(settings)
    telegram = await _start_telegram(settings, bot, stop) if settings.telegram_enabled else None
    whatsapp = _start_whatsapp(settings, bot) if settings.whatsapp_enabled else None
    webhook = telegram is not None and bool(settings.telegram_webhook_url)
    # What start-up built (the catalogue, the classifier's vocabulary, the
    # libraries) lives as long as the process: out of the collector's sight,
    # a full collection takes a millisecond instead of a tenth of a second
    # that would hold every send in flight.
    gc.freeze()
    server = None
    if web or webhook or whatsapp:  # WhatsApp only ever arrives by webhook
        server = _web_server(settings, bot, telegram.inbox if webhook else None, whatsapp)
    outbox = asyncio.create_task(bot.outbox.run(), name="outbox")
    bot.scheduler.start()
    serving = asyncio.create_task(server.serve(sockets=_listeners(settings)), name="web") if server else None
    try:
        if announce and serving is not None:
            while not server.started and not serving.done() and not stop.is_set():
                await asyncio.sleep(0.05)
            if server.started:
                print(announce, file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        await _shut_down(bot, telegram, whatsapp, server, serving, outbox)


async def _shut_down(bot, telegram, whatsapp, server, serving, outbox) -> None:
    """Stop without losing or half-doing anything, in this order:

    1. take no new work: the web server closes its listener (new webhooks
       find nobody; Telegram and Twilio send them again) and long polling
       stops asking for updates;
    2. finish what is in flight: webhooks being handled get their answer,
       polled updates already stored are confirmed to Telegram, and the
       updates being handled are finished (the ones still queued stay in
       the store and are handled on the next start);
    3. the scheduler starts no new job and lets the one running finish;
    4. the outbox finishes the sends in progress and puts back in the queue
       what it claimed and did not send;
    5. the channels' clients close, and last the store.
    """
    if server is not None:
        server.should_exit = True
    if telegram is not None and telegram.poller is not None:
        await telegram.poller  # sees the stop event itself
    if serving is not None:
        await asyncio.gather(serving, return_exceptions=True)
    if telegram is not None:
        await telegram.inbox.stop()
    await bot.scheduler.stop()
    bot.outbox.stop()
    await asyncio.gather(outbox, return_exceptions=True)
    if telegram is not None:
        await telegram.application.shutdown()
    if whatsapp is not None:
        await whatsapp.close()
    bot.database.dispose()


def _start_whatsapp(settings: Settings, bot):
    from handlers.whatsapp import connect

    whatsapp = connect(
        bot.engine, bot.outbox, bot.database,
        account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token,
        public_url=settings.twilio_public, sender=settings.twilio_whatsapp_from,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        status_callback=settings.twilio_status_callback_url, templates=settings.whatsapp_template_sids,
        per_second=settings.whatsapp_per_second,
        api_base_url=settings.twilio_api_base_url,
    )
    if not settings.twilio_public:
        log.warning("TWILIO_PUBLIC_URL is not set: signatures are checked against the URL rebuilt from X-Forwarded-* headers")
    log.info("WhatsApp: webhook at %s/whatsapp, templates for %s", settings.twilio_public or "<public URL>",
             ", ".join(sorted(settings.whatsapp_template_sids)) or "nothing")
    return whatsapp


@dataclass
class _Telegram:
    application: object  # python-telegram-bot's Application: its bot sends and reads
    inbox: object  # handlers.telegram_inbox.TelegramInbox
    poller: asyncio.Task | None  # long polling, when there is no webhook


async def _start_telegram(settings: Settings, bot, stop: asyncio.Event) -> _Telegram:
    from telegram.error import InvalidToken, NetworkError

    from bot.privacy import file_for_upload
    from handlers.telegram import TelegramSender, build_application
    from handlers.telegram_inbox import TelegramInbox

    application = build_application(settings.telegram_bot_token, settings.telegram_api)
    try:
        await application.initialize()
    except InvalidToken as error:
        raise StartupError(f"Telegram refused TELEGRAM_BOT_TOKEN ({error}). Check the token with @BotFather.") from error
    except NetworkError as error:
        raise StartupError(
            f"Cannot reach the Telegram Bot API at {settings.telegram_api} ({error}). "
            "Check the network, or TELEGRAM_API_BASE_URL if you use a local Bot API server."
        ) from error
    bot.outbox.add_sender(TelegramSender(application.bot, files=file_for_upload(bot.database), per_second=settings.telegram_per_second))
    inbox = TelegramInbox(application.bot, bot.engine, bot.database)
    if waiting := await inbox.start():
        log.info("Telegram: %d updates stored before a restart are being handled", waiting)
    poller = None
    if settings.telegram_webhook_url:
        await application.bot.set_webhook(settings.telegram_webhook_url, secret_token=settings.telegram_webhook_secret or None)
        log.info("Telegram: webhook at %s", settings.telegram_webhook_url)
    else:
        await application.bot.delete_webhook()
        poller = asyncio.create_task(inbox.poll(stop, interval=settings.telegram_poll_interval), name="telegram-polling")
        log.info("Telegram: long polling")
    return _Telegram(application, inbox, poller)


def _web_server(settings: Settings, bot, telegram_inbox, whatsapp):
    import uvicorn

    from bot.web import create_app

    open311 = None
    if settings.open311 != "off":
        from bot.open311 import GeoReport
        from handlers.open311 import Open311Api

        open311 = Open311Api(GeoReport(bot.database, bot.engine.catalog))
    app = create_app(bot, telegram_inbox, settings.telegram_webhook_secret, whatsapp, open311, dashboard(settings, bot),
                     web_chat(settings, bot))
    config = uvicorn.Config(
        app, host=settings.web_host, port=settings.web_port, log_level="warning", lifespan="off",
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # the runner owns the signals
    log.info("web server on http://%s:%s", settings.web_host, settings.web_port)
    return server


def web_chat(settings: Settings, bot):
    """The citizens' web chat, and its sender in the outbox (None with ``WEB_CHAT=off``)."""
    if settings.web_chat == "off":
        return None
    from handlers.webchat import WebChat, WebChatSender

    bot.outbox.add_sender(WebChatSender())
    return WebChat(bot.engine, bot.database, chat_files(settings))


def chat_files(settings: Settings):
    from pathlib import Path

    return Path(settings.data_dir) / "chat-files"


def dashboard(settings: Settings, bot):
    from bot.dashboard import Dashboard, Sessions

    if not settings.dashboard_secret:
        log.warning("DASHBOARD_SECRET is empty: dashboard sessions end when this process stops, and other processes do not share them")
    sessions = Sessions(settings.dashboard_secret, secure=settings.web_url.startswith("https://"))
    return Dashboard(bot.database, bot.engine.catalog, bot.engine.desk, sessions, settings.export_pseudonym_key, chat_files(settings))


def _listeners(settings: Settings) -> list[socket.socket] | None:
    """With ``WEB_REUSE_PORT=on``, a listening socket that other processes
    on this machine may bind too (SO_REUSEPORT): the kernel spreads the
    connections among them, with no proxy in front. None: uvicorn binds
    ``WEB_HOST:WEB_PORT`` itself, alone."""
    if not settings.reuse_port:
        return None
    family = socket.AF_INET6 if ":" in settings.web_host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((settings.web_host, settings.web_port))
    return [listener]


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
