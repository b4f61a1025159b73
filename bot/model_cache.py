"""The classifier's fitted model, kept on disk and fitted in a child process.

Fitting needs scikit-learn, whose import alone takes about 80 MB that a
running process never gives back; answering needs numpy only. So a bot
loads the model's arrays from ``MODELS_DIR`` (``DATA_DIR/models``) and, when they are not
there yet (a first start, new examples, keywords changed in the catalogue),
has a short-lived child process fit and save them first. The bot stays
light, and a restart skips the fit.

If the child cannot fit (it crashed, it was killed), the bot fits in its
own process and says so in the log: slower and heavier, but it answers.

    python -m bot.model_cache < terms.json   # the child: fits, saves, exits
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from flows import training
from flows.classifier import Model, fitted, model_key
from flows.keywords import CategoryTerms, KeywordClassifier

log = logging.getLogger(__name__)

FORMAT = 1  # the saved arrays' layout; a new layout is a new file


def path_for(folder: Path, keywords: KeywordClassifier, examples: Sequence[training.Example]) -> Path:
    return folder / f"classifier-v{FORMAT}-{model_key(keywords, examples)[:24]}.npz"


def load_or_fit(terms: Sequence[CategoryTerms], folder: Path) -> Model:
    """The model for these keywords and the examples in the repository: the
    one this process already has, else the saved one, else a new fit in a
    child process (then saved)."""
    return fitted(KeywordClassifier(terms), training.load(), lambda keywords, examples: from_folder(terms, folder))


def from_folder(terms: Sequence[CategoryTerms], folder: Path) -> Model:
    """The saved model, fitted by a child process and saved first if it is not there."""
    keywords, examples = KeywordClassifier(terms), training.load()
    path = path_for(folder, keywords, examples)
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        request = json.dumps({"terms": [[t.id, list(t.keywords)] for t in terms], "path": str(path)})
        pythonpath = os.pathsep.join(filter(None, [_root(), os.environ.get("PYTHONPATH")]))
        done = subprocess.run([sys.executable, "-m", "bot.model_cache"], input=request, text=True, capture_output=True,
                              env={**os.environ, "PYTHONPATH": pythonpath})
        if done.returncode != 0 or not path.exists():
            log.warning("the classifier could not be fitted in a child process (exit %s: %s); fitting here",
                        done.returncode, done.stderr.strip()[-500:])
            return Model.fit(keywords, examples)
    try:
        return Model.load(keywords, path)
    except (OSError, ValueError, KeyError) as error:  # a damaged file: fit here
        log.warning("the saved classifier %s could not be read (%s); fitting here", path.name, error)
        return Model.fit(keywords, examples)


def _root() -> str:
    return str(Path(__file__).resolve().parents[1])


def main() -> None:
    request = json.load(sys.stdin)
    terms = [CategoryTerms(category, tuple(words)) for category, words in request["terms"]]
    model = Model.fit(KeywordClassifier(terms), training.load())
    path = Path(request["path"])
    partial = path.with_name(path.name + f".{os.getpid()}.partial.npz")
    model.save(partial)
    os.replace(partial, path)  # whole or not at all: a reader never sees half a file


if __name__ == "__main__":
    main()
