"""Change language or place at any time."""

from __future__ import annotations

from flows.core import Context, Flow, Result, Step, go
from flows.messages import Choice

CHOOSE = "choose"


def prompt(ctx: Context) -> list:
    choices = [
        Choice("language", ctx.t("settings_language")),
        Choice("place", ctx.t("settings_place")),
        Choice("menu", ctx.t("back_to_menu")),
    ]
    return [ctx.say(ctx.t("settings_question"), choices)]


def handle(ctx: Context) -> Result:
    if ctx.choice in ("language", "place"):
        return go(ctx, "onboarding", step=ctx.choice, only=True)
    if ctx.choice == "menu":
        return go(ctx, "menu")
    return FLOW.reprompt(ctx, ctx.say(ctx.t("please_choose")))


FLOW = Flow(name="settings", first=CHOOSE, steps={CHOOSE: Step(prompt, handle)})
