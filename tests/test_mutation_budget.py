"""`make mutate` gives each mutant a budget of test seconds: the tests that
fit, in the order they would run, and never none."""

from tests.conftest import SETUP_SECONDS, within_budget

DURATIONS = {"a": 1.0, "b": 2.0, "c": 3.0}


def test_the_tests_that_fit_run_and_the_rest_are_left_out():
    assert within_budget(["a", "b", "c"], DURATIONS, budget=3.5) == 2
    assert within_budget(["a", "b", "c"], DURATIONS, budget=6.5) == 3
    assert within_budget(["c", "a", "b"], DURATIONS, budget=4.0) == 1


def test_the_first_test_runs_even_over_the_budget():
    assert within_budget(["c", "a"], DURATIONS, budget=0.5) == 1


def test_a_test_never_measured_costs_its_setting_up():
    assert within_budget(["x", "y", "z"], {}, budget=2.5 * SETUP_SECONDS) == 2
    assert within_budget([], DURATIONS, budget=1.0) == 0


def test_a_mutants_tests_run_those_that_killed_its_function_then_its_module_then_the_fastest():
    from collections import Counter

    from tests.conftest import _likeliest_first, _module_of

    assert _module_of("handlers.staff.desk.x__button") == "handlers.staff.desk"
    assert _module_of("bot.engine.xǁEngineǁhandle") == "bot.engine"
    of_function, of_module = Counter({"c": 1}), Counter({"b": 2, "c": 1})
    assert _likeliest_first(["a", "b", "c", "d"], {"a": 0.1, "b": 5.0, "c": 9.0, "d": 0.05}, (of_function, of_module)) == ["c", "b", "d", "a"]


def test_with_no_kills_yet_the_tests_named_for_the_module_come_before_the_fastest():
    from collections import Counter

    from tests.conftest import _about, _likeliest_first

    assert _about("bot.web", "tests/test_web.py::test_healthz[sqlite]")
    assert _about("handlers.staff.queue", "tests/test_staff_desk.py::test_x") and _about("handlers.whatsapp_sender", "tests/test_whatsapp_outage.py::t")
    assert not _about("bot.web", "tests/test_webhook_only.py::t") and not _about("bot.engine", "tests/test_bot_wiring.py::t")
    tests = ["tests/test_conversations.py::fast", "tests/test_web.py::slow", "tests/test_flows.py::faster"]
    durations = {tests[0]: 0.01, tests[1]: 2.0, tests[2]: 0.001}
    assert _likeliest_first(tests, durations, (Counter(), Counter()), "bot.web") == [tests[1], tests[2], tests[0]]


def test_tests_named_like_the_function_come_before_the_modules_usual_killers():
    from collections import Counter

    from tests.conftest import _likeliest_first, _named_alike

    function = "notifications.outbox.xǁOutboxǁ_send_in_order"
    assert _named_alike(function, "tests/test_outbox.py::test_replies_are_sent_in_order_with_their_choices[sqlite]") == 1
    assert _named_alike("handlers.whatsapp.x_to_incoming", "tests/test_whatsapp_adapter.py::test_an_incoming_photo") == 1
    assert _named_alike(function, "tests/test_outbox.py::test_a_retry_waits") == 0
    tests = ["tests/test_outbox.py::test_a_retry_waits", "tests/test_outbox.py::test_the_sends_keep_their_order", "tests/test_outbox.py::test_held_rows"]
    assert _likeliest_first(tests, {}, (Counter(), Counter({tests[2]: 5})), "notifications.outbox", function) == [tests[1], tests[2], tests[0]]
    assert _likeliest_first(tests, {}, (Counter({tests[0]: 1}), Counter()), "notifications.outbox", function)[0] == tests[0]  # what killed it before, first


