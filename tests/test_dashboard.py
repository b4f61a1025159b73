"""The staff dashboard as its people use it: a link from the bot, the
overview, the queue with its filters, a request worked from the page, the
figures and exports — and every door a member of staff must not pass."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from bot.dashboard import Dashboard, Sessions
from handlers.staff.team import add
from storage import sign_in
from storage.db import session_scope
from storage.models import AuditEntry, Caseworker, Message, Request, RequestEvent, utcnow
from tests.conversation import Chat, pushed
from tests.test_conversations import onboard
from tests.test_staff import file_request, request_of

KEY = "a-secret-for-the-tests-only"


@pytest.fixture
def people(engine, database):
    """Karim works utilities, Dilnoza documents (and reads Russian), Sofía supervises utilities, Root is admin;
    Ana filed a utilities request and Ali a documents one."""
    with session_scope(database) as session:
        add(session, "console:karim", "caseworker", "utilities", "Karim")
        add(session, "console:dilnoza", "caseworker", "documents", "Dilnoza", "ru")
        add(session, "console:sofia", "supervisor", "utilities", "Sofía", "es")
        add(session, "console:root", "admin", None, "Root")
    ana, ali = Chat(engine, "ana", name="Ana Fernández"), Chat(engine, "ali", name="Ali Karimov")
    onboard(ana)
    onboard(ali)
    return {
        "ana": ana, "ali": ali,
        "water": file_request(ana, "No electricity in our street for three days"),
        "passport": file_request(ali, "I need a new passport, mine was stolen"),
    }


@pytest.fixture
def app(engine, database, catalog):
    dashboard = Dashboard(database, catalog, engine.desk, Sessions("a-dashboard-secret"), KEY)
    return Starlette(routes=dashboard.routes())


def browser(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test")


def link_from_the_bot(engine, who: str) -> str:
    staff = Chat(engine, who)
    staff.send("/dashboard")
    return re.search(r"(/dashboard/signin/\S+)", staff.text).group(1)


async def signed_in(app, engine, who: str) -> tuple[httpx.AsyncClient, str]:
    client = browser(app)
    response = await client.post(link_from_the_bot(engine, who))
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    page = await client.get("/dashboard")
    assert page.status_code == 200
    return client, re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def events_of(database, code: str) -> list[tuple[str, str]]:
    with session_scope(database) as session:
        request = session.exec(select(Request).where(Request.code == code)).one()
        return [(e.actor, e.kind) for e in session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id))]


# -- signing in ---------------------------------------------------------------


async def test_a_link_from_the_bot_signs_in_once(app, engine, people):
    link = link_from_the_bot(engine, "karim")
    async with browser(app) as client:
        assert (await client.get("/dashboard")).status_code == 401
        for _ in range(2):  # a chat app's link preview opens it: that must not use it up
            shown = await client.get(link)
            assert shown.status_code == 200 and "<button>Sign in</button>" in shown.text
        assert (await client.post(link)).status_code == 303
        overview = await client.get("/dashboard")
        assert overview.status_code == 200 and "Karim · caseworker" in overview.text
        assert 'name="viewport"' in overview.text  # made for a phone too
        assert "default-src 'none'" in overview.headers["content-security-policy"] and overview.headers["cache-control"] == "no-store"
    async with browser(app) as stranger:
        used = await stranger.post(link)
        assert used.status_code == 403 and "expired or was already used" in used.text
        assert (await stranger.get("/dashboard")).status_code == 401


async def test_an_expired_or_made_up_link_is_refused(app, engine, database, people):
    with session_scope(database) as session:
        karim = session.exec(select(Caseworker).where(Caseworker.name == "Karim")).one()
        old = sign_in.issue(session.connection(), karim.id, now=utcnow() - timedelta(minutes=11))
    async with browser(app) as client:
        assert (await client.post(f"/dashboard/signin/{old}")).status_code == 403
        assert (await client.post("/dashboard/signin/made-up-token")).status_code == 403
        assert (await client.get("/dashboard")).status_code == 401
    fresh = link_from_the_bot(engine, "karim")
    with session_scope(database) as session:  # removed from the staff after the link was sent
        session.exec(select(Caseworker).where(Caseworker.name == "Karim")).one().active = False
    async with browser(app) as client:
        assert (await client.post(fresh)).status_code == 403


async def test_a_forged_cookie_or_someone_removed_from_the_staff_gets_nothing(app, engine, database, people):
    client, _csrf = await signed_in(app, engine, "karim")
    cookie = client.cookies.get("onewindow_session")
    payload, signature = cookie.split(".")
    async with browser(app) as forger:
        forger.cookies.set("onewindow_session", f"{payload}x.{signature}", domain="bot.test", path="/dashboard")
        assert (await forger.get("/dashboard")).status_code == 401
    with session_scope(database) as session:
        session.exec(select(Caseworker).where(Caseworker.name == "Karim")).one().active = False
    assert (await client.get("/dashboard/queue")).status_code == 401
    await client.aclose()


async def test_signing_out_needs_the_forms_token_and_ends_the_session(app, engine, people):
    client, csrf = await signed_in(app, engine, "karim")
    assert (await client.post("/dashboard/signout", data={})).status_code == 403
    assert (await client.post("/dashboard/signout", data={"csrf": csrf})).status_code == 303
    assert (await client.get("/dashboard")).status_code == 401
    await client.aclose()


# -- the queue and a request ------------------------------------------------------


async def test_a_caseworker_sees_and_works_only_their_departments_requests(app, engine, database, people):
    client, csrf = await signed_in(app, engine, "karim")
    queue = (await client.get("/dashboard/queue")).text
    assert people["water"] in queue and people["passport"] not in queue
    assert people["passport"] not in (await client.get("/dashboard/queue", params={"status": "any", "department": "documents"})).text
    assert people["passport"] not in (await client.get("/dashboard/queue", params={"q": "passport stolen"})).text
    other = await client.get(f"/dashboard/requests/{people['passport']}")
    assert other.status_code == 404 and "Ali" not in other.text
    acted = await client.post(f"/dashboard/requests/{people['passport']}", data={"csrf": csrf, "action": "note", "text": "mine now"})
    assert acted.status_code == 404
    assert [kind for _, kind in events_of(database, people["passport"])] == ["created"]
    overview = (await client.get("/dashboard")).text
    assert "Utilities" in overview and "ID cards, passports" not in overview
    await client.aclose()


async def test_the_queue_filters_and_finds_by_words_with_typos(app, engine, database, people):
    client, _csrf = await signed_in(app, engine, "root")
    both = (await client.get("/dashboard/queue")).text
    assert people["water"] in both and people["passport"] in both
    by_category = (await client.get("/dashboard/queue", params={"category": "id_documents"})).text
    assert people["passport"] in by_category and people["water"] not in by_category
    found = (await client.get("/dashboard/queue", params={"q": "electrisity"})).text
    assert people["water"] in found and people["passport"] not in found
    assert people["water"] not in (await client.get("/dashboard/queue", params={"status": "closed"})).text
    assert people["water"] not in (await client.get("/dashboard/queue", params={"who": "mine"})).text
    assert people["water"] in (await client.get("/dashboard/queue", params={"who": "unassigned", "area": "uz-syr"})).text
    assert people["water"] not in (await client.get("/dashboard/queue", params={"area": "ar-ba"})).text
    await client.aclose()


async def test_a_reply_from_the_page_reaches_the_citizen_and_is_on_record(app, engine, database, people):
    client, csrf = await signed_in(app, engine, "karim")
    code = people["water"]
    page = await client.get(f"/dashboard/requests/{code}")
    assert "«No electricity in our street for three days»" in page.text
    replied = await client.post(f"/dashboard/requests/{code}", data={"csrf": csrf, "action": "reply", "text": "A crew comes tomorrow at 9"})
    assert replied.status_code == 200 and f"Your reply on {code}" in replied.text
    [told] = pushed(database, people["ana"])
    assert "A crew comes tomorrow at 9" in told.text
    with session_scope(database) as session:  # the desk's answer was the page: nothing waits to be sent to a "web" address
        assert list(session.exec(select(Message).where(Message.direction == "out", Message.address.startswith("web:")))) == []
    karim_id = request_of(database, code).assignee_id or next(a for a, k in events_of(database, code) if k == "reply").split(":")[1]
    assert (f"caseworker:{karim_id}", "reply") in events_of(database, code)
    await client.post(f"/dashboard/requests/{code}", data={"csrf": csrf, "action": "note", "text": "Called the district office"})
    closed = await client.post(f"/dashboard/requests/{code}", data={"csrf": csrf, "action": "close", "text": "Power is back"})
    assert request_of(database, code).status in ("resolved", "closed")
    assert "Power is back" in request_of(database, code).resolution and "Reopen" in closed.text
    assert [k for _, k in events_of(database, code)].count("note") == 1
    await client.aclose()


async def test_an_action_without_the_forms_token_does_nothing(app, engine, database, people):
    client, _csrf = await signed_in(app, engine, "karim")
    for form in ({"action": "note", "text": "x"}, {"action": "note", "text": "x", "csrf": "guessed"}):
        refused = await client.post(f"/dashboard/requests/{people['water']}", data=form)
        assert refused.status_code == 403 and "This form has expired" in refused.text
    assert [kind for _, kind in events_of(database, people["water"])] == ["created"]
    await client.aclose()


async def test_the_desks_permissions_hold_on_the_page(app, engine, database, people):
    """Taken by Karim, the request is not Sofía's to take but hers to reassign (she supervises utilities)."""
    karim, karim_csrf = await signed_in(app, engine, "karim")
    await karim.post(f"/dashboard/requests/{people['water']}", data={"csrf": karim_csrf, "action": "take"})
    assert request_of(database, people["water"]).assignee_id is not None
    sofia, sofia_csrf = await signed_in(app, engine, "sofia")
    page = (await sofia.get(f"/dashboard/requests/{people['water']}")).text
    assert "Responder al vecino" in page  # her language
    moved = await sofia.post(f"/dashboard/requests/{people['water']}", data={"csrf": sofia_csrf, "action": "assign", "who": "Sofía"})
    assert moved.status_code == 200
    with session_scope(database) as session:
        sofia_id = session.exec(select(Caseworker).where(Caseworker.name == "Sofía")).one().id
    assert request_of(database, people["water"]).assignee_id == sofia_id
    taken_back = await karim.post(f"/dashboard/requests/{people['water']}", data={"csrf": karim_csrf, "action": "note", "text": "x"})
    assert taken_back.status_code == 200 and "note" in [k for _, k in events_of(database, people["water"])]
    refused = await karim.post(f"/dashboard/requests/{people['water']}", data={"csrf": karim_csrf, "action": "close", "text": "done"})
    assert "Sofía" in refused.text and request_of(database, people["water"]).status not in ("resolved", "closed")
    await karim.aclose()
    await sofia.aclose()


