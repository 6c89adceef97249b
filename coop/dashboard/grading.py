"""Account manager performance grades (seed 004: "按月统计营销绩效 … 确定其客户经理等级和绩效等级").

The grade is configuration, not code. ``settings.COOP_DASHBOARD_GRADING`` (a dict) overrides any
of the defaults below:

- ``weights``: how much each measure counts (relative; they are normalised to 100 over the
  measures that exist for the period);
- ``targets``: the value of a count measure that earns its full weight in a month (pro rata for
  longer or shorter periods);
- ``npl_tolerance``: an NPL ratio at or above this earns nothing for the NPL measure; 0 earns it
  all, linearly in between;
- ``bands``: ``[[grade, minimum score], …]`` from the best grade down; the first band whose
  minimum the score reaches is the grade.

Rates (marketing success, inspection compliance) count as their fraction; the survey score as
its share of the 5-point scale. A measure with no data for a manager (no pre-credits yet, no
inspections due) leaves the score and is left out of the normalisation, so nobody is graded down
for work they had no chance to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

DEFAULT_GRADING: dict = {
    "weights": {
        "new_customers": 20,
        "success_rate": 20,
        "visits": 15,
        "loans": 15,
        "npl": 15,
        "inspection_compliance": 10,
        "survey_score": 5,
    },
    "targets": {"new_customers": 10, "visits": 40, "loans": 8},
    "npl_tolerance": "0.05",
    "bands": [["A", 85], ["B", 70], ["C", 55], ["D", 0]],
}

COUNT_MEASURES = ("new_customers", "visits", "loans")


def grading_config() -> dict:
    config = {**DEFAULT_GRADING, **getattr(settings, "COOP_DASHBOARD_GRADING", {})}
    for key in ("weights", "targets"):
        config[key] = {**DEFAULT_GRADING[key], **config.get(key, {})}
    return config


@dataclass(frozen=True)
class Grade:
    score: Decimal | None
    grade: str


def _fraction(value: Decimal) -> Decimal:
    return max(Decimal(0), min(Decimal(1), value))


def grade(measures: dict[str, Decimal | int | None], *, months: Decimal) -> Grade:
    """``measures``: counts for the count measures, fractions (0–1) for the rates, the NPL
    ratio as a fraction and the survey score on the 1–5 scale; None = no data."""
    config = grading_config()
    earned = Decimal(0)
    possible = Decimal(0)
    for name, weight in config["weights"].items():
        value = measures.get(name)
        if value is None or not weight:
            continue
        weight = Decimal(str(weight))
        if name in COUNT_MEASURES:
            target = Decimal(str(config["targets"].get(name) or 0)) * months
            share = _fraction(Decimal(value) / target) if target else Decimal(1)
        elif name == "npl":
            tolerance = Decimal(str(config["npl_tolerance"]))
            share = _fraction(1 - Decimal(value) / tolerance) if tolerance else Decimal(0)
        elif name == "survey_score":
            share = _fraction(Decimal(value) / 5)
        else:
            share = _fraction(Decimal(value))
        earned += weight * share
        possible += weight
    if not possible:
        return Grade(score=None, grade="")
    score = (earned * 100 / possible).quantize(Decimal("0.1"), ROUND_HALF_UP)
    for name, minimum in config["bands"]:
        if score >= Decimal(str(minimum)):
            return Grade(score=score, grade=str(name))
    return Grade(score=score, grade="")
