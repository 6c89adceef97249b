"""The seeded configuration: routing rules v1, who works each stage up to which amount, stage time
targets and the committee policy. Plain data (no models), so the data migration and
``risk.services.config_ensure_defaults`` share it. Head office changes all of it later as data.
"""

from __future__ import annotations

from decimal import Decimal

# Seed 000/001: low risk = farmer microcredit at the grassroots branch; medium = other individual
# loans up to a threshold; high = corporate, large, or cautious/exit-category customers.
MEDIUM_THRESHOLD = Decimal("300000.00")
LARGE_EXPOSURE = Decimal("1000000.00")

# Rule names are data shown as written, like product names: the cooperative's working language.
ROUTING_RULES: list[dict] = [
    {
        "name": "谨慎类或退出类客户",  # cautious or exit customers
        "route": "high",
        "customer_categories": ["cautious", "exit"],
    },
    {
        "name": "谨慎进入类行业",  # cautious-entry industries
        "route": "high",
        "industry_categories": ["cautious"],
    },
    {"name": "公司客户", "route": "high", "customer_kind": "corporate"},  # corporates
    {"name": "大额贷款", "route": "high", "amount_above": MEDIUM_THRESHOLD},  # large amounts
    {"name": "风险敞口较大", "route": "high", "exposure_above": LARGE_EXPOSURE},  # exposure
    {
        # A customer who has been overdue does not take the fast route, whatever the product.
        "name": "有逾期记录的个人客户",  # individuals with overdue history
        "route": "medium",
        "customer_kind": "individual",
        "has_overdue_history": True,
    },
    {
        "name": "评级额度内的农户小额信用贷款",  # microcredit within the rating tier
        "route": "low",
        "customer_kind": "individual",
        "product_kinds": ["credit"],
        "within_rating_tier": True,
    },
    {
        "name": "限额以内的其他个人贷款",  # other individual loans up to the threshold
        "route": "medium",
        "customer_kind": "individual",
        "amount_up_to": MEDIUM_THRESHOLD,
    },
    {"name": "其他", "route": "high"},  # everything else
]

BRANCH_MANAGER_LIMIT = Decimal("500000.00")
HEAD_OFFICE_RISK_LIMIT = Decimal("3000000.00")

# (stage, role, org level, max amount or None). The account manager prepares and investigates
# (A/B roles); risk officers review; the branch manager approves within the branch limit, the
# head-office risk officer within theirs, above that the loan committee (seed 000 "five gates").
STAGE_AUTHORITIES: list[tuple[str, str, str, Decimal | None]] = [
    ("application", "account_manager", "branch", None),
    ("review", "risk_officer", "branch", None),
    ("review", "risk_officer", "head_office", None),
    ("credit_granting", "risk_officer", "branch", None),
    ("credit_granting", "risk_officer", "head_office", None),
    ("approval", "branch_manager", "branch", BRANCH_MANAGER_LIMIT),
    ("approval", "risk_officer", "head_office", HEAD_OFFICE_RISK_LIMIT),
    ("approval", "loan_committee", "head_office", None),
    ("acceptance_review", "risk_officer", "branch", None),
    ("acceptance_review", "risk_officer", "head_office", None),
    ("investigation", "account_manager", "branch", None),
    ("credit_review", "risk_officer", "head_office", None),
    ("loan_approval", "risk_officer", "head_office", HEAD_OFFICE_RISK_LIMIT),
    ("loan_approval", "loan_committee", "head_office", None),
    ("contract_review", "risk_officer", "branch", None),
    ("contract_review", "risk_officer", "head_office", None),
    ("payment_condition_review", "risk_officer", "branch", None),
    ("payment_condition_review", "risk_officer", "head_office", None),
]

# Hours per stage (seed 002: measure each stage's time and remove needless waiting).
STAGE_SLA_HOURS: dict[str, int] = {
    "application": 48,
    "review": 24,
    "credit_granting": 24,
    "approval": 24,
    "acceptance_review": 24,
    "investigation": 72,
    "credit_review": 48,
    "loan_approval": 48,
    "contract_review": 24,
    "payment_condition_review": 24,
}

COMMITTEE_QUORUM = 5
COMMITTEE_MAJORITY = (2, 3)


def install(*, ruleset_model, rule_model, authority_model, sla_model, policy_model) -> bool:
    """Write whatever part of the defaults is missing; never touch what exists (head office may
    have changed it). Takes the model classes so the data migration can pass its historical
    ones. Returns whether anything was written."""
    wrote = False
    if not ruleset_model.objects.exists():
        ruleset = ruleset_model.objects.create(version=1, comment="默认规则")
        for position, spec in enumerate(ROUTING_RULES, start=1):
            rule_model.objects.create(ruleset=ruleset, position=position, **spec)
        wrote = True
    # All or nothing: a row head office deleted (a role taken off a stage) must stay deleted.
    if not authority_model.objects.exists():
        authority_model.objects.bulk_create(
            authority_model(stage=stage, role=role, org_level=level, max_amount=limit)
            for stage, role, level, limit in STAGE_AUTHORITIES
        )
        wrote = True
    for stage, hours in STAGE_SLA_HOURS.items():
        _obj, created = sla_model.objects.get_or_create(
            stage=stage, defaults={"target_hours": hours}
        )
        wrote |= created
    if not policy_model.objects.exists():
        policy_model.objects.create(
            quorum=COMMITTEE_QUORUM,
            majority_numerator=COMMITTEE_MAJORITY[0],
            majority_denominator=COMMITTEE_MAJORITY[1],
        )
        wrote = True
    return wrote
