"""One bot per SQLite store: a second ``onewindow run`` on the same file is
refused with the reason, whoever holds it, until the first one ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from bot.commands.run import serve
from bot.one_process import AnotherBotRunning, lock_path, only_bot
from bot.settings import Settings

HOLD = "import sys, time; from bot.one_process import only_bot\nwith only_bot(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)"


def test_a_second_bot_on_one_sqlite_store_is_refused_and_told_why(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    with only_bot(url):
        with pytest.raises(AnotherBotRunning) as refused:
            with only_bot(url):
                pass
    assert f"process {os.getpid()}" in str(refused.value) and "PostgreSQL" in str(refused.value)
    with only_bot(url):  # the first ended: the store is free again
        pass
    with only_bot(f"sqlite:///{tmp_path / 'other.sqlite3'}"), only_bot(url):  # another store is another lock
        pass


def test_a_bot_in_another_process_holds_the_store_until_it_dies(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    other = subprocess.Popen([sys.executable, "-c", HOLD, url], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        assert other.stdout.readline().strip() == "held"
        with pytest.raises(AnotherBotRunning, match=f"process {other.pid}"):
            with only_bot(url):
                pass
    finally:
        other.send_signal(signal.SIGKILL)  # a crash: the system lets go of its lock
        other.wait()
    with only_bot(url):
        pass


async def test_onewindow_run_refuses_before_starting_anything(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with only_bot(settings.database):
        with pytest.raises(AnotherBotRunning):
            await serve(settings, web=False)
    assert not (tmp_path / "store.sqlite3").exists()  # refused before the store was even opened


def test_postgresql_and_memory_stores_take_no_lock():
    assert lock_path("postgresql://postgres@127.0.0.1:5432/test") is None
    assert lock_path("sqlite://") is None and lock_path("sqlite:///:memory:") is None
    assert lock_path("sqlite:///data/onewindow.sqlite3").name == "onewindow.sqlite3.lock"


async def test_a_second_bot_polling_one_telegram_token_is_named_in_the_log(telegram_emulator, tmp_path, caplog):
    """Telegram ends one of two long polls with 409 'terminated by other getUpdates request': the bot says what it means."""
    import asyncio

    from handlers.telegram_inbox import SECOND_POLLER

    token = telegram_emulator.new_token()
    stop = asyncio.Event()
    bots = [
        asyncio.create_task(serve(Settings(database_url=f"sqlite:///{tmp_path / f'bot{n}.sqlite3'}", telegram_bot_token=token,
                                           telegram_api_base_url=telegram_emulator.url, telegram_poll_interval=0.05),
                                  web=False, stop=stop))
        for n in (1, 2)
    ]
    try:
        for _ in range(200):
            if any(SECOND_POLLER in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.05)
        said = [r for r in caplog.records if SECOND_POLLER in r.getMessage()]
        assert said and all(r.levelname == "ERROR" for r in said)
        assert len(said) <= 2  # once per bot, not at every retry
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*bots), 20)


def test_with_web_reuse_port_several_processes_may_listen_on_one_port():
    """WEB_REUSE_PORT=on: a second listener on the same port binds too (the
    kernel shares the connections); without it the second is refused."""
    import socket

    from bot.commands.run import _listeners
    from bot.settings import Settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    shared = Settings(web_host="127.0.0.1", web_port=port, web_reuse_port="on")
    first, second = _listeners(shared)[0], _listeners(shared)[0]
    try:
        first.listen()
        second.listen()
        assert first.getsockname() == second.getsockname() == ("127.0.0.1", port)
        assert _listeners(Settings(web_host="127.0.0.1", web_port=port)) is None  # uvicorn binds alone
        with socket.socket() as alone, pytest.raises(OSError):
            alone.bind(("127.0.0.1", port))  # what a process without the option meets
    finally:
        first.close()
        second.close()
