"""``onewindow run``: every channel whose credentials are set, the outbox
and the web server, in one process and one event loop."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.settings import Settings
from bot.wiring import build, configure_logging

help = "run the bot: every configured channel, the outbox and the web server"
log = logging.getLogger("onewindow")

NOTHING_CONFIGURED = """\
No channel is configured, so there is nobody to talk to but you.
To connect Telegram, set TELEGRAM_BOT_TOKEN (from @BotFather) in .env or the
environment; for WhatsApp, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
TWILIO_WHATSAPP_FROM. See .env.example for every setting.
Opening the console chat instead: you are a citizen writing to the bot.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-web", action="store_true", help="do not start the web server")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    configure_logging(settings.log_level)
    if settings.twilio_account_sid and not settings.whatsapp_enabled:
        log.warning("WhatsApp is off: TWILIO_ACCOUNT_SID must look like AC + 32 hex digits, with TWILIO_AUTH_TOKEN and a sender")
    if not settings.telegram_enabled and not settings.whatsapp_enabled:
        print(NOTHING_CONFIGURED, file=sys.stderr)
        from bot.commands import chat

        return chat.run(argparse.Namespace(user="you", staff=None, language=None))
    try:
        asyncio.run(serve(settings, web=not args.no_web))
    except StartupError as problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


class StartupError(Exception):
    """A setting that keeps the bot from starting, said plainly."""


async def serve(settings: Settings, *, web: bool = True, stop: asyncio.Event | None = None) -> None:
    stop = stop or _stop_on_signals()
    bot = build(settings)
    telegram = await _start_telegram(settings, bot) if settings.telegram_enabled else None
    whatsapp = _start_whatsapp(settings, bot) if settings.whatsapp_enabled else None
    webhook = telegram is not None and bool(settings.telegram_webhook_url)
    tasks = [asyncio.create_task(bot.outbox.run(), name="outbox")]
    bot.scheduler.start()
    if web or webhook or whatsapp:  # WhatsApp only ever arrives by webhook
        tasks.append(asyncio.create_task(_web(settings, bot, telegram, whatsapp), name="web"))
    try:
        await stop.wait()
    finally:
        bot.scheduler.shutdown()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if telegram is not None:
            await _stop_telegram(telegram)
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
        api_base_url=settings.twilio_api_base_url,
    )
    if not settings.twilio_public:
        log.warning("TWILIO_PUBLIC_URL is not set: signatures are checked against the URL rebuilt from X-Forwarded-* headers")
    log.info("WhatsApp: webhook at %s/whatsapp, templates for %s", settings.twilio_public or "<public URL>",
             ", ".join(sorted(settings.whatsapp_template_sids)) or "nothing")
    return whatsapp


async def _start_telegram(settings: Settings, bot):
    from telegram.error import InvalidToken, NetworkError

    from bot.privacy import file_for_upload
    from handlers.telegram import TelegramSender, build_application

    webhook = bool(settings.telegram_webhook_url)
    telegram = build_application(settings.telegram_bot_token, settings.telegram_api, bot.engine, webhook=webhook)
    try:
        await telegram.initialize()
    except InvalidToken as error:
        raise StartupError(f"Telegram refused TELEGRAM_BOT_TOKEN ({error}). Check the token with @BotFather.") from error
    except NetworkError as error:
        raise StartupError(
            f"Cannot reach the Telegram Bot API at {settings.telegram_api} ({error}). "
            "Check the network, or TELEGRAM_API_BASE_URL if you use a local Bot API server."
        ) from error
    bot.outbox.add_sender(TelegramSender(telegram.bot, files=file_for_upload(bot.database)))
    await telegram.start()
    if webhook:
        await telegram.bot.set_webhook(settings.telegram_webhook_url, secret_token=settings.telegram_webhook_secret or None)
        log.info("Telegram: webhook at %s", settings.telegram_webhook_url)
    else:
        await telegram.bot.delete_webhook()
        await telegram.updater.start_polling(poll_interval=settings.telegram_poll_interval)
        log.info("Telegram: long polling")
    return telegram


async def _stop_telegram(telegram) -> None:
    if telegram.updater and telegram.updater.running:
        await telegram.updater.stop()
    await telegram.stop()
    await telegram.shutdown()


async def _web(settings: Settings, bot, telegram, whatsapp=None) -> None:
    import uvicorn

    from bot.web import create_app

    app = create_app(bot, telegram, settings.telegram_webhook_secret, whatsapp)
    config = uvicorn.Config(app, host=settings.web_host, port=settings.web_port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # the runner owns the signals
    log.info("web server on http://%s:%s", settings.web_host, settings.web_port)
    await server.serve()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
