"""The learned classifier on hard cases people actually write: the misses
that sent requests to the wrong department before, and questions told
apart from requests. Table-driven; each row is one message."""

from __future__ import annotations

import pytest

from flows.classifier import Classifier
from storage.seed import read_seed


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_catalog(read_seed("categories.json"))


@pytest.mark.parametrize("text, category", [
    ("There is no water in our street for a week", "utilities"),
    ("ne rabotaet svet uzhe tretiy den", "utilities"),
    ("Нет воды в доме с понедельника", "utilities"),
    ("kocha suv yoq bir haftadan beri", "utilities"),
    ("se corta la luz todas las noches en el barrio, edesur no viene", "utilities"),
    ("the river flooded and water is coming into the houses", "emergency"),
    ("упал столб, провода искрят прямо на дороге", "emergency"),
    ("uyimiz yonib ketdi, yordam kerak", "emergency"),
    ("hay un bache enorme en la esquina de mi casa", "roads_infrastructure"),
    ("ko'prik buzilib qolgan, bolalar maktabga o'tolmayapti", "roads_infrastructure"),
    ("yer uchastkamga kadastr hujjati olmoqchiman", "land_property"),
    ("me quieren desalojar de la casa que alquilo", "housing"),
    ("no me llego la tarjeta alimentar este mes", "food_assistance"),
    ("pensiyam 3 oydan beri kelmayapti", "social_benefits"),
    ("потерял паспорт, как восстановить", "id_documents"),
    ("bolamga tug'ilganlik guvohnomasi kerak", "civil_registry"),
    ("quiero inscribir mi emprendimiento y pagar menos impuestos", "business_tax"),
    ("I lost my job and need help finding work", "employment"),
    ("bog'chaga joy berishmayapti", "education"),
    ("в поликлинике нет врача уже месяц", "health"),
])
def test_hard_requests_go_to_the_right_category(classifier, text, category):
    found = classifier.classify(text)
    assert found.category == category, (text, found.top3)


@pytest.mark.parametrize("text, intent", [
    ("what documents do I need for a passport?", "question"),
    ("¿dónde queda la oficina más cercana para hacer el DNI?", "question"),
    ("Когда приедет выездная бригада в нашу махаллю?", "question"),
    ("pasport olish uchun qanday hujjatlar kerak", "question"),
    ("tug'ilganlik guvohnomasi qancha turadi?", "question"),
    ("My street has had no electricity for three days", "request"),
    ("в подъезде течёт крыша, сделайте что-нибудь", "request"),
    ("hola", "other"),
    ("спасибо большое", "other"),
    ("rahmat", "other"),
])
def test_questions_requests_and_small_talk_are_told_apart(classifier, text, intent):
    assert classifier.classify(text).intent == intent, text


def test_below_the_confidence_line_the_top_three_are_offered(classifier):
    found = classifier.classify("the thing by the old mill")
    assert len(found.top3) == 3 and found.top3[0][0] == found.category
    assert sum(found.scores.values()) == pytest.approx(100, abs=0.5)
