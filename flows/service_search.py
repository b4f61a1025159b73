"""Finding the service a citizen asks about, in any language, with typos and
in either Uzbek script.

Every service's names (weighted more) and descriptions in all five
languages go through :func:`flows.textnorm.match_key`, so ``pasport``,
``паспорт`` and ``pasaporte`` meet. One vocabulary maps each searchable word
to the services that use it, weighted by how rare the word is (a word every
service uses says little). A typed word matches a vocabulary word exactly,
as its start (``tug'il`` → ``tug'ilganlik``) or, from five letters, closely
enough to be a typo. Looking words up in one vocabulary, not service by
service, keeps a search well under a millisecond with hundreds of services.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from flows.service_catalogue import Service, ServiceCatalogue
from flows.textnorm import match_key, words

NAME_WEIGHT, DESCRIPTION_WEIGHT = 2.0, 1.0
MIN_WORD = 2
MIN_TYPO = 5
TYPO_CUTOFF = 82.0
PREFIX_FACTOR, TYPO_FACTOR = 0.85, 0.7
# Words that carry no service meaning in questions, folded (all languages).
FILLER = {match_key(w) for w in words(
    "what how where when which who why the and for with from that this you your need needed get make do does can "
    "nima qanday qancha qayerda qachon qaysi kerak kerakmi uchun bilan olish olsam qilish qilsam bormi bor "
    "нима қандай қанча қаерда қачон керак учун билан олиш "
    "что как где когда какие какой сколько нужно нужен надо для мне можно это или получить сделать "
    "que como donde cuando cual cuanto necesito para los las del por con una uno hacer sacar tengo puedo "
    "va de el la en un no se lo mi me my to of in is it do an or и в на по не за из от ли "
    "olish hujjat hujjatlar hujjati necha pul kun turadi qayerga документы документ справка сколько стоит куда "
    "documents papers bring cost much long papeles requisitos sale tarda cuesta piden hay"
)}


@dataclass(frozen=True)
class Found:
    service: Service
    score: float


class ServiceIndex:
    """The searchable form of one catalogue (build once per catalogue)."""

    def __init__(self, catalogue: ServiceCatalogue) -> None:
        self.catalogue = catalogue
        postings: dict[str, dict[str, float]] = defaultdict(dict)
        for service in catalogue.services:
            keywords = {"": " ".join(service.keywords)}
            for texts, weight in ((service.names, NAME_WEIGHT), (keywords, NAME_WEIGHT), (service.descriptions, DESCRIPTION_WEIGHT)):
                for text in texts.values():
                    for term in _terms(text):
                        postings[term][service.id] = max(postings[term].get(service.id, 0.0), weight)
        count = max(len(catalogue.services), 1)
        self.postings = {
            term: {sid: weight * math.log(1 + count / len(found)) for sid, weight in found.items()}
            for term, found in postings.items()
        }
        self.vocabulary = sorted(self.postings)
        self.regions = {s.region for s in catalogue.services}
        self._long = [t for t in self.vocabulary if len(t) >= MIN_TYPO - 1]

    def _matches(self, word: str) -> list[tuple[str, float]]:
        if word in self.postings:
            return [(word, 1.0)]
        found = []
        start = bisect.bisect_left(self.vocabulary, word)
        for term in self.vocabulary[start:start + 20]:
            if not term.startswith(word):
                break
            found.append((term, PREFIX_FACTOR))
        if found or len(word) < MIN_TYPO:
            return found
        typos = process.extract(word, self._long, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=3)
        return [(term, TYPO_FACTOR * score / 100) for term, score, _ in typos]

    def search(self, text: str, limit: int = 3, locality_id: str | None = None) -> list[Found]:
        """The best services for ``text``, best first; empty when nothing matches.
        With ``locality_id``, only the services of that place's region."""
        scores: dict[str, float] = defaultdict(float)
        for word in set(_terms(text)) - FILLER:
            best: dict[str, float] = {}
            for term, factor in self._matches(word):
                for sid, weight in self.postings[term].items():
                    best[sid] = max(best.get(sid, 0.0), weight * factor)
            for sid, value in best.items():
                scores[sid] += value
        ranked = sorted(scores.items(), key=lambda pair: -pair[1])
        found = (Found(self.catalogue.by_id[sid], round(score, 2)) for sid, score in ranked)
        return [f for f in found if self.serves(f.service, locality_id)][:limit]

    def serves(self, service: Service, locality_id: str | None) -> bool:
        """Whether a service is offered where the citizen lives: locality ids
        start with their region's id (``uz-syr-...``, ``ar-ba-...``); a place
        in no region of the catalogue sees every service."""
        if not locality_id or not any(locality_id.startswith(r) for r in self.regions):
            return True
        return locality_id.startswith(service.region)


def _terms(text: str) -> list[str]:
    return [key for key in (match_key(w) for w in words(text)) if len(key) >= MIN_WORD and not key.isdigit()]
