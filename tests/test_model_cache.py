"""The classifier's model saved between starts: a bot loads it instead of
fitting, answers exactly as a freshly fitted model does, and never loads
the fitting library; a damaged or missing file costs a fit, not an answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import model_cache
from flows import training
from flows.classifier import Classifier, Model
from flows.keywords import CategoryTerms, KeywordClassifier
from storage.seed import read_seed

ROOT = Path(__file__).resolve().parents[1]

MESSAGES = [
    "suv yo'q bir haftadan beri", "ne rabotaet svet uzhe tretiy den", "Хочу получить паспорт", "hola, se me inundo la casa",
    "pasport olmoqchiman", "Салом, ариза қандай ёзилади?", "rahmat", "there is a hole in the road near the school",
    "necesito un turno para el medico", "yerimga hujjat kerak", "", "???", "no hay luz en todo el barrio desde ayer",
]


@pytest.fixture(scope="module")
def terms():
    categories = read_seed("categories.json")
    return [CategoryTerms(c["id"], tuple(w for words in c.get("keywords", {}).values() for w in words)) for c in categories["categories"]]


def test_a_saved_model_answers_as_a_fresh_fit_does(tmp_path, terms):
    keywords = KeywordClassifier(terms)
    fresh = Classifier(keywords, model=Model.fit(keywords, training.load()))
    saved = Classifier(keywords, model=model_cache.from_folder(terms, tmp_path))
    assert list(tmp_path.glob("classifier-*.npz")), "the fit was saved"
    for text in MESSAGES:
        assert saved.classify(text) == fresh.classify(text), text


def test_a_second_start_loads_the_saved_model_without_fitting(tmp_path, terms, monkeypatch):
    model_cache.from_folder(terms, tmp_path)
    saved = next(tmp_path.glob("classifier-*.npz"))
    before = saved.stat().st_mtime_ns

    def no_child(*args, **kwargs):
        raise AssertionError("fitted again")

    monkeypatch.setattr(model_cache.subprocess, "run", no_child)
    monkeypatch.setattr(model_cache.Model, "fit", no_child)
    model = model_cache.from_folder(terms, tmp_path)
    assert Classifier(KeywordClassifier(terms), model=model).classify("svet yo'q").category == "utilities"
    assert saved.stat().st_mtime_ns == before


def test_new_keywords_are_a_new_model(tmp_path, terms):
    model_cache.from_folder(terms, tmp_path)
    more = [CategoryTerms(t.id, t.keywords + (("zzqx",) if t.id == "health" else ())) for t in terms]
    model_cache.from_folder(more, tmp_path)
    assert len(list(tmp_path.glob("classifier-*.npz"))) == 2


def test_a_damaged_file_is_fitted_here_and_still_answers(tmp_path, terms, caplog):
    keywords = KeywordClassifier(terms)
    path = model_cache.path_for(tmp_path, keywords, training.load())
    path.write_bytes(b"not a model")
    model = model_cache.from_folder(terms, tmp_path)
    assert Classifier(keywords, model=model).classify("pasport olmoqchiman").category == "id_documents"
    assert "could not be read" in caplog.text


def test_a_child_that_fails_costs_a_fit_here(tmp_path, terms, monkeypatch, caplog):
    monkeypatch.setattr(model_cache.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "killed"))
    model = model_cache.from_folder(terms, tmp_path)
    assert Classifier(KeywordClassifier(terms), model=model).classify("pasport olmoqchiman").category == "id_documents"
    assert "could not be fitted in a child process" in caplog.text


def test_a_running_bot_never_loads_the_fitting_library(tmp_path):
    """The fitting library alone takes about 80 MB a bot would never give back."""
    script = (
        "import sys, json\n"
        "from bot.settings import Settings\n"
        "from bot.wiring import build\n"
        "settings = Settings.load(environ={'DATA_DIR': sys.argv[1]})\n"
        "bot = build(settings)\n"
        "found = bot.engine.catalog.classifier.classify('ne rabotaet svet')\n"
        "print(json.dumps({'category': found.category, 'loaded': sorted(m for m in ('sklearn', 'scipy') if m in sys.modules)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MODELS_DIR", None)
    (tmp_path / "data").mkdir()
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "data")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"category": "utilities", "loaded": []}
    assert list((tmp_path / "data" / "models").glob("classifier-*.npz"))
