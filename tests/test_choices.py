"""Reading which choice a citizen meant, case by case (flows.choices): the
cases a plausible mistake in the matching would get wrong (``make mutate``)."""

from __future__ import annotations

import pytest

from flows.choices import match_choice

LANGUAGES = [("lang:uz", "O'zbekcha"), ("lang:ru", "Русский"), ("lang:en", "English")]
PLACES = [("oltinkol", "Oltinko'l"), ("yangiobod", "Yangiobod"), ("guliston-d", "Guliston tumani"), ("sardoba-d", "Sardoba tumani")]
CONFIRM = [("yes", "✅ Yes, send it"), ("other", "✏ Another topic"), ("cancel", "✖ Cancel")]


@pytest.mark.parametrize("typed, choices, key", [
    ("3", LANGUAGES, "lang:en"),
    ("4", LANGUAGES, None),  # one past the list is no choice (and no crash)
    ("0", LANGUAGES, None),
    ("ha", CONFIRM, "yes"),
    ("ha", LANGUAGES, None),  # "yes" answers only a menu that has a yes
    ("Oqoltin", PLACES, None),  # another place whose name looks alike is not this one
    ("Yangiyer", PLACES, None),
    ("guliston", PLACES, "guliston-d"),  # the start of a label is enough
    ("sardoba", PLACES, "sardoba-d"),
    ("No water in Sardoba tumani for a week now", PLACES, None),  # a sentence is what they have to say, not a choice
])
def test_a_typed_answer_picks_the_choice_it_names_or_none(typed, choices, key):
    assert match_choice(typed, choices) == key
