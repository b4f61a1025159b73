"""The bot caps glibc's malloc arenas, so a long broadcast's worker threads
do not each keep their own half-empty heap."""

import os
import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")

BUSY_THREADS = textwrap.dedent("""
    import ctypes, sys, threading
    from bot.memory import fewer_malloc_arenas
    capped = fewer_malloc_arenas() if sys.argv[1] == "cap" else False
    start = threading.Barrier(8)
    def allocate():
        start.wait()
        kept = [bytearray(200) for _ in range(20000)]  # outside pymalloc: malloc itself
        start.wait()
    threads = [threading.Thread(target=allocate) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(capped, flush=True)
    ctypes.CDLL(None).malloc_stats()  # glibc writes one "Arena N:" block per arena to stderr
""")


def arenas(mode: str, **env) -> tuple[str, int]:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run([sys.executable, "-c", BUSY_THREADS, mode], capture_output=True, text=True, env=environment,
                          cwd=os.path.dirname(os.path.dirname(__file__)), timeout=60, check=True)
    return done.stdout.strip(), done.stderr.count("Arena ")


def test_eight_busy_threads_share_two_arenas_once_capped():
    assert arenas("cap") == ("True", 2)


def test_without_the_cap_the_same_threads_spread_over_more_arenas():
    """What the cap is for: the same program, uncapped, uses more."""
    said, count = arenas("plain")
    assert said == "False" and count > 2


def test_an_operators_malloc_arena_max_is_left_alone():
    said, count = arenas("cap", MALLOC_ARENA_MAX="4")
    assert said == "False" and count <= 4


def test_onewindow_run_caps_the_arenas_before_it_starts(monkeypatch):
    from bot.commands import run as run_command

    calls = []
    monkeypatch.setattr(run_command, "fewer_malloc_arenas", lambda: calls.append("capped"))
    monkeypatch.setattr(run_command, "serve", lambda *a, **k: _nothing())
    monkeypatch.setattr(run_command.Settings, "load", classmethod(lambda cls: _telegram_settings()))
    assert run_command.run(run_command.argparse.Namespace(no_web=True)) == 0
    assert calls == ["capped"]


async def _nothing():
    return None


def _telegram_settings():
    from bot.settings import Settings

    return Settings(telegram_bot_token="123456:TEST")
