"""Shared fixtures: a fresh store on SQLite and on PostgreSQL, the catalogue,
and an engine with a recording outbox."""

from __future__ import annotations

import functools
import gc
import json
import os
import re
import shutil
import signal
import sys
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

pytest_plugins = ["tests.telegram_emulator"]

# Property-based tests: CI runs a small, fixed set of examples (the same on
# every run, so a red build is reproducible); `make fuzz` runs the long profile.
_HYPOTHESIS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=int(os.environ.get("FUZZ_EXAMPLES", 20)), derandomize=True, database=None, print_blob=True, **_HYPOTHESIS)
settings.register_profile("fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", 400)), print_blob=True, **_HYPOTHESIS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter):
    fuzz = sys.modules.get("tests.test_fuzz_conversations")
    if fuzz is not None and (line := fuzz.summary()):
        terminalreporter.write_line(line)



# `make mutate` (mutmut) runs each mutant's tests in a process forked from one that
# collected the suite once. Whatever that process prepares, every mutant inherits.
UNDER_MUTMUT = "MUTANT_UNDER_TEST" in os.environ
_WARM_TEMPLATE: Path | None = None


def pytest_collection_finish(session):
    """Under mutmut, fit the classifier and migrate a template store once, where
    the collecting process can hand them to every mutant's run: otherwise each
    of some thousands of mutants pays about three seconds for them."""
    global _WARM_TEMPLATE
    if not UNDER_MUTMUT or _WARM_TEMPLATE is not None:
        return
    from bot.catalog import Catalog
    from bot.wiring import open_store

    path = Path.cwd() / ".warm" / f"store-{os.getpid()}.sqlite3"
    path.parent.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    database = open_store(f"sqlite:///{path}")
    Catalog.from_store(database)  # fitted here, kept in this process for its forks
    _remembered()
    database.dispose()
    _WARM_TEMPLATE = path
    for module in [m for name, m in sys.modules.items() if name.startswith("tests.test_")]:
        if hasattr(module, "warm_for_mutants"):  # a test module's own start, done once here
            module.warm_for_mutants(path)
    gc.freeze()  # what is here now lives as long as the process: collections need not scan it


KILLERS = Path(".killers")  # under mutmut: the mutants' working copy, one file per mutated function


def _mutated_function() -> str | None:
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    return mutant.rpartition("__mutmut_")[0] if UNDER_MUTMUT and "__mutmut_" in mutant else None


# Under mutmut: how many seconds of tests one mutant gets (``MUTATE_BUDGET``;
# 0 runs every test that reaches it). A mutant that outlives its budget counts
# as survived, so the score can only be too low, never too high. Each test is
# reckoned at its own duration plus what setting it up costs.
MUTATE_BUDGET = float(os.environ.get("MUTATE_BUDGET", "0") or 0)
SETUP_SECONDS = 0.15


def _module_of(function: str) -> str:
    """``handlers.staff.desk.x__button`` and ``bot.engine.xǁEngineǁhandle``: the module's name."""
    return function.split(".x", 1)[0]


def _kills(name: str) -> Counter:
    try:
        return Counter((KILLERS / name).read_text().split("\n"))
    except OSError:
        return Counter()


