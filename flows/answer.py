"""Answering a caseworker's question about a request.

When staff ask (``/ask``), the citizen's next message — words, a photo, a
document — is attached to that request, and the conversation resumes where
it was.
"""

from __future__ import annotations

from flows import actions as act
from flows.closure import resume
from flows.core import Context, Flow, Result, Step
from flows.i18n import text

REPLY = "reply"


def question(language: str | None, code: str, asked: str) -> str:
    """The question pushed to the citizen."""
    return text(language, "ask_citizen", code=code, question=asked)


def prompt(ctx: Context) -> list:
    return [ctx.say(question(ctx.language, ctx.state.data["code"], ctx.state.data.get("question", "")))]


def handle(ctx: Context) -> Result:
    code = ctx.state.data["code"]
    words = ctx.text
    if ctx.msg.location:
        words = "\n".join(filter(None, [words, f"📍 {ctx.msg.location.latitude:.5f}, {ctx.msg.location.longitude:.5f}"]))
    answer = act.AnswerRequest(code, words, ctx.msg.attachments)
    return resume(ctx, ctx.say(ctx.t("answer_added", code=code)), actions=[answer])


FLOW = Flow(name="answer", first=REPLY, steps={REPLY: Step(prompt, handle)})
