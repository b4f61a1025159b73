"""My requests: the citizen's latest requests, each one a tap away."""

from __future__ import annotations

from flows import menu, status
from flows.core import Context, Flow, Result, Step, go
from flows.messages import Choice

LIST = "list"
SHOWN = 8


def prompt(ctx: Context) -> list:
    requests = ctx.view.my_requests(limit=SHOWN)
    if not requests:
        return [ctx.say(ctx.t("no_requests_yet"), [Choice("new", ctx.t("menu_new_request")), Choice("menu", ctx.t("back_to_menu"))])]
    lines = [ctx.t("your_requests")]
    for r in requests:
        category = ctx.view.category(r.category_id)
        name = category.name(ctx.language) if category else r.category_id
        lines.append(f"• {r.code} — {name} — {ctx.t(f'status_{r.status}')}")
    choices = [Choice(f"req:{r.code}", r.code) for r in requests] + [Choice("menu", ctx.t("back_to_menu"))]
    return [ctx.say("\n".join(lines), choices)]


def handle(ctx: Context) -> Result:
    choice = ctx.choice or ""
    if choice.startswith("req:"):
        return FLOW.reprompt(ctx, status.describe(ctx, choice.removeprefix("req:")))
    if choice == "new":
        return go(ctx, "request")
    if choice == "menu":
        return go(ctx, "menu")
    return menu.answer(ctx)


FLOW = Flow(name="my_requests", first=LIST, steps={LIST: Step(prompt, handle)})
