"""What a citizen's message is about, and what they want: the category of
the request, and whether they ask something (``question``), need something
done (``request``) or only greet or thank (``other``).

Keywords alone held on the messages written beside them and fell to about
three in four on messages written by other people: slang, typos, o/g for
o'/g', Russian in Latin letters, a story before the need. So a linear model
learns from labelled examples (:mod:`flows.training`), on features that
survive how people type:

* character n-grams (2-5, within words) of the text in the normal form of
  :func:`flows.textnorm.match_key`: Latin and Cyrillic Uzbek, accents and
  apostrophes all fold to one form, and a typo changes a few n-grams of a
  word, not the whole word;
* word unigrams and bigrams of the same form ("ne rabotaet", "no hay");
* the catalogue's keyword evidence (:class:`flows.keywords.KeywordClassifier`),
  one feature per category, so a keyword staff add to the catalogue counts;
* the shape of the sentence: a question mark, its length.

Two linear support-vector machines share the features, one for the category
and one for the intent (as accurate as a logistic regression on these
examples, and fitted twenty times faster). Their margins, through a softmax
with :data:`TEMPERATURE` (chosen for the lowest log-loss in cross-validation),
are the scores (0-100): below :data:`CONFIDENT`, where cross-validation found
the guess right less than half the time, a flow should let the citizen pick
from the top three rather than guess.

Caseworkers' corrections (a request moved to the right category) are kept as
a memory beside the model: a new message close to a corrected one (cosine of
their n-gram vectors) leans to the corrected category at once, without
retraining; removing a bad correction removes its pull.

Fitting takes a few seconds and scikit-learn; answering takes numpy only.
One fitted model is shared by every catalogue built from the same examples
and keywords in a process (see :func:`fitted`), and :class:`Model` saves and
loads its arrays, so a running bot can load a model fitted elsewhere and
never import scikit-learn (see :mod:`bot.model_cache`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from flows import training
from flows.keywords import CategoryTerms, Classification, KeywordClassifier
from flows.textnorm import match_key, words
from flows.training import Example

__all__ = ["CONFIDENT", "Classification", "Classifier", "Correction", "Model", "model_key"]

CONFIDENT = 50.0  # below this, offer the top three instead of guessing
TEMPERATURE = 3.0
MAX_CHARS = 4000
KEYWORD_WEIGHT = 2.0  # the keyword features' scale beside the unit-length n-gram vectors
SHAPE_WEIGHT = 1.0
REGULARIZATION = 1.0  # LinearSVC's C, chosen by cross-validation on the examples
CORRECTION_SIMILARITY = 0.55  # cosine above which a correction pulls a message its way


# Words that, alone, make a message small talk whatever the model thinks:
# "hello" opens so many requests that the model alone hesitates on a bare one.
SMALL_TALK = frozenset(match_key(w) for phrase in (
    "hello hi hey hallo good morning afternoon evening day thanks thank you very much so ok okay fine bye please",
    "salom assalomu assalom alaykum aleykum rahmat raxmat katta kattakon xayrli tong kun kech yaxshi mayli xo'p hop",
    "привет здравствуйте здравствуй добрый доброе утро день вечер спасибо большое ок хорошо пока пожалуйста",
    "салом ассалому алайкум раҳмат катта хайрли тонг кун кеч яхши майли хўп",
    "hola buenas buenos buen dia dias tardes noches gracias muchas mil chau chao saludos ok dale genial",
) for w in words(phrase))


def normal_text(text: str) -> str:
    """The text as the model sees it: folded words, script and accents gone."""
    return " ".join(match_key(w) for w in words((text or "")[:MAX_CHARS]))


@dataclass(frozen=True)
class Correction:
    """A caseworker put a request with this text in ``category``."""

    id: int
    text: str
    category: str


class Model:
    """The fitted model as plain arrays: the n-gram vocabulary, its idf
    weights and each head's weights. Answering needs numpy only; fitting
    (:meth:`fit`) needs scikit-learn, imported then and only then, so a
    process that loads a saved model (:meth:`load`) never pays its memory."""

    def __init__(self, keywords: KeywordClassifier, arrays: dict[str, np.ndarray]):
        self.keywords = keywords
        self.categories = list(keywords.categories)
        self._index = {c: i for i, c in enumerate(self.categories)}
        self.arrays = arrays
        # One dictionary look-up per n-gram: character n-grams are marked
        # with a leading NUL, which no word n-gram holds.
        chars, word_grams = arrays["chars"].tolist(), arrays["words"].tolist()
        self._vocab = {"\0" + g: i for i, g in enumerate(chars)}
        self._vocab.update({g: len(chars) + i for i, g in enumerate(word_grams)})
        self._idf = arrays["idf"].astype(np.float32)
        self._n_ngrams = len(chars) + len(word_grams)
        self._heads = [(arrays["category_classes"], arrays["category_coef"], arrays["category_intercept"])]
        if "intent_coef" in arrays:
            self._heads.append((arrays["intent_classes"], arrays["intent_coef"], arrays["intent_intercept"]))
            self.intent = None
        else:  # examples of one intent only: that intent it is
            self.intent = str(arrays["intent_classes"][0])

    @classmethod
    def fit(cls, keywords: KeywordClassifier, examples: Sequence[Example]) -> Model:
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        texts = [normal_text(e.text) for e in examples]
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, dtype=np.float32).fit(texts)
        word_grams = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+",
                                     dtype=np.float32).fit(texts)
        shell = cls.__new__(cls)  # the keyword and shape features need the categories only
        shell.keywords, shell.categories = keywords, list(keywords.categories)
        shell._index = {c: i for i, c in enumerate(shell.categories)}
        dense = np.vstack([shell.dense(e.text, folded) for e, folded in zip(examples, texts)])
        features = hstack([chars.transform(texts), word_grams.transform(texts), csr_matrix(dense)]).tocsr()
        arrays = {"chars": _by_index(chars.vocabulary_), "words": _by_index(word_grams.vocabulary_),
                  "idf": np.concatenate([chars.idf_, word_grams.idf_]).astype(np.float32)}
        arrays.update(_head("category", LinearSVC(C=REGULARIZATION).fit(features, [e.category for e in examples])))
        intents = [e.intent for e in examples]
        if len(set(intents)) > 1:
            arrays.update(_head("intent", LinearSVC(C=REGULARIZATION).fit(features, intents)))
        else:
            arrays["intent_classes"] = np.array(intents[:1])
        return cls(keywords, arrays)

    def save(self, path) -> None:
        """Write the arrays (numpy's ``.npz``, no pickles) where :meth:`load` reads them."""
        np.savez(path, **self.arrays)

    @classmethod
    def load(cls, keywords: KeywordClassifier, path) -> Model:
        with np.load(path, allow_pickle=False) as saved:
            return cls(keywords, {name: saved[name] for name in saved.files})

    def sparse(self, normal: str) -> tuple[np.ndarray, np.ndarray]:
        """The n-gram part of one message's features: (indexes, values),
        the same numbers scikit-learn's ``TfidfVectorizer`` gives (sublinear
        tf, idf, each block of unit length)."""
        indexes, values = [], []
        for grams in (("\0" + g for g in _char_grams(normal)), _word_grams(normal)):
            counts: dict[int, int] = {}
            for gram in grams:
                i = self._vocab.get(gram)
                if i is not None:
                    counts[i] = counts.get(i, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
            val = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))) * self._idf[idx]
            val /= np.linalg.norm(val)
            indexes.append(idx)
            values.append(val)
        if not indexes:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(indexes), np.concatenate(values)

    def dense(self, text: str, normal: str) -> np.ndarray:
        row = np.zeros(len(self.categories) + 3, dtype=np.float32)
        found = self.keywords.classify(text)
        for category, score in (found.scores or {}).items():
            if category in self._index:
                row[self._index[category]] = KEYWORD_WEIGHT * score / 100
        n = normal.count(" ") + 1 if normal else 0
        row[-3] = SHAPE_WEIGHT * ("?" in text or "¿" in text)
        row[-2] = SHAPE_WEIGHT * min(n, 40) / 40
        row[-1] = SHAPE_WEIGHT * (n <= 2)
        return row

    def probabilities(self, text: str, normal: str) -> list[dict[str, float]]:
        """For each head (category, then intent): class -> probability."""
        idx, val = self.sparse(normal)
        dense = self.dense(text, normal)
        out = []
        for classes, coef, intercept in self._heads:
            z = TEMPERATURE * (coef[:, idx] @ val + coef[:, self._n_ngrams:] @ dense + intercept)
            z = np.exp(z - z.max())
            z /= z.sum()
            out.append(dict(zip(classes.tolist(), z.tolist())))
        return out


