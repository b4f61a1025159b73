"""The Open311 GeoReport v2 API as another city system uses it: reading the
services, filing a request with its key, reading it back in JSON and XML,
and never learning who filed it."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import insert
from sqlmodel import select
from starlette.applications import Starlette

from bot.open311 import MAX_REQUESTS, GeoReport
from handlers.open311 import Open311Api
from storage import api_keys
from storage.db import session_scope
from storage.models import Citizen, Identity, Request, utcnow
from tests.conversation import Chat
from tests.test_conversations import onboard
from tests.test_staff import request_of

SPEC = Path(__file__).parent / "fixtures" / "open311"
LA_PLATA = ("-34.92141", "-57.95443")
GULISTAN = ("40.48974", "68.78426")
ROSA = {"first_name": "Rosa", "last_name": "Benítez", "phone": "+54 9 221 555-0134", "email": "rosa.benitez@example.org"}


@pytest.fixture
async def client(database, catalog):
    app = Starlette(routes=Open311Api(GeoReport(database, catalog)).routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test/open311/v2") as client:
        yield client


@pytest.fixture
def key(database) -> str:
    return api_keys.add(database, "La Plata city portal")[1]


async def file(client, key: str, fmt: str = "json", **fields) -> httpx.Response:
    form = {"api_key": key, "service_code": "roads_infrastructure", "lat": LA_PLATA[0], "long": LA_PLATA[1],
            "description": "Bache enorme en 7 y 50, frente a la casa de Rosa, tel 2215550134"}
    form.update(fields)
    return await client.post(f"/requests.{fmt}", data={k: v for k, v in form.items() if v is not None})


def xml(response: httpx.Response) -> ElementTree.Element:
    assert response.headers["content-type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(response.content)


def spec_json(name: str) -> list[dict]:
    return json.loads((SPEC / name).read_text("utf-8"))


def spec_xml(name: str) -> ElementTree.Element:
    return ElementTree.parse(SPEC / name).getroot()


def shape(element: ElementTree.Element) -> tuple:
    """An element's tag and its children's shapes, without the values."""
    return (element.tag, tuple(shape(child) for child in element))


# -- services ------------------------------------------------------------------


async def test_the_services_are_the_categories_in_the_specifications_form(client, catalog):
    services = (await client.get("/services.json")).json()
    example = spec_json("services.json")[0]
    assert [s["service_code"] for s in services] == [c.id for c in catalog.categories]
    for service in services:
        assert service.keys() == example.keys()
        assert service["metadata"] is False and service["type"] == "realtime"
    documents = services[0]
    assert documents["service_name"] == "ID cards, passports and personal documents"
    assert documents["group"] == "Documents and civil registry"
    assert "passport" in documents["keywords"].split(", ")


async def test_the_services_speak_the_language_asked_for(client):
    in_spanish = (await client.get("/services.json", params={"locale": "es-AR"})).json()[0]
    assert in_spanish["service_name"] == "DNI, pasaporte y documentos personales"
    assert in_spanish["group"] == "Documentación y registro civil"
    in_russian = (await client.get("/services.json", headers={"Accept-Language": "ru-RU,ru;q=0.9"})).json()[0]
    assert in_russian["service_name"] == "Паспорт и документы личности"
    unknown = (await client.get("/services.json", params={"locale": "fr"})).json()[0]
    assert unknown["service_name"] == "ID cards, passports and personal documents"


async def test_the_services_in_xml_have_the_examples_elements(client):
    root = xml(await client.get("/services.xml"))
    example = spec_xml("services.xml")
    assert root.tag == example.tag == "services"
    assert {shape(service) for service in root} == {shape(example[0])}
    documents = root[0]
    assert documents.findtext("service_code") == "id_documents"
    assert documents.findtext("metadata") == "false"


async def test_a_service_definition_asks_nothing_more(client):
    assert (await client.get("/services/utilities.json")).json() == {"service_code": "utilities", "attributes": []}
    root = xml(await client.get("/services/utilities.xml"))
    assert root.tag == spec_xml("definition.xml").tag
    assert [child.tag for child in root] == ["service_code", "attributes"] and len(root.find("attributes")) == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_an_unknown_service_is_a_404_in_the_specifications_error_form(client, fmt):
    response = await client.get(f"/services/potholes.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        [error] = response.json()
        assert error.keys() == spec_json("errors.json")[0].keys()
        assert error["code"] == 404 and "potholes" in error["description"]
    else:
        root = xml(response)
        assert shape(root) == ("errors", (shape(spec_xml("errors.xml")[0]),))
        assert root.findtext("error/code") == "404"


async def test_a_format_other_than_json_or_xml_is_not_there(client):
    assert (await client.get("/services.csv")).status_code == 404


# -- filing and reading back -------------------------------------------------------


async def test_a_client_files_a_request_and_reads_it_back(client, key, database, catalog):
    response = await file(client, key, **ROSA)
    assert response.status_code == 200
    [filed] = response.json()
    assert filed.keys() >= spec_json("post.json")[0].keys()
    assert filed["token"] is None
    code = filed["service_request_id"]
    assert code in filed["service_notice"] and "8 hours" not in filed["service_notice"]

    request = request_of(database, code)
    assert (request.channel, request.status, request.kind) == ("open311", "new", "request")
    assert request.locality_id.startswith("ar-ba-la-plata")
    assert request.department_id == "obras_ba"  # the province's public works, not the Uzbek utilities
    assert request.text.startswith("Bache enorme")

    [read] = (await client.get(f"/requests/{code}.json")).json()
    assert read.keys() == spec_json("requests.json")[0].keys()
    assert read["service_request_id"] == code and read["status"] == "open"
    assert read["service_code"] == "roads_infrastructure"
    assert read["agency_responsible"] == "Public works (Buenos Aires)"
    assert read["status_notes"] == "Received; waiting for a caseworker to take it."
    assert read["address"].endswith("Buenos Aires Province")
    assert read["requested_datetime"].endswith("Z")
    created = request.created_at.replace(microsecond=0)
    expected = created + catalog.routing.sla("roads_infrastructure").resolution
    assert read["expected_datetime"] == expected.isoformat().replace("+00:00", "Z")

    root = xml(await client.get(f"/requests/{code}.xml"))
    assert shape(root) == shape(spec_xml("requests.xml"))
    assert root.findtext("request/service_request_id") == code
    assert root.findtext("request/status") == "open"


async def test_a_request_filed_in_xml_is_answered_in_xml(client, key):
    root = xml(await file(client, key, "xml"))
    assert [child.tag for child in root[0]] == ["service_request_id", "token", "service_notice", "account_id"]
    assert {child.tag for child in spec_xml("post.xml")[0]} <= {child.tag for child in root[0]}


async def test_the_notice_names_the_categorys_first_response_target_in_the_clients_language(client, key):
    [filed] = (await file(client, key, service_code="utilities", locale="es")).json()
    assert filed["service_notice"] == f"Recibida. El equipo responde dentro de 8 horas. Código de seguimiento: {filed['service_request_id']}."


async def test_a_request_is_routed_by_where_it_is(client, key, database):
    [in_gulistan] = (await file(client, key, lat=GULISTAN[0], long=GULISTAN[1])).json()
    assert request_of(database, in_gulistan["service_request_id"]).department_id == "utilities"
    [by_words] = (await file(client, key, lat=None, long=None, address_string="City Bell")).json()
    assert request_of(database, by_words["service_request_id"]).locality_id.endswith("city-bell")
    [by_id] = (await file(client, key, lat=None, long=None, address_id="ar-ba")).json()
    assert request_of(database, by_id["service_request_id"]).department_id == "obras_ba"


async def test_an_address_we_do_not_list_is_kept_for_the_caseworker(client, key, database):
    [filed] = (await file(client, key, lat=None, long=None, address_string="Ruta 2 km 40, Brandsen")).json()
    request = request_of(database, filed["service_request_id"])
    assert request.locality_id is None
    assert request.text.endswith("📍 Ruta 2 km 40, Brandsen")


async def test_the_same_phone_filing_again_is_the_same_citizen(client, key, database):
    [one] = (await file(client, key, **ROSA)).json()
    [two] = (await file(client, key, phone="+5492215550134")).json()
    assert request_of(database, one["service_request_id"]).citizen_id == request_of(database, two["service_request_id"]).citizen_id
    with session_scope(database) as session:
        rosa = session.get(Citizen, request_of(database, one["service_request_id"]).citizen_id)
        assert rosa.display_name == "Rosa Benítez"
        assert set(session.exec(select(Identity.address).where(Identity.citizen_id == rosa.id))) == {
            "phone:+5492215550134", "email:rosa.benitez@example.org"}


# -- what a filing must have ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_filing_without_a_live_key_is_forbidden(client, key, database, fmt):
    for wrong in ("", "not-a-key", key + "x"):
        response = await file(client, wrong, fmt)
        assert response.status_code == 403
    api_keys.revoke(database, "La Plata city portal")
    response = await file(client, key, fmt)
    assert response.status_code == 403
    body = response.json()[0]["description"] if fmt == "json" else xml(response).findtext("error/description")
    assert "api_key" in body
    assert _all_requests(database) == []


@pytest.mark.parametrize("fields, says", [
    ({"service_code": ""}, "service_code is required"),
    ({"service_code": "potholes"}, "'potholes' is not a service"),
    ({"lat": None, "long": None}, "a location is required"),
    ({"lat": "-34.9", "long": None}, "lat and long"),
    ({"lat": "north", "long": "-57.9"}, "lat and long"),
    ({"lat": "-134.9", "long": "-57.9"}, "between -90 and 90"),
    ({"lat": None, "long": None, "address_id": "atlantis"}, "'atlantis' is not a place"),
    ({"description": "x" * 4001}, "longer than 4000"),
    ({"phone": "call me"}, "phone"),
    ({"email": "rosa at home"}, "email"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
])
async def test_a_filing_that_cannot_be_taken_says_why_and_stores_nothing(client, key, database, fields, says):
    response = await file(client, key, **fields)
    assert response.status_code == 400
    assert says in response.json()[0]["description"]
    assert _all_requests(database) == []


async def test_a_filing_that_is_not_form_encoded_is_refused_plainly(client, key):
    response = await client.post("/requests.json", json={"api_key": key, "service_code": "utilities"})
    assert response.status_code == 400
    assert "form-encoded" in response.json()[0]["description"]
    too_big = await client.post("/requests.json", content=b"a=" + b"x" * 70_000,
                                headers={"content-type": "application/x-www-form-urlencoded"})
    assert too_big.status_code == 413


# -- what a reader never learns --------------------------------------------------------


async def test_nobody_reading_learns_who_filed_or_what_they_wrote(client, key, engine, database):
    await file(client, key, lat="-34.921417", long="-57.954431", media_url="https://portal.example.org/bache.jpg", **ROSA)
    ana = Chat(engine, "+5492215559876", channel="whatsapp", name="Ana Gómez")
    onboard(ana, "Español")
    ana.send_file("photo", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
                  "Hace tres días que no hay agua en la calle 12, llamen al 2215559876")
    ana.press(ana.choices[0])
    assert len(_all_requests(database)) == 2
    answers = [await client.get(f"/requests.{fmt}") for fmt in ("json", "xml")]
    answers += [await client.get(f"/requests/{r.code}.{fmt}") for r in _all_requests(database) for fmt in ("json", "xml")]
    for answer in answers:
        assert answer.status_code == 200
        for personal in ("Rosa", "Benítez", "5550134", "rosa.benitez", "Ana", "Gómez", "5559876", "Bache", "agua", "twilio"):
            assert personal not in answer.text
    read = {r["media_url"] for r in (await client.get("/requests.json")).json()}
    assert read == {"https://portal.example.org/bache.jpg", None}  # only what the client itself published
    [api] = [r for r in (await client.get("/requests.json")).json() if r["media_url"]]
    assert (api["lat"], api["long"]) == (-34.921, -57.954)  # the street, not the house


def _all_requests(database) -> list[Request]:
    with session_scope(database) as session:
        return list(session.exec(select(Request)))


# -- finding requests ------------------------------------------------------------


def _stored(database, catalog, code: str, days_ago: float = 0, **values) -> None:
    when = utcnow() - timedelta(days=days_ago)
    with database.begin() as conn:
        citizen = conn.execute(insert(Citizen.__table__).returning(Citizen.__table__.c.id), {"created_at": when}).scalar_one()
        conn.execute(insert(Request.__table__), {
            "code": code, "citizen_id": citizen, "category_id": "utilities", "channel": "console", "address": f"console:{code}",
            "created_at": when, "updated_at": when, "status": "new", "kind": "request", "text": "", "attachments": [], **values,
        })


async def codes(client, **params) -> list[str]:
    response = await client.get("/requests.json", params=params)
    assert response.status_code == 200, response.text
    return [r["service_request_id"] for r in response.json()]


async def test_requests_are_found_by_code_service_status_and_date(client, database, catalog):
    _stored(database, catalog, "AAA-111", days_ago=1)
    _stored(database, catalog, "BBB-222", days_ago=2, category_id="health", status="in_progress")
    _stored(database, catalog, "CCC-333", days_ago=3, status="closed")
    _stored(database, catalog, "DDD-444", days_ago=100)
    _stored(database, catalog, "EEE-555", days_ago=0.5, kind="contact")  # "talk to a person" is not a service request
    assert await codes(client) == ["AAA-111", "BBB-222", "CCC-333"]  # the last 90 days, newest first
    assert await codes(client, service_request_id="ccc-333,DDD-444") == ["CCC-333", "DDD-444"]  # any age
    assert await codes(client, service_code="health") == ["BBB-222"]
    assert await codes(client, service_code="health,utilities", status="open") == ["AAA-111", "BBB-222"]
    assert await codes(client, status="closed") == ["CCC-333"]
    assert await codes(client, status="open,closed") == ["AAA-111", "BBB-222", "CCC-333"]
    day = (utcnow() - timedelta(days=2)).date()
    assert await codes(client, start_date=f"{day - timedelta(days=1)}T00:00:00Z", end_date=f"{day}T23:59:59Z") == ["BBB-222", "CCC-333"]
    assert await codes(client, start_date=(utcnow() - timedelta(days=120)).isoformat()) == ["AAA-111", "BBB-222", "CCC-333", "DDD-444"]
    assert await codes(client, end_date=(utcnow() - timedelta(days=50)).isoformat()) == ["DDD-444"]  # from 90 days before it
    tashkent = (utcnow() - timedelta(days=1, hours=1)).astimezone(timezone(timedelta(hours=5))).replace(microsecond=0).isoformat()
    response = await client.get(f"/requests.json?start_date={tashkent}")  # an unescaped "+05:00" arrives as " 05:00"
    assert [r["service_request_id"] for r in response.json()] == ["AAA-111"]


@pytest.mark.parametrize("params, says", [
    ({"status": "pending"}, "status is open or closed"),
    ({"start_date": "yesterday"}, "start_date is not a date-time"),
    ({"end_date": "2026-13-01"}, "end_date is not a date-time"),
    ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "start_date is after end_date"),
])
async def test_a_search_that_cannot_be_read_says_why(client, params, says):
    response = await client.get("/requests.json", params=params)
    assert response.status_code == 400
    assert says in response.json()[0]["description"]


async def test_an_unknown_request_is_a_404(client):
    response = await client.get("/requests/ZZZ-999.xml")
    assert response.status_code == 404
    assert xml(response).findtext("error/description") == "no request 'ZZZ-999'"


async def test_a_closed_request_says_why_and_expects_nothing(client, database, catalog):
    _stored(database, catalog, "AAA-111", days_ago=1, status="resolved")
    _stored(database, catalog, "BBB-222", days_ago=1, status="duplicate")
    with database.begin() as conn:
        first = conn.execute(Request.__table__.select().where(Request.code == "AAA-111")).first()
        conn.execute(Request.__table__.update().where(Request.code == "BBB-222").values(duplicate_of_id=first.id))
    read = {r["service_request_id"]: r for r in (await client.get("/requests.json", params={"locale": "es"})).json()}
    assert read["AAA-111"]["status"] == "closed" and read["AAA-111"]["status_notes"] == "Resuelta."
    assert read["BBB-222"]["status_notes"] == "Es la misma que la solicitud AAA-111, que es la que se sigue."
    assert read["AAA-111"]["expected_datetime"] is None


async def test_at_most_a_thousand_requests_are_answered(client, database):
    now = utcnow()
    with database.begin() as conn:
        citizen = conn.execute(insert(Citizen.__table__).returning(Citizen.__table__.c.id), {"created_at": now}).scalar_one()
        conn.execute(insert(Request.__table__), [{
            "code": f"R{n:05d}", "citizen_id": citizen, "category_id": "utilities", "channel": "console", "address": "console:x",
            "created_at": now - timedelta(minutes=n), "updated_at": now, "status": "new", "kind": "request", "text": "", "attachments": [],
        } for n in range(MAX_REQUESTS + 5)])
    found = await codes(client)
    assert len(found) == MAX_REQUESTS == 1000
    assert found[0] == "R00000" and found[-1] == "R00999"


# -- keys, the server, the staff desk ---------------------------------------------


def test_keys_are_made_listed_and_revoked_from_the_shell(tmp_path):
    from tests.test_cli import onewindow

    made = onewindow("apikey", "add", "La Plata city portal", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    key = made.stdout.splitlines()[-1]
    assert "Key #1 for La Plata city portal" in made.stdout and len(key) >= 40
    listed = onewindow("apikey", "list", cwd=tmp_path)
    assert "#1\tLa Plata city portal" in listed.stdout and "never used" in listed.stdout and "live" in listed.stdout
    assert key not in listed.stdout  # only a hash is kept

    from bot.wiring import open_store

    database = open_store(f"sqlite:///{tmp_path / 'data' / 'onewindow.sqlite3'}")
    try:
        assert api_keys.check(database, key).name == "La Plata city portal"
        assert "last used" in onewindow("apikey", "list", cwd=tmp_path).stdout
        revoked = onewindow("apikey", "revoke", "1", cwd=tmp_path)
        assert revoked.stdout.strip() == "Revoked key #1 of La Plata city portal."
        assert api_keys.check(database, key) is None
    finally:
        database.dispose()
    again = onewindow("apikey", "revoke", "La Plata city portal", cwd=tmp_path)
    assert again.returncode == 1 and "no live key" in again.stderr
    assert onewindow("apikey", "add", cwd=tmp_path).returncode == 2


@pytest.mark.parametrize("setting, status", [("on", 200), ("off", 404)])
async def test_the_api_is_served_with_the_webhooks_unless_turned_off(tmp_path, setting, status):
    from bot.commands.run import _web_server
    from bot.settings import Settings
    from bot.wiring import build

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'web.sqlite3'}", open311=setting)
    bot = build(settings)
    app = _web_server(settings, bot, None, None).config.app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as web:
        assert (await web.get("/open311/v2/services.json")).status_code == status
        assert (await web.get("/healthz")).status_code in (200, 503)
    bot.database.dispose()


async def test_caseworkers_see_how_to_reach_an_api_reporter_and_are_told_there_is_no_chat(client, key, engine, database):
    from handlers.staff.team import add

    with session_scope(database) as session:
        add(session, "console:obras", "caseworker", "obras_ba", "Obras")
        add(session, "console:jefa", "supervisor", None, "Jefa")
    [filed] = (await file(client, key, **ROSA)).json()
    code = filed["service_request_id"]
    obras, jefa = Chat(engine, "obras"), Chat(engine, "jefa")
    obras.send(f"/show {code}")
    assert "Rosa Benítez · email:rosa.b****org, phone:" in obras.text
    assert "phone:+5492215550134" not in obras.text  # masked for a caseworker
    jefa.send(f"/show {code}")
    assert "email:rosa.benitez@example.org, phone:+5492215550134" in jefa.text
    obras.send(f"/reply {code} Mañana va la cuadrilla")
    assert f"Request {code} came in through open311: there is no chat to write to." in obras.text
    obras.send(f"/note {code} Llamé a la vecina, mañana va la cuadrilla")
    assert "Mañana va la cuadrilla" not in " ".join(m.text for m in _outbox(database))
    obras.send("/inbox")
    assert code in obras.text
    from storage.privacy import anonymize_request

    with session_scope(database) as session:  # its retention period ran out
        anonymize_request(session, session.exec(select(Request).where(Request.code == code)).one(), "system", "retention")
    jefa.send(f"/show {code}")
    assert "5550134" not in jefa.text and "rosa.benitez" not in jefa.text


async def test_the_card_lists_only_the_phone_and_email_its_own_reporter_left(client, key, engine, database):
    from handlers.staff.team import add

    with session_scope(database) as session:
        add(session, "console:jefa", "supervisor", None, "Jefa")
    [filed] = (await file(client, key, **ROSA)).json()
    await file(client, key, first_name="Juan", phone="+54 9 221 555-0177", email="juan@example.org")  # a neighbour
    with session_scope(database) as session:  # Rosa also writes to the bot on Telegram
        citizen_id = request_of(database, filed["service_request_id"]).citizen_id
        session.add(Identity(address="telegram:424242", channel="telegram", citizen_id=citizen_id))
    jefa = Chat(engine, "jefa")
    jefa.send(f"/show {filed['service_request_id']}")
    assert "Rosa Benítez · email:rosa.benitez@example.org, phone:+5492215550134 ·" in jefa.text
    assert "0177" not in jefa.text and "juan@" not in jefa.text and "424242" not in jefa.text


def _outbox(database):
    from storage.models import Message

    with session_scope(database) as session:
        return list(session.exec(select(Message).where(Message.direction == "out")))
