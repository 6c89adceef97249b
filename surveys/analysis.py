"""Importance × satisfaction analysis (seed 002), exact and scoped to the reader.

- Per second-level indicator: mean importance and mean satisfaction over the valid responses the
  user may see; sums and counts come from SQL, the division is exact (fractions) and each mean is
  shown to 4 decimals, ROUND_HALF_UP. Gap = satisfaction − importance, exact, then rounded.
- Crosshair: the mean of the indicator means (default), the scale midpoint 3, or the medians.
  Quadrants compare the shown (4-decimal) means with the shown crosshair, and a value equal to the
  crosshair counts as high. Satisfaction is the x axis and importance the y axis:
  I high/high (keep up), II high importance, low satisfaction (improve first),
  III low/low (low priority), IV low importance, high satisfaction (maintain).
- First-level scores: importance-weighted means of their second-level satisfaction means.
- Index (0–100): (W − 1) ÷ 4 × 100, W the importance-weighted mean satisfaction over all
  second-level indicators, shown to 2 decimals.
- Narrowing (``Narrowing``, the management dashboard's filters): the invitations of a branch or
  a grid, of customers with a loan of a product, and the answers submitted before a moment.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import median

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from surveys.models import Answer, Campaign, CustomerType, Indicator, LoanStage
from surveys.selectors import campaigns_visible, invitations_visible, responses_visible

FOUR = Decimal("0.0001")
TWO = Decimal("0.01")
CROSSHAIR_RULES = ("mean", "midpoint", "median")
DEFAULT_MARGIN = Decimal("0.1000")

QUADRANT_LABELS = {
    1: gettext_lazy("I · keep up"),
    2: gettext_lazy("II · improve first"),
    3: gettext_lazy("III · low priority"),
    4: gettext_lazy("IV · maintain"),
}


def q4(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(FOUR, ROUND_HALF_UP)


def q2(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(TWO, ROUND_HALF_UP)


def rate(part: int, whole: int) -> Decimal | None:
    """A percentage with two decimals, or None for nothing sent."""
    if not whole:
        return None
    return q2(Fraction(part * 100, whole))


def quadrant(importance: Decimal, satisfaction: Decimal, ci: Decimal, cs: Decimal) -> int:
    high_importance = importance >= ci
    high_satisfaction = satisfaction >= cs
    if high_importance:
        return 1 if high_satisfaction else 2
    return 4 if high_satisfaction else 3


@dataclass(frozen=True)
class Narrowing:
    """A part of the user's scope: invitations sent in these org units (a branch and its
    outlets) or this grid, to customers holding a loan of this product, and answers submitted
    before ``until``. Empty fields narrow nothing."""

    unit_ids: tuple[int, ...] = ()
    grid_id: int | None = None
    product_id: int | None = None
    until: dt.datetime | None = None

    def invitations_q(self, prefix: str = "") -> Q:
        q = Q()
        if self.unit_ids:
            q &= Q(**{f"{prefix}branch_id__in": self.unit_ids})
        if self.grid_id:
            q &= Q(**{f"{prefix}grid_id": self.grid_id})
        if self.product_id:
            from loans.models import Loan

            q &= Q(
                Exists(
                    Loan.objects.filter(
                        customer_id=OuterRef(f"{prefix}customer_id"), product_id=self.product_id
                    )
                )
            )
        return q

    def responses_q(self) -> Q:
        q = self.invitations_q("invitation__")
        if self.until is not None:
            q &= Q(submitted_at__lt=self.until)
        return q


EVERYTHING = Narrowing()


def valid_responses(user, campaign: Campaign, narrowing: Narrowing = EVERYTHING):
    return (
        responses_visible(user)
        .filter(campaign=campaign, is_valid=True)
        .filter(narrowing.responses_q())
    )


def counts(*, user, campaign: Campaign, narrowing: Narrowing = EVERYTHING) -> dict:
    """Sent, returned, valid and invalid over the invitations the user sees (one query)."""
    returned = Q(response__isnull=False)
    if narrowing.until is not None:
        returned &= Q(response__submitted_at__lt=narrowing.until)
    row = (
        invitations_visible(user)
        .filter(campaign=campaign)
        .filter(narrowing.invitations_q())
        .aggregate(
            sent=Count("pk"),
            returned=Count("response", filter=returned),
            valid=Count("response", filter=returned & Q(response__is_valid=True)),
        )
    )
    row["invalid"] = row["returned"] - row["valid"]
    row["return_rate"] = rate(row["returned"], row["sent"])
    row["valid_rate"] = rate(row["valid"], row["returned"])
    return row


def _exact_means(answers) -> dict:
    """{key: (importance Fraction, satisfaction Fraction, n)} from grouped SQL sums."""
    means = {}
    for row in answers:
        n = row["n"]
        if n:
            key = row.pop("key")
            means[key] = (Fraction(row["si"], n), Fraction(row["ss"], n), n)
    return means


def _indicator_sums(responses, *, group: str | None = None):
    # The response ids once, as an array (``coop.lookups``): the answers are then read by their
    # response index whatever the planner believes about the sizes; as an IN semi-join it
    # nested loops over every answer when the statistics were stale (seconds, not ms).
    fields = ["indicator_id"] + ([group] if group else [])
    return (
        Answer.objects.filter(
            response__pk__in_array=responses.values("pk"),
            indicator__parent__isnull=False,
            importance__isnull=False,
            satisfaction__isnull=False,
        )
        .values(*fields)
        .annotate(si=Sum("importance"), ss=Sum("satisfaction"), n=Count("pk"))
        .order_by()
    )


def weighted(pairs: list[tuple[Fraction, Fraction]]) -> Fraction | None:
    """Importance-weighted mean satisfaction Σ(I·S) ÷ ΣI over (I, S) pairs."""
    total = sum((imp for imp, _sat in pairs), Fraction(0))
    if not total:
        return None
    return sum((imp * sat for imp, sat in pairs), Fraction(0)) / total


def index_of(weighted_mean: Fraction | None) -> Decimal | None:
    if weighted_mean is None:
        return None
    return q2((weighted_mean - 1) / 4 * 100)


def campaign_index(
    *, user, campaign: Campaign, narrowing: Narrowing = EVERYTHING
) -> tuple[Decimal | None, int]:
    """(index, valid responses) for the user's scope, in two queries."""
    responses = valid_responses(user, campaign, narrowing)
    rows = [{"key": row["indicator_id"], **row} for row in _indicator_sums(responses)]
    means = _exact_means(rows)
    index = index_of(weighted([(imp, sat) for imp, sat, _n in means.values()]))
    return index, responses.count()


