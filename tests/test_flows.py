"""Flows alone, with no store and no network: a small in-memory view stands
in for the world, and each row says "in this step, the citizen says X: the
bot answers Y and moves to Z"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from flows import actions as act
from flows import lifecycle
from flows.classifier import Classifier
from flows.core import State
from flows.messages import Incoming
from flows.router import button_data, respond
from flows.routing import Routing
from flows.view import CategoryInfo, CitizenInfo, LocalityInfo, PersonalData, RequestInfo
from bot.services import SERVICES_DIR, read
from flows.service_search import ServiceIndex
from storage.seed import read_seed

CATALOG = read_seed("categories.json")
CLASSIFIER = Classifier.from_catalog(CATALOG)
SERVICES = ServiceIndex(read(SERVICES_DIR, {c["id"] for c in CATALOG["categories"]})[0])
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)


class MemoryView:
    def __init__(self, citizen: CitizenInfo, requests: dict[str, RequestInfo] | None = None):
        self.citizen = citizen
        self.requests = requests or {}
        self.places = {
            "r": LocalityInfo("r", "region", None, {"en": "Syrdarya"}),
            "d": LocalityInfo("d", "district", "r", {"en": "Guliston"}),
            "v": LocalityInfo("v", "village", "d", {"en": "Dehqonobod"}, 40.49, 68.78),
        }

    def categories(self):
        return [CategoryInfo(c["id"], c["names"], c.get("descriptions", {})) for c in CATALOG["categories"]]

    def category(self, category_id):
        return next((c for c in self.categories() if c.id == category_id), None)

    def classify(self, text):
        return CLASSIFIER.classify(text)

    def localities(self, parent_id):
        return [p for p in self.places.values() if p.parent_id == parent_id]

    def locality(self, locality_id):
        return self.places.get(locality_id)

    def nearest_locality(self, latitude, longitude):
        return self.places["v"], 1.2

    def my_requests(self, limit=10):
        return list(self.requests.values())[:limit]

    def request_by_code(self, code):
        return self.requests.get(code)

    def new_code(self):
        return "KX7-4MP"

    def service_index(self):
        return SERVICES

    def next_visits(self, locality_id, service_id=None, limit=3):
        return []

    def nearby_visits(self, locality_id, service_id=None, limit=3):
        return []

    def visit(self, visit_id):
        return None

    def places_left(self, visit_id, service_id):
        return None

    def my_bookings(self):
        return []

    def subscribed(self, locality_id):
        return False

    def similar_open_request(self, text, category_id):
        """The citizen's own open request for the same need: one whose words share a word of four letters or more."""
        new = {w for w in text.lower().split() if len(w) > 3}
        return next((r for r in self.requests.values() if r.mine and r.status in ("new", "in_progress")
                     and new & {w for w in r.text.lower().split() if len(w) > 3}), None)

    def my_data(self):
        mine = tuple(r for r in self.requests.values() if r.mine)
        return PersonalData(self.citizen.name, self.citizen.language, self.citizen.locality_id, ("test:1",),
                            self.citizen.consent, NOW, None, mine, 3, 4)


NEWCOMER = CitizenInfo(None, None, None, None)
REGULAR = CitizenInfo(1, "en", "v", True)
MENU = State("menu", "main", {"choices": [["new", "New request"], ["mine", "My requests"]]}, 4)
FILED = {"KX7-4MP": RequestInfo("KX7-4MP", "utilities", "in_progress", "No light", NOW, NOW + timedelta(days=1)),
         "PW3-8RT": RequestInfo("PW3-8RT", "utilities", "duplicate", "No light again", NOW, NOW, merged_into="KX7-4MP")}


def say(state: State, citizen: CitizenInfo, text: str = "", **fields):
    return respond(state, Incoming("test", "test:1", text, external_id="1", **fields), MemoryView(citizen, FILED))


