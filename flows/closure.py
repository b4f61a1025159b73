"""Closing a request with the citizen: "was your request resolved?".

Staff resolve a request; the citizen is asked. "No" reopens it and alerts
the person in charge; "yes" closes it and asks for a 1-5 rating and an
optional comment. Afterwards the conversation resumes where it was.
"""

from __future__ import annotations

from flows import actions as act
from flows.choices import leading_answer
from flows.core import Context, Flow, Result, Step, go
from flows.i18n import text
from flows.messages import Choice

CONFIRM, RATING, COMMENT = "confirm", "rating", "comment"
STARS = {str(n): "⭐" * n for n in range(1, 6)}


def question(language: str | None, code: str, resolution: str | None) -> tuple[str, list[Choice]]:
    """The question pushed to the citizen when staff resolve their request."""
    body = text(language, "closure_question", code=code)
    if resolution:
        body = text(language, "closure_resolution", resolution=resolution) + "\n\n" + body
    return body, [Choice("yes", text(language, "closure_yes")), Choice("no", text(language, "closure_no"))]


def resume(ctx: Context, *lead, actions=()) -> Result:
    """Back to where the citizen was before the question came."""
    flow, step, data = (ctx.state.data.get("resume") or ["", "", {}])
    if not flow or flow == FLOW.name:
        return go(ctx, "menu", *lead, actions=actions)
    return go(ctx, flow, *lead, step=step or None, actions=actions, **(data or {}))


def prompt_confirm(ctx: Context) -> list:
    body, choices = question(ctx.language, ctx.state.data["code"], None)
    return [ctx.say(body, choices)]


def handle_confirm(ctx: Context) -> Result:
    """Yes or no, pressed or written — also opening a longer reply ("no,
    todavía no me llegó nada"), whose rest is kept as the citizen's comment."""
    code = ctx.state.data["code"]
    leading = leading_answer(ctx.text) if ctx.msg.button is None else None
    comment = (leading[1][:2000] or None) if leading and leading[0] == ctx.choice else None
    if ctx.choice == "yes":
        result = FLOW.enter(ctx, RATING, lead=[ctx.say(ctx.t("closure_thanks"))], commented=bool(comment))
        result.actions.append(act.ConfirmResolved(code, True, comment))
        return result
    if ctx.choice == "no":
        return resume(ctx, ctx.say(ctx.t("closure_reopened", code=code)), actions=[act.ConfirmResolved(code, False, comment)])
    return FLOW.reprompt(ctx, ctx.say(ctx.t("please_choose")))


def prompt_rating(ctx: Context) -> list:
    return [ctx.say(ctx.t("rating_question"), [Choice(n, stars) for n, stars in STARS.items()])]


def handle_rating(ctx: Context) -> Result:
    rating = ctx.choice or (ctx.text if ctx.text in STARS else None)
    if rating is None:
        return FLOW.reprompt(ctx, ctx.say(ctx.t("rating_please")))
    rated = act.RateRequest(ctx.state.data["code"], rating=int(rating))
    if ctx.state.data.get("commented"):  # they said it all with their yes
        return resume(ctx, ctx.say(ctx.t("rating_thanks")), actions=[rated])
    result = FLOW.enter(ctx, COMMENT)
    result.actions.append(rated)
    return result


def prompt_comment(ctx: Context) -> list:
    return [ctx.say(ctx.t("rating_comment"), [Choice("skip", ctx.t("skip"))])]


def handle_comment(ctx: Context) -> Result:
    thanks = ctx.say(ctx.t("rating_thanks"))
    if ctx.choice == "skip" or not ctx.text:
        return resume(ctx, thanks)
    return resume(ctx, thanks, actions=[act.RateRequest(ctx.state.data["code"], comment=ctx.text[:2000])])


FLOW = Flow(
    name="closure",
    first=CONFIRM,
    steps={
        CONFIRM: Step(prompt_confirm, handle_confirm),
        RATING: Step(prompt_rating, handle_rating),
        COMMENT: Step(prompt_comment, handle_comment),
    },
)
