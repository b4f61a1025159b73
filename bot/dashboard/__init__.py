"""The staff's web dashboard at ``/dashboard``: the overview, the queue,
each request with the desk's actions, the figures and exports, demand per
place. Server-rendered (Jinja2 templates in ``templates/``), usable on a
phone, in the signed-in member of staff's language.

Staff sign in with a one-time link the bot sends on ``/dashboard`` (or
``onewindow staff link``): valid ten minutes, once. Sessions are signed
cookies (:mod:`bot.dashboard.sessions`); every form carries a CSRF token.
"""

from bot.dashboard.app import Dashboard
from bot.dashboard.sessions import Sessions

__all__ = ["Dashboard", "Sessions"]
