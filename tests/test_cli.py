"""The ``onewindow`` command line, run as a newcomer would run it."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def onewindow(*args: str, stdin: str = "", cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    if "MUTANT_UNDER_TEST" in os.environ:  # `make mutate`: mutmut's mutants live in this process only
        pytest.skip("the command line runs in a process of its own, out of the mutation run's reach")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))}
    environment.update({"DATA_DIR": str(cwd / "data"), "PYTHONPATH": str(ROOT)}, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin, capture_output=True, text=True, cwd=cwd, env=environment, timeout=120,
    )


def test_chat_talks_to_the_bot_in_the_terminal(tmp_path):
    conversation = "\n".join([
        "/start",
        "5",  # English, from the list of languages
        "/location 40.4897 68.7842",  # shares a place near Gulistan
        "1",  # yes, I agree
        "Three days without electricity in our street",
        "yes",
        "/quit",
    ])
    result = onewindow("chat", "--user", "ali", stdin=conversation, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "  5. English" in result.stdout
    assert "I understood this as: Utilities" in result.stdout
    assert "Tracking code:" in result.stdout
    assert (tmp_path / "data" / "onewindow.sqlite3").exists()


@pytest.mark.parametrize("errors", ["strict", "surrogateescape"])  # a UTF-8 locale; the C locale
def test_a_line_cut_in_the_middle_of_a_character_is_kept_and_answered(tmp_path, errors):
    cut = "Нет воды уже неделю".encode()[:-1]  # the terminal cut the last letter in two
    typed = b"/start\n3\n/location 40.4897 68.7842\n1\n" + cut + b"\n/quit\n"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))}
    environment.update(DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT), PYTHONIOENCODING=f"utf-8:{errors}")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--user", "ali"], input=typed, capture_output=True,
                            cwd=tmp_path, env=environment, timeout=120)
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
    assert "Я понял это так: Коммунальн" in result.stdout.decode()
    with sqlite3.connect(tmp_path / "data" / "onewindow.sqlite3") as db:
        assert db.execute("SELECT text FROM message WHERE direction = 'in' ORDER BY id DESC LIMIT 1").fetchone() == ("Нет воды уже недел\ufffd",)


def test_run_with_no_channel_and_no_web_says_what_to_set_and_opens_the_console(tmp_path):
    """(With the web server, it serves the web chat instead: tests/test_webchat.py.)"""
    result = onewindow("run", "--no-web", stdin="hello\n/quit\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "console chat instead" in result.stderr
    assert "Hello! I am onewindow" in result.stdout and "Other language" in result.stdout


def test_classify_prints_one_json_object_a_line(tmp_path):
    result = onewindow("classify", stdin="svet yo'q\n\nNo hay agua\n", cwd=tmp_path)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["category"] for line in lines] == ["utilities", "utilities"]
    assert all(len(line["top3"]) == 3 for line in lines)


def migration_head() -> str:
    from alembic.script import ScriptDirectory
    from alembic.config import Config

    from storage.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_db_upgrade_and_catalog_load(tmp_path):
    upgraded = onewindow("db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"schema revision: {migration_head()}" in upgraded.stdout
    loaded = onewindow("catalog", "load", cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "14 categories, 232 localities, 10 departments, 51 services loaded" in loaded.stdout


def test_settings_come_from_dot_env_and_the_environment_wins(tmp_path):
    from bot.settings import Settings

    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nTELEGRAM_BOT_TOKEN="123:abc"\nWEB_PORT=9000\nDATABASE_URL=\n', "utf-8")
    settings = Settings.load(env_file, environ={"WEB_PORT": "9100"})
    assert settings.telegram_bot_token == "123:abc" and settings.web_port == 9100
    assert settings.database.startswith("sqlite:///") and settings.telegram_api == "https://api.telegram.org"


def test_every_setting_is_documented_in_env_example():
    from dataclasses import fields

    from bot.settings import Settings

    text = (ROOT / ".env.example").read_text("utf-8")
    for f in fields(Settings):
        assert f"{f.name.upper()}=" in text, f"{f.name.upper()} is not in .env.example"


def test_the_first_admin_is_added_from_the_shell_and_works_the_queue_in_the_console(tmp_path):
    added = onewindow("staff", "add", "--console", "nodira", "--role", "admin", "--name", "Nodira", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "Nodira: admin in every department (console:nodira)" in added.stdout
    citizen = onewindow("chat", "--user", "ali", stdin="hello\n5\n/location 40.4897 68.7842\n1\nNo electricity in our street for a week\nyes\n/quit\n", cwd=tmp_path)
    code = citizen.stdout.split("Tracking code: ")[1].split()[0]
    session = onewindow("chat", "--staff", "nodira", stdin=f"/inbox\n/take {code}\n/close {code} Repaired\n/show {code}\n/quit\n", cwd=tmp_path)
    assert session.returncode == 0, session.stderr
    assert f"You have taken {code}" in session.stdout and "History:" in session.stdout

    key = {"EXPORT_PSEUDONYM_KEY": "a-secret-for-the-tests-only"}
    exported = onewindow("export", "events", "--output", str(tmp_path / "events.csv"), cwd=tmp_path, env=key)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader((tmp_path / "events.csv").open(encoding="utf-8")))
    assert [(r["request"], r["kind"], r["to_status"]) for r in rows] == [
        (code, "created", "new"), (code, "assign", "new"), (code, "status", "in_progress"), (code, "status", "resolved"),
    ]
    assert rows[1]["actor_name"] == "" and rows[3]["note"] == "[redacted]"  # pseudonymized by default
    assert rows[0]["actor"] == f"citizen:{rows[0]['citizen']}" and rows[0]["citizen"].startswith("c-")

    full = onewindow("export", "events", "--with-personal-data", "--by", "Nodira", "-o", str(tmp_path / "all.csv"), cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    rows = list(csv.DictReader((tmp_path / "all.csv").open(encoding="utf-8")))
    assert rows[1]["actor_name"] == "Nodira" and rows[3]["note"] == "Repaired"


def test_export_says_in_one_sentence_what_is_wrong(tmp_path):
    missing = onewindow("export", "events", "-o", str(tmp_path / "no" / "such" / "events.csv"), cwd=tmp_path,
                        env={"EXPORT_PSEUDONYM_KEY": "a-secret-for-the-tests-only"})
    assert missing.returncode == 2 and missing.stderr.strip() == f"Cannot write {tmp_path / 'no' / 'such' / 'events.csv'}: the folder {tmp_path / 'no' / 'such'} does not exist."
    no_key = onewindow("export", "events", cwd=tmp_path, env={"EXPORT_PSEUDONYM_KEY": ""})
    assert no_key.returncode == 2 and "Set EXPORT_PSEUDONYM_KEY" in no_key.stderr and len(no_key.stderr.strip().splitlines()) == 1
    not_admin = onewindow("export", "events", "--with-personal-data", "--by", "Mallory", cwd=tmp_path)
    assert not_admin.returncode == 2 and "'Mallory' is not an admin" in not_admin.stderr and not_admin.stdout == ""


def test_someone_not_staff_cannot_open_the_staff_console(tmp_path):
    result = onewindow("chat", "--staff", "mallory", stdin="/inbox\n", cwd=tmp_path)
    assert result.returncode == 2 and "is not staff" in result.stderr


def test_staff_add_says_what_is_wrong(tmp_path):
    assert "No department 'nowhere'" in onewindow("staff", "add", "--console", "x", "--department", "nowhere", cwd=tmp_path).stderr
    assert "numeric user id" in onewindow("staff", "add", "--telegram", "@someone", cwd=tmp_path).stderr


def test_run_says_plainly_when_telegram_cannot_be_reached(tmp_path):
    import socket

    with socket.socket() as closed:  # a loopback port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = onewindow("run", "--no-web", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": "123456:TEST", "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}"})
    assert result.returncode == 1
    assert f"Cannot reach the Telegram Bot API at http://127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder nobody may write in (as root, permissions are no barrier:
    sysfs refuses new files to everyone)."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    return Path("/sys/kernel")


def test_a_store_that_cannot_be_opened_is_one_sentence_and_exit_1(tmp_path):
    import socket

    (tmp_path / "a-file").write_text("not a folder")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    cases = [
        ({"DATA_DIR": str(tmp_path / "a-file")}, "a-file is a file, not a folder (check DATA_DIR)"),
        ({"DATA_DIR": str(_read_only_folder(tmp_path))}, "is DATA_DIR a writable folder?"),
        ({"DATABASE_URL": f"postgresql://someone:s3cret@127.0.0.1:{port}/onewindow"}, f"Cannot connect to the database at postgresql://someone:***@127.0.0.1:{port}/onewindow"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL is not a database URL"),
        ({"DATABASE_URL": "mysql://db/onewindow"}, "DATABASE_URL names a database onewindow does not support"),
    ]
    every_command = [("staff", "list"), ("db", "upgrade"), ("catalog", "load"), ("export", "events", "--with-personal-data"), ("chat",), ("run",)]
    for number, (env, sentence) in enumerate(cases):
        for command in every_command if number == 0 else [("staff", "list"), ("db", "current")]:
            result = onewindow(*command, cwd=tmp_path, env=env)
            assert result.returncode == 1, (command, env, result.stderr)
            assert sentence in result.stderr, (command, env, result.stderr)
            assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
            assert len(result.stderr.strip().splitlines()) <= (8 if command == ("run",) else 1), result.stderr


def test_a_mistake_after_a_command_shows_that_commands_usage(tmp_path):
    result = onewindow("chat", "--usr", "x", cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: onewindow chat" in result.stderr and "unrecognized arguments: --usr x" in result.stderr


def test_ctrl_c_stops_the_chat_at_once(tmp_path):
    import signal
    import time

    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))}
    environment.update({"DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)})
    chat = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=tmp_path, env=environment,
    )
    try:
        assert "onewindow console" in chat.stdout.readline()  # waiting for a line that never comes
        time.sleep(0.3)
        chat.send_signal(signal.SIGINT)
        assert chat.wait(timeout=10) == 130
    finally:
        chat.kill()
        chat.communicate()


def test_the_licence_is_an_spdx_expression():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert project["project"]["license"] == "MIT"  # the table form is deprecated in setuptools
    assert project["build-system"]["requires"] == ["setuptools>=77"]


def test_staff_add_from_the_shell_changes_someone_only_with_update(tmp_path):
    assert onewindow("staff", "add", "--console", "karim", "--department", "utilities", "--name", "Karim", cwd=tmp_path).returncode == 0
    refused = onewindow("staff", "add", "--console", "karim", "--role", "admin", cwd=tmp_path)
    assert refused.returncode == 2
    assert "console:karim is already staff (#1 Karim, caseworker); this would change role caseworker → admin. Add --update" in refused.stderr
    assert "caseworker" in onewindow("staff", "list", cwd=tmp_path).stdout
    updated = onewindow("staff", "add", "--console", "karim", "--role", "admin", "--update", cwd=tmp_path)
    assert updated.returncode == 0 and "#1 Karim: changed role caseworker → admin" in updated.stdout
    listed = onewindow("staff", "list", cwd=tmp_path).stdout
    assert "Karim\tadmin\tutilities" in listed


def test_run_refuses_a_telegram_webhook_without_a_secret(tmp_path):
    env = {"TELEGRAM_BOT_TOKEN": "123456:test-token", "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
           "TELEGRAM_WEBHOOK_SECRET": ""}
    result = onewindow("run", "--no-web", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "TELEGRAM_WEBHOOK_SECRET is empty" in result.stderr
    assert "Traceback" not in result.stderr