@functools.cache
def _durations() -> dict[str, float]:
    """Each test's usual duration (mutmut's measurement): read once a mutant, not once a hook."""
    try:
        return json.loads(Path("mutmut-stats.json").read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return {}


@functools.cache
def _remembered() -> dict[str, dict[str, str]]:
    """The kills of earlier runs, kept with the code (``tests/mutation_history.py``)."""
    from tests import mutation_history

    return mutation_history.load()


def _history(function: str) -> tuple[dict[str, float], tuple[Counter, Counter], str | None]:
    """Each test's usual duration; how often it killed a mutant of `function`,
    and of its module, in this run and the runs remembered; and the test that
    killed this very mutant last time."""
    from tests import mutation_history

    module = _module_of(function)
    remembered = _remembered()
    of_function, of_module = mutation_history.kills(remembered, function, module)
    number = mutation_history.split(os.environ["MUTANT_UNDER_TEST"])[1]
    return _durations(), (_kills(function) + of_function, _kills(module) + of_module), remembered.get(function, {}).get(number)


_NOT_A_TOPIC = {"bot", "flows", "handlers", "storage", "notifications"}


def _about(module: str, nodeid: str) -> bool:
    """Whether a test's file is named for the module: ``tests/test_web.py``
    for ``bot.web``, ``tests/test_staff_desk.py`` for ``handlers.staff.queue``."""
    topics = {word for part in module.split(".") if part not in _NOT_A_TOPIC for word in part.split("_")}
    return bool(topics & set(Path(nodeid.partition("::")[0]).stem.removeprefix("test_").split("_")))


# Words of code that say nothing about what a line does.
_NOT_A_WORD = {"test", "self", "none", "true", "false", "return", "case", "conn", "await", "async", "elif", "else", "lambda", "utcnow", "mutmut",
               "changes", "citizen", "path", "insert", "update", "values"}


def _stems(words: str) -> set[str]:
    """The words of a name or a line of code, cut to four letters ("sent" and
    "send" apart, "order" and "ordered" not); ``SetBroadcastOptOut`` is three."""
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", words.replace("XX", " "))
    return {word[:4] for word in re.split(r"[^a-z]+", words.lower()) if len(word) >= 4 and word not in _NOT_A_WORD}


def _function_block(source: list[str], name: str) -> list[str]:
    """The lines of the function `name` defined in `source` (a mutated module's lines)."""
    start = next((i for i, line in enumerate(source) if line.lstrip().startswith(f"def {name}(")), None)
    if start is None:
        return []
    indent = len(source[start]) - len(source[start].lstrip())
    block = []
    for line in source[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line.strip())
    return block


@functools.cache
def _changed_code(mutant: str) -> str:
    """The lines a mutant changed, before and after (from mutmut's copy of the
    module): ``changes["broadcasts_opted_out_at"] = ...`` for a mutant that
    removed the branch of the action STOP brings."""
    import difflib

    module, _, name = mutant.partition(".x")
    try:
        source = Path(module.replace(".", "/") + ".py").read_text("utf-8").splitlines()
    except OSError:
        return ""
    function = "x" + name.rpartition("__mutmut_")[0]
    before, after = _function_block(source, f"{function}__mutmut_orig"), _function_block(source, "x" + name)
    return "\n".join(line[2:] for line in difflib.ndiff(before, after) if line[:2] in ("- ", "+ "))


def _named_alike(function: str, nodeid: str, changed: str = "") -> int:
    """How many words a test's name shares with the function's and with the
    code the mutant changed: ``test_replies_are_sent_in_order`` for
    ``xǁOutboxǁ_send_in_order``, ``test_stop_ends_the_broadcasts`` for a change
    to ``SetBroadcastOptOut``. A function's tests reach all of it; those named
    for the changed line are likelier to pass through it."""
    topic = _stems(re.split(r"ǁ|\.x_", function)[-1]) | _stems(changed)
    return len(topic & _stems(nodeid.partition("::")[2].partition("[")[0]))


def _likeliest_first(nodeids, durations: dict[str, float], kills: tuple[Counter, Counter], module: str = "", function: str = "",
                     killer: str | None = None, changed: str = "") -> list[str]:
    """The test that killed this very mutant last time, then those that killed
    this function's mutants, then those whose name shares words with the
    function's or the changed code's, then those that killed its module's (the first mutants of a
    function have no history of their own, and the fastest tests that reach it
    are seldom the ones about it), then those whose file is named for the
    module, then the fastest."""
    of_function, of_module = kills
    return sorted(nodeids, key=lambda nodeid: (nodeid != killer, -of_function[nodeid], -_named_alike(function, nodeid, changed), -of_module[nodeid],
                                               not _about(module, nodeid), durations.get(nodeid, 0.0)))


def _ordered(function: str, nodeids: list[str]) -> tuple[list[str], dict[str, float]]:
    """The mutant under test's tests in :func:`_likeliest_first` order, and each one's usual duration."""
    durations, kills, killer = _history(function)
    changed = _changed_code(os.environ["MUTANT_UNDER_TEST"])
    return _likeliest_first(nodeids, durations, kills, _module_of(function), function, killer, changed), durations


# Functions that do nothing on SQLite, make mutate's store: the SQLite tests
# that reach them only pass through, so their mutants run these PostgreSQL
# tests instead (with TEST_POSTGRES_URL's server; none there, they survive).
POSTGRESQL_ONLY = {
    "storage.message_path.x_lock_address": "tests/test_address_lock.py",
    "storage.message_path.x_lock_addresses": "tests/test_address_lock.py",
}


def pytest_configure(config):
    """Under mutmut with a budget, the tests a mutant is given are cut to
    the budget before they are collected: collecting the thirty files that
    reach the engine costs more than the one test that kills most mutants."""
    function = _mutated_function()
    if function in POSTGRESQL_ONLY and config.args:
        config.args[:] = [POSTGRESQL_ONLY[function]]
        config.option.keyword = ""  # make mutate leaves PostgreSQL out everywhere else
        return
    if function is None or MUTATE_BUDGET <= 0 or not config.args or not all("::" in arg for arg in config.args):
        return
    ordered, durations = _ordered(function, config.args)
    config.args[:] = ordered[:within_budget(ordered, durations, MUTATE_BUDGET)]


def pytest_collection_modifyitems(config, items):
    """Under mutmut, a mutant's tests run in the order most likely to fail it
    soonest (mutmut stops at the first failure; see :func:`_likeliest_first`).
    Most mutants then die in their first test. With a budget, the
    tests past it are left out: a survivor of a function that every
    conversation reaches would otherwise run some hundred tests."""
    function = _mutated_function()
    if function is None:
        return
    ordered, durations = _ordered(function, [item.nodeid for item in items])
    order = {nodeid: position for position, nodeid in enumerate(ordered)}
    items.sort(key=lambda item: order[item.nodeid])
    _USUAL_SECONDS.update(durations)
    if MUTATE_BUDGET > 0:
        kept = within_budget([item.nodeid for item in items], durations, MUTATE_BUDGET)
        config.hook.pytest_deselected(items=items[kept:])
        del items[kept:]


def within_budget(ordered: list[str], durations: dict[str, float], budget: float) -> int:
    """How many of the ordered tests fit in `budget` seconds (always the first)."""
    spent = 0.0
    for count, nodeid in enumerate(ordered):
        spent += durations.get(nodeid, 0.0) + SETUP_SECONDS
        if spent > budget and count > 0:
            return count
    return len(ordered)


# Under mutmut: how long each test takes on the unchanged code (mutmut's own
# measurement), and how much longer a mutant may make it run.
_USUAL_SECONDS: dict[str, float] = {}
HANG_FACTOR, HANG_FLOOR = 5.0, 3.0


class RanTooLong(Exception):
    """A test ran far longer under a mutant than on the unchanged code."""


FIXTURE_SECONDS = 10.0  # setting a test up or tearing it down: never this long unless something hangs


@contextmanager
def _deadline(what: str, seconds: float):
    def expired(signum, frame):
        raise RanTooLong(f"{what} ran over {seconds:.1f} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _limited(phase: str, seconds):
    """A hook wrapper for one phase of a test: under mutmut, the phase fails
    once it has run `seconds(item)`; the mutant made something hang or loop.
    mutmut itself would stop it only at its CPU limit, minutes later, and a
    waiting test uses no CPU at all."""

    @pytest.hookimpl(hookwrapper=True)
    def limited(item):
        if _mutated_function() is None:
            yield
            return
        with _deadline(f"{phase} {item.nodeid}", seconds(item)):
            yield

    return limited


# A test may take five times as long as on the unchanged code (at least three seconds);
# setting it up or tearing it down, ten seconds.
pytest_runtest_setup = _limited("setting up", lambda item: FIXTURE_SECONDS)
pytest_runtest_call = _limited("running", lambda item: max(HANG_FLOOR, HANG_FACTOR * _USUAL_SECONDS.get(item.nodeid, HANG_FLOOR)))
pytest_runtest_teardown = _limited("tearing down", lambda item: FIXTURE_SECONDS)


def pytest_runtest_logreport(report):
    """Under mutmut, remember which test killed a mutant: for the next mutants
    of its function and module in this run, and (folded into
    ``tests/mutation_history.json`` after it) for this mutant in the next."""
    from tests.mutation_history import BY_MUTANT

    function = _mutated_function()
    if function is not None and report.failed:
        KILLERS.mkdir(exist_ok=True)
        for name in (function, _module_of(function)):
            with open(KILLERS / name, "a", encoding="utf-8") as killers:
                killers.write(report.nodeid + "\n")
        with open(KILLERS / BY_MUTANT, "a", encoding="utf-8") as killers:
            killers.write(f"{os.environ['MUTANT_UNDER_TEST']} {report.nodeid}\n")


@pytest.fixture(scope="session", autouse=True)
def shared_models(tmp_path_factory):
    """Every bot a test starts (in this process or a child) shares one saved
    classifier model, as processes on one machine may: fitted once a run."""
    os.environ["MODELS_DIR"] = str(tmp_path_factory.mktemp("models"))
    yield
    os.environ.pop("MODELS_DIR", None)


POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_schema_url() -> tuple[str, str]:
    """A URL whose connections use a schema of their own, so test runs never
    see each other's tables (or a developer's)."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}", schema


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL database for this test session. In CI it must be there;
    on a developer's machine without one, the PostgreSQL half is skipped."""
    from storage.db import make_engine

    admin = make_engine(POSTGRES_URL)
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {POSTGRES_URL}: {error}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL} (set TEST_POSTGRES_URL)")
    url, schema = _postgres_schema_url()
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield url
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url):
    from bot.wiring import open_store

    database = open_store(postgres_url)
    database.dispose()
    return postgres_url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """One SQLite store brought up to date and seeded once a session; each
    test gets a copy of the file, the same bytes a first start would write."""
    return template_store(lambda: tmp_path_factory.mktemp("template"))


