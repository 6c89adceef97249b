"""The lifecycle demo data: loans in every state, built through the services, idempotent."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from django.db.models import Sum

from coop.demo import seed_all
from coop.models import User
from customers.models import Customer
from loans.demo_lifecycle import seed
from loans.models import CreditLine, DisbursementNotice, Installment, Loan, Repayment
from tests.loans import test_lifecycle_factories as factories

# Fixtures shared with the other lifecycle test modules.
lifecycle_roles = factories.lifecycle_roles


def _customers(branch: str, owner: str, count: int) -> None:
    from coop.models import OrgUnit

    unit = OrgUnit.objects.get(code=branch)
    manager = User.objects.get(username=owner)
    for n in range(count):
        Customer.objects.create(
            kind="individual",
            name=f"{branch}演示客户{n}",
            branch=unit,
            owner=manager,
            credit_rating=["general", "good", "excellent"][n % 3],
        )


def test_demo_has_every_state_and_runs_twice(lifecycle_roles):
    # Given the demo organisation and customers in two branches
    seed_all()
    _customers("B01", "b1_am1", 10)
    _customers("B02", "b2_am1", 4)

    # When the lifecycle demo is seeded twice
    first = seed()
    counts = (Loan.objects.count(), Repayment.objects.count(), CreditLine.objects.count())
    second = seed()

    # Then loans exist in every state and class, and the second run added nothing
    assert first.startswith("12 customers given credit")  # 9 in B01, 3 in B02
    assert (Loan.objects.count(), Repayment.objects.count(), CreditLine.objects.count()) == counts
    assert second.startswith("0 customers")
    states = Counter(Loan.objects.values_list("state", flat=True))
    assert set(states) == {
        "contracted",
        "active",
        "overdue",
        "settled",
        "written_off",
        "cancelled",
    }
    assert DisbursementNotice.objects.filter(status="cancelled").count() == states["cancelled"]
    classes = set(
        Loan.objects.filter(state__in=["active", "overdue"]).values_list(
            "classification", flat=True
        )
    )
    assert {"normal", "special_mention", "substandard", "doubtful", "loss"} <= classes
    assert DisbursementNotice.objects.filter(status="issued").exists()
    assert Loan.objects.filter(classification_locked=True).count() == 1
    # and every disbursed schedule reconciles to the fen
    for loan in Loan.objects.exclude(state__in=["contracted", "cancelled"]):
        total = Installment.objects.filter(loan=loan).aggregate(s=Sum("principal"))["s"]
        assert total == loan.principal
        paid = Installment.objects.filter(loan=loan).aggregate(s=Sum("paid_principal"))["s"]
        assert loan.outstanding_principal == loan.principal - paid
    assert Repayment.objects.aggregate(s=Sum("amount"))["s"] > Decimal("0")
