"""Which language the bot speaks: guessed from the first message (and the
channel's hints), changed later by a word in any language, at any step."""

from __future__ import annotations

import pytest
from sqlmodel import select

from flows.i18n import guess_language, language_from_words, named_language, supported
from storage.db import session_scope
from storage.models import Citizen, Request
from tests.conversation import Chat

# (first message, the app's language or the number's country, the language guessed)
GUESSES = [
    # Uzbek, Latin, with o'/g' and with plain o/g
    ("Assalomu alaykum, ko'chamizda suv yo'q", None, "uz"),
    ("assalomu alaykum suv yoq bir haftadan beri", None, "uz"),
    ("Salom, pasport olish uchun nima kerak?", None, "uz"),
    ("Iltimos yordam bering, uyimizda gaz yoq", None, "uz"),
    # Uzbek, Cyrillic: its own letters, or its words without them
    ("Кўчамизда сув йўқ", None, "uz-Cyrl"),
    ("Газ босими паст, ҳеч ким келмади", None, "uz-Cyrl"),
    ("Ассалому алайкум, ёрдам беринг керак", None, "uz-Cyrl"),
    ("Кўприк бузилган", None, "uz-Cyrl"),  # only the letters say it
    ("Кўприк бузилган", "ru", "uz-Cyrl"),
    # Russian, in Cyrillic and in Latin letters
    ("Здравствуйте, у нас нет света", None, "ru"),
    ("Когда приедет выездная бригада?", None, "ru"),
    ("zdravstvuyte, ne rabotaet svet uzhe nedelyu", None, "ru"),
    # Spanish, with accents and without
    ("¿Dónde queda la oficina más cercana?", None, "es"),
    ("hola necesito ayuda con la tarjeta alimentar", None, "es"),
    ("buenas tardes, en mi barrio no hay luz", None, "es"),
    ("Mañana sin colectivo", None, "es"),  # only the letters say it
    ("Mañana sin colectivo", "en", "es"),
    # English
    ("Hello, there is no water in our street", None, "en"),
    ("I need help with my pension please", None, "en"),
    # the text says nothing: the hint decides
    ("/start", "ru", "ru"),
    ("/start", "uz", "uz"),
    ("/start", "es-AR", "es"),
    ("/start", "uz-Cyrl", "uz-Cyrl"),
    ("123", "en-GB", "en"),
    ("/start", "de", None),
    ("/start", None, None),
    ("👍", None, None),
    # the text outweighs a hint that is wrong for the person writing
    ("Здравствуйте, у нас нет света", "en", "ru"),
    ("Кўчамизда сув йўқ", "ru", "uz-Cyrl"),
    ("hola necesito ayuda", "uz", "es"),
    ("Assalomu alaykum, suv yo'q", "en", "uz"),
]


@pytest.mark.parametrize("sample, hint, expected", GUESSES)
def test_guess_language(sample, hint, expected):
    assert guess_language(sample, hint) == expected


def onboard(chat: Chat) -> None:
    """The list of languages, English, a shared location near Guliston, consent."""
    chat.send("/start")
    chat.press("English")
    chat.share_location(40.4897, 68.7842)
    chat.press("yes")
    assert "What would you like to do?" in chat.text


# (a message that is only a language's name, in any language, typos allowed; the language)
NAMES = [
    ("русский", "ru"), ("Русский язык", None), ("russkiy", "ru"), ("english", "en"), ("Englsh", "en"),
    ("o'zbekcha", "uz"), ("ozbekcha", "uz"), ("ўзбекча", "uz-Cyrl"), ("español", "es"), ("espanol", "es"),
    ("Espaniol", "es"),
]