def test_the_test_that_killed_this_very_mutant_last_time_runs_first():
    from collections import Counter

    from tests.conftest import _likeliest_first

    tests = ["tests/test_web.py::a", "tests/test_web.py::b", "tests/test_web.py::c"]
    kills = (Counter({tests[0]: 3}), Counter({tests[1]: 9}))
    assert _likeliest_first(tests, {}, kills, "bot.web", "bot.web.x_f", killer=tests[2]) == [tests[2], tests[0], tests[1]]
    assert _likeliest_first(tests, {}, kills, "bot.web", "bot.web.x_f", killer="tests/test_gone.py::x") == [tests[0], tests[1], tests[2]]


def test_a_runs_kills_are_remembered_for_the_next_run_from_a_clean_clone(tmp_path):
    from tests import mutation_history as history

    killers = tmp_path / ".killers"
    killers.mkdir()
    (killers / history.BY_MUTANT).write_text(
        "bot.web.xǁOwnRoutesǁhealthz__mutmut_7 tests/test_web.py::test_healthz[sqlite]\n"
        "bot.web.xǁOwnRoutesǁhealthz__mutmut_12 tests/test_web.py::test_broken_store\n"
        "flows.i18n.x_guess_language__mutmut_3 tests/test_language.py::test_cyrillic[uz]\n"
        "bot.web.xǁOwnRoutesǁhealthz__mutmut_7 tests/test_web.py::test_broken_store\n",  # killed again, by another test: the last one counts
        "utf-8",
    )
    remembered = {"bot.web.x_create_app": {"2": "tests/test_web.py::test_healthz[sqlite]"}}
    assert history.fold(killers, remembered) == 4
    saved = tmp_path / "history.json"
    history.save(remembered, saved)
    loaded = history.load(saved)
    assert loaded == {
        "bot.web.x_create_app": {"2": "tests/test_web.py::test_healthz[sqlite]"},
        "bot.web.xǁOwnRoutesǁhealthz": {"7": "tests/test_web.py::test_broken_store", "12": "tests/test_web.py::test_broken_store"},
        "flows.i18n.x_guess_language": {"3": "tests/test_language.py::test_cyrillic[uz]"},
    }
    of_function, of_module = history.kills(loaded, "bot.web.xǁOwnRoutesǁhealthz", "bot.web")
    assert of_function == {"tests/test_web.py::test_broken_store": 2}
    assert of_module == {"tests/test_web.py::test_broken_store": 2, "tests/test_web.py::test_healthz[sqlite]": 1}
    assert history.split("bot.web.xǁOwnRoutesǁhealthz__mutmut_12") == ("bot.web.xǁOwnRoutesǁhealthz", "12")


def test_a_kill_the_last_run_did_not_confirm_is_not_remembered():
    from tests import mutation_history as history

    remembered = {
        "bot.web.xǁOwnRoutesǁhealthz": {"7": "tests/test_web.py::a", "8": "tests/test_web.py::b", "40": "tests/test_web.py::c"},
        "bot.web.x_gone": {"1": "tests/test_web.py::a"},
        "flows.i18n.x_guess_language": {"3": "tests/test_language.py::d"},
    }
    verdicts = {
        "bot.web.xǁOwnRoutesǁhealthz__mutmut_7": "killed",
        "bot.web.xǁOwnRoutesǁhealthz__mutmut_8": "survived",  # its remembered killer did not kill it
        "flows.i18n.x_guess_language__mutmut_3": "not checked",  # not run this time: kept
    }
    # healthz 40 and x_gone no longer exist in bot.web, which was run: dropped
    assert history.agree(remembered, verdicts) == 3
    assert remembered == {
        "bot.web.xǁOwnRoutesǁhealthz": {"7": "tests/test_web.py::a"},
        "flows.i18n.x_guess_language": {"3": "tests/test_language.py::d"},
    }


def test_a_missing_or_broken_history_only_means_no_history(tmp_path):
    from tests import mutation_history as history

    assert history.load(tmp_path / "none.json") == {}
    (tmp_path / "broken.json").write_text('{"tests": [], "killed": {"f": {"1": 4}}}')
    assert history.load(tmp_path / "broken.json") == {}
    assert history.fold(tmp_path / "no-killers", {}) == 0


