"""Onboarding: language, place (region > district > village, or a shared
location), consent to keep the citizen's data.

Whatever the newcomer wrote first is kept and, once onboarding is done,
taken as their request: nobody has to write it twice.

A shared location far from every known place is confirmed before it is
saved, and a village that is not in the list is asked by name: the name is
kept for staff to add to the catalogue (``/places``).
"""

from __future__ import annotations

from flows import actions as act
from flows import request
from flows.core import Context, Flow, Result, Step, go
from flows.i18n import LANGUAGES, guess_language, language_from_words, text
from flows.messages import Choice
from flows.view import LocalityInfo

LANGUAGE, PLACE, CONSENT = "language", "place", "consent"
PLACE_CONFIRM, PLACE_NAME = "place_confirm", "place_name"
# A pin farther than this from every listed place is confirmed before it is
# saved. In the sample catalogue half the villages have a neighbour within
# 6.4 km and nine in ten within 18 km, so a pin inside a village's own area
# is rarely more than 9 km from it; 15 km leaves room for a pin dropped at
# the edge of a large village or on the road, while a pin 55 km away is
# surely some place that is not in the list yet.
CONFIRM_BEYOND_KM = 15.0
MAX_PLACE_NAME = 100
OTHER_LANGUAGE = "other_language"
ALL_LANGUAGES_PROMPT = "Tilni tanlang · Тилни танланг · Выберите язык · Elija su idioma · Choose your language"


def begin(ctx: Context) -> Result:
    """Welcome a newcomer: in the language their first message (or their
    app, or their number's country) points to, with a way to pick another;
    in every language with the list when nothing points anywhere."""
    data = {}
    words = ctx.text.split()
    if len(words) >= 3 and not ctx.text.startswith("/"):
        data["pending_text"] = ctx.text
    if ctx.view.citizen.language:
        return FLOW.enter(ctx, _next_missing(ctx, set()), lead=[ctx.say(ctx.t("welcome"))], **data)
    guessed = guess_language(ctx.text, ctx.msg.language_hint)
    if guessed is None:
        return FLOW.enter(ctx, LANGUAGE, lead=[ctx.say(in_every_language("welcome"))], **data)
    ctx = ctx.with_language(guessed)
    ctx = ctx.with_state(ctx.state.at(FLOW.name, LANGUAGE, guessed=True, **data))
    return _advance(ctx, {LANGUAGE}, [act.SetLanguage(guessed)], ctx.say(ctx.t("welcome")))


def in_every_language(key: str) -> str:
    """For a citizen whose language is not known yet."""
    return "\n".join(text(code, key) for code in LANGUAGES)


def _next_missing(ctx: Context, done: set[str]) -> str | None:
    citizen = ctx.view.citizen
    if LANGUAGE not in done and not citizen.language:
        return LANGUAGE
    if PLACE not in done and not citizen.locality_id:
        return PLACE
    if CONSENT not in done and citizen.consent is None:
        return CONSENT
    return None


def _advance(ctx: Context, done: set[str], actions: list[act.Action], *lead) -> Result:
    """Go to what is still missing; when nothing is, carry on where the
    citizen wanted to go."""
    done = done | set(ctx.state.data.get("done", []))
    nxt = None if ctx.state.data.get("only") else _next_missing(ctx, done)
    if nxt:
        result = FLOW.enter(ctx, nxt, lead=lead, done=sorted(done))
        result.actions = actions
        return result
    pending = ctx.state.data.get("pending_text")
    consented = ctx.view.citizen.consent or any(isinstance(a, act.SetConsent) and a.consent for a in actions)
    if pending and consented:
        found = ctx.view.classify(pending)
        return go(ctx, "request", *lead, step="confirm", actions=actions, text=pending, **request.guess(found))
    if ctx.state.data.get("only"):
        lead = lead + (ctx.say(ctx.t("saved")),)
    return go(ctx, "menu", *lead, actions=actions)


# -- language ---------------------------------------------------------------

def prompt_language(ctx: Context) -> list:
    choices = [Choice(f"lang:{code}", label) for code, label in LANGUAGES.items()]
    return [ctx.say(ALL_LANGUAGES_PROMPT, choices)]


def handle_language(ctx: Context) -> Result:
    # A language named in words wins over a fuzzy choice: "ўзбекча" and
    # "o'zbekcha" fold alike, but the script says which one is meant.
    named = language_from_words(ctx.text) if ctx.text else None
    code = named or (ctx.choice.removeprefix("lang:") if ctx.choice else None)
    if code in LANGUAGES:
        ctx = ctx.with_language(code)
        return _advance(ctx, {LANGUAGE}, [act.SetLanguage(code)])
    if len(ctx.text.split()) >= 3 and "pending_text" not in ctx.state.data:
        ctx = ctx.with_state(ctx.state.with_data(pending_text=ctx.text))
        return FLOW.reprompt(ctx, ctx.say(in_every_language("kept_your_message")))
    return FLOW.reprompt(ctx, ctx.say(in_every_language("language_not_supported")))


# -- place --------------------------------------------------------------------

def prompt_place(ctx: Context) -> list:
    parent_id = ctx.state.data.get("parent")
    places = ctx.view.localities(parent_id)
    choices = [Choice(f"loc:{p.id}", p.name(ctx.language)) for p in places]
    if parent_id:
        parent = ctx.view.locality(parent_id)
        if parent and parent.kind != "region":
            choices.append(Choice("here", ctx.t("place_not_listed")))
        choices.append(Choice("back", ctx.t("back")))
        question = ctx.t("choose_place_in", place=parent.name(ctx.language) if parent else "")
    else:
        question = ctx.t("choose_region")
    if ctx.state.data.get("guessed"):
        choices.append(Choice(OTHER_LANGUAGE, ctx.t("other_language")))
    return [ctx.say(question + "\n" + ctx.t("or_share_location"), choices)]