def indicator_satisfaction(*, user, campaign: Campaign, indicator: Indicator) -> Decimal | None:
    row = Answer.objects.filter(
        response__pk__in_array=valid_responses(user, campaign).values("pk"),
        indicator=indicator,
        satisfaction__isnull=False,
    ).aggregate(ss=Sum("satisfaction"), n=Count("pk"))
    return q4(Fraction(row["ss"], row["n"])) if row["n"] else None


def crosshair_of(rule: str, means: list[tuple[Fraction, Fraction]]) -> dict:
    if rule not in CROSSHAIR_RULES:
        rule = "mean"
    if rule == "midpoint" or not means:
        ci = cs = Decimal("3.0000")
    elif rule == "median":
        ci = q4(Fraction(median([imp for imp, _s in means])))
        cs = q4(Fraction(median([sat for _i, sat in means])))
    else:
        ci = q4(sum((imp for imp, _s in means), Fraction(0)) / len(means))
        cs = q4(sum((sat for _i, sat in means), Fraction(0)) / len(means))
    descriptions = {
        "mean": _("the means of the indicator means"),
        "midpoint": _("the scale midpoint (3)"),
        "median": _("the medians of the indicator means"),
    }
    text = _(
        "Crosshair at %(rule)s: importance %(ci)s, satisfaction %(cs)s; "
        "a value equal to the crosshair counts as high."
    ) % {"rule": descriptions[rule], "ci": ci, "cs": cs}
    return {"rule": rule, "importance": ci, "satisfaction": cs, "text": text}


