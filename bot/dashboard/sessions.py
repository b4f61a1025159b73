"""Signed-cookie sessions and CSRF tokens for the dashboard.

A session is a cookie holding who signed in, until when, and the CSRF token
every form of theirs must carry back; it is signed with HMAC-SHA256 under
``DASHBOARD_SECRET``, so it cannot be forged or changed, and nothing of it
is kept on the server: signing out clears the cookie. The role and the
department are read from the store on every request, so a member of staff
removed or moved loses access at once, whatever their cookie says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE = "onewindow_session"
LIFETIME_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    caseworker_id: int
    csrf: str
    expires: int


class Sessions:
    def __init__(self, secret: str = "", *, secure: bool = False):
        self._key = (secret or secrets.token_urlsafe(32)).encode()
        self.secure = secure  # cookies only over HTTPS when the public address is HTTPS

    def new(self, caseworker_id: int, now: float | None = None) -> tuple[Session, str]:
        """A session and its cookie value."""
        session = Session(caseworker_id, secrets.token_urlsafe(24), int((now or time.time()) + LIFETIME_SECONDS))
        payload = _b64(json.dumps({"c": session.caseworker_id, "x": session.csrf, "e": session.expires}).encode())
        return session, f"{payload}.{self._sign(payload)}"

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie holds; None when absent, forged, changed or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = Session(int(data["c"]), str(data["x"]), int(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > (now or time.time()) else None

    def cookie_settings(self) -> dict:
        return {"max_age": LIFETIME_SECONDS, "httponly": True, "samesite": "lax", "secure": self.secure, "path": "/dashboard"}

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())


def csrf_ok(session: Session, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf.encode(), str(given).encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
