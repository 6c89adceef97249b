"""The dashboard's pre-aggregated tables: figures read from them equal the live figures and the
drill-down lists as of the refresh, change after new data only once refreshed, state their
freshness; the refresh is idempotent; the permission; query budgets with the rollups in use."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from coop.dashboard import rollups
from coop.dashboard.figures import LIVE_LABEL, loans_base
from coop.dashboard.filters import bank_today, parse_filters
from coop.dashboard.tasks import dashboard_month_end_refresh, dashboard_rollups_refresh
from coop.dashboard.trend import npl_trend, npl_trend_for
from coop.models import (
    AccountManagerDay,
    AccountManagerMarketingMonth,
    DashboardRollup,
    DashboardVillageRollup,
    LoanBookMonthEnd,
    TaskRun,
)
from coop.roles import Role, role_permissions
from grid.models import Household
from loans.models import Loan, Repayment
from tests.coop import test_dashboard_factories as factories
from tests.coop.test_dashboard_factories import PERIOD, at, bulk_book
from tests.coop.test_dashboard_sections import (
    aftercare,  # noqa: F401 - fixture
    assert_figures_equal_lists,
    sections,
)
from tests.grid import conftest as grid_fixtures
from tests.grid.test_grid_metrics import village_figures as grid_village_figures

dash_roles = factories.dash_roles
people = factories.people
book = factories.book
grid_roles = grid_fixtures.grid_roles
world = grid_fixtures.world
village_figures = grid_village_figures

D = Decimal
PERMISSION = "coop.view_management_dashboard"
# The month ends of 2025 are complete on this day.
SNAPSHOT_DAY = dt.date(2026, 1, 5)


@pytest.fixture(autouse=True)
def english():
    """These tests read the figures' English labels; the UI default is Chinese."""
    with translation.override("en"):
        yield


def table_values(section) -> dict:
    return {
        table.key: [[cell.value for cell in row] for row in table.rows] for table in section.tables
    }


def figure_values(section) -> dict:
    return {figure.key: figure.value for figure in section.figures}


# --- permission ---------------------------------------------------------------------------------


def test_only_management_and_branch_managers_hold_the_dashboard_permission(people, client):
    merged = role_permissions()
    holders = {role for role, perms in merged.items() if PERMISSION in perms}
    assert holders == {Role.MANAGEMENT, Role.BRANCH_MANAGER}
    assert people.director.has_perm(PERMISSION) and people.manager_b1.has_perm(PERMISSION)
    for user in (people.am_b1, people.risk_b1, people.teller_b1):
        assert not user.has_perm(PERMISSION)
        client.force_login(user)
        assert client.get(reverse("dashboard:index")).status_code == 403
        assert client.get(reverse("dashboard:npl_trend")).status_code == 403
        assert client.get(reverse("api-dashboard")).status_code == 403
        assert client.get(reverse("api-dashboard-npl-trend")).status_code == 403


def test_the_approval_statistics_permission_alone_does_not_open_the_dashboard(
    people, client, make_staff
):
    committee = make_staff(Role.LOAN_COMMITTEE, unit="B01", username="committee_b1")
    from django.contrib.auth.models import Permission

    committee.user_permissions.add(Permission.objects.get(codename="view_approval_stats"))
    committee = type(committee).objects.get(pk=committee.pk)
    assert committee.has_perm("risk.view_approval_stats")
    client.force_login(committee)
    assert client.get(reverse("dashboard:index")).status_code == 403
    assert client.get(reverse("api-dashboard")).status_code == 403


# --- villages -----------------------------------------------------------------------------------


