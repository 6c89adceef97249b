"""Money is Decimal, rounded to the fen (0.01 yuan) half-up, everywhere."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")


def to_fen(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("Money must not be a float; pass a Decimal or a string.")
    try:
        return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount: {value!r}") from exc


def format_yuan(value: Decimal | int | str | None) -> str:
    """¥1,234.56 — the way amounts are shown on every page, in both languages."""
    if value is None or value == "":
        return ""
    amount = to_fen(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"
