"""Changing the language with words, from any step.

A message that is nothing but a language's name ("русский", "english",
"o'zbekcha", "ўзбекча", "espanol") switches to it and shows the same step
again in that language; "change language", "сменить язык", "tilni
o'zgartirish" or "otro idioma" opens the list of languages. Nothing else is
taken: a description that mentions a language stays a description.
"""

from __future__ import annotations

from flows import actions as act
from flows import registry
from flows.core import Context, Result
from flows.i18n import LANGUAGES, asks_for_language, named_language

PICKER_STEP = ("onboarding", "language")


def answer(ctx: Context) -> Result | None:
    """The step's answer to a language request, or None if it is not one."""
    text = ctx.msg.text.strip()
    if not text or len(text) > 40 or (ctx.state.flow, ctx.state.step) == PICKER_STEP:
        return None
    if not ctx.view.citizen.language:  # a newcomer: onboarding greets and asks
        return None
    if (code := named_language(text)) in LANGUAGES:
        return _switch(ctx, code)
    if asks_for_language(text):
        onboarding = registry.get("onboarding")
        if ctx.state.flow == "onboarding":  # still being welcomed: carry on afterwards
            return onboarding.enter(ctx, "language", guessed=False)
        return onboarding.enter(ctx, "language", only=True)
    return None


def _switch(ctx: Context, code: str) -> Result:
    ctx = ctx.with_language(code)
    said = ctx.say(ctx.t("language_changed"))
    if ctx.state.flow in registry.FLOWS and ctx.state.step in registry.get(ctx.state.flow).steps:
        result = registry.get(ctx.state.flow).reprompt(ctx, said)
    else:  # between conversations: the menu
        result = registry.get("menu").enter(ctx, lead=[said])
    result.actions = [act.SetLanguage(code)]
    return result
