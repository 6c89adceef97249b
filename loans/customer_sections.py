"""The loans section of the customer 360 page: credit lines, loans and open applications."""

from __future__ import annotations

from django.db.models import Sum

from customers.profile_sections import Section, register
from loans.models import CreditLine, GuaranteeContract, Loan, LoanApplication

SECTION_SIZE = 10
LIVE_STATES = (Loan.State.CONTRACTED, Loan.State.ACTIVE, Loan.State.OVERDUE)


def loans_context(*, user, customer) -> dict | None:
    # The customer is already in the user's scope (the page fetched it through the scoped
    # selector); what remains is whether the user's roles see loans at all.
    if not user.has_perm("loans.view_loan"):
        return None
    loans = list(
        Loan.objects.filter(customer=customer)
        .select_related("product")
        .order_by("-created_at", "-id")[:SECTION_SIZE]
    )
    outstanding = Loan.objects.filter(customer=customer, state__in=LIVE_STATES).aggregate(
        total=Sum("outstanding_principal")
    )["total"]
    lines = list(
        CreditLine.objects.filter(customer=customer)
        .select_related("product")
        .order_by("-created_at", "-id")[:SECTION_SIZE]
    )
    applications = []
    if user.has_perm("loans.view_loanapplication"):
        applications = list(
            LoanApplication.objects.filter(
                customer=customer,
                state__in=(LoanApplication.State.DRAFT, LoanApplication.State.SUBMITTED),
            )
            .select_related("product")
            .order_by("-created_at", "-id")[:SECTION_SIZE]
        )
    guarantees = list(
        GuaranteeContract.objects.filter(customer=customer).order_by("-valid_to", "-id")[
            :SECTION_SIZE
        ]
    )
    return {
        "customer": customer,
        "loans": loans,
        "outstanding": outstanding or 0,
        "credit_lines": lines,
        "guarantees": guarantees,
        "applications": applications,
        "can_grant": user.has_perm("loans.add_creditline"),
        "can_record_guarantee": user.has_perm("loans.add_guaranteecontract"),
    }


register(Section(key="loans", template="loans/customer_section.html", context=loans_context))
