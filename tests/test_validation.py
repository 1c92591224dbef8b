"""GB 11643 identity numbers (with hypothesis), bank cards, mobile numbers, masking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.errors import ValidationError
from store.rules.validation import (
    mask_card_number,
    mask_id_number,
    sex_of,
    validate_card_number,
    validate_id_number,
    validate_mobile,
    validate_person,
)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def reference_check(body: str) -> str:
    """The check character written out from the standard, independently of stdnum."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


REGION = "310104"  # Shanghai Xuhui: valid at every birth year used here
births = st.dates(min_value=date(1950, 1, 1), max_value=date(2020, 12, 31))
seqs = st.integers(min_value=0, max_value=999)


@given(births, seqs)
def test_valid_numbers_accepted_and_sex_read(birth: date, seq: int) -> None:
    body = f"{REGION}{birth:%Y%m%d}{seq:03d}"
    number = body + reference_check(body)
    assert validate_id_number(number) == number
    assert validate_id_number(number.lower()) == number  # x → X
    assert sex_of(number) == ("M" if seq % 2 else "F")
    validate_person(number, sex=sex_of(number), birth_date=birth)


@given(births, seqs, st.integers(min_value=0, max_value=10))
def test_wrong_check_character_refused(birth: date, seq: int, shift: int) -> None:
    body = f"{REGION}{birth:%Y%m%d}{seq:03d}"
    good = reference_check(body)
    alphabet = "0123456789X"
    bad = alphabet[(alphabet.index(good) + 1 + shift % 10) % 11]
    with pytest.raises(ValidationError) as exc:
        validate_id_number(body + bad)
    assert exc.value.field == "id_number" and "校验" in exc.value.zh


@given(st.text(max_size=30))
def test_arbitrary_text_only_raises_validation_error(text: str) -> None:
    try:
        validate_id_number(text)
    except ValidationError as exc:
        assert exc.field == "id_number" and exc.zh and exc.en


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("31010419900101001", "18"),
        ("3101041990010100X1", "17"),
        (f"31010419900231{'001'}" + reference_check("31010419900231001"), "出生日期"),
        ("99999919900101001" + reference_check("99999919900101001"), "地区"),
    ],
)
def test_clear_messages(raw: str, words: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_id_number(raw)
    assert words in exc.value.zh


def test_future_birth_date_refused() -> None:
    body = "31010420991231001"
    with pytest.raises(ValidationError, match="future"):
        validate_id_number(body + reference_check(body))


def test_person_must_agree_with_number() -> None:
    number = "310104199001010011"  # male, 1990-01-01
    with pytest.raises(ValidationError) as exc:
        validate_person(number, sex="F", birth_date=None)
    assert exc.value.field == "sex"
    with pytest.raises(ValidationError) as exc:
        validate_person(number, sex="M", birth_date=date(1990, 1, 2))
    assert exc.value.field == "birth_date"


def test_masks() -> None:
    assert mask_id_number("310104199001010011") == "**************0011"
    assert mask_card_number("6222020200112233445") == "6222***********3445"


def test_card_luhn_is_a_warning_only() -> None:
    number, warnings = validate_card_number("6222 0202 0011 2233 445")
    assert number == "6222020200112233445" and warnings
    number, warnings = validate_card_number("4111111111111111")
    assert not warnings
    with pytest.raises(ValidationError) as exc:
        validate_card_number("12ab")
    assert exc.value.field == "card_number"


def test_mobile() -> None:
    assert validate_mobile("+86 138 0013 8000") == "13800138000"
    with pytest.raises(ValidationError) as exc:
        validate_mobile("12800138000")
    assert exc.value.field == "mobile" and "手机" in exc.value.zh


@pytest.mark.parametrize(
    "name",
    [
        "王\u202e二",
        "王\u200b二",
        "王\u200d二",
        "\u3164",
        "王\n二",
        "王\r二",
        "王\u2067二\u2069",
        "王\u00ad二",
    ],
)
def test_a_name_with_an_invisible_or_control_character_is_refused(name: str) -> None:
    from store.rules.validation import validate_name

    with pytest.raises(ValidationError) as err:
        validate_name(name)
    assert err.value.field == "name" and "U+" in err.value.en


@pytest.mark.parametrize("name", ["王二", "阿卜杜·买买提", "Li Wei", "欧阳 娜娜"])
def test_ordinary_names_are_taken(name: str) -> None:
    from store.rules.validation import validate_name

    assert validate_name(f" {name} ") == name