def test_grid_section_from_the_village_rollup_equals_live_and_the_lists(world, village_figures):
    live = sections(world.director, {})["grid"]
    assert live.freshness == str(LIVE_LABEL) and live.as_of is None
    live_branch = sections(world.manager, {"grid": str(world.grid.pk)})["grid"]

    refreshed_at = at(dt.date(2025, 12, 28), 9)
    assert rollups.villages_refresh(now=refreshed_at) == 1
    row = DashboardVillageRollup.objects.get()
    assert (row.village_id, row.grid_id, row.branch_id) == (
        world.village.pk,
        world.grid.pk,
        world.grid.branch_id,
    )
    assert (row.households, row.filed, row.pre_credited, row.signed) == (10, 7, 6, 2)

    rolled = sections(world.director, {})["grid"]
    assert rolled.as_of == refreshed_at
    assert "2025-12-28 09:00" in rolled.freshness
    assert figure_values(rolled) == figure_values(live)
    assert table_values(rolled) == table_values(live)
    assert assert_figures_equal_lists(world.director, rolled, None) == 3 + 3 * 4 + 3
    narrowed = sections(world.manager, {"grid": str(world.grid.pk)})["grid"]
    assert table_values(narrowed) == table_values(live_branch)
    # Another branch's manager sees none of the rollup either.
    other = sections(world.other_manager, {})["grid"]
    assert figure_values(other)["households"] == 0 and other.table("grid_villages").rows == []

    # New data: one more household filed. The rollup shows the refresh's figure until the next
    # refresh, then the new one, equal to the list again.
    unfiled = Household.objects.filter(completeness__lt=100).order_by("pk").first()
    Household.objects.filter(pk=unfiled.pk).update(completeness=100)
    assert figure_values(sections(world.director, {})["grid"])["filed"] == 7
    rollups.villages_refresh()
    fresh = sections(world.director, {})["grid"]
    assert figure_values(fresh)["filed"] == 8
    assert assert_figures_equal_lists(world.director, fresh, None) == 3 + 3 * 4 + 3


def test_refreshes_are_idempotent(world, village_figures, book, people):
    def snapshot():
        return (
            sorted(
                DashboardVillageRollup.objects.values_list(
                    "village_id", "households", "filed", "evaluated", "pre_credited", "signed"
                )
            ),
            sorted(
                AccountManagerDay.objects.values_list(
                    "day",
                    "account_manager_id",
                    "branch_id",
                    "product_id",
                    "new_customers",
                    "loans_disbursed",
                    "disbursed",
                    "pre_credited",
                    "signed",
                )
            ),
            sorted(
                AccountManagerMarketingMonth.objects.values_list(
                    "month_end", "account_manager_id", "branch_id", "pre_credited", "signed"
                )
            ),
            sorted(
                LoanBookMonthEnd.objects.values_list(
                    "month_end", "branch_id", "product_id", "tier", "classification", "loans"
                )
            ),
        )

    # The first ten-minute run of a fresh install also writes the missing month-end snapshot.
    assert rollups.month_ends_missing()
    first = dashboard_rollups_refresh()
    assert not rollups.month_ends_missing()
    dashboard_month_end_refresh(SNAPSHOT_DAY.isoformat())
    once = snapshot()
    second = dashboard_rollups_refresh()
    dashboard_month_end_refresh(SNAPSHOT_DAY.isoformat())
    assert snapshot() == once
    assert second == {"villages": 1, "account_manager_days": len(once[1])}
    assert first == {**second, "loan_book_rows": first["loan_book_rows"]}
    assert all(once)
    today_ends = rollups.completed_month_ends(bank_today())
    assert set(DashboardRollup.objects.values_list("name", flat=True)) == {
        rollups.VILLAGES,
        rollups.ACCOUNT_MANAGERS,
        *(rollups.month_end_name(end) for end in rollups.completed_month_ends(SNAPSHOT_DAY)),
        *(rollups.month_end_name(end) for end in today_ends),
    }
    # Each run is recorded on the task monitor with its counts.
    runs = TaskRun.objects.filter(task_name="coop.dashboard_rollups_refresh").order_by("pk")
    assert [(r.status, r.counts) for r in runs] == [("ok", first), ("ok", second)]
    assert (
        TaskRun.objects.filter(task_name="coop.dashboard_month_end_refresh", status="ok").count()
        == 2
    )


# --- account managers ---------------------------------------------------------------------------


def ranking(user, params=PERIOD) -> dict:
    section = sections(user, params)["people"]
    table = section.table("account_managers")
    keys = [key for key, _label in table.columns]
    return {
        row[1].value: dict(zip(keys, (cell.value for cell in row), strict=True))
        for row in table.rows
    }


