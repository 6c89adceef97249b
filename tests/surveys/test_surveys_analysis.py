"""Means, quadrants, crosshair rules, first-level scores and the index on a dataset worked out
by hand (see conftest.HAND_RESPONSES), scoped to the reader."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from surveys import analysis
from surveys.models import Invitation
from tests.surveys.conftest import HAND_RESPONSES, answers_of, make_customers, submit, uniform

# Sums over the three valid responses, and the means to 4 decimals (ROUND_HALF_UP):
#   P1 imp 14/3 = 4.6667  sat 13/3 = 4.3333      Q2 imp 7/3  = 2.3333  sat 6/3 = 2.0000
#   P2 imp 13/3 = 4.3333  sat  7/3 = 2.3333      Q3 imp 10/3 = 3.3333  sat 9/3 = 3.0000
#   Q1 imp  6/3 = 2.0000  sat 12/3 = 4.0000
# Mean of the means: importance 50/15 = 3.3333 (= Q3's importance exactly), satisfaction
# 47/15 = 3.1333. Medians: importance 10/3 = 3.3333, satisfaction 3.0000.
MEANS = {
    "P1": (D("4.6667"), D("4.3333"), D("-0.3333")),
    "P2": (D("4.3333"), D("2.3333"), D("-2.0000")),
    "Q1": (D("2.0000"), D("4.0000"), D("2.0000")),
    "Q2": (D("2.3333"), D("2.0000"), D("-0.3333")),
    "Q3": (D("3.3333"), D("3.0000"), D("-0.3333")),
}


@pytest.fixture
def dataset(org, sv, small_framework, make_campaign):
    mine = make_customers(org, sv.am, 5)
    theirs = make_customers(org, sv.other_am, 2, branch="B02")
    campaign = make_campaign(small_framework)
    invitations = {i.customer_id: i for i in Invitation.objects.filter(campaign=campaign)}
    for customer, values in zip(mine, HAND_RESPONSES, strict=False):
        submit(invitations[customer.pk], answers_of(values))
    # Invalid: one answer missing (extreme values elsewhere), and a straight-liner.
    incomplete = uniform(1)
    incomplete[0]["satisfaction"] = None
    incomplete[1]["importance"] = 5
    submit(invitations[mine[3].pk], incomplete)
    submit(invitations[mine[4].pk], uniform(5))
    # Another branch's customers, all 1s and 2s: they must not reach B01's figures.
    submit(invitations[theirs[0].pk], [{**a, "satisfaction": 2} for a in uniform(1)])
    submit(invitations[theirs[1].pk], [{**a, "importance": 2} for a in uniform(1)])
    return campaign


def rows_by_code(result):
    return {row["code"]: row for row in result["indicators"]}


def test_means_gaps_and_counts_over_valid_responses_in_scope(sv, dataset):
    result = analysis.campaign_analysis(user=sv.manager, campaign=dataset)
    rows = rows_by_code(result)
    assert list(rows) == ["P1", "P2", "Q1", "Q2", "Q3"]
    for code, (imp, sat, gap) in MEANS.items():
        assert (rows[code]["importance_mean"], rows[code]["satisfaction_mean"]) == (imp, sat)
        assert rows[code]["gap"] == gap
        assert rows[code]["n"] == 3
    assert (result["sent"], result["returned"], result["valid"], result["invalid"]) == (5, 5, 3, 2)


def test_mean_crosshair_value_equal_counts_as_high(sv, dataset):
    result = analysis.campaign_analysis(user=sv.manager, campaign=dataset, crosshair="mean")
    cross = result["crosshair"]
    assert (cross["rule"], cross["importance"], cross["satisfaction"]) == (
        "mean",
        D("3.3333"),
        D("3.1333"),
    )
    quadrants = {code: row["quadrant"] for code, row in rows_by_code(result).items()}
    # Q3's importance equals the crosshair: high, so quadrant II rather than III.
    assert quadrants == {"P1": 1, "P2": 2, "Q1": 4, "Q2": 3, "Q3": 2}
    assert result["quadrant_counts"] == {1: 1, 2: 2, 3: 1, 4: 1}


def test_midpoint_crosshair(sv, dataset):
    result = analysis.campaign_analysis(user=sv.manager, campaign=dataset, crosshair="midpoint")
    assert (result["crosshair"]["importance"], result["crosshair"]["satisfaction"]) == (
        D("3.0000"),
        D("3.0000"),
    )
    quadrants = {code: row["quadrant"] for code, row in rows_by_code(result).items()}
    # Q3's satisfaction 3.0000 sits on the midpoint: high, quadrant I.
    assert quadrants == {"P1": 1, "P2": 2, "Q1": 4, "Q2": 3, "Q3": 1}


def test_median_crosshair(sv, dataset):
    result = analysis.campaign_analysis(user=sv.manager, campaign=dataset, crosshair="median")
    assert (result["crosshair"]["importance"], result["crosshair"]["satisfaction"]) == (
        D("3.3333"),
        D("3.0000"),
    )
    quadrants = {code: row["quadrant"] for code, row in rows_by_code(result).items()}
    assert quadrants == {"P1": 1, "P2": 2, "Q1": 4, "Q2": 3, "Q3": 1}


def test_unknown_crosshair_rule_falls_back_to_mean(sv, dataset):
    result = analysis.campaign_analysis(user=sv.manager, campaign=dataset, crosshair="nonsense")
    assert result["crosshair"]["rule"] == "mean"


def test_index_and_first_level_scores(sv, dataset):
    result = analysis.campaign_analysis(user=sv.manager, campaign=dataset)
    # W = Σ(I·S)/ΣI = (477/9)/(50/3) = 159/50 = 3.18 → (3.18 − 1)/4 × 100 = 54.50
    assert result["index"] == D("54.50")
    levels = {row["code"]: row for row in result["first_level"]}
    # P: (273/9)/(27/3) = 273/81 = 3.37037… ; Q: (204/9)/(23/3) = 204/69 = 2.95652…
    assert levels["P"]["satisfaction_score"] == D("3.3704")
    assert levels["Q"]["satisfaction_score"] == D("2.9565")
    assert levels["P"]["importance_mean"] == D("4.5000")
    assert levels["Q"]["importance_mean"] == D("2.5556")
    assert analysis.campaign_index(user=sv.manager, campaign=dataset) == (D("54.50"), 3)


def test_index_formula_bounds():
    from fractions import Fraction

    assert analysis.index_of(Fraction(1)) == D("0.00")
    assert analysis.index_of(Fraction(5)) == D("100.00")
    assert analysis.index_of(Fraction(3)) == D("50.00")
    assert analysis.index_of(None) is None


def test_near_boundary_lists_indicators_close_to_the_crosshair(sv, dataset):
    result = analysis.campaign_analysis(user=sv.manager, campaign=dataset)
    # Within 0.1 of importance 3.3333 or satisfaction 3.1333: only Q3.
    assert [row["code"] for row in result["near_boundary"]] == ["Q3"]


def test_results_are_scoped_to_the_reader(sv, dataset):
    other = analysis.campaign_analysis(user=sv.other_manager, campaign=dataset)
    assert (other["sent"], other["returned"], other["valid"]) == (2, 2, 2)
    rows = rows_by_code(other)
    assert rows["P1"]["importance_mean"] == D("1.5000")
    assert rows["P1"]["satisfaction_mean"] == D("1.5000")
    whole = analysis.campaign_analysis(user=sv.director, campaign=dataset)
    assert (whole["sent"], whole["valid"]) == (7, 5)
    # (14 + 1 + 2) / 5 = 3.4000
    assert rows_by_code(whole)["P1"]["importance_mean"] == D("3.4000")


def test_breakdowns_by_branch_and_stage(sv, dataset):
    result = analysis.breakdowns(user=sv.director, campaign=dataset)
    by_branch = {row["label"]: (row["valid"], row["index"]) for row in result["branch"]}
    b01 = sv.manager.org_unit.name
    assert by_branch[b01] == (3, D("54.50"))
    assert len(by_branch) == 2
    assert [(r["key"], r["valid"]) for r in result["loan_stage"]] == [("none", 5)]
    assert [(r["key"], r["valid"]) for r in result["customer_type"]] == [("depositor", 5)]


def test_analysis_api_contract(client, sv, dataset):
    client.force_login(sv.manager)
    url = f"/api/v1/surveys/campaigns/{dataset.pk}/analysis/?crosshair=midpoint"
    body = client.get(url).json()
    assert {k: body[k] for k in ("sent", "returned", "valid", "invalid")} == {
        "sent": 5,
        "returned": 5,
        "valid": 3,
        "invalid": 2,
    }
    assert body["crosshair"]["rule"] == "midpoint"
    assert body["crosshair"]["importance"] == "3.0000"
    assert body["index"] == "54.50"
    first = body["indicators"][0]
    assert {k: first[k] for k in ("code", "importance_mean", "satisfaction_mean", "gap")} == {
        "code": "P1",
        "importance_mean": "4.6667",
        "satisfaction_mean": "4.3333",
        "gap": "-0.3333",
    }
    assert [row["quadrant"] for row in body["indicators"]] == [1, 2, 4, 3, 1]
    assert client.get(url.replace("midpoint", "bogus")).status_code == 400


def test_analysis_api_needs_permission_and_scope(client, sv, dataset, make_staff):
    client.force_login(sv.am)  # account managers enter answers but do not see the analysis
    assert client.get(f"/api/v1/surveys/campaigns/{dataset.pk}/analysis/").status_code == 403
    client.force_login(sv.other_manager)
    assert client.get("/api/v1/surveys/campaigns/999999/analysis/").status_code == 404


def test_trend_across_campaigns_of_the_framework(org, sv, small_framework, make_campaign, dataset):
    from datetime import date

    later = make_campaign(small_framework, starts_on=date(2026, 7, 1))
    invitation = Invitation.objects.filter(campaign=later, customer__branch__code="B01").first()
    submit(invitation, answers_of(HAND_RESPONSES[0]))
    trend = analysis.trend(user=sv.manager, campaign=later)
    assert [row["campaign"].pk for row in trend] == [dataset.pk, later.pk]
    assert trend[0]["index"] == D("54.50")
    assert trend[1]["satisfaction"]["P1"] == D("5.0000")
