"""Grid, post-loan, service, surveys and account-manager sections against hand-computed data,
each figure equal to the list it drills into."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import time_machine
from django.utils import translation

from coop.dashboard.drills import drill_list, totals
from coop.dashboard.figures import build_sections
from coop.dashboard.filters import parse_filters
from coop.dashboard.grading import grade
from customers.models import Complaint, ServiceInteraction
from grid import metrics
from grid.models import Household, VillageCreditCampaign
from risk.inspections import InspectionFindings, inspection_complete, inspections_sweep
from risk.models import Inspection
from tests.coop import test_dashboard_factories as factories
from tests.coop.test_dashboard_factories import PERIOD, at
from tests.grid import conftest as grid_fixtures
from tests.grid.test_grid_metrics import village_figures as grid_village_figures
from tests.surveys import conftest as survey_fixtures
from tests.surveys import test_surveys_analysis as survey_analysis

dash_roles = factories.dash_roles
people = factories.people
book = factories.book
grid_roles = grid_fixtures.grid_roles
world = grid_fixtures.world
village_figures = grid_village_figures

# The surveys app's fixtures: its staff, a small framework and a hand-worked campaign.
sv_roles = survey_fixtures.sv_roles
sv = survey_fixtures.sv
small_framework = survey_fixtures.small_framework
make_campaign = survey_fixtures.make_campaign
dataset = survey_analysis.dataset

D = Decimal
NOW = at(dt.date(2025, 12, 28), 12)


@pytest.fixture(autouse=True)
def english():
    """These tests read the figures' English labels; the UI default is Chinese."""
    with translation.override("en"):
        yield


def sections(user, params=PERIOD, now=NOW) -> dict:
    filters = parse_filters(user, params)
    return {s.key: s for s in build_sections(user, filters, now=now)}


def follow(user, url: str, now=NOW) -> dict:
    parts = urlsplit(url)
    kind = parts.path.rstrip("/").rsplit("/", 1)[-1]
    params = dict(parse_qsl(parts.query))
    return totals(drill_list(user, parse_filters(user, params), kind, params, now=now))


def _agrees(user, value, display, url, now) -> bool | None:
    """None when the cell is not a count or an amount of a dashboard list (rates, scores)."""
    if not url or "/dashboard/list/" not in url:
        return None
    if isinstance(value, int):
        return follow(user, url, now)["n"] == value
    if isinstance(value, Decimal) and display.startswith("¥"):
        return follow(user, url, now)["total"] == value
    return None


def assert_figures_equal_lists(user, section, now=NOW) -> int:
    """Every count and amount on the section equals its list's count or sum; how many."""
    checked = 0
    for figure in section.figures:
        agrees = _agrees(user, figure.value, figure.display, figure.drill, now)
        assert agrees is not False, figure.key
        checked += agrees is True
    for table in section.tables:
        for row in table.rows:
            for cell in row:
                agrees = _agrees(user, cell.value, cell.display, cell.drill, now)
                assert agrees is not False, (table.key, row)
                checked += agrees is True
    return checked


# --- grid ---------------------------------------------------------------------------------------


def test_grid_section_is_grid_metrics_on_known_data(world, village_figures):
    # Ten households: 7 filed, 6 pre-credited, 2 signed (tests/grid/test_grid_metrics.py).
    grid = sections(world.director, {})["grid"]
    figures = {f.key: f.value for f in grid.figures}
    assert figures == {
        "households": 10,
        "filed": 7,
        "pre_credited": 6,
        "coverage_rate": D("60.0"),
        "filing_rate": D("70.0"),
    }
    villages = grid.table("grid_villages").rows
    assert [[c.value for c in row[1:]] for row in villages] == [[10, 7, 6, 2, D("70.0"), D("60.0")]]
    assert (
        metrics.household_figures(Household.objects.all(), "village")[world.village.pk].pre_credited
        == villages[0][3].value
    )
    [campaign] = grid.table("grid_campaigns").rows
    assert [c.value for c in campaign[2:]] == [10, 6, 2, D("60.0"), D("10000.00")]
    expected = metrics.campaign_figures(VillageCreditCampaign.objects.all())[campaign[0].value]
    assert (expected.households, expected.pre_credited, expected.signed, expected.granted) == (
        10,
        6,
        2,
        D("10000.00"),
    )
    # three counts, three rows of four counts, and the campaign's three counts
    assert assert_figures_equal_lists(world.director, grid, None) == 3 + 3 * 4 + 3
    # Another branch's manager sees none of it.
    other = sections(world.other_manager, {})["grid"]
    assert {f.key: f.value for f in other.figures}["households"] == 0


