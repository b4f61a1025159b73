"""``/dashboard``: a one-time link that signs this member of staff in to the
web dashboard (valid ten minutes, once; see :mod:`bot.dashboard`)."""

from __future__ import annotations

from handlers.staff.context import Desk
from storage import sign_in


def dashboard(desk: Desk) -> None:
    token = sign_in.issue(desk.session.connection(), desk.me.id)
    desk.say(desk.t("staff_dashboard_link", url=link(desk.web_url, token)))


def link(web_url: str, token: str) -> str:
    return f"{web_url.rstrip('/')}/dashboard/signin/{token}"
