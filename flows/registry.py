"""The table of flows. A new flow is one module in ``flows/`` and one line here."""

from __future__ import annotations

from flows import answer, closure, help, menu, my_requests, onboarding, person, privacy, request, services, settings, status, visits
from flows.core import Context, Flow, Result

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in (
        onboarding.FLOW,
        menu.FLOW,
        request.FLOW,
        my_requests.FLOW,
        status.FLOW,
        help.FLOW,
        person.FLOW,
        settings.FLOW,
        closure.FLOW,
        answer.FLOW,
        privacy.FLOW,
        services.FLOW,
        visits.FLOW,
    )
}


def get(name: str) -> Flow:
    return FLOWS[name]


def onboarded(ctx: Context) -> bool:
    """Language, place and consent asked. Someone who refused consent has no
    place on record (it was not kept) and is onboarded all the same."""
    citizen = ctx.view.citizen
    return bool(citizen.language and citizen.consent is not None and (citizen.locality_id or citizen.consent is False))


def start(ctx: Context) -> Result:
    """A conversation with no current step: a newcomer is welcomed and
    onboarded (keeping what they wrote for afterwards); anyone else is
    answered as if at the main menu, so what they wrote is not lost."""
    if not onboarded(ctx):
        return onboarding.begin(ctx)
    return menu.answer(ctx)
