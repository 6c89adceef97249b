"""Tests for the repayment schedule engine (pure Python: no database, no Django)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from loans.schedules import (
    DayCount,
    Installment,
    RepaymentMethod,
    ScheduleError,
    generate_schedule,
    schedule_totals,
)

D = Decimal
START = date(2026, 1, 15)

EQUAL_INSTALLMENT = RepaymentMethod.EQUAL_INSTALLMENT
EQUAL_PRINCIPAL = RepaymentMethod.EQUAL_PRINCIPAL
INTEREST_ONLY = RepaymentMethod.INTEREST_ONLY
BULLET = RepaymentMethod.BULLET


def schedule(
    amount: str = "120000.00",
    rate: str = "0.06",
    term: int = 12,
    method: RepaymentMethod | str = EQUAL_PRINCIPAL,
    start: date = START,
    day_count: DayCount | str = DayCount.THIRTY_360,
) -> list[Installment]:
    return generate_schedule(
        amount=D(amount),
        annual_rate=D(rate),
        term_months=term,
        method=method,
        start_date=start,
        day_count=day_count,
    )


def columns(rows: list[Installment]) -> dict[str, list[Decimal]]:
    return {
        "principal": [r.principal for r in rows],
        "interest": [r.interest for r in rows],
        "total": [r.total for r in rows],
        "remaining": [r.remaining for r in rows],
    }


# --------------------------------------------------------------------------------------------
# Hand-checked examples: 120,000.00 at 6 % over 12 months, 30/360 (monthly rate 0.005).
# --------------------------------------------------------------------------------------------


def test_equal_principal_30_360() -> None:
    rows = schedule(method=EQUAL_PRINCIPAL)
    # Principal 120000 / 12 = 10000.00 every month; interest on the opening balance:
    # 120000 x 0.005 = 600.00, 110000 x 0.005 = 550.00, ... 10000 x 0.005 = 50.00.
    assert rows[0] == Installment(
        1, date(2026, 2, 15), D("10000.00"), D("600.00"), D("10600.00"), D("110000.00")
    )
    cols = columns(rows)
    assert cols["principal"] == [D("10000.00")] * 12
    assert cols["interest"] == [D(600 - 50 * k).quantize(D("0.01")) for k in range(12)]
    assert rows[-1].remaining == D("0.00")
    # Total interest = 50 x (12 + 11 + ... + 1) = 50 x 78 = 3900.00.
    assert schedule_totals(rows) == {
        "total_principal": D("120000.00"),
        "total_interest": D("3900.00"),
        "total_paid": D("123900.00"),
    }


def test_equal_installment_30_360() -> None:
    rows = schedule(method=EQUAL_INSTALLMENT)
    # Payment = P*r / (1 - (1+r)^-n), r = 0.005, n = 12:
    #   1.005^-12 = 0.941905339665917...,  1 - that = 0.058094660334082...
    #   120000 x 0.005 = 600;  600 / 0.058094660334082 = 10327.97156...  ->  10327.97
    # Row 1: interest 120000 x 0.005 = 600.00, principal 9727.97, remaining 110272.03.
    # Row 2: interest 110272.03 x 0.005 = 551.36015 -> 551.36, principal 9776.61,
    #        remaining 100495.42.
    assert rows[0] == Installment(
        1, date(2026, 2, 15), D("9727.97"), D("600.00"), D("10327.97"), D("110272.03")
    )
    assert rows[1] == Installment(
        2, date(2026, 3, 15), D("9776.61"), D("551.36"), D("10327.97"), D("100495.42")
    )
    assert all(r.total == D("10327.97") for r in rows[:-1])
    # Last row balances: the remaining 10276.61 plus 10276.61 x 0.005 = 51.38305 -> 51.38,
    # i.e. 10327.99 -- two fen of accumulated rounding absorbed by the final installment.
    assert rows[-1] == Installment(
        12, date(2027, 1, 15), D("10276.61"), D("51.38"), D("10327.99"), D("0.00")
    )
    # 11 x 10327.97 + 10327.99 = 123935.66.
    assert schedule_totals(rows) == {
        "total_principal": D("120000.00"),
        "total_interest": D("3935.66"),
        "total_paid": D("123935.66"),
    }


def test_interest_only_30_360() -> None:
    rows = schedule(method=INTEREST_ONLY)
    cols = columns(rows)
    assert cols["interest"] == [D("600.00")] * 12
    assert cols["principal"] == [D("0.00")] * 11 + [D("120000.00")]
    assert cols["total"] == [D("600.00")] * 11 + [D("120600.00")]
    assert cols["remaining"] == [D("120000.00")] * 11 + [D("0.00")]
    assert schedule_totals(rows)["total_interest"] == D("7200.00")


def test_bullet_30_360() -> None:
    # 120000 x 0.06 x 12/12 = 7200.00, all at maturity.
    assert schedule(method=BULLET) == [
        Installment(1, date(2027, 1, 15), D("120000.00"), D("7200.00"), D("127200.00"), D("0.00"))
    ]


def test_bullet_30_360_partial_year() -> None:
    # 50000 x 0.0435 x 7/12 = 1268.75.
    rows = schedule(amount="50000.00", rate="0.0435", term=7, method=BULLET)
    assert [(r.due_date, r.interest, r.total) for r in rows] == [
        (date(2026, 8, 15), D("1268.75"), D("51268.75"))
    ]


def test_string_method_and_day_count_accepted() -> None:
    assert schedule(method="equal_principal", day_count="30/360") == schedule()


# --------------------------------------------------------------------------------------------
# actual/360: start 2026-01-15, so periods are 31 (Jan15-Feb15), 28 (Feb15-Mar15),
# 31 (Mar15-Apr15), 30 (Apr15-May15) ... days; the year to 2027-01-15 has 365 days.
# --------------------------------------------------------------------------------------------


def test_interest_only_actual_360() -> None:
    rows = schedule(method=INTEREST_ONLY, day_count=DayCount.ACTUAL_360)
    # 120000 x 0.06 / 360 = 20.00 per day.
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    assert [r.interest for r in rows] == [D(20 * d).quantize(D("0.01")) for d in days]
    assert rows[-1].total == D("120620.00")
    assert schedule_totals(rows)["total_interest"] == D("7300.00")  # 365 days x 20.00


def test_bullet_actual_360() -> None:
    # 120000 x 0.06 x 365 / 360 = 7300.00.
    rows = schedule(method=BULLET, day_count="actual/360")
    assert [(r.due_date, r.principal, r.interest) for r in rows] == [
        (date(2027, 1, 15), D("120000.00"), D("7300.00"))
    ]


def test_equal_principal_actual_360() -> None:
    rows = schedule(method=EQUAL_PRINCIPAL, day_count=DayCount.ACTUAL_360)
    # 120000 x 0.06 x 31/360 = 620.00; 110000 x 0.06 x 28/360 = 513.333.. -> 513.33;
    # 100000 x 0.06 x 31/360 = 516.666.. -> 516.67.
    assert [r.interest for r in rows[:3]] == [D("620.00"), D("513.33"), D("516.67")]
    assert all(r.principal == D("10000.00") for r in rows)


def test_equal_installment_actual_360() -> None:
    rows = schedule(method=EQUAL_INSTALLMENT, day_count=DayCount.ACTUAL_360)
    # Payment stays 10327.97 (derived from rate/12); only the split uses actual days.
    # Row 1: 120000 x 0.06 x 31/360 = 620.00 -> principal 9707.97, remaining 110292.03.
    # Row 2: 110292.03 x 0.06 x 28/360 = 514.6961.. -> 514.70 -> principal 9813.27,
    #        remaining 100478.76.
    # Row 3: 100478.76 x 0.06 x 31/360 = 519.1402.. -> 519.14 -> principal 9808.83.
    assert [(r.principal, r.interest, r.remaining) for r in rows[:3]] == [
        (D("9707.97"), D("620.00"), D("110292.03")),
        (D("9813.27"), D("514.70"), D("100478.76")),
        (D("9808.83"), D("519.14"), D("90669.93")),
    ]
    assert all(r.total == D("10327.97") for r in rows[:-1])
    assert sum(r.principal for r in rows) == D("120000.00")


def test_actual_360_interest_above_payment_pays_interest_only() -> None:
    # At 24 % over 360 months the 30-day payment (about 2001.63 on 100000) is below a 31-day
    # month's interest (100000 x 0.24 x 31/360 = 2066.67): that row repays no principal and
    # its total is the interest -- never negative principal / negative amortization.
    rows = schedule(
        amount="100000.00", rate="0.24", term=360, method=EQUAL_INSTALLMENT, day_count="actual/360"
    )
    assert rows[0].interest == D("2066.67")
    assert rows[0].principal == D("0.00")
    assert rows[0].total == D("2066.67")
    assert rows[0].remaining == D("100000.00")
    assert sum(r.principal for r in rows) == D("100000.00")
    assert all(r.principal >= 0 for r in rows)


# --------------------------------------------------------------------------------------------
# Rounding
# --------------------------------------------------------------------------------------------


def test_round_half_up_not_bankers() -> None:
    # 25 x 0.06 / 12 = 0.125 -> 0.13 under ROUND_HALF_UP (ROUND_HALF_EVEN would give 0.12).
    rows = schedule(amount="25.00", term=1, method=INTEREST_ONLY)
    assert rows[0].interest == D("0.13")


@pytest.mark.parametrize("method", [EQUAL_PRINCIPAL, EQUAL_INSTALLMENT])
def test_last_installment_absorbs_rounding(method: RepaymentMethod) -> None:
    rows = schedule(amount="100.00", rate="0", term=3, method=method)
    assert [r.principal for r in rows] == [D("33.33"), D("33.33"), D("33.34")]
    assert [r.remaining for r in rows] == [D("66.67"), D("33.34"), D("0.00")]
    assert all(r.interest == D("0.00") for r in rows)


@pytest.mark.parametrize("method", [EQUAL_PRINCIPAL, EQUAL_INSTALLMENT])
def test_level_amount_rounds_down_when_half_up_would_overshoot(method: RepaymentMethod) -> None:
    # 1.50 / 100 = 0.015 rounds half-up to 0.02, but 99 x 0.02 = 1.98 > 1.50 would drive the
    # balance negative; the engine rounds the level figure down to 0.01 and the last
    # installment takes 1.50 - 99 x 0.01 = 0.51.
    rows = schedule(amount="1.50", rate="0", term=100, method=method)
    assert [r.principal for r in rows] == [D("0.01")] * 99 + [D("0.51")]
    assert rows[-1].remaining == D("0.00")


def test_equal_principal_never_leaves_empty_last_installment() -> None:
    # 0.06 / 4 = 0.015 -> 0.02 half-up, but 3 x 0.02 = 0.06 would leave 0.00 for the last
    # installment; the slice is rounded down instead: 0.01, 0.01, 0.01, 0.03.
    rows = schedule(amount="0.06", rate="0", term=4, method=EQUAL_PRINCIPAL)
    assert [r.principal for r in rows] == [D("0.01"), D("0.01"), D("0.01"), D("0.03")]


def test_equal_installment_payment_stepped_down_when_loan_would_end_early() -> None:
    # Exact payment 0.020003 -> 0.02, but at 0.28 % every month's interest on <= 2.25 rounds
    # to 0.00, so 0.02 of principal a month would repay 2.25 in month 113 of 114.  The engine
    # lowers the level payment to 0.01 so the balance lasts: 113 x 0.01, last = 2.25 - 1.13.
    rows = schedule(amount="2.25", rate="0.0028", term=114, method=EQUAL_INSTALLMENT)
    assert [r.total for r in rows] == [D("0.01")] * 113 + [D("1.12")]
    assert rows[-1].remaining == D("0.00")


def test_zero_rate_equal_installment() -> None:
    rows = schedule(amount="1000.00", rate="0", term=7, method=EQUAL_INSTALLMENT)
    # 1000 / 7 = 142.857.. -> 142.86; last = 1000 - 6 x 142.86 = 142.84.
    assert [r.total for r in rows] == [D("142.86")] * 6 + [D("142.84")]
    assert schedule_totals(rows)["total_interest"] == D("0.00")


def test_amount_normalised_to_two_places() -> None:
    rows = generate_schedule(
        amount=D("500"), annual_rate=D("0.05"), term_months=1, method=BULLET, start_date=START
    )
    assert rows[0].principal == D("500.00")
    assert rows[0].principal.as_tuple().exponent == -2
    int_rows = generate_schedule(
        amount=500, annual_rate=0, term_months=1, method=BULLET, start_date=START
    )
    assert int_rows[0].principal.as_tuple().exponent == -2


# --------------------------------------------------------------------------------------------
# Due dates
# --------------------------------------------------------------------------------------------


def test_month_end_clamping_does_not_drift() -> None:
    rows = schedule(amount="1200.00", start=date(2026, 1, 31), method=INTEREST_ONLY)
    assert [r.due_date for r in rows] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
        date(2026, 7, 31),
        date(2026, 8, 31),
        date(2026, 9, 30),
        date(2026, 10, 31),
        date(2026, 11, 30),
        date(2026, 12, 31),
        date(2027, 1, 31),
    ]


def test_month_end_clamping_leap_year() -> None:
    rows = schedule(amount="300.00", start=date(2027, 12, 31), term=3, method=EQUAL_PRINCIPAL)
    assert [r.due_date for r in rows] == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]
    rows = schedule(amount="300.00", start=date(2028, 2, 29), term=12, method=BULLET)
    assert rows[0].due_date == date(2029, 2, 28)


def test_actual_360_uses_clamped_dates() -> None:
    # 2026-01-31 -> 02-28 is 28 days, 02-28 -> 03-31 is 31 days.  36000 x 0.06 / 360 = 6/day.
    rows = schedule(
        amount="36000.00",
        term=2,
        start=date(2026, 1, 31),
        method=INTEREST_ONLY,
        day_count="actual/360",
    )
    assert [r.interest for r in rows] == [D("168.00"), D("186.00")]


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _kwargs(**overrides: object) -> dict[str, object]:
    kwargs: dict[str, object] = {
        "amount": D("1000.00"),
        "annual_rate": D("0.05"),
        "term_months": 12,
        "method": EQUAL_PRINCIPAL,
        "start_date": START,
        "day_count": DayCount.THIRTY_360,
    }
    kwargs.update(overrides)
    return kwargs


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": D("0")},
        {"amount": D("-100.00")},
        {"amount": D("100.001")},
        {"amount": D("NaN")},
        {"amount": D("Infinity")},
        {"amount": D("1E+15")},
        {"amount": "1000.00"},
        {"amount": True},
        {"annual_rate": D("-0.01")},
        {"annual_rate": D("1")},
        {"annual_rate": D("1.5")},
        {"annual_rate": D("NaN")},
        {"annual_rate": "0.05"},
        {"term_months": 0},
        {"term_months": 361},
        {"term_months": -1},
        {"term_months": D("12")},
        {"term_months": True},
        {"method": "annuity"},
        {"method": None},
        {"day_count": "actual/365"},
        {"start_date": "2026-01-15"},
        {"start_date": None},
    ],
    ids=repr,
)
def test_invalid_input_raises_schedule_error(overrides: dict[str, object]) -> None:
    with pytest.raises(ScheduleError):
        generate_schedule(**_kwargs(**overrides))  # type: ignore[arg-type]


def test_schedule_error_is_value_error() -> None:
    assert issubclass(ScheduleError, ValueError)


def test_datetime_start_rejected() -> None:
    from datetime import datetime

    with pytest.raises(ScheduleError, match="start_date"):
        generate_schedule(**_kwargs(start_date=datetime(2026, 1, 15, 9, 30)))  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["amount", "annual_rate", "term_months"])
def test_float_rejected_with_type_error(field: str) -> None:
    value = {"amount": 1000.0, "annual_rate": 0.05, "term_months": 12.0}[field]
    with pytest.raises(TypeError, match="float"):
        generate_schedule(**_kwargs(**{field: value}))  # type: ignore[arg-type]


@pytest.mark.parametrize("method", [EQUAL_PRINCIPAL, EQUAL_INSTALLMENT])
def test_amortizing_amount_below_one_fen_per_installment_refused(method: RepaymentMethod) -> None:
    # 0.11 over 12 months cannot repay at least 0.01 of principal per installment.
    with pytest.raises(ScheduleError, match="too small"):
        schedule(amount="0.11", term=12, method=method)
    # Exactly one fen per installment is fine.
    rows = schedule(amount="0.12", term=12, method=method)
    assert [r.principal for r in rows] == [D("0.01")] * 12


@pytest.mark.parametrize("method", [INTEREST_ONLY, BULLET])
def test_tiny_amount_allowed_for_non_amortizing_methods(method: RepaymentMethod) -> None:
    rows = schedule(amount="0.01", term=360, method=method)
    assert sum(r.principal for r in rows) == D("0.01")


# --------------------------------------------------------------------------------------------
# Property-based: the exactness invariants hold for every method and day count.
# --------------------------------------------------------------------------------------------

CENT = D("0.01")


@st.composite
def amounts(draw: st.DrawFn) -> Decimal:
    # Mix small amounts (where rounding edge cases live) with the full 0.01 .. 10,000,000.00.
    fen = draw(st.one_of(st.integers(1, 100_000), st.integers(1, 1_000_000_000)))
    return D(fen).scaleb(-2)


@st.composite
def rates(draw: st.DrawFn) -> Decimal:
    places = draw(st.integers(4, 6))
    units = draw(st.integers(0, 24 * 10 ** (places - 2)))  # 0 .. 0.24
    return D(units).scaleb(-places)


@settings(max_examples=150, deadline=None)
@given(
    amount=amounts(),
    rate=rates(),
    term=st.integers(1, 360),
    method=st.sampled_from(list(RepaymentMethod)),
    day_count=st.sampled_from(list(DayCount)),
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
)
def test_schedule_invariants(
    amount: Decimal,
    rate: Decimal,
    term: int,
    method: RepaymentMethod,
    day_count: DayCount,
    start: date,
) -> None:
    kwargs = {
        "amount": amount,
        "annual_rate": rate,
        "term_months": term,
        "method": method,
        "start_date": start,
        "day_count": day_count,
    }
    if method in (EQUAL_PRINCIPAL, EQUAL_INSTALLMENT) and amount < CENT * term:
        with pytest.raises(ScheduleError):
            generate_schedule(**kwargs)  # type: ignore[arg-type]
        return

    rows = generate_schedule(**kwargs)  # type: ignore[arg-type]

    assert len(rows) == (1 if method is BULLET else term)
    assert [r.number for r in rows] == list(range(1, len(rows) + 1))

    # Due dates strictly increasing, each computed from the start date (no drift).
    dates = [r.due_date for r in rows]
    assert all(a < b for a, b in zip(dates, dates[1:], strict=False))
    if method is BULLET:
        assert dates == [start + relativedelta(months=term)]
    else:
        assert dates == [start + relativedelta(months=k) for k in range(1, term + 1)]

    balance = amount
    for r in rows:
        for value in (r.principal, r.interest, r.total, r.remaining):
            assert isinstance(value, Decimal)
            assert value.as_tuple().exponent == -2
            assert value >= 0
        assert r.total == r.principal + r.interest
        balance -= r.principal
        assert r.remaining == balance
    assert rows[-1].remaining == D("0.00")
    assert sum(r.principal for r in rows) == amount

    if rate == 0:
        assert all(r.interest == 0 for r in rows)

    totals = schedule_totals(rows)
    assert totals["total_principal"] == amount
    assert totals["total_interest"] == sum(r.interest for r in rows)
    assert totals["total_paid"] == totals["total_principal"] + totals["total_interest"]
    assert totals["total_paid"] == sum(r.total for r in rows)

    # Method-specific shape.
    if method is INTEREST_ONLY:
        assert all(r.principal == 0 for r in rows[:-1])
        assert rows[-1].principal == amount
    elif method is EQUAL_PRINCIPAL:
        assert len({r.principal for r in rows[:-1]}) <= 1
        assert all(r.principal > 0 for r in rows)
    elif method is EQUAL_INSTALLMENT and day_count is DayCount.THIRTY_360:
        # Level payment on every row but the balancing last one.
        assert len({r.total for r in rows[:-1]}) <= 1
    if method is EQUAL_INSTALLMENT:
        # The loan is never repaid early: the final installment still carries principal.
        assert rows[-1].principal > 0
