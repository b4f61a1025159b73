"""The rules that say when two requests are one case, shared by the intake,
the staff card and the import of old sheets (flows/duplicates.py)."""

from datetime import date

import pytest

from flows.duplicates import NEIGHBOURS, SAME_PERSON, Report, group, kept_apart, names_compatible, same_case, topics

D = date(2024, 7, 1)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("GOMEZ Maria", "Gómez, María Eugenia", True),
        ("Maria E. Gomez", "GOMEZ Maria", True),
        ("Leiva M.", "Leiva Marcelo", True),
        ("NAZAROV SH.", "Nazarov Sherzod", True),
        ("Каримов Азиз", "Karimov Aziz Anvarovich", True),
        ("Abdullaev Ulugbek", "Abdullayev Ulug'bek", True),
        ("Comedor Los Pibitos (Rosa Ferreyra)", "Ferreyra Rosa", True),
        ("Rahimov Bahodir", "Rahimov Bahrom", False),  # one letter group apart, two people
        ("Karimov Aziz", "Karimova Zulfiya", False),  # a family
        ("Marta Villalba", "Diego Villalba", False),
        ("Acosta W.", "Juan Acosta", False),
        ("", "Juan Acosta", False),
    ],
)
def test_names_fit_when_the_shorter_is_part_of_the_longer(a, b, expected):
    assert names_compatible(a, b) is expected
    assert names_compatible(b, a) is expected


@pytest.mark.parametrize(
    "text, topic",
    [
        ("Газа нет уже неделю", "gas"),
        ("gaz hali ham yo'q", "gas"),
        ("Нет питьевой воды в махалле", "water"),
        ("ichimlik suvi kelmayapti", "water"),
        ("no sale agua de la canilla", "water"),
        ("Кўприк бузилди", "bridge"),
        ("Mavzeda svet yo'q", "power"),
        ("un pozo gigante en la esquina", "road"),
        ("no funcionan las luminarias de la plaza", "street_light"),
        ("Pensiyam kartaga tushmayapti", "pension"),
        ("Пенсия келмаяпти", "pension"),
        ("yer uchastkasi so'raydi", "plot"),
    ],
)
def test_topics_are_found_in_any_script(text, topic):
    assert topic in topics(text)


def test_neither_a_stopped_stove_nor_a_driver_is_a_job():
    assert "job" not in topics("печки не работают")


def person(text, name="Karimov Aziz", phone="+998901234567", place="bekat", category="social_benefits", when=D, **kw):
    return Report(text, category=category, locality=place, phone=phone, name=name, when=when, **kw)


def test_the_same_person_refiling_the_same_need_is_one_case_whatever_the_phone_or_script():
    first = person("Pensiyam 2 oydan beri kartaga tushmayapti")
    assert same_case(first, person("pensiya hali ham tushmadi", name="KARIMOV AZIZ", when=date(2024, 7, 20))) == SAME_PERSON
    assert same_case(first, person("Пенсия келмаяпти", name="Каримов Азиз", phone=None)) == SAME_PERSON
    # Argentine mobiles with and without the 9 are one number
    a = person("No cobró la AUH de febrero", name="Gómez, María Eugenia", phone="+5491123456789", place="laferrere")
    b = person("sigue sin cobrar la auh", name="GOMEZ Maria", phone="+541123456789", place="laferrere")
    assert same_case(a, b) == SAME_PERSON


def test_a_shared_family_phone_is_two_people():
    husband = person("Pensiyam kartaga tushmayapti")
    wife = person("Bolalar nafaqasiga hujjat topshirgan", name="Karimova Zulfiya")
    assert same_case(husband, wife) is None
    assert kept_apart(husband, wife)


