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

Fitting takes a few seconds; one fitted model is shared by every catalogue
built from the same examples and keywords in a process (see :func:`fitted`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from flows import training
from flows.keywords import CategoryTerms, Classification, KeywordClassifier
from flows.textnorm import match_key, words
from flows.training import Example

__all__ = ["CONFIDENT", "Classification", "Classifier", "Correction"]

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


class _Model:
    """The fitted vectorizers and the two regressions."""

    def __init__(self, keywords: KeywordClassifier, examples: Sequence[Example]):
        self.keywords = keywords
        self.categories = list(keywords.categories)
        self._index = {c: i for i, c in enumerate(self.categories)}
        texts = [normal_text(e.text) for e in examples]
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, dtype=np.float32)
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+", dtype=np.float32)
        self.chars.fit(texts)
        self.words.fit(texts)
        features = self.features([e.text for e in examples], texts)
        self.category = LinearSVC(C=REGULARIZATION).fit(features, [e.category for e in examples])
        intents = [e.intent for e in examples]
        # With examples of one intent only there is nothing to learn: that intent it is.
        self.intent = LinearSVC(C=REGULARIZATION).fit(features, intents) if len(set(intents)) > 1 else intents[0]

        # What classify() needs, as plain arrays: sklearn's per-call checks
        # cost milliseconds for one short message; a dictionary look-up per
        # n-gram and one small matrix product cost microseconds.
        self._vocab = {("c", g): i for g, i in self.chars.vocabulary_.items()}
        offset = len(self.chars.vocabulary_)
        self._vocab.update({("w", g): offset + i for g, i in self.words.vocabulary_.items()})
        self._idf = np.concatenate([self.chars.idf_, self.words.idf_]).astype(np.float32)
        self._n_ngrams = offset + len(self.words.vocabulary_)
        self._heads = [_head(self.category)] + ([] if isinstance(self.intent, str) else [_head(self.intent)])

    def ngrams(self, normal: list[str]) -> csr_matrix:
        return hstack([self.chars.transform(normal), self.words.transform(normal)]).tocsr()

    def sparse(self, normal: str) -> tuple[np.ndarray, np.ndarray]:
        """The n-gram part of one message's features: (indexes, values),
        the same numbers ``TfidfVectorizer`` gives (sublinear tf, idf, each
        block of unit length)."""
        indexes, values = [], []
        for block, grams in (("c", _char_grams(normal)), ("w", _word_grams(normal))):
            counts: dict[int, int] = {}
            for gram in grams:
                i = self._vocab.get((block, gram))
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

    def features(self, raw: list[str], normal: list[str]) -> csr_matrix:
        dense = np.vstack([self.dense(text, folded) for text, folded in zip(raw, normal)])
        return hstack([self.ngrams(normal), csr_matrix(dense)]).tocsr()


def _head(model: LinearSVC) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(classes, weights, intercepts), one row per class (two for a yes/no model)."""
    coef, intercept = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
    if coef.shape[0] == 1:
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    return model.classes_.astype(str), coef, intercept


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


_FITTED: dict[str, _Model] = {}
_FITTING = threading.Lock()


def fitted(keywords: KeywordClassifier, examples: Sequence[Example]) -> _Model:
    """The model for these keywords and examples, fitted once per process."""
    key = training.digest(examples, *(f"{c}:{'|'.join(k)}" for c, k in keywords.terms()))
    with _FITTING:
        if key not in _FITTED:
            _FITTED[key] = _Model(keywords, examples)
        return _FITTED[key]


class Classifier:
    """``classify`` is cheap (well under a millisecond) and thread-safe."""

    def __init__(self, keywords: KeywordClassifier, examples: Sequence[Example] | None = None,
                 corrections: Sequence[Correction] = (), *, model: _Model | None = None):
        self.model = model or fitted(keywords, training.load() if examples is None else examples)
        self.keywords = keywords
        self.corrections = tuple(corrections)
        if self.corrections:
            normal = [normal_text(c.text) for c in self.corrections]
            self._memory = self.model.ngrams(normal)
        else:
            self._memory = None

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
        likeness = np.asarray(self._memory[:, idx] @ val).ravel() / 2  # two unit-length blocks
        best = int(np.argmax(likeness))
        if likeness[best] < CORRECTION_SIMILARITY:
            return
        category, pull = self.corrections[best].category, float(likeness[best])
        for c in scores:
            scores[c] *= 1.0 - pull
        scores[category] = scores.get(category, 0.0) + pull
