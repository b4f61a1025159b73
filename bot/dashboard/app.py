"""The dashboard's pages and actions, served by the same app as the webhooks.

Who may see and do what is the staff desk's rule, not a second copy of it:
listings are limited by :func:`handlers.staff.context.visible_to`, a
request's card is the desk's card, and every action (reply, status,
assign, note, close, take, reopen) runs the desk's own command as the
signed-in member of staff, with its permissions, its events and its
messages to the citizen. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import uuid
from functools import wraps
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import select
from starlette.requests import Request as HttpRequest
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot import exports
from bot.dashboard import downloads, records
from bot.dashboard.downloads import departments_of, midnight
from bot.dashboard.sessions import COOKIE, Sessions, csrf_ok
from bot.demand import demand_rows
from bot.figures import summary
from flows import lifecycle, search
from flows.i18n import supported, text
from flows.messages import Incoming
from handlers.staff.cards import age, card, department_name
from handlers.staff.context import Desk, visible_to
from handlers.request_body import read_body
from handlers.staff.queue import searchable
from handlers.webchat import FILE_PREFIX
from storage import sign_in
from storage.db import session_scope
from storage.models import Caseworker, Department, Request, utcnow

TEMPLATES = Path(__file__).parent / "templates"
PAGE = 50
MAX_FORM = 64_000
SEARCHED = 2000
ACTIONS = {  # a form's action -> the desk command and the fields it takes, in order
    "reply": ("reply", ("text",)), "note": ("note", ("text",)), "close": ("close", ("text",)),
    "status": ("status", ("status", "text")), "assign": ("assign", ("who",)), "take": ("take", ()), "reopen": ("reopen", ()),
}
ROLE_RANK = {"caseworker": 0, "supervisor": 1, "admin": 2}
HEADERS = {  # no caching of personal data, no framing, no script at all, links that do not leak the page's address
    "Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
}


def signed_in(least: str = "caseworker"):
    """A page for a signed-in member of staff of at least ``least``: the
    handler gets them and their CSRF token; others get the sign-in page or 403."""
    def wrap(handler):
        @wraps(handler)
        async def page(self, request: HttpRequest) -> Response:
            found = await asyncio.to_thread(self._me, request)
            if found is None:
                return self._signed_out(request)
            me, csrf = found
            if ROLE_RANK[me.role] < ROLE_RANK[least]:
                return self._page("error.html", me, http_status=403, message_key="dash_role", role=least)
            return await handler(self, request, me, csrf)
        return page
    return wrap


class Dashboard:
    def __init__(self, database, catalog, desk, sessions: Sessions, export_key: str = "", files: Path | None = None):
        self.database = database
        self.files = files  # the web chat's photos (see handlers.webchat)
        self.catalog = catalog
        self.desk = desk  # the engine's staff desk: actions run through it
        self.sessions = sessions
        self.export_key = export_key.strip().encode() if len(export_key.strip()) >= 16 else None
        self.templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))

    def routes(self) -> list[Route]:
        return [
            Route("/dashboard", self.overview, methods=["GET"]),
            Route("/dashboard/signin/{token}", self.sign_in, methods=["GET", "POST"]),
            Route("/dashboard/signout", self.sign_out, methods=["POST"]),
            Route("/dashboard/queue", self.queue, methods=["GET"]),
            Route("/dashboard/requests/{code}", self.request_page, methods=["GET", "POST"]),
            Route("/dashboard/requests/{code}/files/{name}", self.request_file, methods=["GET"]),
            Route("/dashboard/demand", self.demand, methods=["GET"]),
            Route("/dashboard/visits", self.visits, methods=["GET"]),
            Route("/dashboard/broadcasts", self.broadcasts, methods=["GET"]),
            Route("/dashboard/report", self.report, methods=["GET"]),
            Route("/dashboard/export/{table}.{fmt}", self.export, methods=["GET"]),
            Route("/dashboard/export", self.export, methods=["GET"]),  # the report page's form: ?table=&fmt=
        ]

    # -- signing in and out ---------------------------------------------------

    async def sign_in(self, request: HttpRequest) -> Response:
        """GET shows a button (link previews must not use the link up); POST takes it."""
        if request.method == "GET":
            return self._page("signin.html", None, http_status=200, token=request.path_params["token"], language=_browser_language(request))
        token = request.path_params["token"]
        caseworker_id = await asyncio.to_thread(self._redeem, token)
        if caseworker_id is None:
            return self._page("signed_out.html", None, http_status=403, gone=True, language=_browser_language(request))
        _session, cookie = self.sessions.new(caseworker_id)
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(COOKIE, cookie, **self.sessions.cookie_settings())
        return response

    def _redeem(self, token: str) -> int | None:
        with self.database.begin() as conn:
            return sign_in.redeem(conn, token)

    async def sign_out(self, request: HttpRequest) -> Response:
        session = self.sessions.read(request.cookies.get(COOKIE))
        form = await _form(request)
        if session is not None and not csrf_ok(session, form.get("csrf")):
            return self._page("error.html", None, http_status=403, message_key="dash_csrf", language=_browser_language(request))
        response = RedirectResponse("/dashboard", status_code=303)
        response.delete_cookie(COOKIE, path="/dashboard")
        return response

    def _me(self, request: HttpRequest) -> tuple[Caseworker, str] | None:
        """The signed-in member of staff (still active) and their CSRF token."""
        session = self.sessions.read(request.cookies.get(COOKIE))
        if session is None:
            return None
        with session_scope(self.database) as db:
            me = db.get(Caseworker, session.caseworker_id)
            if me is None or not me.active:
                return None
            db.expunge(me)
        return me, session.csrf

    def _signed_out(self, request: HttpRequest) -> Response:
        return self._page("signed_out.html", None, http_status=401, gone=False, language=_browser_language(request))

    # -- pages ------------------------------------------------------------------

    @signed_in()
    async def overview(self, request: HttpRequest, me: Caseworker, csrf: str) -> Response:
        data = await asyncio.to_thread(self._overview, me)
        return self._page("overview.html", me, csrf=csrf, **data)

    def _overview(self, me: Caseworker) -> dict:
        now = utcnow()
        departments = departments_of(me)
        with self.database.connect() as conn:
            this_week = summary(conn, self.catalog, now - timedelta(days=7), now, now, departments)
            last_week = summary(conn, self.catalog, now - timedelta(days=14), now - timedelta(days=7), now, departments)
            month = summary(conn, self.catalog, now - timedelta(days=30), now, now, departments)
        with session_scope(self.database) as db:
            open_now = self._scoped(db, me, select(Request).where(Request.status.in_(lifecycle.OPEN | {"resolved"})))
            by_status = {status: sum(r.status == status for r in open_now) for status in ("new", "in_progress", "waiting_citizen", "reopened", "resolved")}
            late = [r for r in open_now if r.status in lifecycle.OPEN and self._state(r, now) == "breached"]
            late_rows = [self._row(db, me, r, now) for r in sorted(late, key=lambda r: r.created_at)[:20]]
            names = self._names(db, me)
        return {
            "week": this_week.total, "last_week": last_week.total, "month": month,
            "by_status": by_status, "late": late_rows, "late_count": len(late),
            "by_category": _bars({names["category"](k): f.requests for k, f in month.by["category"].items()}),
            "by_locality": _bars({names["locality"](k): f.requests for k, f in month.by["locality"].items()}),
        }

    @signed_in()
    async def queue(self, request: HttpRequest, me: Caseworker, csrf: str) -> Response:
        wanted = {k: request.query_params.get(k, "").strip() for k in ("status", "category", "department", "area", "who", "q", "page")}
        data = await asyncio.to_thread(self._queue, me, wanted)
        return self._page("queue.html", me, csrf=csrf, wanted=wanted, **data)

    def _queue(self, me: Caseworker, wanted: dict) -> dict:
        now = utcnow()
        statement = select(Request)
        if wanted["status"] in lifecycle.STATUSES:
            statement = statement.where(Request.status == wanted["status"])
        elif wanted["status"] != "any":
            statement = statement.where(Request.status.in_(lifecycle.OPEN | {"resolved"}), Request.group_id.is_(None))
        if wanted["category"]:
            statement = statement.where(Request.category_id == wanted["category"])
        if wanted["department"]:
            statement = statement.where(Request.department_id == wanted["department"])
        if wanted["area"]:
            statement = statement.where(Request.locality_id.in_(self.catalog.within(wanted["area"])))
        if wanted["who"] == "mine":
            statement = statement.where(Request.assignee_id == me.id)
        elif wanted["who"] == "unassigned":
            statement = statement.where(Request.assignee_id.is_(None))
        with session_scope(self.database) as db:
            desk = self._desk(db, me)
            if wanted["q"]:
                candidates = self._scoped(db, me, statement.order_by(Request.id.desc()).limit(SEARCHED))
                found = [r for r, _ in search.rank(wanted["q"], [(r, searchable(desk, r)) for r in candidates])]
            else:
                found = self._scoped(db, me, statement.order_by(Request.created_at))
            if wanted["who"] == "overdue":
                found = [r for r in found if self._state(r, now) == "breached"]
            page = max(1, int(wanted["page"])) if wanted["page"].isdecimal() else 1
            shown = found[(page - 1) * PAGE: page * PAGE]
            rows = [self._row(db, me, r, now) for r in shown]
            departments = [(d.id, department_name(desk, d.id)) for d in db.exec(select(Department).order_by(Department.id))]
        return {
            "rows": rows, "count": len(found), "page": page, "pages": max(1, -(-len(found) // PAGE)),
            "statuses": lifecycle.STATUSES, "departments": departments,
            "categories": [(c.id, c.name(me.language)) for c in self.catalog.categories],
            "areas": [(p.id, p.name(me.language)) for p in self.catalog.localities.values() if p.kind in ("region", "district")],
            "query": lambda **changed: urlencode({k: v for k, v in {**wanted, **changed}.items() if v}),
        }

    @signed_in()
    async def request_page(self, request: HttpRequest, me: Caseworker, csrf: str) -> Response:
        code = request.path_params["code"].upper()
        answer = None
        if request.method == "POST":
            form = await _form(request)
            if not csrf_ok(self.sessions.read(request.cookies.get(COOKIE)), form.get("csrf")):
                return self._page("error.html", me, http_status=403, message_key="dash_csrf")
            answer = await asyncio.to_thread(self._act, me, code, form)
        data = await asyncio.to_thread(self._request, me, code)
        if data is None:
            return self._page("error.html", me, http_status=404, message_key="dash_no_request", code=code)
        return self._page("request.html", me, csrf=csrf, answer=answer, **data)

    def _request(self, me: Caseworker, code: str) -> dict | None:
        with session_scope(self.database) as db:
            desk = self._desk(db, me)
            request = db.exec(select(Request).where(Request.code == code)).first()
            if request is None or not desk.sees(request):
                return None  # another department's request does not exist for them
            body, choices = card(desk, request)
            files = [a["ref"].removeprefix(FILE_PREFIX) for a in request.attachments or [] if a.get("ref", "").startswith(FILE_PREFIX)]
            return {"code": request.code, "card": body, "files": files, "status": request.status, "finished": request.status in lifecycle.FINISHED,
                    "statuses": [s for s in lifecycle.STATUSES if lifecycle.can_move(request.status, s)]}

    @signed_in()
    async def request_file(self, request: HttpRequest, me: Caseworker, csrf: str) -> Response:
        """A photo a citizen sent from the web chat, to staff who may see its request."""
        name = request.path_params["name"]
        data = await asyncio.to_thread(self._request, me, request.path_params["code"].upper())
        path = self.files / name if self.files is not None else None
        if data is None or name not in data["files"] or path is None or not path.is_file():
            return self._page("error.html", me, http_status=404, message_key="dash_no_file")
        return FileResponse(path, headers={"Cache-Control": "private, no-store"})

    def _act(self, me: Caseworker, code: str, form: dict) -> str:
        """Run the form's action as the desk command of this member of staff;
        the desk's answer, to show on the page."""
        action = form.get("action", "")
        if action not in ACTIONS:
            return text(me.language, "dash_unknown_action")
        command, fields = ACTIONS[action]
        words = " ".join(str(form.get(field, "")).strip() for field in fields).strip()
        msg = Incoming(channel="web", address=f"web:{me.id}", sender=me.address, text=f"/{command} {code} {words}".strip(),
                       external_id=f"web-{uuid.uuid4().hex}", name=me.name)
        result = self.desk.handle(msg)
        return "\n\n".join(reply.text for reply in result.replies)

    @signed_in("supervisor")
    async def demand(self, request: HttpRequest, me: Caseworker, csrf: str) -> Response:
        with session_scope(self.database) as db:
            rows = [(r.place_name(self.catalog, me.language), r.service_name(self.catalog, me.language) if r.service_id else "—",
                     r.bookings, r.open_requests, r.questions, r.subscribers) for r in demand_rows(db, self.catalog)]
        return self._page("demand.html", me, csrf=csrf, rows=rows)

    @signed_in()
    async def visits(self, request: HttpRequest, me: Caseworker, csrf: str) -> Response:
        """The mobile units' visits from a month ago on: where, when (local time), what, booked and came."""
        rows = await asyncio.to_thread(records.visits, self.database, self.catalog, me.language)
        return self._page("visits.html", me, csrf=csrf, rows=rows)

    @signed_in("supervisor")
    async def broadcasts(self, request: HttpRequest, me: Caseworker, csrf: str) -> Response:
        """The announcements, newest first, with how many went and how many failed (supervisors and admins)."""
        rows = await asyncio.to_thread(records.announcements, self.database, me.language)
        return self._page("broadcasts.html", me, csrf=csrf, rows=rows)

    @signed_in()
    async def report(self, request: HttpRequest, me: Caseworker, csrf: str) -> Response:
        start, end = _period(request.query_params.get("from"), request.query_params.get("to"))
        data = await asyncio.to_thread(self._report, me, start, end)
        return self._page("report.html", me, csrf=csrf, start=start, end=end - timedelta(days=1), **data)

    def _report(self, me: Caseworker, start: date, end: date) -> dict:
        now = utcnow()
        with self.database.connect() as conn:
            result = summary(conn, self.catalog, midnight(start), midnight(end), now, departments_of(me))
        with session_scope(self.database) as db:
            names = self._names(db, me)
        groups = {group: [(names[group](key), figures) for key, figures in keys.items()] for group, keys in result.by.items()}
        with session_scope(self.database) as db:
            desk = self._desk(db, me)
            departments = [(d.id, department_name(desk, d.id)) for d in db.exec(select(Department).order_by(Department.id))
                           if departments_of(me) is None or d.id in departments_of(me)]
        return {"total": result.total, "groups": groups, "personal_allowed": me.role == "admin", "export_key": self.export_key is not None,
                "statuses": lifecycle.STATUSES, "departments": departments,
                "categories": [(c.id, c.name(me.language)) for c in self.catalog.categories]}

    @signed_in()
    async def export(self, request: HttpRequest, me: Caseworker, csrf: str) -> Response:
        table = request.path_params.get("table") or request.query_params.get("table", "")
        fmt = request.path_params.get("fmt") or request.query_params.get("fmt", "")
        if table not in exports.TABLES or fmt not in ("csv", "xlsx"):
            return self._page("error.html", me, http_status=404, message_key="dash_no_export")
        if table == "broadcasts" and ROLE_RANK[me.role] < ROLE_RANK["supervisor"]:
            return self._page("error.html", me, http_status=403, message_key="dash_role", role="supervisor")
        personal = request.query_params.get("personal") == "1"
        if personal and me.role != "admin":
            return self._page("error.html", me, http_status=403, message_key="dash_role", role="admin")
        if not personal and self.export_key is None:
            return self._page("error.html", me, http_status=409, message_key="dash_no_export_key")
        start, end = _period(request.query_params.get("from"), request.query_params.get("to"), default_days=None)
        filters = downloads.filters_for(me, start, end, request.query_params)
        body = await asyncio.to_thread(downloads.table_file, self.database, me, table, fmt, filters, None if personal else self.export_key)
        name = f"onewindow-{table}-{'personal-' if personal else ''}{utcnow():%Y%m%d}.{fmt}"
        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    # -- helpers ----------------------------------------------------------------

    def _desk(self, db, me: Caseworker) -> Desk:
        """The desk's view of things, for reading (cards, names, who sees what)."""
        me = db.merge(me, load=False)
        return Desk(db, Incoming(channel="web", address=f"web:{me.id}", sender=me.address), me, "", self.catalog)

    @staticmethod
    def _scoped(db, me: Caseworker, statement) -> list[Request]:
        scope = visible_to(me)
        return list(db.exec(statement if scope is None else statement.where(scope)))

    def _state(self, request: Request, now: datetime) -> str | None:
        deadline = self.catalog.routing.deadline(request.category_id, request.created_at, request.first_response_at, now)
        return deadline.state if deadline else None

    def _row(self, db, me: Caseworker, request: Request, now: datetime) -> dict:
        category = self.catalog.category(request.category_id)
        place = self.catalog.localities.get(request.locality_id or "")
        assignee = db.get(Caseworker, request.assignee_id) if request.assignee_id else None
        return {
            "code": request.code, "category": category.name(me.language) if category else request.category_id,
            "status": request.status, "place": place.name(me.language) if place else "—", "age": age(request.created_at, now),
            "assignee": assignee.name if assignee else "", "state": self._state(request, now) if request.status in lifecycle.OPEN else None,
            "text": (request.text or "")[:120],
        }

    def _names(self, db, me: Caseworker) -> dict:
        departments = {d.id: (d.names or {}).get(me.language) or d.name for d in db.exec(select(Department))}
        return {
            "category": lambda k: c.name(me.language) if (c := self.catalog.category(k)) else k,
            "department": lambda k: departments.get(k, k) if k else text(me.language, "dash_none"),
            "locality": lambda k: self.catalog.localities[k].name(me.language) if k in self.catalog.localities else text(me.language, "dash_none"),
        }

    def _page(self, name: str, me: Caseworker | None, *, http_status: int = 200, language: str | None = None, **values) -> HTMLResponse:
        """A page in the staff member's language (before signing in: the browser's)."""
        language = me.language if me else language or "en"
        page = self.templates.get_template(name).render(
            t=lambda key, **kw: text(language, key, **kw), me=me, language=language, role_rank=ROLE_RANK, **values)
        return HTMLResponse(page, status_code=http_status, headers=HEADERS)


def _browser_language(request: HttpRequest) -> str:
    return supported(request.headers.get("accept-language", "").split(",")[0].split(";")[0].strip()) or "en"


async def _form(request: HttpRequest) -> dict[str, str]:
    """A form-encoded body (the dashboard's forms send nothing else)."""
    body = await read_body(request, MAX_FORM)
    if body is None:
        return {}
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _bars(counts: dict[str, int]) -> list[tuple[str, int, float]]:
    """(label, count, width in %) for a bar chart, the largest first."""
    top = max(counts.values(), default=0) or 1
    return [(label, count, 100 * count / top) for label, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _period(start: str | None, end: str | None, default_days: int | None = 30) -> tuple[date | None, date | None]:
    """Days from a form (``YYYY-MM-DD``); the end is exclusive (the day after ``to``)."""
    def day(value):
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None

    last = day(end)
    first = day(start)
    if default_days is not None:
        last = last or utcnow().date()
        first = first or last - timedelta(days=default_days - 1)
    return first, (last + timedelta(days=1)) if last else None
