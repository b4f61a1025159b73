"""``onewindow classify``: lines in, one JSON object per line out."""

from __future__ import annotations

import argparse
import io
import json
import sys

from bot.commands import classify


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    classify.configure(parser)
    return parser.parse_args(argv)


def lines_of(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def check(row: dict, text: str, category: str, intent: str = "request") -> None:
    assert set(row) == {"text", "category", "score", "top3", "intent"}
    assert (row["text"], row["category"], row["intent"]) == (text, category, intent)
    assert isinstance(row["score"], float) and 0 < row["score"] <= 100
    assert len(row["top3"]) == 3 and row["top3"][0] == [category, row["score"]]


def test_it_classifies_each_line_of_a_file_skipping_blank_ones(tmp_path, capsys):
    path = tmp_path / "messages.txt"
    path.write_text("svet yo'q 3 kundan beri\n\n   \nпотерял паспорт\r\nhay un bache enorme\n", encoding="utf-8")
    assert classify.run(parse([str(path)])) == 0
    out = capsys.readouterr().out
    rows = lines_of(out)
    assert len(rows) == 3
    check(rows[0], "svet yo'q 3 kundan beri", "utilities")
    check(rows[1], "потерял паспорт", "id_documents")
    check(rows[2], "hay un bache enorme", "roads_infrastructure")
    assert "потерял" in out  # not \\u-escaped


def test_it_reads_stdin_by_default_and_with_a_dash(monkeypatch, capsys):
    for argv in ([], ["-"]):
        monkeypatch.setattr(sys, "stdin", io.StringIO("Нет воды\nhello\n"))
        assert classify.run(parse(argv)) == 0
        rows = lines_of(capsys.readouterr().out)
        check(rows[0], "Нет воды", "utilities")
        check(rows[1], "hello", "other", "other")  # a greeting is "other", and says so


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path, capsys):
    assert classify.run(parse([str(tmp_path / "nope.txt")])) == 1
    assert "nope.txt" in capsys.readouterr().err


def test_the_module_has_the_command_interface():
    assert isinstance(classify.help, str) and "\n" not in classify.help
    assert parse([]).file == "-"