@pytest.mark.parametrize(
    "state, citizen, text, reply, flow, step",
    [
        (State(), NEWCOMER, "/start", "Choose your language", "onboarding", "language"),
        (State(), NEWCOMER, "hello", "Where do you live?", "onboarding", "place"),
        (State(), NEWCOMER, "Здравствуйте", "Где вы живёте?", "onboarding", "place"),
        (State("onboarding", "language", {}, 1), NEWCOMER, "русский", "Где вы живёте?", "onboarding", "place"),
        (State("onboarding", "language", {}, 1), NEWCOMER, "Klingon", "Sorry, I can speak only these languages", "onboarding", "language"),
        (MENU, REGULAR, "2", "Your requests:", "my_requests", "list"),
        (MENU, REGULAR, "where is kx7 4mp?", "Status: in progress", "menu", "main"),
        (MENU, REGULAR, "PW3-8RT", "Status: merged with another request\nIt continues as request KX7-4MP.", "menu", "main"),
        (MENU, REGULAR, "The street lights are broken on our road", "I understood this as", "request", "confirm"),
        (MENU, REGULAR, "hi", "Hello! How can I help?", "menu", "main"),
        (MENU, REGULAR, "???", "I did not receive any words", "menu", "main"),
        (State("request", "describe", {}, 5), REGULAR, "cancel", "Cancelled.", "menu", "main"),
        (State("status", "ask", {}, 5), REGULAR, "not a code", "does not look like a tracking code", "status", "ask"),
        (State("request", "describe", {}, 5), REGULAR, "my data", "Messages kept: 3 from you, 4 from us", "privacy", "summary"),
        (State("onboarding", "place", {}, 2), NEWCOMER, "удалить мои данные", "Удалить ваши данные?", "privacy", "forget"),
    ],
)
def test_the_bot_answers_and_moves_on(state, citizen, text, reply, flow, step):
    result = say(state, citizen, text)
    assert reply in "\n".join(r.text for r in result.replies)
    assert (result.state.flow, result.state.step) == (flow, step)


def test_confirming_a_request_files_it_with_the_suggested_category():
    state = State("request", "confirm", {"text": "Water pipe burst", "category": "utilities", "score": 90.0, "choices": [["yes", "Yes"]]}, 7)
    result = say(state, REGULAR, event={"type": "button", "data": button_data(7, "yes")})
    (submit,) = [a for a in result.actions if isinstance(a, act.SubmitRequest)]
    assert (submit.code, submit.category_id, submit.text) == ("KX7-4MP", "utilities", "Water pipe burst")
    assert "KX7-4MP" in result.replies[0].text


def test_the_same_need_again_is_offered_to_the_open_request_and_either_answer_is_kept():
    state = State("request", "confirm", {"text": "Still no light", "category": "utilities", "score": 90.0, "choices": [["yes", "Yes"]]}, 7)
    asked = say(state, REGULAR, event={"type": "button", "data": button_data(7, "yes")})
    assert asked.actions == [] and (asked.state.flow, asked.state.step) == ("request", "same")
    assert "You already asked this in request KX7-4MP" in asked.replies[0].text
    assert [c.key for c in asked.replies[0].choices] == ["add", "new"]
    state = asked.state.with_data(choices=[["add", "Add"], ["new", "New"]])
    added = say(state, REGULAR, "1")
    assert added.actions == [act.AnswerRequest("KX7-4MP", "Still no light")] and "Added to KX7-4MP" in added.replies[0].text
    filed = say(state, REGULAR, "2")
    (submit,) = [a for a in filed.actions if isinstance(a, act.SubmitRequest)]
    assert (submit.text, submit.category_id) == ("Still no light", "utilities")


def test_a_new_step_gets_a_new_menu_version_and_old_buttons_are_refused():
    result = say(MENU, REGULAR, event={"type": "button", "data": button_data(3, "new")})
    assert "earlier menu" in result.replies[0].text
    assert (result.state.flow, result.state.step) == ("menu", "main") and result.replies[-1].choices  # the current menu again


def test_the_language_chosen_speaks_at_once():
    result = say(State("onboarding", "language", {"choices": [["lang:es", "Español"]]}, 1), NEWCOMER, "1")
    assert result.actions == [act.SetLanguage("es")] and "¿Dónde vive?" in result.replies[0].text