def test_grid_filter_narrows_to_the_grid(world, village_figures):
    grid = sections(world.manager, {"grid": str(world.grid.pk)})["grid"]
    assert {f.key: f.value for f in grid.figures}["households"] == 10


# --- post-loan, service, people ------------------------------------------------------------------


@pytest.fixture
def aftercare(book, people):
    """On the book's first inspections (one month after disbursement): sm44's (due 11-17) done
    late on 11-20, sm20's (due 12-11) done on time on 12-10 with a "risk" conclusion (an early
    warning), sub's (due 09-22) never done; the sweep of 12-31 marks it overdue."""
    first = {
        name: Inspection.objects.get(loan=book.loans[name], kind="first")
        for name in ("sm20", "sm44", "sub")
    }
    normal = InspectionFindings(funds_use="matches", conclusion="normal", operation_note="正常经营")
    risky = InspectionFindings(
        funds_use="matches",
        conclusion="risk",
        operation_note="收入下降",
        signals=("income_fell",),
        next_action="加强跟踪",
    )
    with time_machine.travel(at(dt.date(2025, 11, 20)), tick=False):
        inspection_complete(actor=people.am_b1, inspection=first["sm44"], findings=normal)
    with time_machine.travel(at(dt.date(2025, 12, 10)), tick=False):
        inspection_complete(actor=people.am_b1, inspection=first["sm20"], findings=risky)
    with time_machine.travel(at(dt.date(2025, 12, 31), 22), tick=False):
        inspections_sweep(today=dt.date(2025, 12, 31))
    return first


AUTUMN = {"date_from": "2025-09-01", "date_to": "2025-12-31"}


def test_postloan_compliance_and_warnings(aftercare, people):
    postloan = sections(people.director, AUTUMN)["postloan"]
    figures = {f.key: f.value for f in postloan.figures}
    assert figures == {
        "inspections_on_time": 1,
        "inspections_late": 1,
        "inspections_overdue": 1,
        "inspections_due": 0,
        "compliance_rate": D("0.3333"),
        "warnings_active": 1,
        "warnings_open": 1,
        "warnings_raised": 1,
    }
    assert assert_figures_equal_lists(people.director, postloan) == 7 + 4
    # The risk app's own compliance figures agree.
    from risk.inspection_selectors import inspection_compliance

    risk_total = inspection_compliance(
        user=people.director, date_from=dt.date(2025, 9, 1), date_to=dt.date(2025, 12, 31)
    ).total
    assert (risk_total.on_time, risk_total.late, risk_total.overdue) == (1, 1, 1)
    # B02 has no inspection due in the period.
    other = sections(people.manager_b2, AUTUMN)["postloan"]
    assert {f.key: f.value for f in other.figures}["inspections_overdue"] == 0


def test_service_figures(people, org):
    outlet, branch = org["B01-01"], org["B01"]

    def served(day, rating):
        return ServiceInteraction.objects.create(
            teller=people.teller_b1,
            outlet=outlet,
            branch=branch,
            business_type="transfer",
            wait_minutes=2,
            handling_minutes=3,
            rating=rating,
            served_at=at(day),
        )

    served(dt.date(2025, 12, 3), 5)
    served(dt.date(2025, 12, 4), 4)
    served(dt.date(2025, 12, 5), None)
    served(dt.date(2025, 11, 30), 1)  # before the period

    def complaint(received, due, state="received", resolved=None):
        return Complaint.objects.create(
            kind="complaint",
            channel="counter",
            branch=branch,
            subject="柜台等候时间长",
            description="柜台等候时间长",
            state=state,
            received_by=people.teller_b1,
            received_at=received,
            due_at=due,
            resolved_at=resolved,
        )

    complaint(at(dt.date(2025, 12, 1)), at(dt.date(2025, 12, 16)))  # open, overdue on 12-28
    complaint(at(dt.date(2025, 12, 20)), at(dt.date(2026, 1, 4)))  # open, not yet due
    # resolved 36 hours after receipt
    complaint(
        at(dt.date(2025, 12, 2), 8),
        at(dt.date(2025, 12, 17)),
        state="resolved",
        resolved=at(dt.date(2025, 12, 3), 20),
    )
    service = sections(people.manager_b1)["service"]
    figures = {f.key: f.value for f in service.figures}
    assert figures == {
        "interactions": 3,
        "rated": 2,
        "avg_rating": D("4.50"),
        "complaints_received": 3,
        "complaints_open": 2,
        "complaints_overdue": 1,
        "complaints_resolved": 1,
        "resolution_hours": D("36.0"),
    }
    assert assert_figures_equal_lists(people.manager_b1, service) == 6
    assert {f.key: f.value for f in sections(people.manager_b2)["service"].figures}[
        "interactions"
    ] == 0