def test_the_same_person_with_a_different_need_is_two_cases():
    eviction = person("Orden de desalojo, alquila con 4 hijos", name="DIAZ Roberto", phone="+5492214567890", category="housing")
    food = person("Pide módulo alimentario, está sin trabajo", name="Díaz, Roberto", phone="+542214567890", category="food_assistance")
    assert same_case(eviction, food) is None
    assert kept_apart(eviction, food)


def test_a_name_alone_is_one_person_only_in_one_place():
    tandil = person("No le llegó el DNI", name="Juan Pérez", phone=None, place="tandil", category="id_documents")
    azul = person("DNI tramitado, no le llegó", name="Juan Perez", phone=None, place="azul", category="id_documents")
    assert same_case(tandil, azul) is None
    assert same_case(tandil, Report("DNI sin llegar", "id_documents", "tandil", None, "PEREZ JUAN", D)) == SAME_PERSON


def test_neighbours_reporting_one_problem_of_one_place_are_one_case_across_languages():
    a = person("Gaz bosimi juda past, uylar isimayapti", name="Abdullayev Ulug'bek", phone="+998933014455", place="paxtazor", category="utilities")
    b = person("Газа нет уже неделю, печки не работают", name="Tursunov Alisher", phone="+998974107788", place="paxtazor", category="utilities")
    assert same_case(a, b) == NEIGHBOURS


def test_neighbours_traps_another_place_another_problem_another_season():
    pothole = person("Bache enorme en Marcon y Almafuerte", name="Leiva Marcelo", phone="+541138210067", place="casanova", category="roads_infrastructure")
    elsewhere = person("Bache enorme en Arieta y Perú", name="Toledo Norberto", phone="+5491144881209", place="san-justo", category="roads_infrastructure")
    lights = person("No funcionan las luminarias de la plaza de Almafuerte", name="Villarreal Rubén", phone="+541150308871", place="casanova", category="roads_infrastructure")
    later = person("Bache en Marcon y Almafuerte otra vez", name="Paz Gisela", phone="+5491161204301", place="casanova", category="roads_infrastructure", when=date(2025, 3, 1))
    for other in (elsewhere, lights, later):
        assert same_case(pothole, other) is None
        assert kept_apart(pothole, other)
    # and the same person, a year later: a new occurrence
    assert same_case(pothole, person("Bache en Marcon y Almafuerte", name="Leiva M.", phone="+541138210067", place="casanova",
                                     category="roads_infrastructure", when=date(2025, 7, 1))) is None


def test_neighbours_own_needs_are_not_one_problem():
    a = person("Uy qurish uchun yer uchastkasi so'raydi", name="Rahimov Bahodir", phone="+998935551234", place="gagarin", category="land_property")
    b = person("Tomorqa yerini kadastrdan o'tkazib berishni so'raydi", name="Rahimov Bahrom", phone="+998935554007", place="gagarin", category="land_property")
    assert same_case(a, b) is None


def test_groups_never_join_a_trap_through_a_third_report():
    bahodir = person("Uy qurish uchun yer uchastkasi so'raydi", name="Rahimov Bahodir", phone="+998935551234", place="gagarin", category="land_property")
    bahrom = person("Yer uchastkasi kadastrdan o'tkazilmagan", name="Rahimov Bahrom", phone="+998935554007", place="gagarin", category="land_property")
    again = person("yer uchastkasi bo'yicha takroriy", name="Rahimov B.", phone=None, place="gagarin", category="land_property")
    assert same_case(bahodir, again) == SAME_PERSON and same_case(bahrom, again) == SAME_PERSON
    groups = group([bahodir, bahrom, again])
    assert len(groups) == 1 and groups[0] in ([0, 2], [1, 2])


def test_a_known_citizen_is_one_person_whatever_the_name():
    a = Report("no hay agua en la cuadra", "utilities", "solano", None, "Mirta", D, citizen=7)
    b = Report("sigue sin agua", "utilities", "solano", None, "Mirta Aguirre de López", D, citizen=7)
    assert same_case(a, b) == SAME_PERSON