@pytest.mark.parametrize("current, target, allowed", [("new", "in_progress", True), ("closed", "resolved", False), ("closed", "reopened", True), ("duplicate", "in_progress", False)])
def test_status_moves(current, target, allowed):
    assert lifecycle.can_move(current, target) is allowed


def test_routing_by_category_and_place_and_deadlines():
    routing = Routing.from_seed(read_seed("routing.json"))
    assert routing.department_for("roads_infrastructure", ["ar-ba-laplata", "ar-ba"]) == "obras_ba"
    assert routing.department_for("roads_infrastructure", ["uz-syr"]) == "utilities"
    assert routing.department_for("something_new", []) == "reception"
    created = NOW
    assert routing.deadline("emergency", created, None, created + timedelta(minutes=30)).state == "ok"
    assert routing.deadline("emergency", created, None, created + timedelta(minutes=50)).state == "warning"
    late = routing.deadline("emergency", created, created + timedelta(minutes=5), created + timedelta(hours=25))
    assert (late.kind, late.state) == ("resolution", "breached")


def test_likely_duplicates_across_scripts_and_word_order():
    from flows.duplicates import Candidate, likeness, similar

    assert likeness("Свет йўқ маҳаллада", "svet yo'q mahallada") > 90
    mine = Candidate("AAA-222", "No hay agua en la calle Rivadavia", "utilities", "ar-ba-laplata", 1)
    others = [
        Candidate("BBB-333", "En la calle Rivadavia no hay agua", "utilities", "ar-ba-laplata", 2),
        Candidate("CCC-444", "Se cortó la luz", "utilities", "ar-ba-laplata", 3),
        Candidate("DDD-555", "No hay agua en la calle Rivadavia", "health", "ar-ba-laplata", 4),
    ]
    assert [code for code, _ in similar(mine, others)] == ["BBB-333"]


def test_another_citizens_code_reads_exactly_like_a_code_that_does_not_exist():
    theirs = {"KX7-4MP": RequestInfo("KX7-4MP", "utilities", "in_progress", "No light", NOW, NOW, mine=False)}
    for state in (MENU, State("status", "ask", {}, 5)):
        foreign = respond(state, Incoming("test", "test:1", "KX7-4MP", external_id="1"), MemoryView(REGULAR, theirs))
        unknown = respond(state, Incoming("test", "test:1", "KX7-4MP", external_id="1"), MemoryView(REGULAR, {}))
        assert [r.text for r in foreign.replies] == [r.text for r in unknown.replies]
        assert "I found no request with the code KX7-4MP" in foreign.replies[0].text


def test_declining_consent_asks_the_engine_to_erase_what_was_kept():
    state = State("onboarding", "consent", {"pending_text": "Calle Falsa 123", "choices": [["yes", "Yes"], ["no", "No"]]}, 3)
    result = say(state, CitizenInfo(1, "en", "v", None), event={"type": "button", "data": button_data(3, "no")})
    assert act.SetConsent(False) in result.actions and act.EraseAfterRefusal() in result.actions
    assert "pending_text" not in result.state.data or result.state.data["pending_text"] is None


def test_button_data_not_on_the_current_menu_is_refused_like_an_old_button():
    result = say(MENU, REGULAR, event={"type": "button", "data": button_data(MENU.version, "forged")})
    assert "earlier menu" in result.replies[0].text and (result.state.flow, result.state.step) == ("menu", "main")


def test_menu_from_someone_not_yet_onboarded_goes_on_with_onboarding():
    result = say(State("onboarding", "language", {}, 1), NEWCOMER, "menu")
    assert result.state.flow == "onboarding" and "Choose your language" in result.replies[-1].text


def test_a_different_menu_at_the_same_step_gets_a_new_version_so_buttons_of_the_old_one_are_refused():
    result = say(MENU, REGULAR, "hi")  # the full main menu replaces the two-choice one in MENU
    assert (result.state.flow, result.state.step) == ("menu", "main")
    assert result.state.version == MENU.version + 1 and result.replies[-1].menu_id == str(MENU.version + 1)