def handle_place(ctx: Context) -> Result:
    if ctx.msg.location:
        found = ctx.view.nearest_locality(ctx.msg.location.latitude, ctx.msg.location.longitude)
        if found is None:
            return FLOW.reprompt(ctx, ctx.say(ctx.t("location_too_far")))
        place, km = found
        if km > CONFIRM_BEYOND_KM:
            return FLOW.enter(ctx, PLACE_CONFIRM, proposed=place.id, km=round(km))
        lead = ctx.say(ctx.t("location_found", place=_full_name(ctx, place), km=f"{km:.0f}"))
        return _advance(ctx, {PLACE}, [act.SetLocality(place.id)], lead)
    choice = ctx.choice
    parent_id = ctx.state.data.get("parent")
    if choice == OTHER_LANGUAGE:
        return FLOW.enter(ctx, LANGUAGE, guessed=False)
    if choice == "back":
        parent = ctx.view.locality(parent_id) if parent_id else None
        return FLOW.enter(ctx, PLACE, parent=parent.parent_id if parent else None)
    if choice == "here" and parent_id:
        return FLOW.enter(ctx, PLACE_NAME, parent=parent_id)
    if choice and choice.startswith("loc:"):
        place_id = choice.removeprefix("loc:")
        if ctx.view.localities(place_id):
            return FLOW.enter(ctx, PLACE, parent=place_id)
        return _settle(ctx, place_id)
    return FLOW.reprompt(ctx, ctx.say(ctx.t("place_not_understood")))


def prompt_place_confirm(ctx: Context) -> list:
    place = ctx.view.locality(ctx.state.data["proposed"])
    choices = [Choice("yes", ctx.t("location_confirm_yes")), Choice("list", ctx.t("location_confirm_no"))]
    return [ctx.say(ctx.t("location_confirm", place=_full_name(ctx, place), km=ctx.state.data["km"]), choices)]


def handle_place_confirm(ctx: Context) -> Result:
    """"Is it near X (55 km)?": yes saves X; no (or anything but yes) shows the list."""
    if ctx.msg.location:
        return handle_place(ctx)
    if ctx.choice == "yes":
        return _settle(ctx, ctx.state.data["proposed"])
    if ctx.choice == "list":
        return FLOW.enter(ctx, PLACE, parent=None)
    return FLOW.reprompt(ctx, ctx.say(ctx.t("please_choose")))


def prompt_place_name(ctx: Context) -> list:
    parent = ctx.view.locality(ctx.state.data["parent"])
    return [ctx.say(ctx.t("place_name_question", place=_full_name(ctx, parent) if parent else ""), [Choice("back", ctx.t("back"))])]


def handle_place_name(ctx: Context) -> Result:
    """The name of a village that is not in the list: the district is saved as
    the citizen's place, the name is kept for staff to add."""
    parent_id = ctx.state.data["parent"]
    if ctx.choice == "back":
        return FLOW.enter(ctx, PLACE, parent=parent_id)
    name = " ".join(ctx.text.split())
    if ctx.msg.location:
        return handle_place(ctx)
    if not any(ch.isalpha() for ch in name) or len(name) > MAX_PLACE_NAME:
        return FLOW.reprompt(ctx, ctx.say(ctx.t("place_name_please")))
    parent = ctx.view.locality(parent_id)
    lead = ctx.say(ctx.t("place_name_saved", name=name, place=_full_name(ctx, parent) if parent else ""))
    return _advance(ctx, {PLACE}, [act.SetLocality(parent_id), act.NamePlace(name, parent_id)], lead)


def _settle(ctx: Context, place_id: str) -> Result:
    place = ctx.view.locality(place_id)
    lead = ctx.say(ctx.t("place_saved", place=_full_name(ctx, place))) if place else None
    return _advance(ctx, {PLACE}, [act.SetLocality(place_id)], *([lead] if lead else []))


def _full_name(ctx: Context, place: LocalityInfo) -> str:
    names = [place.name(ctx.language)]
    parent = ctx.view.locality(place.parent_id) if place.parent_id else None
    while parent is not None:
        names.append(parent.name(ctx.language))
        parent = ctx.view.locality(parent.parent_id) if parent.parent_id else None
    return ", ".join(names)


# -- consent ------------------------------------------------------------------

def prompt_consent(ctx: Context) -> list:
    return [ctx.say(ctx.t("consent_question"), ctx.consent_choices())]


def handle_consent(ctx: Context) -> Result:
    if ctx.choice == "yes":
        return _advance(ctx, {CONSENT}, [act.SetConsent(True)], ctx.say(ctx.t("consent_thanks")))
    if ctx.choice == "no":
        ctx = ctx.with_state(ctx.state.with_data(pending_text=None))
        return _advance(ctx, {CONSENT}, [act.SetConsent(False), act.EraseAfterRefusal()], ctx.say(ctx.t("consent_declined")))
    return FLOW.reprompt(ctx, ctx.say(ctx.t("please_choose")))


FLOW = Flow(
    name="onboarding",
    first=LANGUAGE,
    steps={
        LANGUAGE: Step(prompt_language, handle_language),
        PLACE: Step(prompt_place, handle_place),
        PLACE_CONFIRM: Step(prompt_place_confirm, handle_place_confirm),
        PLACE_NAME: Step(prompt_place_name, handle_place_name),
        CONSENT: Step(prompt_consent, handle_consent),
    },
)