@pytest.mark.parametrize("typed, language", [n for n in NAMES if n[1]])
def test_a_language_name_at_the_menu_switches_and_shows_the_menu_again(engine, database, typed, language):
    chat = Chat(engine, "ana")
    onboard(chat)
    assert "What would you like to do?" in chat.text
    chat.send(typed)
    assert "What would you like to do?" not in chat.text or language == "en"
    with session_scope(database) as session:
        assert session.exec(select(Citizen)).one().language == language
    assert chat.choices, "the same step is shown again, with its buttons"


def test_a_language_name_in_the_middle_of_a_request_switches_and_keeps_the_step(engine, database):
    chat = Chat(engine, "ana")
    onboard(chat)
    chat.send("There is no electricity in our street for three days")
    assert "I understood this as: Utilities" in chat.text
    chat.send("русский")
    assert "язык: русский." in chat.text.lower()
    assert "Коммунальные" in chat.text, chat.text  # the same confirmation, in Russian
    chat.press("Да")
    assert "Код" in chat.text or "код" in chat.text
    with session_scope(database) as session:
        assert session.exec(select(Request)).one().text == "There is no electricity in our street for three days"


@pytest.mark.parametrize("phrase", ["change language", "сменить язык", "tilni o'zgartirish", "тилни ўзгартириш", "cambiar idioma", "otro idioma"])
def test_change_language_in_any_language_opens_the_list(engine, phrase):
    chat = Chat(engine, "ana")
    onboard(chat)
    chat.send(phrase)
    assert chat.choices == ["O'zbekcha", "Ўзбекча", "Русский", "Español", "English"]
    chat.press("Español")
    assert "Idioma" in chat.text or "idioma" in chat.text or "Guardado" in chat.text, chat.text


def test_change_language_while_being_welcomed_carries_on_with_the_place(engine):
    chat = Chat(engine, "ana")
    chat.send("/start")
    chat.press("English")
    assert "Where do you live?" in chat.text
    chat.send("сменить язык")
    assert chat.choices == ["O'zbekcha", "Ўзбекча", "Русский", "Español", "English"]
    chat.press("Русский")
    assert "выберите вашу область" in chat.text.lower(), chat.text  # still onboarding: the place comes next


def test_a_description_that_mentions_a_language_stays_a_description(engine, database):
    chat = Chat(engine, "ana")
    onboard(chat)
    chat.send("The school has no Russian language teacher since September")
    assert "Язык" not in chat.text
    with session_scope(database) as session:
        assert session.exec(select(Citizen)).one().language == "en"


@pytest.mark.parametrize("typed, expected", [
    ("Ўзбекча", "uz-Cyrl"), ("ўзбек", "uz-Cyrl"), ("узбекча", "uz-Cyrl"),  # Cyrillic letters: the Cyrillic Uzbek
    ("ozbekcha", "uz"), ("russkiy", "ru"), ("Espanol", "es"), ("English", "en"), ("Русский", "ru"), ("nemis", None),
])
def test_a_language_named_in_words(typed, expected):
    assert language_from_words(typed) == expected


@pytest.mark.parametrize("tag, expected", [
    ("es_AR", "es"), ("es-AR", "es"), ("ru-RU", "ru"), ("uz-Latn", "uz"), ("uz-UZ", "uz"), ("uz_Cyrl", "uz-Cyrl"),
    ("uz-Cyrl-UZ", "uz-Cyrl"), ("UZ-CYRL", "uz-Cyrl"), ("sr-Cyrl", None), ("pt-BR", None), ("", None), (None, None),
])
def test_a_device_language_tag_maps_to_one_we_speak(tag, expected):
    assert supported(tag) == expected


@pytest.mark.parametrize("typed, expected", [
    ("ingls", "en"),  # five letters: long enough to be read with a typo
    ("enflish", "en"), ("rusakiy", "ru"),  # one letter wrong in seven: as far as a typo may go
    ("ingl", None), ("russ", None),  # four letters: too short to guess from
    ("in english", None),
])
def test_a_language_name_with_a_typo(typed, expected):
    assert named_language(typed) == expected
