"""Question or request: is the citizen asking how a service works, or asking
for help with a problem?

Three kinds of evidence, none enough alone:

- the classifier's ``intent`` (trained on examples of both);
- the shape of the sentence: a question mark, a question word (what, how,
  where, when, how much...) in any of the five languages, or the Uzbek
  question particle ``-mi`` (``kerakmi``, ``keladimi``);
- words that say something is wrong (no, broken, since Monday...).

A question-shaped message with nothing wrong in it is a question. A message
that says something is wrong, with no question shape, is a request, as it
always was. When the two pull apart — "when will the gas come back?", or a
bare "pasport olish" that names a service — the bot asks one short numbered
question instead of guessing.
"""

from __future__ import annotations

import re

from flows.classifier import Classification
from flows.textnorm import match_key, words

QUESTION, REQUEST, UNSURE = "question", "request", "unsure"
SHORT = 3  # words: "pasport olish" names a service and says nothing more
SEARCH_SURE = 5.0  # a catalogue search score that clearly names a service

_QUESTION_WORDS = {match_key(w) for w in words(
    "what how where when which whom "
    "nima nimalar qanday qanaqa qancha qayerda qayerga qayerdan qachon qaysi kim kimlar necha nega "
    "что как где куда когда какие какой какая каких сколько кто зачем "
    "нима қандай қанақа қанча қаерда қаерга қачон қайси ким кимлар неча нега "
    "donde dónde cual cuál cuanto cuánto cuantos quien quién quienes requisitos"
)}
_PROBLEM_WORDS = {match_key(w) for w in words(
    "no not without broken since nobody leak leaking fell dirty stopped "
    "yo'q yoq ishlamayapti ishlamaydi buzildi buzilgan beri hali kelmayapti kelmadi berilmayapti oqyapti "
    "йўқ ишламаяпти бузилди бери келмаяпти "
    "нет не без сломан сломался течёт течет прорвало отключили "
    "sin roto rota cortaron corte pérdida perdida todavía sigue"
)}
_MI = re.compile(r"(?:\w{2}mi|\w[^\Wаяь]ми)\b", re.IGNORECASE)  # kerakmi, керакми; not Russian -ами/-ьми


def question_shaped(text: str) -> bool:
    if "?" in text or "¿" in text:
        return True
    folded = [match_key(w) for w in words(text)]
    return bool(set(folded) & _QUESTION_WORDS) or bool(_MI.search(text))


def says_something_is_wrong(text: str) -> bool:
    return bool({match_key(w) for w in words(text)} & _PROBLEM_WORDS)


def question_or_request(text: str, found: Classification | None, best_service: float) -> str | None:
    """``question``, ``request``, ``unsure`` — or None for neither (thanks,
    chit-chat: the menu answers those as it always did)."""
    intent = found.intent if found else "other"
    question = intent == "question" or question_shaped(text)
    problem = says_something_is_wrong(text) or (intent == "request" and not question)
    if question and not problem:
        return QUESTION
    if question and problem:
        return UNSURE
    if problem:
        short = len(words(text)) <= SHORT and not says_something_is_wrong(text)
        return UNSURE if short and best_service >= SEARCH_SURE else REQUEST
    return UNSURE if best_service >= SEARCH_SURE else None
