"""The origination demo seed: the catalogue, then a few applications per branch; idempotent."""

from __future__ import annotations

from decimal import Decimal

from coop.models import AuditEvent
from loans.demo_origination import seed
from loans.models import LoanApplication, Product
from tests.loans import test_origination_support as support
from tests.loans.test_origination_support import make_customer

D = Decimal

# Shared fixtures, bound here so pytest finds them in this module.
people = support.people
origination_roles = support.origination_roles


def test_seed_makes_applications_once_and_valid(org, people):
    # Given the lead's customers: rated individuals and a corporate, owned by account managers
    general = make_customer(org, people.am, rating="general", name="周一般")
    good = make_customer(org, people.am, rating="good", name="吴较好")
    excellent = make_customer(org, people.am2, rating="excellent", name="郑优秀")
    company = make_customer(org, people.am2, rating="", kind="corporate", name="颍上县绿源农业公司")
    other_branch = make_customer(org, people.other_am, rating="good", branch="B02")

    first = seed()
    second = seed()

    assert Product.objects.count() == 10
    applications = {a.customer_id: a for a in LoanApplication.objects.select_related("product")}
    assert set(applications) == {general.pk, good.pk, excellent.pk, company.pk, other_branch.pk}
    assert (applications[general.pk].product.code, applications[general.pk].amount) == (
        "farmer-microcredit",
        D("3000.00"),
    )
    assert applications[good.pk].amount == D("5000.00")
    assert applications[excellent.pk].amount == D("10000.00")
    assert applications[company.pk].product.code == "small-enterprise"
    assert applications[company.pk].guarantors.count() == 1
    assert all(a.prepared_by == a.customer.owner for a in applications.values())
    assert sorted(a.state for a in applications.values()) == [
        "draft",
        "draft",
        "draft",
        "submitted",
        "submitted",
    ]
    assert "5 new applications (2 submitted)" in first
    assert "0 new applications (0 submitted), 5 applications in all" in second
    assert AuditEvent.objects.filter(action="loan_application.create").count() == 5
