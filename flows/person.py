"""Talk to a person: the citizen's message goes to the staff queue with a
tracking code, and a person answers on the same channel."""

from __future__ import annotations

from flows import request
from flows.core import Context, Flow, Result, Step

WRITE = "write"


def prompt(ctx: Context) -> list:
    return [ctx.say(ctx.t("person_write"))]


def handle(ctx: Context) -> Result:
    draft = request.draft_from(ctx)
    state = ctx.state.with_data(**draft, kind="contact")
    return request.submit(ctx.with_state(state), "other", kind="contact")


FLOW = Flow(name="person", first=WRITE, steps={WRITE: Step(prompt, handle)})
