"""The dashboard's survey section follows the filters: branch, grid and product narrow the
respondents, the period's end bounds the answers; the index it shows is the one the analysis
page shows when opened from it, and the analysis page refuses bad or out-of-scope filters."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from loans.models import CreditLine
from surveys import analysis
from surveys.models import Invitation
from tests.coop.test_dashboard_sections import sections
from tests.grid.test_grid_metrics import draw_on
from tests.loans.test_lifecycle_factories import make_product
from tests.surveys import conftest as survey_fixtures
from tests.surveys import test_surveys_analysis as survey_analysis

sv_roles = survey_fixtures.sv_roles
sv = survey_fixtures.sv
small_framework = survey_fixtures.small_framework
make_campaign = survey_fixtures.make_campaign
dataset = survey_analysis.dataset

D = Decimal
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def loan_of(product, customer, owner):
    """A loan of ``product`` for ``customer`` (ORM: only its existence matters here)."""
    line = CreditLine.objects.create(
        number=f"SVCL{next(_numbers)}",
        customer=customer,
        branch=customer.branch,
        product=product,
        limit=D("9000.00"),
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2027, 12, 31),
        granted_by=owner,
    )
    return draw_on(line, "5000.00", owner)


def figures(section) -> dict:
    return {figure.key: figure.value for figure in section.figures}


def this_month() -> dict:
    today = timezone.localdate()
    return {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat()}


def valid_customers(campaign) -> list:
    """The customers of the three valid (hand-worked) responses, in answer order."""
    return [
        invitation.customer
        for invitation in Invitation.objects.filter(campaign=campaign, response__is_valid=True)
        .select_related("customer", "customer__branch")
        .order_by("response__pk")
        if invitation.customer.branch.code == "B01"
    ]


def test_the_branch_filter_gives_head_office_the_branch_managers_figures(sv, dataset, org):
    own = figures(sections(sv.manager, this_month())["surveys"])
    assert (own["satisfaction_index"], own["valid_responses"]) == (D("54.50"), 3)

    narrowed = sections(sv.director, {**this_month(), "branch": str(org["B01"].pk)})["surveys"]
    assert figures(narrowed)["satisfaction_index"] == D("54.50")
    assert figures(narrowed)["valid_responses"] == 3
    rows = {row[0].value: (row[1].value, row[2].value) for row in narrowed.tables[0].rows}
    assert rows["P1"] == (D("4.6667"), D("4.3333"))

    # B02's valid answers are all low: the whole bank differs from B01 alone.
    whole = figures(sections(sv.director, this_month())["surveys"])
    assert whole["valid_responses"] > 3
    assert whole["satisfaction_index"] != D("54.50")


def test_the_product_filter_keeps_customers_with_a_loan_of_it(sv, dataset):
    product = make_product(name="调查测试产品", code="sv-filter")
    first = valid_customers(dataset)[0]
    loan_of(product, first, sv.am)

    section = sections(sv.manager, {**this_month(), "product": str(product.pk)})["surveys"]
    values = figures(section)
    # The first hand-worked response alone: Σ(I·S) / ΣI = 66 / 19, index (66/19 − 1) / 4 × 100.
    assert values["valid_responses"] == 1
    assert values["satisfaction_index"] == D("61.84")
    rows = {
        row[0].value: (row[1].value, row[2].value, row[5].value) for row in section.tables[0].rows
    }
    assert rows["P2"] == (D("5.0000"), D("3.0000"), 1)


def test_a_period_ending_before_the_answers_shows_no_index(sv, dataset):
    # The answers were submitted today; a period ending yesterday does not reach them.
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    section = sections(sv.manager, {"date_from": yesterday, "date_to": yesterday})["surveys"]
    assert "satisfaction_index" not in figures(section)
    assert "No survey campaign has valid answers for these filters." in [
        str(note) for note in section.notes
    ]


def test_the_index_drills_into_the_analysis_narrowed_the_same_way(client, sv, dataset, org):
    product = make_product(name="调查测试产品", code="sv-drill")
    loan_of(product, valid_customers(dataset)[1], sv.am)
    params = {**this_month(), "branch": str(org["B01"].pk), "product": str(product.pk)}
    section = sections(sv.director, params)["surveys"]
    figure = section.figure("satisfaction_index")
    assert figure.drill.startswith(reverse("surveys:analysis", args=[dataset.pk]) + "?")

    client.force_login(sv.director)
    client.cookies["django_language"] = "en"
    response = client.get(figure.drill)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-testid="analysis-index">{figure.value}<' in body
    assert response.context["result"]["valid"] == figures(section)["valid_responses"] == 1
    assert 'data-testid="analysis-narrowed"' in body and "调查测试产品" in body
    # Exports and the crosshair links keep the narrowing.
    assert f"crosshair=median&amp;{section_query(figure.drill)}" in body
    export = client.get(
        reverse("surveys:export", args=[dataset.pk, "csv"]) + "?" + section_query(figure.drill)
    )
    assert export.status_code == 200
    narrowed = analysis.campaign_analysis(
        user=sv.director,
        campaign=dataset,
        narrowing=analysis.Narrowing(unit_ids=(), product_id=product.pk),
    )
    assert narrowed["valid"] == 1
    assert narrowed["index"] == figure.value

    # Without parameters the page shows the whole campaign in the user's scope.
    whole = client.get(reverse("surveys:analysis", args=[dataset.pk]))
    assert whole.context["result"]["valid"] > 1
    assert 'data-testid="analysis-narrowed"' not in whole.content.decode()


def section_query(url: str) -> str:
    return url.split("?", 1)[1].replace("&", "&amp;")


def test_the_analysis_refuses_bad_and_out_of_scope_filters(client, sv, dataset, org):
    client.force_login(sv.manager)
    url = reverse("surveys:analysis", args=[dataset.pk])
    bad = client.get(url, {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert bad.status_code == 400
    assert client.get(url, {"branch": str(org["B02"].pk)}).status_code == 404
    assert client.get(url, {"date_to": "not-a-date"}).status_code == 400
