"""Help: what the bot does and the words that work anywhere."""

from __future__ import annotations

from flows import menu
from flows.core import Context, Flow, Step

SHOW = "show"


def prompt(ctx: Context) -> list:
    return [ctx.say(ctx.t("help_text") + "\n\n" + ctx.t("help_privacy"))] + menu.prompt(ctx)


# After help the citizen is at the menu in all but name: answer as the menu does.
FLOW = Flow(name="help", first=SHOW, steps={SHOW: Step(prompt, menu.handle)})
