"""The loan book section: figures against a hand-computed book, every figure equal to the list
it drills into, the NPL trend at month ends, and scoping (a branch manager sees their branch)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.http import Http404
from django.urls import reverse

from coop.dashboard.drills import drill_list, totals
from coop.dashboard.figures import build_sections, loans_base
from coop.dashboard.filters import parse_filters
from coop.dashboard.trend import npl_trend
from loans.models import Repayment
from tests.coop import test_dashboard_factories as factories
from tests.coop.test_dashboard_factories import PERIOD

# Fixtures shared with the other dashboard test modules.
dash_roles = factories.dash_roles
people = factories.people
book = factories.book

D = Decimal


def loan_section(user, **params):
    filters = parse_filters(user, {**PERIOD, **params})
    return build_sections(user, filters, only=("loans",))[0]


def values(section) -> dict:
    return {figure.key: figure.value for figure in section.figures}


def follow(user, url: str):
    """The drill-down list behind a figure's URL, as the view builds it."""
    parts = urlsplit(url)
    kind = parts.path.rstrip("/").rsplit("/", 1)[-1]
    params = dict(parse_qsl(parts.query))
    found = drill_list(user, parse_filters(user, params), kind, params)
    return found, totals(found)


def test_bank_figures_are_the_hand_computed_ones(book, people):
    # Six live loans: 12,000 normal; 6,000 (20 days) and 7,000 (44 days) special mention;
    # 8,000 substandard (100 days); 9,000 doubtful (200 days); 10,000 in B02, loss (400 days).
    section = loan_section(people.director)
    figures = values(section)
    assert figures["outstanding_count"] == 6
    assert figures["outstanding_amount"] == D("52000.00")
    assert figures["disbursed_count"] == 1  # only the normal loan was disbursed in December
    assert figures["disbursed_amount"] == D("12000.00")
    assert figures["npl_count"] == 3
    assert figures["npl_amount"] == D("27000.00")
    assert figures["npl_ratio"] == D("0.5192")  # 27,000 / 52,000
    assert figures["overdue_count"] == 5
    assert figures["overdue_amount"] == D("40000.00")

    classes = {
        row[0].value: (row[1].value, row[2].value) for row in section.table("loan_classes").rows
    }
    assert classes == {
        "normal": (1, D("12000.00")),
        "special_mention": (2, D("13000.00")),
        "substandard": (1, D("8000.00")),
        "doubtful": (1, D("9000.00")),
        "loss": (1, D("10000.00")),
    }
    buckets = {row[0].value: (row[1].value, row[2].value) for row in section.table("loan_dpd").rows}
    assert buckets == {
        "1_30": (1, D("6000.00")),
        "31_60": (1, D("7000.00")),
        "61_90": (0, D("0.00")),
        "91_180": (1, D("8000.00")),
        "180_plus": (2, D("19000.00")),
    }
    # Tiers by amount band: ≤ 7,000 "general", above "good".
    tiers = {
        row[1].value: (row[2].value, row[3].value) for row in section.table("loan_products").rows
    }
    assert tiers == {"general": (2, D("13000.00")), "good": (4, D("39000.00"))}


def test_branch_manager_sees_only_their_branch(book, people):
    figures = values(loan_section(people.manager_b1))
    assert figures["outstanding_count"] == 5
    assert figures["outstanding_amount"] == D("42000.00")
    assert figures["npl_amount"] == D("17000.00")
    assert figures["npl_ratio"] == D("0.4048")  # 17,000 / 42,000
    # The B02 manager sees only the loss loan.
    other = values(loan_section(people.manager_b2))
    assert (other["outstanding_count"], other["npl_ratio"]) == (1, D("1.0000"))


def test_branch_manager_cannot_widen_their_dashboard(book, people, org):
    own = values(loan_section(people.manager_b1))
    assert values(loan_section(people.manager_b1, branch=str(org["B01"].pk))) == own
    with pytest.raises(Http404):
        parse_filters(people.manager_b1, {**PERIOD, "branch": str(org["B02"].pk)})


