"""Tracking codes: easy to read aloud, hard to mistype, found wherever written."""

import random

from flows.tracking import ALPHABET, find_code, new_code, parse_code


def test_codes_have_no_look_alike_symbols_and_always_a_digit():
    draw = random.Random(2026).randrange  # seeded: 2,000 random codes may repeat one by chance
    codes = [new_code(draw) for _ in range(2000)]
    assert len(set(codes)) > 1990
    for code in codes:
        assert len(code) == 7 and code[3] == "-"
        assert not set(code.replace("-", "")) & set("01OIQLUV")
        assert any(ch.isdigit() for ch in code)


def test_reading_a_code_forgives_case_spaces_and_cyrillic_keyboards():
    assert parse_code("kx7-4mp") == "KX7-4MP"
    assert parse_code(" kx7 4mp ") == "KX7-4MP"
    assert parse_code("KX74MP") == "KX7-4MP"
    assert parse_code("КХ7-4МР") == "KX7-4MP"  # typed on a Cyrillic keyboard
    assert parse_code("KX7-4M") is None
    assert parse_code("KX7-4M0") is None  # 0 is never in a code


def test_a_code_is_found_inside_a_sentence_but_words_are_not_codes():
    assert find_code("wgh-jy3 holati qanday?") == "WGH-JY3"
    assert find_code("¿Qué pasó con mi solicitud ABC 234?") == "ABC-234"
    assert find_code("how are you") is None
    assert find_code("wgh-jyk") == "WGH-JYK"  # a message that is a code alone needs no digit
    assert find_code("svet yo'q, 3 kundan beri") is None


def test_the_alphabet_is_deterministic_under_a_seeded_source():
    rng = random.Random(3)
    assert new_code(rng.randrange) == new_code(random.Random(3).randrange)
    assert len(ALPHABET) == 28
