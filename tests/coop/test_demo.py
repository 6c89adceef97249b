"""`make run` loads the demo with `seed_demo`: it must work on an empty database and twice."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command

COUNTED = [
    "coop.OrgUnit",
    "coop.User",
    "customers.Customer",
    "customers.Segment",
    "customers.Visit",
    "customers.ServiceInteraction",
    "customers.Complaint",
    "loans.Product",
    "loans.LoanApplication",
    "loans.CreditLine",
    "loans.Loan",
    "loans.Installment",
]


def _counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in COUNTED}


@pytest.mark.django_db(transaction=True)
def test_seed_demo_builds_a_believable_bank_and_is_idempotent():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()

    assert "demo data ready" in out.getvalue()
    assert first["coop.OrgUnit"] >= 4  # head office and 3+ branches
    assert first["customers.Customer"] >= 200
    assert first["loans.Loan"] > 0
    loan_model = apps.get_model("loans.Loan")
    states = set(loan_model.objects.values_list("state", flat=True))
    assert {"active", "overdue", "settled"} <= states

    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first