def template_store(new_folder) -> Path:
    """Under mutmut, the template the collecting process made, while it is
    there. Otherwise (or removed while a run goes on, say by a person
    cleaning up: no mutant may be "killed" by that) one made now."""
    from bot.wiring import open_store

    if _WARM_TEMPLATE is not None and _WARM_TEMPLATE.exists():
        return _WARM_TEMPLATE
    path = new_folder() / "store.sqlite3"
    open_store(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        store = tmp_path / "store.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), store)
        return f"sqlite:///{store}"
    url = request.getfixturevalue("migrated_postgres")
    _truncate(url)
    return url


def _truncate(url: str) -> None:
    from sqlmodel import SQLModel

    from storage.db import make_engine

    engine = make_engine(url)
    names = ", ".join(t.name for t in SQLModel.metadata.sorted_tables if t.name not in ("category", "locality", "department"))
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database(database_url):
    from bot.wiring import open_store

    database = open_store(database_url)
    yield database
    database.dispose()


@pytest.fixture
def catalog(database):
    from bot.catalog import Catalog

    return Catalog.from_store(database)


@pytest.fixture
def engine(database, catalog):
    """The engine on the store, with nothing delivering its replies: tests
    read them from what it returns, or from the outbox."""
    from bot.engine import Engine

    return Engine(database, catalog)