def test_tests_named_for_the_code_a_mutant_changed_come_first(tmp_path, monkeypatch):
    from collections import Counter

    from tests.conftest import _changed_code, _likeliest_first, _stems

    # mutmut's copy of a module: the function as written, and one mutant of it
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "engine.py").write_text(
        "class Engine:\n"
        "    def xǁEngineǁ_apply__mutmut_orig(self, action, changes):\n"
        "        match action:\n"
        "            case act.SetLanguage(language=language):\n"
        "                changes['language'] = language\n"
        "            case act.SetBroadcastOptOut(opted_out=opted_out):\n"
        "                changes['broadcasts_opted_out_at'] = utcnow() if opted_out else None\n"
        "    def xǁEngineǁ_apply__mutmut_5(self, action, changes):\n"
        "        match action:\n"
        "            case act.SetLanguage(language=language):\n"
        "                changes['language'] = language\n"
        "\n"
        "    def xǁEngineǁ_apply__mutmut_6(self, action, changes):\n"
        "        pass\n",
        "utf-8",
    )
    monkeypatch.chdir(tmp_path)
    changed = _changed_code("bot.engine.xǁEngineǁ_apply__mutmut_5")
    assert "case act.SetBroadcastOptOut(opted_out=opted_out):" in changed and "language" not in changed
    assert _stems(changed) == {"broa", "opte"}
    tests = ["tests/test_flows.py::test_a_citizen_picks_a_language", "tests/test_broadcasts.py::test_opted_out_citizens_get_no_broadcasts"]
    assert _likeliest_first(tests, {}, (Counter(), Counter()), "bot.engine", "bot.engine.xǁEngineǁ_apply", changed=changed) == [tests[1], tests[0]]
    assert _changed_code("bot.gone.x_f__mutmut_1") == ""


def test_mutants_of_what_does_nothing_on_sqlite_run_its_postgresql_tests(monkeypatch):
    import importlib
    from pathlib import Path
    from types import SimpleNamespace

    import tests.conftest as conftest

    monkeypatch.setattr(conftest, "UNDER_MUTMUT", True)
    monkeypatch.setenv("MUTANT_UNDER_TEST", "storage.message_path.x_lock_address__mutmut_2")
    config = SimpleNamespace(args=["tests/test_engine_race.py::test_two_first_messages[sqlite]"], option=SimpleNamespace(keyword="not postgresql"))
    conftest.pytest_configure(config)
    assert (config.args, config.option.keyword) == (["tests/test_address_lock.py"], "")
    for function, tests in conftest.POSTGRESQL_ONLY.items():
        module, _, name = function.partition(".x_")
        assert hasattr(importlib.import_module(module), name) and Path(tests).is_file()


def test_a_template_store_removed_while_mutants_run_is_made_again(tmp_path, monkeypatch):
    """A mutant's tests copy the collecting process's template store; were it
    removed meanwhile, each test would fail at setting up and its mutant be
    counted killed, with a false killer remembered for the next run."""
    from sqlmodel import select

    import tests.conftest as conftest
    from bot.wiring import open_store
    from storage.db import session_scope
    from storage.models import Message

    monkeypatch.setattr(conftest, "_WARM_TEMPLATE", tmp_path / "removed.sqlite3")
    made = conftest.template_store(lambda: tmp_path)
    assert made == tmp_path / "store.sqlite3"
    store = open_store(f"sqlite:///{made}")
    try:
        with session_scope(store) as session:
            assert session.exec(select(Message)).all() == []  # migrated: the tables are there
    finally:
        store.dispose()
    (tmp_path / "removed.sqlite3").write_bytes(made.read_bytes())  # while it is there, it is the one
    assert conftest.template_store(lambda: tmp_path / "unused") == tmp_path / "removed.sqlite3"
