"""The pieces every flow is built from.

A flow is a small state machine: named steps, each with a ``prompt`` (what
to show on arrival, or again after a wrong answer) and a ``handle`` (what to
do with the citizen's answer). A step returns a :class:`Result`: replies,
the next state and actions for the engine. No step does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from flows import actions as act
from flows.i18n import text as _text
from flows.messages import Choice, Incoming, Outgoing
from flows.view import View


@dataclass(frozen=True)
class State:
    """Where a conversation stands: which flow and step, the answers gathered
    so far (``data``) and a ``version`` that changes with every new step, so a
    button pressed on an old menu can be told apart."""

    flow: str = ""
    step: str = ""
    data: dict = field(default_factory=dict)
    version: int = 0

    def at(self, flow: str, step: str, **data) -> State:
        """The state of ``flow``/``step``; ``data`` is merged into what is
        kept when staying in the same flow and replaced when entering a new one."""
        kept = dict(self.data) if flow == self.flow else {}
        kept.pop("choices", None)
        kept.update(data)
        return State(flow, step, kept, self.version)

    def with_data(self, **data) -> State:
        return replace(self, data={**self.data, **data})


@dataclass
class Result:
    """What a step answers. ``then`` hands over to another flow
    (``(flow, step or None, data)``), whose prompt follows ``replies``."""

    replies: list[Outgoing]
    state: State
    actions: list[act.Action] = field(default_factory=list)
    then: tuple[str, str | None, dict] | None = None


def go(ctx: Context, flow: str, *lead: Outgoing, step: str | None = None, actions: Iterable[act.Action] = (), **data) -> Result:
    """Leave the current flow for ``flow`` (its first step unless ``step``)."""
    return Result(list(lead), ctx.state, list(actions), then=(flow, step, data))


@dataclass
class Context:
    """Everything a step may look at for one incoming message."""

    msg: Incoming
    state: State
    view: View
    language: str
    choice: str | None = None  # the key of the choice the citizen picked, if any

    @property
    def text(self) -> str:
        return self.msg.text.strip()

    def t(self, key: str, **values) -> str:
        return _text(self.language, key, **values)

    def say(self, text: str, choices: Iterable[Choice] = ()) -> Outgoing:
        return Outgoing(address=self.msg.address, text=text, choices=tuple(choices))

    def consent_choices(self) -> list[Choice]:
        """The yes/no asked wherever the citizen's consent is needed."""
        return [Choice("yes", self.t("consent_yes")), Choice("no", self.t("consent_no"))]

    def with_language(self, language: str) -> Context:
        return replace(self, language=language)

    def with_state(self, state: State) -> Context:
        return replace(self, state=state, choice=None)


Prompt = Callable[[Context], list[Outgoing]]
Handle = Callable[[Context], Result]


@dataclass(frozen=True)
class Step:
    prompt: Prompt
    handle: Handle


@dataclass(frozen=True)
class Flow:
    """A named set of steps; ``first`` is where :meth:`enter` begins."""

    name: str
    steps: dict[str, Step]
    first: str

    def enter(self, ctx: Context, step: str | None = None, *, lead: Iterable[Outgoing] = (), **data) -> Result:
        """Move to ``step`` (the first by default) and show its prompt, after
        ``lead`` (say, a confirmation of what was just done)."""
        state = ctx.state.at(self.name, step or self.first, **data)
        replies = list(lead) + self.steps[state.step].prompt(ctx.with_state(state))
        return Result(replies, state)

    def reprompt(self, ctx: Context, *lead: Outgoing) -> Result:
        return Result(list(lead) + self.steps[ctx.state.step].prompt(ctx), ctx.state)