# -- figures, demand and exports ------------------------------------------------------


async def test_figures_pages_and_roles(app, engine, people):
    karim, _ = await signed_in(app, engine, "karim")
    report = await karim.get("/dashboard/report")
    figures = report.text.split('action="/dashboard/export"')[0]  # the export form lists every category to pick from
    assert report.status_code == 200 and "Utilities" in figures and "ID cards" not in figures
    assert (await karim.get("/dashboard/demand")).status_code == 403
    dilnoza, _ = await signed_in(app, engine, "dilnoza")
    assert "Показатели" in (await dilnoza.get("/dashboard/report")).text
    sofia, _ = await signed_in(app, engine, "sofia")
    assert (await sofia.get("/dashboard/demand")).status_code == 200
    for client in (karim, dilnoza, sofia):
        await client.aclose()


async def test_exports_are_pseudonymized_and_scoped_unless_an_admin_asks_for_personal_data(app, engine, database, people):
    karim, _ = await signed_in(app, engine, "karim")
    sheet = await karim.get("/dashboard/export/requests.csv")
    assert sheet.status_code == 200 and "attachment" in sheet.headers["content-disposition"]
    assert people["water"] in sheet.text and people["passport"] not in sheet.text
    for personal in ("Ana", "Fernández", "No electricity", "console:ana"):
        assert personal not in sheet.text
    messages = await karim.get("/dashboard/export/messages.csv", params={"department": "documents"})  # not theirs: still only theirs
    assert "Ali" not in messages.text and people["passport"] not in messages.text
    assert (await karim.get("/dashboard/export/requests.xlsx", params={"personal": "1"})).status_code == 403
    assert (await karim.get("/dashboard/export/broadcasts.csv")).status_code == 403
    root, _ = await signed_in(app, engine, "root")
    full = await root.get("/dashboard/export/requests.xlsx", params={"personal": "1"})
    assert full.status_code == 200 and full.content[:2] == b"PK"
    with session_scope(database) as session:
        assert [(e.actor.split(" ")[1], e.action) for e in session.exec(select(AuditEntry))] == [("(Root)", "export requests with personal data")]
    await karim.aclose()
    await root.aclose()