class _Memory:
    """Corrected examples as one sparse matrix in coordinate form (row,
    column, value), and how alike a new message is to each of them."""

    def __init__(self, model: Model, texts: Sequence[str]):
        rows, cols, vals = [], [], []
        for row, text in enumerate(texts):
            idx, val = model.sparse(normal_text(text))
            rows.append(np.full(len(idx), row, dtype=np.int64))
            cols.append(idx)
            vals.append(val)
        self.rows, self.cols, self.vals = (np.concatenate(a) for a in (rows, cols, vals))
        self.size = len(texts)

    def likeness(self, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
        """Cosine of the message with each corrected example (two unit-length blocks)."""
        if not len(idx):
            return np.zeros(self.size, dtype=np.float32)
        order = np.argsort(idx)
        idx, val = idx[order], val[order]
        at = np.minimum(np.searchsorted(idx, self.cols), len(idx) - 1)
        hit = idx[at] == self.cols
        return np.bincount(self.rows[hit], weights=self.vals[hit] * val[at[hit]], minlength=self.size) / 2


def _by_index(vocabulary: dict[str, int]) -> np.ndarray:
    grams = [""] * len(vocabulary)
    for gram, i in vocabulary.items():
        grams[i] = gram
    return np.array(grams)


def _head(name: str, model) -> dict[str, np.ndarray]:
    """(classes, weights, intercepts), one row per class (two for a yes/no model)."""
    coef, intercept = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
    if coef.shape[0] == 1:
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    return {f"{name}_classes": model.classes_.astype(str), f"{name}_coef": coef, f"{name}_intercept": intercept}


def _char_grams(normal: str):
    """What ``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))`` sees."""
    for word in normal.split():
        padded = f" {word} "
        size = len(padded)
        for n in range(2, 6):
            if n > size:
                break
            for start in range(size - n + 1):
                yield padded[start:start + n]


def _word_grams(normal: str):
    tokens = normal.split()
    yield from tokens
    for a, b in zip(tokens, tokens[1:]):
        yield f"{a} {b}"


_FITTED: dict[str, Model] = {}
_FITTING = threading.Lock()


def model_key(keywords: KeywordClassifier, examples: Sequence[Example]) -> str:
    """What a fitted model depends on: its examples and the catalogue's keywords."""
    return training.digest(examples, *(f"{c}:{'|'.join(k)}" for c, k in keywords.terms()))


def fitted(keywords: KeywordClassifier, examples: Sequence[Example],
           fit: Callable[[KeywordClassifier, Sequence[Example]], Model] | None = None) -> Model:
    """The model for these keywords and examples, made once per process by
    ``fit`` (by default :meth:`Model.fit`, here and now)."""
    key = model_key(keywords, examples)
    with _FITTING:
        if key not in _FITTED:
            _FITTED[key] = (fit or Model.fit)(keywords, examples)
        return _FITTED[key]


class Classifier:
    """``classify`` is cheap (well under a millisecond) and thread-safe."""

    def __init__(self, keywords: KeywordClassifier, examples: Sequence[Example] | None = None,
                 corrections: Sequence[Correction] = (), *, model: Model | None = None):
        self.model = model or fitted(keywords, training.load() if examples is None else examples)
        self.keywords = keywords
        self.corrections = tuple(corrections)
        self._memory = _Memory(self.model, [c.text for c in self.corrections]) if self.corrections else None

    @classmethod
    def from_terms(cls, terms: Sequence[CategoryTerms], **options) -> Classifier:
        return cls(KeywordClassifier(terms), **options)

    @classmethod
    def from_catalog(cls, catalog: dict, **options) -> Classifier:
        """From the parsed ``categories.json`` shape (keywords per language)."""
        return cls(KeywordClassifier.from_catalog(catalog), **options)

    def with_corrections(self, corrections: Sequence[Correction]) -> Classifier:
        """The same fitted model with another set of corrections: no refit."""
        return Classifier(self.keywords, corrections=corrections, model=self.model)

    def classify(self, text: str) -> Classification:
        model = self.model
        normal = normal_text(text)
        heads = model.probabilities(text or "", normal)
        scores = heads[0]
        if self._memory is not None:
            self._lean_to_corrections(normal, scores)
        intent = max(heads[1], key=heads[1].get) if len(heads) > 1 else model.intent
        if normal and set(normal.split()) <= SMALL_TALK:
            intent = "other"
            scores["other"] = 2 * max(scores.values())  # first, whatever came first before
            total = sum(scores.values())
            scores = {c: p / total for c, p in scores.items()}
        ranked = sorted(((c, round(100.0 * p, 1)) for c, p in scores.items()), key=lambda kv: -kv[1])
        top3 = tuple(ranked[:3])
        return Classification(top3[0][0], top3[0][1], top3, intent=intent, scores=dict(ranked))

    def _lean_to_corrections(self, normal: str, scores: dict[str, float]) -> None:
        """A message like one a caseworker corrected goes where they put it:
        the correction's category gets at least the likeness as probability."""
        idx, val = self.model.sparse(normal)
        likeness = self._memory.likeness(idx, val)
        best = int(np.argmax(likeness))
        if likeness[best] < CORRECTION_SIMILARITY:
            return
        category, pull = self.corrections[best].category, float(likeness[best])
        for c in scores:
            scores[c] *= 1.0 - pull
        scores[category] = scores.get(category, 0.0) + pull
