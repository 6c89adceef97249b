"""Validation, normalisation and masking of Chinese customer identifiers.

Covers three identifiers a bank clerk types in by hand:

* the resident ID number (GB 11643-1999),
* the unified social credit code of an organisation (GB 32100-2015),
* the mainland mobile phone number.

Everything here is pure Python apart from Django's ``ValidationError`` and lazy
translation, so the functions can be used from forms, serializers, model field
validators and management commands alike.

Personal data rule: ID numbers and phone numbers are personal data. Nothing in
this module logs them, and no error message or exception carries the value that
was checked -- error messages only describe *what* is wrong, so they can be shown
on screen or written to logs without leaking the number.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "credit_code_check_character",
    "credit_code_is_valid",
    "id_check_character",
    "id_number_birth_date",
    "id_number_gender",
    "id_number_is_valid",
    "mask_id_number",
    "mask_mobile",
    "normalize_credit_code",
    "normalize_id_number",
    "normalize_mobile",
    "validate_credit_code",
    "validate_id_number",
    "validate_mobile",
]

# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------

_WHITESPACE_RE = re.compile(r"\s+")


def _clean(value: str) -> str:
    """Return ``value`` in a canonical shape for comparison and validation.

    NFKC folds full-width characters (``１３８``, ``Ｘ``), which Chinese input
    methods produce easily, into their ASCII forms. Whitespace anywhere is
    dropped because clerks often group digits with spaces when copying from a
    paper form.
    """
    if not value:
        return ""
    return _WHITESPACE_RE.sub("", unicodedata.normalize("NFKC", str(value)))


# ---------------------------------------------------------------------------
# Resident ID number (GB 11643-1999)
# ---------------------------------------------------------------------------

ID_NUMBER_LENGTH = 18
_ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARACTERS = "10X98765432"
# ``[0-9]`` rather than ``\d``: ``\d`` would also accept non-ASCII digits such as
# Arabic-Indic numerals, which are not valid in an ID number.
_ID_FORMAT_RE = re.compile(r"[0-9]{17}[0-9X]")
_ID_FIRST17_RE = re.compile(r"[0-9]{17}")
_ID_MIN_BIRTH_DATE = datetime.date(1900, 1, 1)


def normalize_id_number(value: str) -> str:
    """Return the canonical form of an ID number: no spaces, ASCII, upper-case ``X``.

    The check character 10 is written ``X``; people type it as ``x`` just as
    often, and both must be stored and compared as the same number. The result
    is not validated -- use :func:`validate_id_number` for that.
    """
    return _clean(value).upper()


def id_check_character(first17: str) -> str:
    """Return the GB 11643-1999 check character for the first 17 digits.

    Raises ``ValueError`` unless ``first17`` is exactly 17 ASCII digits. The
    message never repeats the input (it may be personal data).
    """
    if not isinstance(first17, str) or not _ID_FIRST17_RE.fullmatch(first17):
        raise ValueError("The first part of an ID number must be exactly 17 digits.")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARACTERS[total % 11]


def _today() -> datetime.date:
    """Return today's date in the project's time zone when Django is configured for it.

    A child born this morning in Beijing must not be rejected as "born in the
    future" because the server clock runs on UTC. Without settings (plain
    scripts, unit tests) the server's local date is used.
    """
    if settings.configured and settings.USE_TZ:
        return timezone.localdate()
    # No project time zone to apply: the server's local date is the best we have.
    return datetime.date.today()


def _checked_id_number(value: str, today: datetime.date | None) -> tuple[str, datetime.date]:
    """Validate an ID number; return its normalised form and birth date."""
    number = normalize_id_number(value)
    if len(number) != ID_NUMBER_LENGTH:
        raise ValidationError(_("An ID number has 18 characters."), code="length")
    if not _ID_FORMAT_RE.fullmatch(number):
        raise ValidationError(
            _("An ID number has 17 digits followed by a digit or the letter X."),
            code="format",
        )
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date in the ID number is not a valid date."), code="birth_date"
        ) from None
    if not _ID_MIN_BIRTH_DATE <= birth_date <= (today if today is not None else _today()):
        raise ValidationError(
            _("The birth date in the ID number is not a plausible date of birth."),
            code="birth_date",
        )
    if id_check_character(number[:17]) != number[17]:
        raise ValidationError(
            _("The ID number's check character is wrong; please check every digit."),
            code="checksum",
        )
    return number, birth_date


def validate_id_number(value: str, *, today: datetime.date | None = None) -> None:
    """Raise ``ValidationError`` unless ``value`` is a valid resident ID number.

    Checks, in order, so the clerk gets the most useful message first:

    * ``length``: 18 characters after normalisation;
    * ``format``: 17 digits followed by a digit or ``X``;
    * ``birth_date``: a real calendar date, from 1900-01-01 up to today;
    * ``checksum``: the check character matches the other 17 digits.

    ``today`` defaults to the current date (in the project time zone when
    configured) and exists so that tests and batch jobs can pin the reference
    date. The value itself is never put in the error message or its params
    (personal data).
    """
    _checked_id_number(value, today)


def id_number_is_valid(value: str, *, today: datetime.date | None = None) -> bool:
    """Return whether ``value`` is a valid resident ID number (see :func:`validate_id_number`)."""
    try:
        validate_id_number(value, today=today)
    except ValidationError:
        return False
    return True


def id_number_birth_date(value: str) -> datetime.date:
    """Return the date of birth encoded in a valid ID number.

    The number is validated first (raising ``ValidationError``) so that a date
    is never derived from a mistyped number.
    """
    return _checked_id_number(value, None)[1]


def id_number_gender(value: str) -> str:
    """Return ``"M"`` or ``"F"`` from the sequence code of a valid ID number.

    Digit 17 (the last digit of the sequence code) is odd for men and even for
    women. The number is validated first (raising ``ValidationError``).
    """
    number, _birth_date = _checked_id_number(value, None)
    return "M" if int(number[16]) % 2 == 1 else "F"


# ---------------------------------------------------------------------------
# Unified social credit code (GB 32100-2015)
# ---------------------------------------------------------------------------

CREDIT_CODE_LENGTH = 18
# I, O, Z, S and V are excluded by the standard because they are easily
# confused with 1, 0, 2, 5 and U.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {character: index for index, character in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_WEIGHTS: tuple[int, ...] = (
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
)  # fmt: skip


def normalize_credit_code(value: str) -> str:
    """Return the canonical form of a credit code: no spaces, ASCII, upper case.

    The result is not validated -- use :func:`validate_credit_code` for that.
    """
    return _clean(value).upper()


def credit_code_check_character(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters.

    Raises ``ValueError`` unless ``first17`` is 17 characters from
    :data:`CREDIT_CODE_ALPHABET` (upper case).
    """
    if (
        not isinstance(first17, str)
        or len(first17) != 17
        or any(character not in _CREDIT_VALUES for character in first17)
    ):
        raise ValueError(
            "The first part of a credit code must be 17 characters from the code alphabet."
        )
    total = sum(
        _CREDIT_VALUES[character] * weight
        for character, weight in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    """Raise ``ValidationError`` unless ``value`` is a valid unified social credit code.

    Error codes: ``length`` (not 18 characters), ``format`` (a character outside
    the code alphabet -- note that I, O, Z, S and V never occur), ``checksum``.
    """
    code = normalize_credit_code(value)
    if len(code) != CREDIT_CODE_LENGTH:
        raise ValidationError(_("A unified social credit code has 18 characters."), code="length")
    if any(character not in _CREDIT_VALUES for character in code):
        raise ValidationError(
            _(
                "A unified social credit code contains only digits and capital letters, "
                "and never the letters I, O, Z, S or V."
            ),
            code="format",
        )
    if credit_code_check_character(code[:17]) != code[17]:
        raise ValidationError(
            _("The credit code's check character is wrong; please check every character."),
            code="checksum",
        )


def credit_code_is_valid(value: str) -> bool:
    """Return whether ``value`` is a valid unified social credit code."""
    try:
        validate_credit_code(value)
    except ValidationError:
        return False
    return True


# ---------------------------------------------------------------------------
# Mobile phone number
# ---------------------------------------------------------------------------

MOBILE_LENGTH = 11
# ``[0-9]`` rather than ``\d`` so that non-ASCII digits are rejected.
_MOBILE_RE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
_MOBILE_SEPARATORS_RE = re.compile(r"[\s\-()]+")


def normalize_mobile(value: str) -> str:
    """Return a mobile number in its 11-digit domestic form.

    Spaces, hyphens and brackets are dropped and an optional ``+86`` / ``86``
    country prefix is removed, so ``+86 138-1234-5678`` and ``13812345678`` are
    stored as the same number. Input that is not a mobile number is returned
    cleaned up but otherwise unchanged, for :func:`validate_mobile` to reject.
    """
    if not value:
        return ""
    cleaned = _MOBILE_SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", str(value)))
    match = _MOBILE_RE.fullmatch(cleaned)
    return match.group(1) if match else cleaned


def validate_mobile(value: str) -> None:
    """Raise ``ValidationError`` (code ``format``) unless ``value`` is a mainland mobile number."""
    if not _MOBILE_RE.fullmatch(normalize_mobile(value)):
        raise ValidationError(
            _("A mobile number has 11 digits and starts with 13 to 19."), code="format"
        )


# ---------------------------------------------------------------------------
# Masking for display and logs
# ---------------------------------------------------------------------------


def _mask(value: str, expected_length: int, keep_start: int, keep_end: int) -> str:
    """Keep ``keep_start`` + ``keep_end`` characters of a well-formed value, star the rest.

    Anything that does not have the expected length is masked completely:
    keeping 4 + 4 characters of a 9-character typo would reveal almost all of
    it, and a mask must never leak more than the rule allows.
    """
    if len(value) != expected_length:
        return "*" * len(value)
    hidden = expected_length - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[expected_length - keep_end :]


def mask_id_number(value: str) -> str:
    """Mask an ID number for display: ``1101**********002X``.

    Keeps the first 4 (province and city) and last 4 characters. Never raises;
    empty input gives an empty string and malformed input is fully starred.
    """
    try:
        return _mask(normalize_id_number(value), ID_NUMBER_LENGTH, 4, 4)
    except Exception:  # noqa: BLE001 -- masking must never break a page or a log line
        return ""


def mask_mobile(value: str) -> str:
    """Mask a mobile number for display: ``138****5678``.

    The number is normalised first, so ``+8613812345678`` is masked the same
    way. Never raises; empty input gives an empty string and anything that is
    not 11 characters after normalisation is fully starred.
    """
    try:
        return _mask(normalize_mobile(value), MOBILE_LENGTH, 3, 4)
    except Exception:  # noqa: BLE001 -- masking must never break a page or a log line
        return ""