def test_ranking_from_the_rollup_equals_live_and_the_lists(aftercare, people, book, org):  # noqa: F811
    cases = [
        (people.director, PERIOD),
        (people.director, {**PERIOD, "branch": str(org["B01"].pk)}),
        (people.director, {**PERIOD, "product": str(book.product.pk)}),
        (people.director, {"date_from": "2025-09-01", "date_to": "2025-11-15"}),
        (people.manager_b1, PERIOD),
        (people.manager_b2, PERIOD),
    ]
    live = [ranking(user, params) for user, params in cases]
    assert sections(people.director)["people"].as_of is None

    rollups.account_managers_refresh()
    section = sections(people.director)["people"]
    assert section.as_of is not None and "refreshed every 10 minutes" in section.freshness
    assert [ranking(user, params) for user, params in cases] == live
    # per manager: new customers, visits, loans and the amount disbursed
    assert assert_figures_equal_lists(people.director, section) == 3 * 4
    am = ranking(people.director)[people.am_b1.pk]
    assert (am["new_customers"], am["loans"], am["disbursed"], am["score"]) == (
        5,
        1,
        D("12000.00"),
        D("28.9"),
    )
    assert am["inspection_compliance"] == D("1.0000")

    # A new customer in the period: counted after the next refresh, not before.
    factories.customer(org, people.am_b1)
    assert ranking(people.director)[people.am_b1.pk]["new_customers"] == 5
    rollups.account_managers_refresh()
    assert ranking(people.director)[people.am_b1.pk]["new_customers"] == 6
    assert assert_figures_equal_lists(people.director, sections(people.director)["people"]) == 12


def test_marketing_counts_to_the_period_end_from_month_totals_and_days(world, village_figures):
    # Six entries pre-credited and two signed in the grid of ``world.am`` (grid metrics fixture).
    manager = world.director
    am = world.grid.account_manager_id
    today = dt.date.today()
    params = {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat()}
    live = ranking(manager, params)[am]
    early_live = ranking(manager, {"date_from": "2020-01-01", "date_to": "2020-01-31"})[am]
    assert early_live["success_rate"] is None
    rollups.account_managers_refresh()
    assert AccountManagerMarketingMonth.objects.filter(account_manager_id=am).exists()
    rolled = ranking(manager, params)[am]
    assert rolled == live
    assert rolled["success_rate"] == D("0.3333")
    # A period that ended before anything was pre-credited counts nothing, as live.
    early = {"date_from": "2020-01-01", "date_to": "2020-01-31"}
    assert ranking(manager, early)[am]["success_rate"] is None


# --- month-end loan book ------------------------------------------------------------------------


def trend(user, params=PERIOD) -> list[dict]:
    return npl_trend_for(user, parse_filters(user, params))


def values(points) -> list[tuple]:
    return [(p["month"], p["outstanding"], p["npl"], p["ratio"]) for p in points]


def test_npl_trend_reads_the_month_end_snapshot(book, people, org):
    cases = [
        (people.director, PERIOD),
        (people.director, {**PERIOD, "branch": str(org["B01"].pk)}),
        (people.director, {**PERIOD, "product": str(book.product.pk)}),
        (people.manager_b1, PERIOD),
        (people.manager_b2, PERIOD),
    ]
    live = [values(trend(user, params)) for user, params in cases]
    assert {p["source"] for p in trend(people.director)} == {"live"}
    filters = parse_filters(people.director, PERIOD)
    assert live[0] == values(npl_trend(loans_base(people.director, filters), filters))

    assert not any("snapshot" in note for note in sections(people.director)["loans"].notes)
    with time_machine.travel(at(SNAPSHOT_DAY, 2), tick=False):
        rows = rollups.month_ends_refresh(today=SNAPSHOT_DAY)
    assert rows == LoanBookMonthEnd.objects.count() > 0
    assert (
        "NPL trend: past month ends from the month-end snapshot refreshed 2026-01-05 02:00; "
        "the current month is live."
    ) in sections(people.director)["loans"].notes
    december = LoanBookMonthEnd.objects.filter(month_end=dt.date(2025, 12, 31))
    # Six loans, 52,000, by tier and class: sm20 (6,000) and sm44 (7,000) in the general tier
    # (up to 7,000), both special mention; the others in the good tier.
    assert sorted(december.values_list("tier", "classification", "loans", "outstanding")) == [
        ("general", "special_mention", 2, D("13000.00")),
        ("good", "doubtful", 1, D("9000.00")),
        ("good", "loss", 1, D("10000.00")),
        ("good", "normal", 1, D("12000.00")),
        ("good", "substandard", 1, D("8000.00")),
    ]
    assert [values(trend(user, params)) for user, params in cases] == live
    assert {p["source"] for p in trend(people.director)} == {"snapshot"}
    # The current month is rebuilt live; the month ends before it come from the snapshot.
    january = trend(people.director, {"date_from": "2026-01-01", "date_to": "2026-01-03"})
    assert [p["source"] for p in january] == ["snapshot"] * 11 + ["live"]

    # New data: 500 repaid on the substandard loan on 2025-12-20. The snapshot keeps the
    # refresh's December until the next nightly run.
    loan = book.loans["sub"]
    Repayment.objects.create(
        loan=loan,
        amount=D("500.00"),
        paid_on=dt.date(2025, 12, 20),
        to_principal=D("500.00"),
        idempotency_key="dash-rollup-sub",
        recorded_by=people.teller_b1,
    )
    Loan.objects.filter(pk=loan.pk).update(outstanding_principal=D("7500.00"))
    assert trend(people.director)[-1]["outstanding"] == D("52000.00")
    dashboard_month_end_refresh(SNAPSHOT_DAY.isoformat())
    after = trend(people.director)
    assert (after[-1]["outstanding"], after[-1]["npl"]) == (D("51500.00"), D("26500.00"))
    assert after[-2]["outstanding"] == live[0][-2][1]  # November: the repayment added back
    filters = parse_filters(people.director, PERIOD)
    assert values(after) == values(npl_trend(loans_base(people.director, filters), filters))