def campaign_analysis(
    *,
    user,
    campaign: Campaign,
    crosshair: str = "mean",
    margin: Decimal = DEFAULT_MARGIN,
    narrowing: Narrowing = EVERYTHING,
) -> dict:
    """The analysis endpoint's body (see the module docstring), plus first-level scores and the
    indicators near the crosshair ("a little improvement gives a good effect")."""
    language = get_language() or ""
    indicators = list(
        Indicator.objects.filter(framework_id=campaign.framework_id).order_by("position", "id")
    )
    responses = valid_responses(user, campaign, narrowing)
    means = _exact_means(
        [{"key": row["indicator_id"], **row} for row in _indicator_sums(responses)]
    )
    seconds = [ind for ind in indicators if ind.parent_id is not None and ind.pk in means]
    exact = [(means[ind.pk][0], means[ind.pk][1]) for ind in seconds]
    cross = crosshair_of(crosshair, exact)
    ci, cs = cross["importance"], cross["satisfaction"]
    rows = []
    for ind in seconds:
        imp, sat, n = means[ind.pk]
        imp4, sat4 = q4(imp), q4(sat)
        rows.append(
            {
                "id": ind.pk,
                "code": ind.code,
                "name": ind.label(language),
                "parent": ind.parent_id,
                "importance_mean": imp4,
                "satisfaction_mean": sat4,
                "gap": q4(sat - imp),
                "quadrant": quadrant(imp4, sat4, ci, cs),
                "n": n,
                "near_boundary": abs(imp4 - ci) <= margin or abs(sat4 - cs) <= margin,
            }
        )
    first_level = []
    for parent in (ind for ind in indicators if ind.parent_id is None):
        pairs = [means[c.pk][:2] for c in seconds if c.parent_id == parent.pk]
        if not pairs:
            continue
        score = weighted(pairs)
        first_level.append(
            {
                "code": parent.code,
                "name": parent.label(language),
                "importance_mean": q4(sum((p[0] for p in pairs), Fraction(0)) / len(pairs)),
                "satisfaction_score": q4(score),
                "indicators": len(pairs),
            }
        )
    count = counts(user=user, campaign=campaign, narrowing=narrowing)
    return {
        "sent": count["sent"],
        "returned": count["returned"],
        "valid": count["valid"],
        "invalid": count["invalid"],
        "return_rate": count["return_rate"],
        "valid_rate": count["valid_rate"],
        "crosshair": cross,
        "index": index_of(weighted(exact)),
        "indicators": rows,
        "first_level": first_level,
        "near_boundary": [row for row in rows if row["near_boundary"]],
        "quadrant_counts": {q: sum(1 for r in rows if r["quadrant"] == q) for q in (1, 2, 3, 4)},
    }


BREAKDOWNS = {
    "branch": ("response__invitation__branch_id", gettext_lazy("Branch")),
    "grid": ("response__invitation__grid_id", gettext_lazy("Grid")),
    "loan_stage": ("response__invitation__loan_stage", gettext_lazy("Loan stage")),
    "customer_type": ("response__invitation__customer_type", gettext_lazy("Customer type")),
}


