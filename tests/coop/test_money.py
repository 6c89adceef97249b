from decimal import Decimal

import pytest

from coop.money import format_yuan, to_fen


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234.56"), "¥1,234.56"),
        (Decimal("1234.565"), "¥1,234.57"),  # half-up, not banker's rounding
        (Decimal("0.005"), "¥0.01"),
        (Decimal("-20.5"), "-¥20.50"),
        (1000000, "¥1,000,000.00"),
        (None, ""),
    ],
)
def test_amounts_are_shown_as_yuan(value, shown):
    assert format_yuan(value) == shown


def test_floats_are_refused():
    with pytest.raises(TypeError):
        to_fen(0.1)
