"""Announcements: a supervisor writes one for the people of a place, sees
who it will reach, confirms it; each person gets it once, in their
language, never at night and never after saying STOP; it can be followed
and cancelled; bazaar days come back on their own, once each."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot import broadcasting
from notifications import bazaar
from notifications.broadcasts import write_due
from storage import broadcasts as store
from storage.db import session_scope
from storage.models import BazaarDay, Broadcast, Message
from tests.conversation import Chat
from tests.test_conversations import onboard
from tests.test_staff import ana, staff  # noqa: F401

TASHKENT, BUENOS_AIRES = timezone(timedelta(hours=5)), timezone(timedelta(hours=-3))
GULISTAN, LA_PLATA = (40.4897, 68.7842), (-34.9214, -57.9544)
DAYTIME = datetime(2031, 3, 4, 10, 0, tzinfo=TASHKENT)  # a Tuesday morning in Gulistan


def citizen(engine, name: str, language: str = "English", where=GULISTAN) -> Chat:
    chat = Chat(engine, name)
    chat.send("/start")
    chat.press(language)
    chat.share_location(*where)
    chat.press("yes" if language == "English" else chat.choices[0])
    return chat


def announcement_id(text: str) -> int:
    return int(re.search(r"#(\d+)", text).group(1))


def outbox_of(database, broadcast_id: int) -> dict[str, Message]:
    with session_scope(database) as session:
        rows = session.exec(select(Message).where(Message.broadcast_id == broadcast_id).order_by(Message.id)).all()
        return {row.address: row for row in rows}


def broadcasts_in(database) -> int:
    with session_scope(database) as session:
        return len(session.exec(select(Broadcast)).all())


def test_a_supervisor_previews_confirms_and_each_person_gets_it_once_in_their_language(engine, database, catalog, staff, ana):  # noqa: F811
    olim = citizen(engine, "olim", "Русский")
    rosa = citizen(engine, "rosa", "Español")  # no Spanish text: she gets the fallback
    far = citizen(engine, "far", "English", LA_PLATA)  # lives elsewhere: not in the audience
    sara = Chat(engine, "sara")

    sara.send("/broadcast place Guliston | en: Bazaar day tomorrow: the mobile office is at the market. | ru: Завтра базарный день.")
    preview = sara.text
    number = announcement_id(preview)
    assert "a draft, nothing is sent yet" in preview and "Reaches: 3 (" in preview
    assert "en 2" in preview and "ru 1" in preview and f"/broadcast confirm {number}" in preview
    assert write_due(database, catalog, DAYTIME) == 0 and outbox_of(database, number) == {}  # nothing before the confirmation

    sara.send(f"/broadcast confirm {number}")
    assert f"Announcement #{number} confirmed" in sara.text
    assert write_due(database, catalog, DAYTIME) == 3
    sent = outbox_of(database, number)
    assert set(sent) == {ana.address, olim.address, rosa.address} and far.address not in sent
    assert sent[olim.address].text == "Завтра базарный день."
    assert sent[ana.address].text.startswith("Bazaar day tomorrow") and sent[rosa.address].text.startswith("Bazaar day tomorrow")
    assert {row.payload["template"] for row in sent.values()} == {"broadcast"} and {row.priority for row in sent.values()} == {1}

    assert write_due(database, catalog, DAYTIME + timedelta(minutes=1)) == 0  # written once, whoever runs the job again
    sara.send(f"/broadcast status {number}")
    assert "queued, now" in sara.text and "Written to the outbox: 3" in sara.text and "Queued 3 · sent 0" in sara.text


def test_announcements_wait_out_the_night_in_each_recipients_own_time_zone(engine, database, catalog, staff, ana):  # noqa: F811
    far = citizen(engine, "far", "English", LA_PLATA)
    night_in_gulistan = datetime(2031, 3, 4, 23, 30, tzinfo=TASHKENT)  # 15:30 in Buenos Aires
    with session_scope(database) as session:
        quiet, _ = broadcasting.create(session, broadcasting.read(catalog, "all | en: Vaccination on Saturday", "en"), "test")
        loud, _ = broadcasting.create(session, broadcasting.read(catalog, "all | en: Flood warning: leave the river bank | urgent", "en"), "test")
        for item in (quiet, loud):
            broadcasting.confirm(session, item.id, "test")
        quiet_id, loud_id = quiet.id, loud.id
    write_due(database, catalog, night_in_gulistan)

    waiting = outbox_of(database, quiet_id)
    assert waiting[ana.address].next_attempt_at == datetime(2031, 3, 5, 8, 0, tzinfo=TASHKENT)
    assert waiting[far.address].next_attempt_at is None  # the afternoon in Buenos Aires
    assert {row.next_attempt_at for row in outbox_of(database, loud_id).values()} == {None}  # urgent: now, everywhere


def test_a_citizen_who_said_stop_is_skipped_on_the_record(engine, database, catalog, staff, ana):  # noqa: F811
    ana.send("STOP")
    sara = Chat(engine, "sara")
    sara.send("/broadcast place Guliston | en: Bazaar tomorrow")
    number = announcement_id(sara.text)
    assert "skipped 1" in sara.text and "Reaches: 0" in sara.text
    sara.send(f"/broadcast confirm {number}")
    write_due(database, catalog, DAYTIME)
    row = outbox_of(database, number)[ana.address]
    assert (row.status, row.error) == ("skipped", "the citizen opted out of announcements")
    sara.send(f"/broadcast status {number}")
    assert "skipped (said STOP) 1" in sara.text


def test_cancel_stops_what_has_not_gone_and_a_cancelled_draft_writes_nothing(engine, database, catalog, staff, ana):  # noqa: F811
    olim = citizen(engine, "olim", "Русский")
    rosa = citizen(engine, "rosa", "Español")
    sara = Chat(engine, "sara")
    sara.send("/broadcast all | en: Water cut on Friday | ru: В пятницу не будет воды")
    number = announcement_id(sara.text)
    sara.send(f"/broadcast confirm {number}")
    write_due(database, catalog, DAYTIME)
    with session_scope(database) as session:  # one went out before the cancel
        row = session.exec(select(Message).where(Message.broadcast_id == number, Message.address == olim.address)).one()
        row.status = "sent"
        held = session.exec(select(Message).where(Message.broadcast_id == number, Message.address == rosa.address)).one()
        held.status = "held"  # waiting for her WhatsApp window: not sent, so stopped too

    sara.send(f"/broadcast cancel {number}")
    assert f"Announcement #{number} cancelled; 2 messages not sent." in sara.text
    rows = outbox_of(database, number)
    assert [rows[p.address].status for p in (ana, olim, rosa)] == ["cancelled", "sent", "cancelled"]
    sara.send(f"/broadcast cancel {number}")
    assert "nothing left to stop" in sara.text

    sara.send("/broadcast all | en: Draft never sent")
    draft = announcement_id(sara.text)
    sara.send(f"/broadcast cancel {draft}")
    sara.send(f"/broadcast confirm {draft}")
    assert "already cancelled" in sara.text
    write_due(database, catalog, DAYTIME)
    assert outbox_of(database, draft) == {}


@pytest.mark.parametrize("line, answer", [
    ("/broadcast | en: hello", "Say who it is for: all, place NAME"),
    ("/broadcast lang uz", "Usage:"),
    ("/broadcast place Guliston | en:", "The announcement has no text."),
    ("/broadcast place Guliston |", "The announcement has no text."),
    ("/broadcast place Atlantis | en: hello", "I do not know the place «Atlantis»."),
    ("/broadcast everyone | en: hello", "I cannot read «everyone» as an audience."),
    ("/broadcast lang klingon | en: hello", "«klingon» is not one of our languages"),
    ("/broadcast category nonsense | en: hello", "«nonsense» is not a category code."),
    ("/broadcast numbers +99890 | en: hello", "«+99890» is neither a phone number"),
    ("/broadcast all | en: hello | at 2020-01-01 09:00", "2020-01-01 09:00 has passed."),
    ("/broadcast all | en: hello | at tomorrow", "I cannot read the time «tomorrow»."),
    ("/broadcast all | en: hello | fallback ru", "The fallback language ru has no text."),
    ("/broadcast confirm 999", "There is no announcement #999."),
    ("/broadcast status abc", "There is no announcement #abc."),
])
def test_bad_input_gets_a_clear_answer_and_creates_nothing(engine, database, staff, line, answer):  # noqa: F811
    sara = Chat(engine, "sara")
    sara.send(line)
    assert answer in sara.text, sara.text
    assert broadcasts_in(database) == 0


def test_a_caseworker_may_not_broadcast(engine, database, staff, ana):  # noqa: F811
    karim = Chat(engine, "karim")
    karim.send("/broadcast all | en: hello")
    assert "/broadcast needs the role supervisor" in karim.text
    assert broadcasts_in(database) == 0


def test_a_scheduled_announcement_waits_for_its_time_read_in_the_places_clock(engine, database, catalog, staff, ana):  # noqa: F811
    sara = Chat(engine, "sara")
    sara.send("/broadcast place Guliston | en: Census next week | at 2031-03-05 09:30")
    number = announcement_id(sara.text)
    assert "When: 2031-03-05 09:30 (Asia/Tashkent)" in sara.text
    sara.send(f"/broadcast confirm {number}")
    assert write_due(database, catalog, datetime(2031, 3, 5, 9, 29, tzinfo=TASHKENT)) == 0
    assert write_due(database, catalog, datetime(2031, 3, 5, 9, 30, tzinfo=TASHKENT)) == 1


def test_a_crash_between_batches_loses_nobody_and_doubles_nobody(engine, database, catalog, staff, ana, monkeypatch):  # noqa: F811
    people = [ana] + [citizen(engine, f"c{i}") for i in range(4)]
    with session_scope(database) as session:
        item, _ = broadcasting.create(session, broadcasting.read(catalog, "all | en: Meeting at the makhalla centre", "en"), "test")
        broadcasting.confirm(session, item.id, "test")
        number = item.id

    real_write, calls = store.write, []

    def dies_on_the_second_batch(session, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real_write(session, rows)

    monkeypatch.setattr(store, "write", dies_on_the_second_batch)
    with pytest.raises(RuntimeError):
        write_due(database, catalog, DAYTIME, batch=2)
    assert len(outbox_of(database, number)) == 2  # the first batch committed with its cursor
    monkeypatch.setattr(store, "write", real_write)

    assert write_due(database, catalog, DAYTIME, batch=2) == 3
    assert set(outbox_of(database, number)) == {p.address for p in people}
    with session_scope(database) as session:
        done = session.get(Broadcast, number)
        assert (done.status, done.recipients) == ("queued", 5)


def test_a_big_audience_is_written_only_a_little_ahead_of_its_sends(engine, database, catalog, staff, ana):  # noqa: F811
    people = [ana] + [citizen(engine, f"c{i}") for i in range(4)]
    with session_scope(database) as session:
        item, _ = broadcasting.create(session, broadcasting.read(catalog, "all | en: Meeting at the makhalla centre", "en"), "test")
        broadcasting.confirm(session, item.id, "test")
        number = item.id

    assert write_due(database, catalog, DAYTIME, batch=2, ahead=2) == 2
    assert write_due(database, catalog, DAYTIME, batch=2, ahead=2) == 0  # two still waiting to go: no more yet
    with session_scope(database) as session:
        for row in session.exec(select(Message).where(Message.broadcast_id == number)):
            row.status = "sent"
            session.add(row)
    assert write_due(database, catalog, DAYTIME, batch=2, ahead=2) == 2
    with session_scope(database) as session:
        for row in session.exec(select(Message).where(Message.broadcast_id == number)):
            row.status = "sent"
            session.add(row)
    assert write_due(database, catalog, DAYTIME, batch=2, ahead=2) == 1
    assert set(outbox_of(database, number)) == {p.address for p in people}
    with session_scope(database) as session:
        assert session.get(Broadcast, number).status == "queued"


def test_a_batch_written_again_adds_nothing(engine, database, catalog, staff, ana):  # noqa: F811
    with session_scope(database) as session:
        item, _ = broadcasting.create(session, broadcasting.read(catalog, "all | en: Hello", "en"), "test")
        broadcasting.confirm(session, item.id, "test")
        number = item.id
    write_due(database, catalog, DAYTIME)
    with session_scope(database) as session:  # as if the cursor had not been saved
        again = session.get(Broadcast, number)
        again.status, again.cursor = "writing", {}
    assert write_due(database, catalog, DAYTIME) == 0
    assert len(outbox_of(database, number)) == 1


def test_channels_of_a_place_get_one_post_each_and_numbers_reach_people_by_their_number(engine, database, catalog, staff, ana):  # noqa: F811
    sara = Chat(engine, "sara")
    sara.send("/channels add -1001234567890 Guliston — Guliston news")
    assert "Chat -1001234567890 now gets the announcements for" in sara.text
    sara.send("/channels add 12345 Guliston")
    assert "is not a group's or channel's id" in sara.text
    sara.send("/channels list")
    assert "-1001234567890 · Guliston news" in sara.text

    sara.send("/broadcast channels Guliston, numbers +998901234567 telegram:777 | en: Bazaar on Sunday | ru: Базар в воскресенье")
    number = announcement_id(sara.text)
    assert "channels 1" in sara.text and "Reaches: 3" in sara.text
    sara.send(f"/broadcast confirm {number}")
    write_due(database, catalog, DAYTIME)
    rows = outbox_of(database, number)
    assert set(rows) == {"telegram:-1001234567890", "whatsapp:+998901234567", "telegram:777"}
    assert rows["telegram:-1001234567890"].text == "Bazaar on Sunday"

    sara.send("/channels remove -1001234567890")
    sara.send("/broadcast channels Guliston | en: again")
    assert "Reaches: 0" in sara.text


def test_a_csv_of_numbers_keeps_the_good_rows_and_names_the_bad_by_line():
    source = "phone,name\n+998 90 123-45-67,Olim\nnot a number,Rosa\n\n+5492215550134,Ana\ntelegram:555,Bot\n+998 90 123-45-67,Olim again\n12,x\n"
    found, errors = broadcasting.read_numbers_csv(source)
    assert found == ["whatsapp:+998901234567", "whatsapp:+5492215550134", "telegram:555", "telegram:12"]
    assert errors == [(3, "not a number")]


@pytest.mark.parametrize("written, weekday, nth, at", [
    ("every sunday 07:00", 6, None, "07:00"),
    ("first monday of the month 07:00", 0, 1, "07:00"),
    ("last friday 8:30", 4, -1, "08:30"),
    ("har yakshanba 07:00", 6, None, "07:00"),
    ("ҳар якшанба 07:00", 6, None, "07:00"),
    ("каждое воскресенье 7:00", 6, None, "07:00"),
    ("первый понедельник 09:00", 0, 1, "09:00"),
    ("primer lunes 09:00", 0, 1, "09:00"),
])
def test_a_bazaar_rule_reads_as_staff_write_it(written, weekday, nth, at):
    rule = bazaar.read_rule(written)
    assert (rule.weekday, rule.nth, f"{rule.at:%H:%M}") == (weekday, nth, at)


@pytest.mark.parametrize("written", ["sunday", "every day 07:00", "07:00", "next week"])
def test_a_bazaar_rule_without_a_weekday_or_time_is_refused(written):
    with pytest.raises(ValueError):
        bazaar.read_rule(written)


@pytest.mark.parametrize("rule, day, occurs", [
    ("every sunday 07:00", "2031-03-02", True), ("every sunday 07:00", "2031-03-03", False),
    ("first monday 07:00", "2031-03-03", True), ("first monday 07:00", "2031-03-10", False),
    ("second monday 07:00", "2031-03-10", True), ("last friday 07:00", "2031-03-28", True),
    ("last friday 07:00", "2031-03-21", False), ("fourth friday 07:00", "2031-03-28", True),
])
def test_which_days_a_bazaar_rule_falls_on(rule, day, occurs):
    assert bazaar.read_rule(rule).occurs_on(datetime.fromisoformat(day).date()) is occurs


def test_a_bazaar_day_makes_one_broadcast_per_occurrence_across_restarts_and_two_schedulers(engine, database, catalog, staff, ana):  # noqa: F811
    sara = Chat(engine, "sara")
    sara.send("/bazaar add Guliston | every sunday 07:00 | en: Bazaar day: the mobile office is at the market from 09:00.")
    assert "Bazaar day #1 for" in sara.text and "every sunday 07:00" in sara.text
    sunday = datetime.now(TASHKENT).date() + timedelta(days=(6 - datetime.now(TASHKENT).weekday()) % 7 + 7)
    at_seven = datetime(sunday.year, sunday.month, sunday.day, 7, 0, tzinfo=TASHKENT)

    assert bazaar.create_due(database, catalog, at_seven - timedelta(minutes=1)) == 0
    assert bazaar.create_due(database, catalog, at_seven + timedelta(minutes=1)) == 1
    assert bazaar.create_due(database, catalog, at_seven + timedelta(minutes=5)) == 0  # after a restart: nothing new
    assert bazaar.create_due(database, catalog, at_seven + timedelta(days=1)) == 0  # Monday

    following = at_seven + timedelta(days=7)
    created = []
    threads = [threading.Thread(target=lambda: created.append(bazaar.create_due(database, catalog, following))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created) == [0, 1]
    assert broadcasts_in(database) == 2

    write_due(database, catalog, at_seven + timedelta(minutes=2))
    with session_scope(database) as session:
        first = session.exec(select(Broadcast).order_by(Broadcast.id)).first()
        assert first.occurrence == f"bazaar:1:{sunday}"
    row = outbox_of(database, first.id)[ana.address]
    # written at 07:02, it waits for 08:00: no announcement before then
    assert row.text.startswith("Bazaar day") and row.next_attempt_at == datetime(sunday.year, sunday.month, sunday.day, 8, 0, tzinfo=TASHKENT)

    sara.send("/bazaar list")
    assert "#1" in sara.text and "every sunday 07:00" in sara.text
    sara.send("/bazaar remove 1")
    assert "Bazaar day #1 removed" in sara.text
    assert bazaar.create_due(database, catalog, at_seven + timedelta(days=14, minutes=1)) == 0


@pytest.mark.parametrize("line, answer", [
    ("/bazaar add Guliston | someday 07:00 | en: hi", "I cannot read «someday 07:00» as a day."),
    ("/bazaar add Atlantis | every sunday 07:00 | en: hi", "I do not know the place «Atlantis»."),
    ("/bazaar add Guliston | every sunday 07:00", "Usage:"),
    ("/bazaar add Guliston | every sunday 07:00 | en:", "The announcement has no text."),
    ("/bazaar remove 42", "There is no bazaar day #42."),
])
def test_a_bazaar_day_badly_written_is_refused_and_nothing_is_stored(engine, database, staff, line, answer):  # noqa: F811
    sara = Chat(engine, "sara")
    sara.send(line)
    assert answer in sara.text, sara.text
    with session_scope(database) as session:
        assert session.exec(select(BazaarDay)).all() == []


def test_a_bazaar_day_the_bot_was_down_for_is_announced_while_the_day_is_young_and_not_after(engine, database, catalog, staff):  # noqa: F811
    sara = Chat(engine, "sara")
    sara.send("/bazaar add Guliston | every sunday 07:00 | en: Bazaar day")
    sunday = datetime.now(TASHKENT).date() + timedelta(days=(6 - datetime.now(TASHKENT).weekday()) % 7 + 7)
    at_seven = datetime(sunday.year, sunday.month, sunday.day, 7, 0, tzinfo=TASHKENT)
    assert bazaar.create_due(database, catalog, at_seven + timedelta(hours=6, minutes=1)) == 0  # yesterday's news by then
    assert bazaar.create_due(database, catalog, at_seven + timedelta(hours=5, minutes=59)) == 1
    last_week = at_seven - timedelta(days=14, minutes=-1)  # before the rule was written: not announced
    assert bazaar.create_due(database, catalog, last_week) == 0


def test_from_the_shell_a_csv_with_a_bad_row_creates_nothing_and_a_good_one_is_previewed_confirmed_and_exported(
        engine, database, database_url, catalog, staff, ana, tmp_path, monkeypatch, capsys):  # noqa: F811
    from bot import cli

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EXPORT_PSEUDONYM_KEY", "a-secret-of-sixteen-or-more")
    people = tmp_path / "people.csv"
    people.write_text("phone\n+998901234567\nnobody\n", "utf-8")
    assert cli.main(["broadcast", "create", "--numbers", str(people), "--text", "uz=Ertaga bozor"]) == 1
    assert f"{people}:3: «nobody»" in capsys.readouterr().err and broadcasts_in(database) == 0

    assert cli.main(["broadcast", "create", "--to", "place Guliston", "--text", "uz=Ertaga bozor", "--text", "en=Bazaar | tomorrow",
                     "--at", "2020-01-01 09:00"]) == 1
    assert "2020-01-01 09:00 has passed" in capsys.readouterr().err and broadcasts_in(database) == 0

    people.write_text("phone\n+998901234567\n", "utf-8")
    assert cli.main(["broadcast", "create", "--to", "place Guliston", "--numbers", str(people), "--text", "uz=Ertaga bozor",
                     "--text", "en=Bazaar | tomorrow", "--fallback", "uz"]) == 0
    out = capsys.readouterr().out
    assert "reaches 2 (en 1, language unknown 1)" in out  # a number we have never heard from: its language is unknown
    assert "[en] Bazaar | tomorrow" in out and "onewindow broadcast confirm 1" in out
    assert cli.main(["broadcast", "confirm", "1"]) == 0
    write_due(database, catalog, DAYTIME)
    assert outbox_of(database, 1)[ana.address].text == "Bazaar | tomorrow"
    assert cli.main(["broadcast", "status", "1"]) == 0
    assert "queued 2" in capsys.readouterr().out

    assert cli.main(["export", "broadcasts"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("broadcast,created_at,created_by") and len(rows) == 3
    assert ana.address not in "\n".join(rows) and "+998901234567" not in "\n".join(rows)  # pseudonyms only
    assert cli.main(["export", "broadcasts", "--with-personal-data"]) == 0
    assert "whatsapp:+998901234567" in capsys.readouterr().out