def test_management_filters_by_branch_and_product(book, people, org):
    b2 = values(loan_section(people.director, branch=str(org["B02"].pk)))
    assert (b2["outstanding_count"], b2["outstanding_amount"]) == (1, D("10000.00"))
    product = values(loan_section(people.director, product=str(book.product.pk)))
    assert product["outstanding_count"] == 6
    with pytest.raises(Http404):
        parse_filters(people.director, {**PERIOD, "product": "999999"})


@pytest.mark.parametrize("user_key", ["director", "manager_b1"])
def test_every_loan_figure_equals_its_list(book, people, user_key):
    user = getattr(people, user_key)
    section = loan_section(user)
    checked = 0
    for figure in section.figures:
        if figure.key == "npl_ratio":
            continue
        found, summary = follow(user, figure.drill)
        expected = summary["n"] if figure.key.endswith("_count") else summary["total"]
        assert figure.value == expected, figure.key
        checked += 1
    for table in section.tables:
        for row in table.rows:
            for cell in row:
                if cell.drill:
                    found, summary = follow(user, cell.drill)
                    assert cell.value in (summary["n"], summary["total"]), (table.key, row)
                    checked += 1
    assert checked == 8 + 2 * 5 + 2 * 5 + 2 * 2


def test_npl_drill_lists_exactly_the_npl_loans(book, people):
    url = loan_section(people.director).figure("npl_count").drill
    found, summary = follow(people.director, url)
    assert sorted(found.queryset.values_list("number", flat=True)) == sorted(
        book.loans[k].number for k in ("sub", "dbt", "loss")
    )
    assert summary == {"n": 3, "total": D("27000.00")}
    assert url.startswith(reverse("dashboard:drill", args=["loans"]))


def test_unknown_slice_is_404(book, people):
    filters = parse_filters(people.director, PERIOD)
    with pytest.raises(Http404):
        drill_list(people.director, filters, "loans", {"slice": "everything"})
    with pytest.raises(Http404):
        drill_list(people.director, filters, "nonsense", {})


def test_npl_trend_rebuilds_month_ends(book, people, settings):
    filters = parse_filters(people.director, PERIOD)
    trend = {row["month"]: row for row in npl_trend(loans_base(people.director, filters), filters)}
    assert len(trend) == 12
    # Before the December classification run every loan was still normal.
    assert trend["2025-11"]["npl"] == D("0")
    # 2025-11: the five loans disbursed by then (all but the normal one, 12,000).
    assert trend["2025-11"]["outstanding"] == D("40000.00")
    assert trend["2025-12"]["outstanding"] == D("52000.00")
    assert trend["2025-12"]["npl"] == D("27000.00")
    assert trend["2025-12"]["ratio"] == D("0.5192")
    # The loss loan (disbursed 2024-10-26) is the only one on the book at the end of 2024-12.
    assert trend["2025-01"]["outstanding"] == D("10000.00")


def test_npl_trend_adds_back_principal_repaid_after_the_month_end(book, people):
    def repaid(name: str, amount: str, on: dt.date) -> None:
        loan = book.loans[name]
        Repayment.objects.create(
            loan=loan,
            amount=D(amount),
            paid_on=on,
            to_principal=D(amount),
            idempotency_key=f"dash-trend-{name}",
            recorded_by=people.teller_b1,
        )
        type(loan).objects.filter(pk=loan.pk).update(
            outstanding_principal=loan.outstanding_principal - D(amount)
        )

    # A reclassified loan (substandard) and one never reclassified (normal) repay in December:
    # at the end of November both still owed it; at the end of December neither does. sm44
    # repaid 700 in November.
    repaid("sub", "500.00", dt.date(2025, 12, 20))
    repaid("normal", "300.00", dt.date(2025, 12, 20))
    repaid("sm44", "700.00", dt.date(2025, 11, 5))
    filters = parse_filters(people.director, PERIOD)
    trend = {row["month"]: row for row in npl_trend(loans_base(people.director, filters), filters)}
    # End of October: sm44, sub, dbt and loss (34,000), sm44's November payment added back.
    assert trend["2025-10"]["outstanding"] == D("34000.00")
    assert trend["2025-11"]["outstanding"] == D("39300.00")
    assert trend["2025-12"]["outstanding"] == D("50500.00")  # 52,000 − 1,500 repaid
    assert trend["2025-12"]["npl"] == D("26500.00")
