"""Tests for customers.validators: ID numbers, credit codes, mobile numbers and masks.

Pure functions only: no database and no Django test fixtures. Error messages are
lazy translations and are never forced to ``str`` here (that would need settings),
so failures are identified by ``ValidationError.code``.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from customers.validators import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_character,
    credit_code_is_valid,
    id_check_character,
    id_number_birth_date,
    id_number_gender,
    id_number_is_valid,
    mask_id_number,
    mask_mobile,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
    validate_mobile,
)

VALID_ID = "11010519491231002X"
VALID_CREDIT_CODE = "91350100M000100Y43"
DIGITS = "0123456789"

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def _error_code(validator: Callable[[str], None], value: str) -> str:
    with pytest.raises(ValidationError) as excinfo:
        validator(value)
    # No personal data may travel with the error, not even as a format param.
    assert excinfo.value.params is None
    return excinfo.value.code


def _with_check(first17: str) -> str:
    return first17 + id_check_character(first17)


def _swap(value: str, i: int) -> str:
    return value[:i] + value[i + 1] + value[i] + value[i + 2 :]


# ---------------------------------------------------------------------------
# Resident ID number: examples
# ---------------------------------------------------------------------------


def test_valid_id_example_passes() -> None:
    assert id_number_is_valid(VALID_ID)
    validate_id_number(VALID_ID)
    assert id_check_character(VALID_ID[:17]) == "X"
    assert id_number_birth_date(VALID_ID) == datetime.date(1949, 12, 31)
    assert id_number_gender(VALID_ID) == "F"


def test_id_lowercase_x_and_spaces_are_normalised() -> None:
    assert normalize_id_number(" 110105 19491231 002x ") == VALID_ID
    assert normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == VALID_ID  # full-width
    assert id_number_is_valid("11010519491231002x")


def test_id_male_sequence() -> None:
    number = _with_check("11010519800101001")
    assert id_number_gender(number) == "M"
    assert id_number_birth_date(number) == datetime.date(1980, 1, 1)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "length"),
        ("11010519491231002", "length"),
        ("11010519491231002X1", "length"),
        ("1101051949123100XX", "format"),
        ("11010519491231002A", "format"),
        ("X1010519491231002X", "format"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "format"),  # Arabic-Indic digits are not ASCII digits
        ("110105194902300021", "birth_date"),  # 30 February
        ("110105190002290021", "birth_date"),  # 1900 was not a leap year
        ("110105194913010021", "birth_date"),  # month 13
        ("110105189912310021", "birth_date"),  # before 1900
        ("110105299901010021", "birth_date"),  # in the future
        ("110105194912310021", "checksum"),
        ("11010519491231002Y", "format"),
    ],
)
def test_invalid_id_numbers_fail_with_code(value: str, code: str) -> None:
    assert _error_code(validate_id_number, value) == code
    assert not id_number_is_valid(value)


def test_id_leap_day_2000_is_a_valid_birth_date() -> None:
    number = _with_check("11010520000229003")
    assert id_number_is_valid(number)
    assert id_number_birth_date(number) == datetime.date(2000, 2, 29)


def test_id_birth_date_bounds_use_reference_date() -> None:
    number = _with_check("11010520240601001")
    assert id_number_is_valid(number, today=datetime.date(2024, 6, 1))
    assert not id_number_is_valid(number, today=datetime.date(2024, 5, 31))
    with pytest.raises(ValidationError) as excinfo:
        validate_id_number(number, today=datetime.date(2024, 5, 31))
    assert excinfo.value.code == "birth_date"
    assert id_number_is_valid(_with_check("11010519000101001"))


def test_id_derivations_refuse_invalid_numbers() -> None:
    with pytest.raises(ValidationError):
        id_number_birth_date("110105194912310021")
    with pytest.raises(ValidationError):
        id_number_gender("110105194912310021")


@pytest.mark.parametrize("first17", ["", "1101051949123100", "1101051949123100X", "a" * 17])
def test_id_check_character_rejects_bad_input(first17: str) -> None:
    with pytest.raises(ValueError, match="17 digits"):
        id_check_character(first17)


# ---------------------------------------------------------------------------
# Resident ID number: properties
# ---------------------------------------------------------------------------


@st.composite
def valid_id_numbers(draw: st.DrawFn) -> tuple[str, datetime.date, int]:
    address = draw(st.text(alphabet=DIGITS, min_size=6, max_size=6))
    birth_date = draw(
        st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2020, 12, 31))
    )
    sequence = draw(st.integers(min_value=0, max_value=999))
    first17 = f"{address}{birth_date:%Y%m%d}{sequence:03d}"
    return _with_check(first17), birth_date, sequence


def _id_checksum_detects(candidate: str) -> bool:
    """Whether the GB 11643 check character alone rejects ``candidate``.

    Stronger than ``not id_number_is_valid``: it shows the error is caught by
    the checksum, not merely by luck (e.g. the change broke the birth date).
    Candidates with an X among the first 17 characters can't be checked this
    way; they are rejected by the format rule instead.
    """
    if not candidate[:17].isdigit():
        return True
    return id_check_character(candidate[:17]) != candidate[17]


@PROPERTY_SETTINGS
@given(valid_id_numbers())
def test_generated_id_numbers_are_valid(generated: tuple[str, datetime.date, int]) -> None:
    number, birth_date, sequence = generated
    assert id_number_is_valid(number)
    assert id_number_is_valid(number.lower())
    assert id_number_birth_date(number) == birth_date
    assert id_number_gender(number) == ("M" if sequence % 2 else "F")


@PROPERTY_SETTINGS
@given(valid_id_numbers())
def test_every_id_single_substitution_is_rejected(
    generated: tuple[str, datetime.date, int],
) -> None:
    number, _, _ = generated
    for position in range(18):
        allowed = DIGITS + "X" if position == 17 else DIGITS
        for replacement in allowed:
            if replacement == number[position]:
                continue
            candidate = number[:position] + replacement + number[position + 1 :]
            assert not id_number_is_valid(candidate), (position, replacement)
            assert _id_checksum_detects(candidate), (position, replacement)


@PROPERTY_SETTINGS
@given(valid_id_numbers())
def test_every_id_adjacent_transposition_is_rejected(
    generated: tuple[str, datetime.date, int],
) -> None:
    number, _, _ = generated
    for position in range(17):
        if number[position] == number[position + 1]:
            continue  # swapping equal characters is not an error
        candidate = _swap(number, position)
        # Swapping an X check character into position 17 gives a format error: still rejected.
        assert not id_number_is_valid(candidate), position
        assert _id_checksum_detects(candidate), position


def test_id_weights_detect_all_single_errors_and_adjacent_swaps() -> None:
    """The algebra behind the two properties above, checked exhaustively.

    With the check character's value c (X = 10) the rule is
    sum(w_i * d_i) + c == 1 (mod 11), i.e. the check position has weight 1.
    A substitution changes the sum by w_i * delta with 0 < |delta| < 11, and a
    swap of positions i, i+1 by (w_i - w_{i+1}) * (d_i - d_{i+1}). As 11 is
    prime, both are non-zero mod 11 whenever every weight and every adjacent
    weight difference is non-zero mod 11.
    """
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2, 1]
    assert weights == [pow(2, 17 - i, 11) for i in range(18)]
    assert all(w % 11 for w in weights)
    assert all((a - b) % 11 for a, b in itertools.pairwise(weights))


# ---------------------------------------------------------------------------
# Unified social credit code: examples
# ---------------------------------------------------------------------------


def test_valid_credit_code_example_passes() -> None:
    assert credit_code_is_valid(VALID_CREDIT_CODE)
    validate_credit_code(VALID_CREDIT_CODE)
    assert credit_code_check_character(VALID_CREDIT_CODE[:17]) == "3"


def test_credit_code_is_normalised_to_upper_case() -> None:
    assert normalize_credit_code(" 91350100m000100y43 ") == VALID_CREDIT_CODE
    assert credit_code_is_valid("91350100m000100y43")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "length"),
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("91350100I000100Y43", "format"),
        ("91350100O000100Y43", "format"),
        ("91350100M000100Z43", "format"),
        ("91350100S000100Y43", "format"),
        ("91350100V000100Y43", "format"),
        ("91350100M000100Y4-", "format"),
        ("91350100M000100Y44", "checksum"),
        ("91350100M000100Y34", "checksum"),
    ],
)
def test_invalid_credit_codes_fail_with_code(value: str, code: str) -> None:
    assert _error_code(validate_credit_code, value) == code
    assert not credit_code_is_valid(value)


@pytest.mark.parametrize("first17", ["", "91350100M000100Y", "91350100I000100Y4", "9" * 18])
def test_credit_check_character_rejects_bad_input(first17: str) -> None:
    with pytest.raises(ValueError, match="17 characters"):
        credit_code_check_character(first17)


def test_credit_codes_are_not_masked_or_treated_as_personal_data() -> None:
    # Credit codes identify organisations, are public, and are shown in full;
    # normalisation must not alter a valid code.
    assert normalize_credit_code(VALID_CREDIT_CODE) == VALID_CREDIT_CODE


# ---------------------------------------------------------------------------
# Unified social credit code: properties
# ---------------------------------------------------------------------------

credit_first17 = st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17)


@PROPERTY_SETTINGS
@given(credit_first17)
def test_generated_credit_codes_are_valid(first17: str) -> None:
    code = first17 + credit_code_check_character(first17)
    assert credit_code_is_valid(code)
    assert credit_code_is_valid(code.lower())


@PROPERTY_SETTINGS
@given(credit_first17)
def test_every_credit_code_single_substitution_is_rejected(first17: str) -> None:
    code = first17 + credit_code_check_character(first17)
    for position in range(18):
        for replacement in CREDIT_CODE_ALPHABET:
            if replacement == code[position]:
                continue
            candidate = code[:position] + replacement + code[position + 1 :]
            assert not credit_code_is_valid(candidate), (position, replacement)


@PROPERTY_SETTINGS
@given(credit_first17)
def test_every_credit_code_adjacent_transposition_is_rejected(first17: str) -> None:
    code = first17 + credit_code_check_character(first17)
    for position in range(17):
        if code[position] == code[position + 1]:
            continue  # swapping equal characters is not an error
        assert not credit_code_is_valid(_swap(code, position)), position


def test_credit_weights_detect_all_single_errors_and_adjacent_swaps() -> None:
    """The algebra behind the credit-code properties, checked exhaustively.

    The rule is sum(w_i * v_i) + c == 0 (mod 31), so the check position has
    weight 1. The weights are 3**i mod 31; 31 is prime, every weight is
    non-zero and every adjacent difference w_i - w_{i+1} (including 28 - 1 for
    the last data character against the check character) is non-zero mod 31,
    so no single substitution and no adjacent swap can go undetected.
    """
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert weights == [pow(3, i, 31) for i in range(17)]
    with_check = [*weights, 1]
    assert all(w % 31 for w in with_check)
    assert all((a - b) % 31 for a, b in itertools.pairwise(with_check))
    assert len(CREDIT_CODE_ALPHABET) == 31


# ---------------------------------------------------------------------------
# Mobile numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "+8613812345678",
        "8613812345678",
        "+86 138 1234 5678",
        "138-1234-5678",
        "１３８１２３４５６７８",  # full-width digits from a Chinese input method
    ],
)
def test_mobile_is_normalised_to_11_digits(value: str) -> None:
    assert normalize_mobile(value) == "13812345678"
    validate_mobile(value)


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_all_mobile_prefixes_13_to_19_are_accepted(prefix: str) -> None:
    validate_mobile(prefix + "012345678")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "138123456789",  # 12 digits
        "1381234567",  # 10 digits
        "23812345678",  # starts with 2
        "12812345678",  # second digit 2
        "+8623812345678",
        "+8513812345678",
        "008613812345678",
        "1381234567a",
        "١٣٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits
    ],
)
def test_invalid_mobile_numbers_are_rejected(value: str) -> None:
    assert _error_code(validate_mobile, value) == "format"


def test_normalize_mobile_leaves_non_mobile_input_recognisable() -> None:
    assert normalize_mobile("") == ""
    assert normalize_mobile("+86 238 1234 5678") == "+8623812345678"


# ---------------------------------------------------------------------------
# Masks
# ---------------------------------------------------------------------------


def test_mask_id_number() -> None:
    assert mask_id_number(VALID_ID) == "1101**********002X"
    assert mask_id_number("11010519491231002x") == "1101**********002X"


def test_mask_mobile() -> None:
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("+86 138 1234 5678") == "138****5678"


@pytest.mark.parametrize("mask", [mask_id_number, mask_mobile])
def test_masks_handle_empty_and_odd_input_without_leaking(mask: Callable[[str], str]) -> None:
    assert mask("") == ""
    assert mask(None) == ""  # type: ignore[arg-type]
    # Wrong lengths are starred completely: keeping 4 + 4 (or 3 + 4) characters
    # of a short typo would reveal nearly all of it.
    assert mask("12345") == "*****"
    assert mask("1234567890123456789012") == "*" * 22


@PROPERTY_SETTINGS
@given(st.text(max_size=40))
def test_masks_never_raise(value: str) -> None:
    for mask in (mask_id_number, mask_mobile):
        masked = mask(value)
        assert isinstance(masked, str)
