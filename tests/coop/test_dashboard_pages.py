"""The dashboard's pages, exports and API: who may open them, scoping, the same figures
everywhere, and a fixed number of queries whatever the data size."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from openpyxl import load_workbook

from coop.dashboard.figures import SECTIONS
from coop.roles import Role
from tests.coop import test_dashboard_factories as factories
from tests.coop.test_dashboard_factories import PERIOD, bulk_book

dash_roles = factories.dash_roles
people = factories.people
book = factories.book

D = Decimal
INDEX = reverse("dashboard:index")


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        client.cookies["django_language"] = "en"
        return client

    return login


def test_management_and_branch_managers_open_the_dashboard(book, people, as_user):
    for user in (people.director, people.manager_b1):
        response = as_user(user).get(INDEX, PERIOD)
        assert response.status_code == 200
        html = response.content.decode()
        for key in SECTIONS:
            assert f'data-testid="section-{key}"' in html
        assert 'id="dashboard-charts"' in html
        assert "<script>" not in html.replace("<script src=", "")


def test_other_roles_get_403_and_anonymous_users_sign_in(book, people, client, as_user):
    assert as_user(people.am_b1).get(INDEX).status_code == 403
    assert (
        as_user(people.teller_b1).get(reverse("dashboard:drill", args=["loans"])).status_code == 403
    )
    client.logout()
    response = client.get(INDEX)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_branch_manager_page_holds_only_their_branch(book, people, org, as_user):
    client = as_user(people.manager_b1)
    page = client.get(INDEX, PERIOD).content.decode()
    assert 'data-testid="figure-loans-outstanding_count" data-value="5"' in page
    assert book.loans["loss"].customer.name not in page
    # Another branch: 404, the same as anything else out of scope.
    assert client.get(INDEX, {**PERIOD, "branch": org["B02"].pk}).status_code == 404
    drill = reverse("dashboard:drill", args=["loans"])
    listed = client.get(drill, {**PERIOD, "slice": "outstanding"}).content.decode()
    assert book.loans["loss"].number not in listed
    assert book.loans["sub"].number in listed
    assert client.get(drill, {**PERIOD, "slice": "npl", "branch": org["B02"].pk}).status_code == 404


def test_bad_filters_answer_400_and_unknown_lists_404(book, people, as_user):
    client = as_user(people.director)
    assert (
        client.get(INDEX, {"date_from": "2025-12-31", "date_to": "2025-12-01"}).status_code == 400
    )
    assert client.get(INDEX, {"date_from": "yesterday"}).status_code == 400
    assert (
        client.get(INDEX, {"date_from": "2024-01-01", "date_to": "2025-12-31"}).status_code == 400
    )
    assert client.get(INDEX, {"grid": "999999"}).status_code == 404
    assert client.get(reverse("dashboard:drill", args=["secrets"])).status_code == 404
    export = reverse("dashboard:export", args=["loans", "nothing", "csv"])
    assert client.get(export).status_code == 404


def test_drill_page_total_equals_the_figure(book, people, as_user):
    client = as_user(people.director)
    response = client.get(reverse("dashboard:drill", args=["loans"]), {**PERIOD, "slice": "npl"})
    assert response.status_code == 200
    assert response.context["count"] == 3
    assert response.context["total"] == "¥27,000.00"
    assert len(response.context["rows"]) == 3


def test_csv_and_xlsx_exports_hold_the_dashboard_figures(book, people, as_user):
    client = as_user(people.director)
    url = reverse("dashboard:export", args=["loans", "loan_classes", "csv"])
    response = client.get(url, PERIOD)
    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == 'attachment; filename="dashboard-loans-loan_classes.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[2] == ["Class", "Loans", "Outstanding"]
    assert rows[3:] == [
        ["Normal", "1", "12000.00"],
        ["Special mention", "2", "13000.00"],
        ["Substandard", "1", "8000.00"],
        ["Doubtful", "1", "9000.00"],
        ["Loss", "1", "10000.00"],
    ]
    url = reverse("dashboard:export", args=["loans", "loan_dpd", "xlsx"])
    response = client.get(url, PERIOD)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert values == [
        ["Days past due", "Loans", "Outstanding"],
        ["1–30", 1, 6000],
        ["31–60", 1, 7000],
        ["61–90", 0, 0],
        ["91–180", 1, 8000],
        ["180+", 2, 19000],
    ]


def test_every_table_exports_in_both_formats(book, people, as_user):
    client = as_user(people.manager_b1)
    page = client.get(INDEX, PERIOD)
    exported = 0
    for section in page.context["sections"]:
        for table in section.tables:
            for fmt in ("csv", "xlsx"):
                url = reverse("dashboard:export", args=[section.key, table.key, fmt])
                response = client.get(url, PERIOD)
                assert response.status_code == 200, url
                exported += 1
            csv_rows = list(
                csv.reader(
                    io.StringIO(
                        client.get(
                            reverse("dashboard:export", args=[section.key, table.key, "csv"]),
                            PERIOD,
                        ).content.decode("utf-8-sig")
                    )
                )
            )
            assert len(csv_rows) == 3 + len(table.rows), table.key
    assert exported >= 2 * 9


def test_api_returns_the_same_figures(book, people, org, as_user):
    client = as_user(people.manager_b1)
    response = client.get(reverse("api-dashboard"), {**PERIOD, "sections": "loans"})
    assert response.status_code == 200
    body = response.json()
    assert body["filters"]["branch"] == org["B01"].pk
    [loans] = body["sections"]
    figures = {f["key"]: f["value"] for f in loans["figures"]}
    assert figures["outstanding_count"] == 5
    assert figures["outstanding_amount"] == "42000.00"
    assert figures["npl_ratio"] == "0.4048"
    assert "nightly run" in loans["freshness"]
    summary = client.get(reverse("api-dashboard-summary"), PERIOD).json()
    assert [s["key"] for s in summary["sections"]] == list(SECTIONS)
    assert "tables" not in summary["sections"][0]
    summary_figures = {f["key"]: f["value"] for f in summary["sections"][0]["figures"]}
    assert summary_figures == figures
    trend = client.get(reverse("api-dashboard-npl-trend"), PERIOD).json()["months"]
    assert trend[-1] == {
        "month": "2025-12",
        "as_of": "2025-12-31",
        "outstanding": "42000.00",
        "npl": "17000.00",
        "ratio": "0.4048",
        "source": "live",
    }


def test_api_errors(book, people, org, as_user, client):
    url = reverse("api-dashboard")
    assert as_user(people.manager_b1).get(url, {"branch": org["B02"].pk}).status_code == 404
    assert as_user(people.director).get(url, {"sections": "gossip"}).status_code == 400
    assert as_user(people.director).get(url, {"date_from": "soon"}).status_code == 400
    assert as_user(people.am_b1).get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code in (401, 403)


# --- query budgets at two data sizes ------------------------------------------------------------

BUDGETS = {
    "index": 45,
    "drill": 12,
    "export": 18,
    "api": 45,
    "trend": 9,
}


def _requests(org, book):
    drill = reverse("dashboard:drill", args=["loans"])
    return [
        ("index", INDEX, PERIOD),
        ("index", INDEX, {**PERIOD, "branch": org["B01"].pk, "product": book.product.pk}),
        ("drill", drill, {**PERIOD, "slice": "npl"}),
        ("drill", reverse("dashboard:drill", args=["complaints"]), {**PERIOD, "status": "open"}),
        ("drill", reverse("dashboard:drill", args=["visits"]), {**PERIOD, "staff": 1}),
        (
            "export",
            reverse("dashboard:export", args=["people", "account_managers", "xlsx"]),
            PERIOD,
        ),
        ("export", reverse("dashboard:export", args=["grid", "grid_villages", "csv"]), PERIOD),
        ("api", reverse("api-dashboard"), PERIOD),
        (
            "api",
            reverse("api-dashboard-summary"),
            {**PERIOD, "grid": "", "product": book.product.pk},
        ),
        ("trend", reverse("dashboard:npl_trend"), PERIOD),
        ("trend", reverse("api-dashboard-npl-trend"), PERIOD),
    ]


@pytest.mark.parametrize("role", [Role.MANAGEMENT, Role.BRANCH_MANAGER])
def test_query_counts_do_not_grow_with_the_data(
    book, people, org, as_user, django_assert_max_num_queries, role
):
    user = people.director if role == Role.MANAGEMENT else people.manager_b1
    client = as_user(user)
    counts = {}
    for size in (5, 60):
        bulk_book(org, people.am_b1, n=size)
        for name, url, params in _requests(org, book):
            cache.clear()  # the cold path: survey results computed, not read from the cache
            with django_assert_max_num_queries(BUDGETS[name]) as captured:
                response = client.get(url, params)
            assert response.status_code == 200, (url, response.status_code)
            counts.setdefault((url, str(params)), []).append(len(captured.captured_queries))
    for key, (small, large) in counts.items():
        assert small == large, (key, small, large)
