"""Reconciling three back-to-back evaluations of a household (seed 003's "closeness or
compromise" principle, made precise).

Limits: with the three suggested limits sorted, spread = max − min and median = the middle one.
They are *close* when spread ≤ tolerance × median (default tolerance 20%); the limit is then
their mean rounded DOWN to whole ¥1,000. Otherwise the median is proposed as the compromise.

Ratings reconcile the same way: a majority (two or three the same) is the agreed rating;
otherwise the middle grade is the compromise.

A household whose limits or ratings needed a compromise goes to the batch-credit group
(网格批量授信小组), which decides with a comment. Pure functions on Decimal: no database here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from customers.models import CreditRating

DEFAULT_TOLERANCE = Decimal("0.20")
ROUNDING_STEP_FEN = 100_000  # ¥1,000 in fen
GRADE_ORDER = (CreditRating.GENERAL, CreditRating.GOOD, CreditRating.EXCELLENT)
FEN = Decimal("0.01")


@dataclass(frozen=True)
class Reconciliation:
    limits: tuple[Decimal, ...]
    ratings: tuple[str, ...]
    tolerance: Decimal
    spread: Decimal
    median: Decimal
    mean: Decimal  # to the fen, for display; the limit is computed exactly
    threshold: Decimal  # tolerance × median
    limits_close: bool
    limit_rule: str  # "mean" | "median"
    proposed_limit: Decimal
    rating_rule: str  # "majority" | "middle"
    proposed_rating: str

    @property
    def outcome(self) -> str:
        if self.limits_close and self.rating_rule == "majority":
            return "close"
        return "compromise"

    def as_inputs(self) -> dict:
        """What is stored with the result, so every page can show the rule and its inputs."""
        return {
            "limits": [str(limit) for limit in self.limits],
            "ratings": list(self.ratings),
            "tolerance": str(self.tolerance),
            "spread": str(self.spread),
            "median": str(self.median),
            "mean": str(self.mean),
            "threshold": str(self.threshold),
            "limits_close": self.limits_close,
        }


def _to_fen(value: Decimal) -> int:
    if not isinstance(value, Decimal):
        raise TypeError("Limits must be Decimal.")
    if value < 0:
        raise ValueError("A suggested limit cannot be negative.")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError("A suggested limit has at most two decimals.")
    return int(fen)


def mean_rounded_down(limits: Sequence[Decimal]) -> Decimal:
    """The mean rounded down to ¥1,000, in integer fen so no decimal precision is involved."""
    total_fen = sum(_to_fen(limit) for limit in limits)
    steps = total_fen // (len(limits) * ROUNDING_STEP_FEN)
    return Decimal(steps * ROUNDING_STEP_FEN) / 100


def reconcile_ratings(ratings: Sequence[str]) -> tuple[str, str]:
    """(rule, rating): the majority rating, else the middle grade of the three."""
    unknown = [r for r in ratings if r not in GRADE_ORDER]
    if unknown:
        raise ValueError(f"Unknown rating: {unknown[0]!r}")
    rating, count = Counter(ratings).most_common(1)[0]
    if count * 2 > len(ratings):
        return "majority", rating
    ordered = sorted(ratings, key=GRADE_ORDER.index)
    return "middle", ordered[len(ordered) // 2]


def reconcile(
    limits: Sequence[Decimal],
    ratings: Sequence[str],
    tolerance: Decimal = DEFAULT_TOLERANCE,
) -> Reconciliation:
    if len(limits) != 3 or len(ratings) != 3:
        raise ValueError("Reconciliation needs exactly three evaluations.")
    if not isinstance(tolerance, Decimal) or not (0 <= tolerance <= 1):
        raise ValueError("The tolerance is a Decimal between 0 and 1.")
    for limit in limits:
        _to_fen(limit)
    ordered = sorted(limits)
    spread = ordered[-1] - ordered[0]
    median = ordered[1]
    threshold = tolerance * median
    close = spread <= threshold
    mean = (sum(limits, Decimal(0)) / 3).quantize(FEN)
    rating_rule, rating = reconcile_ratings(ratings)
    return Reconciliation(
        limits=tuple(limits),
        ratings=tuple(ratings),
        tolerance=tolerance,
        spread=spread,
        median=median,
        mean=mean,
        threshold=threshold.quantize(FEN),
        limits_close=close,
        limit_rule="mean" if close else "median",
        proposed_limit=mean_rounded_down(limits) if close else median,
        rating_rule=rating_rule,
        proposed_rating=rating,
    )