def test_account_manager_ranking_and_grade(aftercare, people, book):
    ranking = sections(people.director)["people"].table("account_managers")
    rows = {
        row[1].value: {k: c.value for (k, _l), c in zip(ranking.columns, row, strict=True)}
        for row in ranking.rows
    }
    am = rows[people.am_b1.pk]
    assert (am["new_customers"], am["visits"], am["loans"], am["disbursed"]) == (
        5,
        0,
        1,
        D("12000.00"),
    )
    assert am["npl_ratio"] == D("0.4048")
    assert am["inspection_compliance"] == D("1.0000")  # sm20's, on time in December
    assert am["success_rate"] is None and am["survey_score"] is None
    # 20 × 5/(10 × 1.02) + 15 × 1/(8 × 1.02) + 10 × 1, over the weights with data (75).
    assert (am["score"], am["grade"]) == (D("28.9"), "D")
    assert rows[people.am_b2.pk]["new_customers"] == 1
    assert rows[people.am2_b1.pk]["rank"] == 3  # nothing to grade: last
    section = sections(people.director)["people"]
    # per manager: new customers, visits, loans and the amount disbursed
    assert assert_figures_equal_lists(people.director, section) == 3 * 4
    # The branch manager ranks only their branch's managers.
    own = sections(people.manager_b1)["people"].table("account_managers")
    assert {row[1].value for row in own.rows} == {people.am_b1.pk, people.am2_b1.pk}


def test_grade_bands_are_configuration(settings):
    measures = {
        "new_customers": 10,
        "visits": 40,
        "loans": 8,
        "npl": D("0"),
        "success_rate": D("1"),
    }
    assert grade(measures, months=D("1")).grade == "A"
    settings.COOP_DASHBOARD_GRADING = {"bands": [["优", 101], ["良", 0]]}
    assert grade(measures, months=D("1")) == grade.__globals__["Grade"](D("100.0"), "良")
    settings.COOP_DASHBOARD_GRADING = {"weights": {"new_customers": 1, "visits": 0}}
    result = grade({"new_customers": 5, "visits": 0}, months=D("1"))
    assert result.score == D("50.0")


def test_surveys_section_without_campaigns_counts_open_items(people, org):
    from surveys.models import ImprovementItem

    def item(title, due, state="plan", unit="B01"):
        return ImprovementItem.objects.create(
            title=title,
            org_unit=org[unit],
            owner=people.manager_b1,
            created_by=people.manager_b1,
            level="same_level",
            plan="整改",
            due_on=due,
            state=state,
        )

    item("排队时间长", dt.date(2025, 12, 10))  # past due on 12-28
    item("宣传不到位", dt.date(2026, 3, 1))
    item("已整改", dt.date(2025, 11, 1), state="closed")
    item("他行问题", dt.date(2025, 11, 1), unit="B02")
    with time_machine.travel(NOW, tick=False):
        surveys = sections(people.manager_b1)["surveys"]
        figures = {f.key: f.value for f in surveys.figures}
        assert figures == {"improvements_open": 2, "improvements_overdue": 1}
        assert assert_figures_equal_lists(people.manager_b1, surveys) == 2
    assert "No survey campaign has valid answers for these filters." in [
        str(n) for n in surveys.notes
    ]


# --- surveys with answers ---------------------------------------------------------------------


def test_surveys_section_on_the_hand_worked_campaign(sv, dataset, dash_roles):
    """The surveys app's hand-worked campaign (tests/surveys): three valid B01 responses."""
    campaign = dataset
    section = sections(sv.manager, {})["surveys"]
    figures = {f.key: f.value for f in section.figures}
    assert figures["satisfaction_index"] == D("54.50")
    assert figures["valid_responses"] == 3
    assert figures["index_change"] is None
    rows = {
        row[0].value: (row[1].value, row[2].value, row[4].value) for row in section.tables[0].rows
    }
    assert rows["P1"] == (D("4.6667"), D("4.3333"), 1)
    assert rows["Q1"] == (D("2.0000"), D("4.0000"), 4)
    chart = section.charts["quadrant"]
    assert (chart["x_mean"], chart["y_mean"]) == ("3.3333", "3.1333")
    assert len(chart["points"]) == 5
    # The analysis page, narrowed by the same filters (tests/coop/test_dashboard_survey_filters).
    assert (
        f"/surveys/campaigns/{campaign.pk}/analysis/?date_from="
        in section.figure("satisfaction_index").drill
    )
    # The account manager's survey score: mean satisfaction of their customers' valid answers,
    # 47 / 15 = 3.13.
    ranking = sections(sv.manager, {})["people"].table("account_managers")
    score = {row[1].value: row[10].value for row in ranking.rows}
    assert score[sv.am.pk] == D("3.13")
