"""STOP and START: opting out of announcements and back in, in every language.

A whole message saying STOP (BAJA, СТОП, TO'XTAT, ТЎХТАТ, ``/stop`` …) stops
every announcement to the citizen, on every channel, until they opt in again
(START, ALTA, СТАРТ, BOSHLASH …). Answers about their own requests still
reach them: they asked for those. Both are confirmed in their language, and
the conversation stays where it was.

"start" (and Telegram's ``/start``) is also a word for the main menu. For a
citizen who has opted out it means opting in, then the menu; for everyone
else it stays the menu word, so nobody is told "you will receive
announcements again" for pressing Telegram's START button. The other
opt-in words (ALTA, SUBSCRIBE …) always confirm.

Checked before anything else (see :mod:`flows.router`), so STOP works at
every step, even from someone who has never written before.
"""

from __future__ import annotations

import re

from flows import actions as act
from flows import registry
from flows.core import Context, Result, go
from flows.textnorm import fold

STOP_WORDS = {
    "en": ["stop", "/stop", "stop all", "stopall", "unsubscribe"],
    "es": ["baja", "darme de baja", "dar de baja", "desuscribir", "desuscribirme"],
    "ru": ["стоп", "отписаться", "отписка"],
    "uz": ["to'xtat", "to'xtatish", "toxtat", "toxtatish", "obunani bekor qilish", "obunadan chiqish"],
    "uz-Cyrl": ["тўхтат", "тўхтатиш", "обунани бекор қилиш", "обунадан чиқиш"],
}
START_WORDS = {
    "en": ["start", "/start", "subscribe", "unstop"],
    "es": ["alta", "darme de alta", "dar de alta", "suscribir", "suscribirme"],
    "ru": ["старт", "подписаться"],
    "uz": ["boshlash", "obuna bo'lish", "obuna"],
    "uz-Cyrl": ["бошлаш", "обуна бўлиш", "обуна"],
}
_STOP = {fold(w) for words in STOP_WORDS.values() for w in words}
_START = {fold(w) for words in START_WORDS.values() for w in words}
_MENU_TOO = {fold("start")}  # fold drops the slash of /start
# Latin words that say which language a newcomer speaks ("baja" -> es);
# Cyrillic ones are told apart by their letters (flows.i18n.guess_language).
_SPOKEN_IN = {fold(w): lang for table in (STOP_WORDS, START_WORDS) for lang in ("es", "uz") for w in table[lang]}
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def answer(ctx: Context) -> Result | None:
    """The answer to STOP or START, or None for any other message."""
    if ctx.msg.button is not None or not ctx.msg.text.strip():
        return None
    words = fold(ctx.msg.text)
    if words in _STOP:
        ctx = _in_their_language(ctx, words)
        return Result([ctx.say(ctx.t("optout_confirmed"))], ctx.state, [act.SetBroadcastOptOut(True)])
    if words in _START and (ctx.view.citizen.broadcasts_opted_out or words not in _MENU_TOO):
        ctx = _in_their_language(ctx, words)
        confirmed = ctx.say(ctx.t("optin_confirmed"))
        actions = [act.SetBroadcastOptOut(False)]
        if registry.onboarded(ctx):
            return go(ctx, "menu", confirmed, actions=actions)
        return Result([confirmed], ctx.state, actions)
    return None


def _in_their_language(ctx: Context, words: str) -> Context:
    if ctx.view.citizen.language or _CYRILLIC.search(ctx.msg.text):
        return ctx
    return ctx.with_language(_SPOKEN_IN.get(words, ctx.language))