async def test_without_a_pseudonym_key_there_are_no_anonymous_exports(engine, database, catalog, people):
    app = Starlette(routes=Dashboard(database, catalog, engine.desk, Sessions("s"), "").routes())
    client, _ = await signed_in(app, engine, "root")
    refused = await client.get("/dashboard/export/requests.csv")
    assert refused.status_code == 409 and "EXPORT_PSEUDONYM_KEY" in refused.text
    await client.aclose()


def test_a_link_from_the_shell(tmp_path):
    from tests.test_cli import onewindow

    assert onewindow("staff", "add", "--console", "nodira", "--role", "admin", "--name", "Nodira K.", cwd=tmp_path).returncode == 0
    made = onewindow("staff", "link", "Nodira K.", cwd=tmp_path, env={"PUBLIC_URL": "https://bot.example.org/"})
    assert made.returncode == 0, made.stderr
    assert re.search(r"^https://bot\.example\.org/dashboard/signin/[\w-]{30,}$", made.stdout.splitlines()[-1])
    by_address = onewindow("staff", "link", "--console", "nodira", cwd=tmp_path)
    assert by_address.returncode == 0 and "/dashboard/signin/" in by_address.stdout
    missing = onewindow("staff", "link", "Nobody", cwd=tmp_path)
    assert missing.returncode == 2 and "No one on the staff is 'Nobody'" in missing.stderr