def test_trend_endpoint_says_where_each_month_comes_from(book, people, client):
    rollups.month_ends_refresh(today=SNAPSHOT_DAY)
    client.force_login(people.director)
    months = client.get(reverse("api-dashboard-npl-trend"), PERIOD).json()["months"]
    assert [m["source"] for m in months] == ["snapshot"] * 12
    assert months[-1]["outstanding"] == "52000.00" and months[-1]["ratio"] == "0.5192"
    page = client.get(reverse("dashboard:npl_trend"), PERIOD).json()["months"]
    assert [(m["month"], m["npl"], m["source"]) for m in page] == [
        (m["month"], m["npl"], m["source"]) for m in months
    ]


# --- query budgets with the rollups in use -------------------------------------------------------

# The trend: the snapshot's freshness rows, the snapshot, and the live rebuild of the month ends
# it lacks (the current month).
BUDGETS = {"index": 45, "api": 45, "trend": 11}


@pytest.mark.parametrize("role", [Role.MANAGEMENT, Role.BRANCH_MANAGER])
def test_query_counts_with_rollups_do_not_grow_with_the_data(
    book, people, org, client, django_assert_max_num_queries, role
):
    user = people.director if role == Role.MANAGEMENT else people.manager_b1
    client.force_login(user)
    requests = [
        ("index", reverse("dashboard:index"), PERIOD),
        ("index", reverse("dashboard:index"), {**PERIOD, "product": book.product.pk}),
        ("api", reverse("api-dashboard"), PERIOD),
        ("trend", reverse("dashboard:npl_trend"), PERIOD),
        ("trend", reverse("api-dashboard-npl-trend"), {**PERIOD, "date_to": "2026-01-03"}),
    ]
    counts: dict = {}
    for size in (5, 60):
        bulk_book(org, people.am_b1, n=size)
        with time_machine.travel(at(dt.date(2026, 1, 5), 3), tick=False):
            dashboard_rollups_refresh()
        dashboard_month_end_refresh(SNAPSHOT_DAY.isoformat())
        for name, url, params in requests:
            cache.clear()
            with django_assert_max_num_queries(BUDGETS[name]) as captured:
                response = client.get(url, params)
            assert response.status_code == 200, url
            counts.setdefault((url, str(params)), []).append(len(captured.captured_queries))
    for key, (small, large) in counts.items():
        assert small == large, key


def test_api_payload_is_what_its_serializer_documents(book, people, client):
    from coop.dashboard.apis import DashboardSerializer

    refreshed_at = at(dt.date(2026, 1, 5), 3)
    with time_machine.travel(refreshed_at, tick=False):
        dashboard_rollups_refresh()
    client.force_login(people.director)
    body = client.get(reverse("api-dashboard"), PERIOD).json()
    documented = DashboardSerializer(data=body)
    assert documented.is_valid(), documented.errors
    assert DashboardSerializer(documented.validated_data).data == body
    by_key = {section["key"]: section for section in body["sections"]}
    assert by_key["grid"]["as_of"] == "2026-01-05T03:00:00+08:00"
    assert by_key["people"]["as_of"] == "2026-01-05T03:00:00+08:00"
    assert by_key["service"]["as_of"] is None
    assert body["filters"]["date_from"] == "2025-12-01"


def test_the_seed_step_fills_the_tables_and_can_run_again(world, village_figures):
    first = rollups.seed()
    assert first.startswith("dashboard rollups: 1 villages, ")
    assert DashboardVillageRollup.objects.get().households == 10
    assert rollups.seed() == first
