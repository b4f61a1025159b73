"""Status by tracking code: "where is my request KX7-4MP?"."""

from __future__ import annotations

from flows.core import Context, Flow, Result, Step, go
from flows.messages import Outgoing
from flows.tracking import find_code

ASK = "ask"


def describe(ctx: Context, code: str) -> Outgoing:
    """One message saying where the request ``code`` stands.

    Only the citizen who filed it learns anything: to anyone else a code
    that exists reads exactly like one that does not (codes get copied,
    overheard and guessed; a status and a topic say too much).
    """
    request = ctx.view.request_by_code(code)
    if request is None or not request.mine:
        return ctx.say(ctx.t("code_not_found", code=code))
    category = ctx.view.category(request.category_id)
    lines = [
        ctx.t("status_line_code", code=request.code),
        ctx.t("status_line_category", category=category.name(ctx.language) if category else request.category_id),
        ctx.t("status_line_status", status=ctx.t(f"status_{request.status}")),
        ctx.t("status_line_filed", date=request.created_at.strftime("%d.%m.%Y")),
    ]
    if request.merged_into:  # "merged with another request": which one, so they can follow it
        lines.insert(3, ctx.t("push_merged_into", code=request.merged_into))
    if request.updated_at.date() != request.created_at.date():
        lines.append(ctx.t("status_line_updated", date=request.updated_at.strftime("%d.%m.%Y")))
    if request.text:
        excerpt = request.text if len(request.text) <= 200 else request.text[:200] + "…"
        lines.append(f"«{excerpt}»")
    return ctx.say("\n".join(lines))


def prompt(ctx: Context) -> list:
    return [ctx.say(ctx.t("ask_code"))]


def handle(ctx: Context) -> Result:
    code = find_code(ctx.text)
    if code is None:
        return FLOW.reprompt(ctx, ctx.say(ctx.t("not_a_code")))
    return go(ctx, "menu", describe(ctx, code))


FLOW = Flow(name="status", first=ASK, steps={ASK: Step(prompt, handle)})