def breakdowns(*, user, campaign: Campaign, narrowing: Narrowing = EVERYTHING) -> dict:
    """{dimension: [{"key", "label", "valid", "index"}]} — one grouped query per dimension plus
    one for the branch and grid names."""
    from coop.models import OrgUnit
    from grid.models import Grid

    responses = valid_responses(user, campaign, narrowing)
    result = {}
    for name, (field, _title) in BREAKDOWNS.items():
        groups: dict = defaultdict(list)
        valid: dict = defaultdict(int)
        for row in _indicator_sums(responses, group=field):
            n = row["n"]
            groups[row[field]].append((Fraction(row["si"], n), Fraction(row["ss"], n)))
            valid[row[field]] = max(valid[row[field]], n)
        result[name] = [
            {"key": key, "label": key, "valid": valid[key], "index": index_of(weighted(pairs))}
            for key, pairs in groups.items()
        ]
    branch_names = dict(
        OrgUnit.objects.filter(pk__in=[r["key"] for r in result["branch"]]).values_list(
            "pk", "name"
        )
    )
    grid_names = dict(
        Grid.objects.filter(pk__in=[r["key"] for r in result["grid"] if r["key"]]).values_list(
            "pk", "name"
        )
    )
    for row in result["branch"]:
        row["label"] = branch_names.get(row["key"], "")
    for row in result["grid"]:
        row["label"] = grid_names.get(row["key"]) or _("Outside any grid")
    for row in result["loan_stage"]:
        row["label"] = LoanStage(row["key"]).label
    for row in result["customer_type"]:
        row["label"] = CustomerType(row["key"]).label
    for rows in result.values():
        rows.sort(key=lambda r: str(r["label"]))
    return result


def trend(*, user, campaign: Campaign) -> list[dict]:
    """Campaigns of the same framework ("time coverage"), oldest first: index and satisfaction
    mean per indicator code, over the user's scope. Two queries."""
    campaigns = list(
        campaigns_visible(user)
        .filter(framework__code=campaign.framework.code)
        .exclude(state=Campaign.State.DRAFT)
        .order_by("starts_on", "id")
    )
    ids = [c.pk for c in campaigns]
    rows = (
        Answer.objects.filter(
            response__pk__in_array=responses_visible(user)
            .filter(campaign_id__in=ids, is_valid=True)
            .values("pk"),
            indicator__parent__isnull=False,
            importance__isnull=False,
            satisfaction__isnull=False,
        )
        .values("response__campaign_id", "indicator__code")
        .annotate(si=Sum("importance"), ss=Sum("satisfaction"), n=Count("pk"))
        .order_by()
    )
    per_campaign: dict = defaultdict(dict)
    for row in rows:
        n = row["n"]
        per_campaign[row["response__campaign_id"]][row["indicator__code"]] = (
            Fraction(row["si"], n),
            Fraction(row["ss"], n),
        )
    result = []
    for c in campaigns:
        means = per_campaign.get(c.pk, {})
        if not means:
            continue
        result.append(
            {
                "campaign": c,
                "index": index_of(weighted(list(means.values()))),
                "satisfaction": {code: q4(sat) for code, (_imp, sat) in means.items()},
            }
        )
    return result


def movement(*, user, items) -> dict:
    """For improvement items: the satisfaction of their indicator in the latest later campaign of
    the same framework ({item pk: (campaign, Decimal)}), to show whether it moved. Two queries."""
    items = [i for i in items if i.campaign_id and i.indicator_id]
    if not items:
        return {}
    codes = {i.campaign.framework.code for i in items}
    later = list(
        campaigns_visible(user)
        .filter(framework__code__in=codes)
        .exclude(state=Campaign.State.DRAFT)
        .select_related("framework")
        .order_by("starts_on", "id")
    )
    rows = (
        Answer.objects.filter(
            response__in=responses_visible(user).filter(
                campaign_id__in=[c.pk for c in later], is_valid=True
            ),
            indicator__code__in={i.indicator.code for i in items},
            satisfaction__isnull=False,
        )
        .values("response__campaign_id", "indicator__code")
        .annotate(ss=Sum("satisfaction"), n=Count("pk"))
        .order_by()
    )
    sat = {
        (r["response__campaign_id"], r["indicator__code"]): q4(Fraction(r["ss"], r["n"]))
        for r in rows
    }
    result = {}
    for item in items:
        for c in reversed(later):
            if c.framework.code != item.campaign.framework.code:
                continue
            if (c.starts_on, c.pk) <= (item.campaign.starts_on, item.campaign.pk):
                break
            value = sat.get((c.pk, item.indicator.code))
            if value is not None:
                result[item.pk] = (c, value)
                break
    return result
