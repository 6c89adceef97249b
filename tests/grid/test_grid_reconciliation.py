"""The "closeness or compromise" rule (seed 003), exactly as the issue defines it."""

from decimal import Decimal

import pytest

from grid.reconciliation import mean_rounded_down, reconcile, reconcile_ratings

D = Decimal


def test_spread_exactly_at_the_tolerance_is_close_and_takes_the_mean():
    # Given limits whose spread (2,000) is exactly 20% of the median (10,000)
    result = reconcile([D("9000"), D("10000"), D("11000")], ["good"] * 3, D("0.20"))

    # Then they are close, and the limit is their mean rounded down to ¥1,000
    assert result.spread == D("2000")
    assert result.median == D("10000")
    assert result.threshold == D("2000.00")
    assert result.limits_close is True
    assert result.limit_rule == "mean"
    assert result.proposed_limit == D("10000")
    assert result.outcome == "close"


def test_spread_one_fen_above_the_tolerance_is_a_compromise_on_the_median():
    result = reconcile([D("9000"), D("10000"), D("11000.01")], ["good"] * 3, D("0.20"))

    assert result.spread == D("2000.01")
    assert result.limits_close is False
    assert result.limit_rule == "median"
    assert result.proposed_limit == D("10000")
    assert result.outcome == "compromise"


def test_the_tolerance_is_configurable():
    limits = [D("8000"), D("10000"), D("12000")]  # spread 4,000 = 40% of the median

    assert reconcile(limits, ["good"] * 3, D("0.40")).outcome == "close"
    assert reconcile(limits, ["good"] * 3, D("0.39")).outcome == "compromise"


def test_the_mean_is_rounded_down_to_whole_thousands():
    # 5,000 + 5,500 + 5,900 = 16,400 → mean 5,466.67 → 5,000 (never up to 6,000)
    result = reconcile([D("5000"), D("5500"), D("5900")], ["good"] * 3)

    assert result.mean == D("5466.67")
    assert result.proposed_limit == D("5000")


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (["2999.99", "2999.99", "2999.99"], "2000"),
        (["3000", "3000", "3000"], "3000"),
        (["3000", "3000", "3000.01"], "3000"),
        (["9999.99", "10000", "10000"], "9000"),
        (["0", "0", "0"], "0"),
    ],
)
def test_rounding_down_at_the_edges(limits, expected):
    assert mean_rounded_down([D(x) for x in limits]) == D(expected)


def test_zero_median_is_close_only_when_all_agree():
    assert reconcile([D("0"), D("0"), D("0")], ["general"] * 3).outcome == "close"
    assert reconcile([D("0"), D("0"), D("1000")], ["general"] * 3).outcome == "compromise"


@pytest.mark.parametrize(
    ("ratings", "rule", "rating"),
    [
        (["good", "good", "good"], "majority", "good"),
        (["good", "excellent", "good"], "majority", "good"),
        (["general", "excellent", "excellent"], "majority", "excellent"),
        (["general", "good", "excellent"], "middle", "good"),
        (["excellent", "general", "good"], "middle", "good"),
    ],
)
def test_ratings_reconcile_by_majority_else_the_middle_grade(ratings, rule, rating):
    assert reconcile_ratings(ratings) == (rule, rating)


def test_a_rating_compromise_sends_close_limits_to_the_group_too():
    result = reconcile([D("5000")] * 3, ["general", "good", "excellent"])

    assert result.limits_close is True
    assert result.proposed_limit == D("5000")
    assert result.rating_rule == "middle"
    assert result.proposed_rating == "good"
    assert result.outcome == "compromise"


def test_inputs_are_kept_with_the_result():
    result = reconcile([D("6000"), D("5000"), D("5500")], ["good", "excellent", "good"])

    assert result.as_inputs() == {
        "limits": ["6000", "5000", "5500"],
        "ratings": ["good", "excellent", "good"],
        "tolerance": "0.20",
        "spread": "1000",
        "median": "5500",
        "mean": "5500.00",
        "threshold": "1100.00",
        "limits_close": True,
    }


@pytest.mark.parametrize(
    ("limits", "ratings", "tolerance"),
    [
        ([D("1000"), D("2000")], ["good", "good"], D("0.2")),
        ([D("1000"), D("2000"), D("-1")], ["good"] * 3, D("0.2")),
        ([D("1000"), D("2000"), D("1.005")], ["good"] * 3, D("0.2")),
        ([D("1000"), D("2000"), D("3000")], ["good", "good", "gold"], D("0.2")),
        ([D("1000"), D("2000"), D("3000")], ["good"] * 3, D("1.5")),
    ],
)
def test_bad_inputs_are_refused(limits, ratings, tolerance):
    with pytest.raises(ValueError):
        reconcile(limits, ratings, tolerance)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        reconcile([1000.0, 2000.0, 3000.0], ["good"] * 3)
