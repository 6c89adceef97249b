"""The approval section: cases by route and outcome, time per stage (equal to the risk app's
timing statistics), cases over their stage target, each figure equal to its list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import time_machine

from coop.dashboard.drills import drill_list, totals
from coop.dashboard.figures import build_sections
from coop.dashboard.filters import parse_filters
from coop.roles import Role
from risk import services
from risk.models import ReasonCode
from risk.selectors import stage_timing
from tests.coop.test_dashboard_factories import PERIOD, at
from tests.risk import conftest as risk_fixtures
from tests.risk.conftest import first_allowed

# The approval workflow's own fixtures: its rules, products, team and case builder.
risk_config = risk_fixtures.risk_config
products = risk_fixtures.products
team = risk_fixtures.team
make_customer = risk_fixtures.make_customer
make_application = risk_fixtures.make_application
open_case = risk_fixtures.open_case

D = Decimal
T0 = dt.date(2025, 12, 2)
NOW = at(dt.date(2025, 12, 20), 12)


@pytest.fixture
def director(make_staff, risk_config):
    from coop.roles import sync_roles

    sync_roles()
    return make_staff(Role.MANAGEMENT, unit="HQ", username="director")


@pytest.fixture
def cases(open_case, team):
    """Opened 2025-12-02 09:00 (the application stage completes on opening):
    c1 low: credit granting 2 h, approval 1 h, then rejected;  c2 low: credit granting 4 h,
    waiting in approval since 13:00;  c3 medium: waiting in review since 09:00;  c4 low:
    withdrawn after 1 h in credit granting;  c5 low: opened 2025-11-20, still in credit
    granting (outside the period, but over its target)."""
    with time_machine.travel(at(dt.date(2025, 11, 20), 9), tick=False):
        c5 = open_case("low")
    with time_machine.travel(at(T0, 9), tick=False):
        c1, c2, c3, c4 = (open_case(route) for route in ("low", "low", "medium", "low"))

    def step(case, hour, name="advance", **kw):
        with time_machine.travel(at(T0, hour), tick=False):
            actor = first_allowed(case, name, team.pool)
            if name == "advance":
                return services.approval_case_advance(case=case, actor=actor, comment="同意")
            return services.approval_case_reject(case=case, actor=actor, **kw)

    with time_machine.travel(at(T0, 10), tick=False):
        c4 = services.approval_case_withdraw(case=c4, actor=team.am_a, comment="客户撤回")
    c1 = step(c1, 11)
    reason = next(code for code in ReasonCode.values if code != ReasonCode.COMMITTEE)
    c1 = step(c1, 12, "reject", reason_code=reason, comment="不符合条件")
    c2 = step(c2, 13)
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5}


def section(user):
    filters = parse_filters(user, PERIOD)
    return build_sections(user, filters, only=("approval",), now=NOW)[0]


def follow(user, url: str):
    parts = urlsplit(url)
    kind = parts.path.rstrip("/").rsplit("/", 1)[-1]
    params = dict(parse_qsl(parts.query))
    return totals(drill_list(user, parse_filters(user, params), kind, params, now=NOW))


def test_routes_outcomes_and_over_target(cases, director):
    approval = section(director)
    figures = {f.key: f.value for f in approval.figures}
    assert figures == {"opened": 4, "approved": 0, "rejected": 1, "over_target": 3}
    table = {
        row[0].value: [c.value for c in row[1:]] for row in approval.table("approval_routes").rows
    }
    # opened, in progress, approved, rejected, withdrawn
    assert table == {"low": [3, 1, 0, 1, 1], "medium": [1, 1, 0, 0, 0], "high": [0, 0, 0, 0, 0]}
    over = {row[0].value: row[1].value for row in approval.table("approval_over_target").rows}
    assert over == {"review": 1, "credit_granting": 1, "approval": 1}


def test_stage_timing_is_the_risk_apps(cases, director):
    approval = section(director)
    timing = {
        row[0].value: (row[1].value, row[2].value, row[3].value, row[4].value)
        for row in approval.table("approval_timing").rows
    }
    # Credit granting stays: 2 h, 4 h, 1 h → mean 2.3 h; percentile_cont(0.9) = 2 + 0.8 × 2.
    assert timing == {
        "application": (4, D("0.0"), D("0.0"), 48),
        "credit_granting": (3, D("2.3"), D("3.6"), 24),
        "approval": (1, D("1.0"), D("1.0"), 24),
    }
    risk_rows = stage_timing(
        user=director, date_from=dt.date(2025, 12, 1), date_to=dt.date(2025, 12, 31)
    )
    assert {r.stage: (r.visits, round(r.p90_seconds)) for r in risk_rows} == {
        "application": (4, 0),
        "credit_granting": (3, 3.6 * 3600),
        "approval": (1, 3600),
    }


def test_every_approval_figure_equals_its_list(cases, director):
    approval = section(director)
    checked = 0
    for figure in approval.figures:
        assert follow(director, figure.drill)["n"] == figure.value, figure.key
        checked += 1
    for table in approval.tables:
        for row in table.rows:
            for cell in row[1:]:
                if cell.drill and isinstance(cell.value, int):
                    assert follow(director, cell.drill)["n"] == cell.value, (table.key, row)
                    checked += 1
    assert checked == 4 + 3 * 5 + 3 + 3


def test_the_drill_into_over_target_lists_the_waiting_cases(cases, director):
    url = section(director).figure("over_target").drill
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    found = drill_list(director, parse_filters(director, params), "cases", params, now=NOW)
    assert sorted(found.queryset.values_list("pk", flat=True)) == sorted(
        cases[k].pk for k in ("c2", "c3", "c5")
    )
