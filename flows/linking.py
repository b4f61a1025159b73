"""One citizen on two channels: linking by phone number.

A Telegram user who shares their *own* contact (Telegram vouches that the
number is theirs: the adapter marks it ``{"type": "own_contact"}``; a
forwarded card of someone else is just an attachment) is linked with
whoever writes from that number on WhatsApp: one citizen, so "my requests"
shows the requests from both. If nobody writes from it yet, the number is
registered for them, and their first WhatsApp message finds them known.

Numbers are compared in E.164 (``+998901234567``), as WhatsApp addresses
are written, after :mod:`phonenumbers` has read them.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from flows import actions as act
from flows import registry
from flows.core import Context, Result, go

WHATSAPP = "whatsapp"


@lru_cache(maxsize=65536)  # the same citizens write again and again; reading a number is not free
def normalize_phone(raw: str) -> str | None:
    """``+E164`` for a number as apps write it (``998 90 123-45-67``,
    ``+54 9 221 555-0134``, ``00998…``), or None if it cannot be a number."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        text = "+" + text  # Telegram gives the international number without the plus
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def whatsapp_addresses(e164: str) -> tuple[str, ...]:
    """The WhatsApp addresses this number may write from, the likeliest first.

    WhatsApp writes Argentine mobiles with the 9 of the international mobile
    prefix (+54 9 221 …) while phones and contacts often drop it."""
    if e164.startswith("+54") and not e164.startswith("+549"):
        return (f"{WHATSAPP}:+549{e164[3:]}", f"{WHATSAPP}:{e164}")
    return (f"{WHATSAPP}:{e164}",)


def answer(ctx: Context) -> Result | None:
    """Link on a shared own contact; None for any other message."""
    event = ctx.msg.event or {}
    if event.get("type") != "own_contact" or ctx.msg.channel == WHATSAPP:
        return None
    e164 = normalize_phone(str(event.get("phone", "")))
    if e164 is None:
        return None
    linked = ctx.say(ctx.t("linked_channel", channel="WhatsApp", phone=e164))
    actions = [act.LinkPhone(whatsapp_addresses(e164))]
    if registry.onboarded(ctx):
        return go(ctx, "menu", linked, actions=actions)
    flow = registry.FLOWS.get(ctx.state.flow)
    if flow is not None and ctx.state.step in flow.steps:
        result = flow.reprompt(ctx, linked)
        result.actions = actions + result.actions
        return result
    return Result([linked], ctx.state, actions)