async def test_visits_for_everyone_and_announcements_for_supervisors(app, engine, database, people):
    from storage.models import Booking, Broadcast, Message, Visit

    starts = utcnow().replace(microsecond=0) + timedelta(days=2)
    with session_scope(database) as session:
        visit = Visit(locality_id="uz-syr-boyovut-d-bekat", starts_at=starts, ends_at=starts + timedelta(hours=4), services=["passport_renewal"])
        session.add(visit)
        session.flush()
        for number, status in enumerate(("booked", "came", "cancelled", "booked"), 1):
            session.add(Booking(visit_id=visit.id, service_id="passport_renewal", number=number, status=status))
        announcement = Broadcast(texts={"en": "Bazaar day in Bekat: the unit comes on Sunday"}, fallback="en", audience={}, status="queued", recipients=3)
        session.add(announcement)
        session.flush()
        for n, status in enumerate(("sent", "sent", "failed")):
            session.add(Message(direction="out", channel="console", address=f"console:c{n}", text="x", status=status, broadcast_id=announcement.id))
    karim, _ = await signed_in(app, engine, "karim")
    page = (await karim.get("/dashboard/visits")).text
    local = starts.astimezone(ZoneInfo("Asia/Tashkent"))
    assert "Bekat" in page and local.strftime("%d.%m.%Y %H:%M") in page
    assert re.search(r'<td class="n">3</td><td class="n">1</td>', page)  # three booked (one of them came), one came; the cancelled one is not counted
    assert (await karim.get("/dashboard/broadcasts")).status_code == 403
    sofia, _ = await signed_in(app, engine, "sofia")
    listed = (await sofia.get("/dashboard/broadcasts")).text
    assert "Bazaar day in Bekat" in listed and re.search(r'<td class="n">3</td><td class="n">2</td><td class="n">1</td>', listed)
    await karim.aclose()
    await sofia.aclose()


async def test_the_report_pages_export_form_picks_requests(app, engine, people):
    root, _ = await signed_in(app, engine, "root")
    form = (await root.get("/dashboard/report")).text
    assert 'action="/dashboard/export"' in form and 'name="personal"' in form
    picked = await root.get("/dashboard/export", params={"table": "requests", "fmt": "csv", "category": "id_documents", "status": ""})
    assert picked.status_code == 200 and people["passport"] in picked.text and people["water"] not in picked.text
    karim, _ = await signed_in(app, engine, "karim")
    assert 'name="personal"' not in (await karim.get("/dashboard/report")).text
    await root.aclose()
    await karim.aclose()


async def test_before_signing_in_the_page_speaks_the_browsers_language(app, engine, people):
    link = link_from_the_bot(engine, "sofia")
    async with browser(app) as client:
        client.headers["Accept-Language"] = "es-AR,es;q=0.9"
        assert "<button>Entrar</button>" in (await client.get(link)).text
        assert "Envíe /dashboard al bot" in (await client.get("/dashboard")).text
        await client.post(link)
        assert "Sofía · supervisor" in (await client.get("/dashboard")).text
    dilnoza, _ = await signed_in(app, engine, "dilnoza")
    assert "Dilnoza · специалист" in (await dilnoza.get("/dashboard")).text
    refused = await dilnoza.get("/dashboard/demand")
    assert refused.status_code == 403 and "руководитель" in refused.text
    await dilnoza.aclose()


@pytest.mark.parametrize("public_url", ["https://bot.example.org", "https://bot.example.org/", "https://bot.example.org//"])
def test_a_sign_in_link_is_the_public_address_and_its_path_with_one_slash_between(public_url):
    from handlers.staff.signin import link

    assert link(public_url, "tok3n") == "https://bot.example.org/dashboard/signin/tok3n"
