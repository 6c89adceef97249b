"""The security tests' dataset: the demo cooperative plus one member of staff per role and
branch, built once per module inside a transaction that is rolled back at the module's end."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from coop.models import OrgUnit
from coop.roles import Role
from coop.services import staff_create
from tests.security.sweep_support import BRANCHES, Sweep, client_for, markers_by_branch

# --- what the demo does not have in every branch, made the way the application makes it ---------


def _grade_change(branch):
    from customers.models import Customer, GradeChange
    from customers.services.relationship import grade_change_propose

    if GradeChange.objects.filter(customer__branch__path__startswith=branch.path).exists():
        return
    customer = Customer.objects.filter(branch=branch).order_by("pk").first()
    grade_change_propose(
        actor=customer.owner,
        customer=customer,
        new_customer_class="partner" if customer.customer_class != "partner" else "maintenance",
        new_managing_level=customer.managing_level or "branch",
        new_industry_category=customer.industry_category or "moderate",
        new_customer_category=customer.customer_category or "moderate",
        reason="客户经营情况变化",
    )


def _village_campaign(branch):
    from grid.models import CampaignHousehold, Village, VillageCreditCampaign
    from grid.services.campaigns import (
        campaign_create,
        campaign_evaluators_set,
        campaign_households_add,
    )
    from loans.models import Product

    in_branch = {"village__grid__branch__path__startswith": branch.path}
    if CampaignHousehold.objects.filter(
        campaign__village__grid__branch__path__startswith=branch.path
    ).exists():
        return
    campaign = (
        VillageCreditCampaign.objects.filter(**in_branch, village__households__isnull=False)
        .order_by("pk")
        .first()
    )
    if campaign is None:
        village = (
            Village.objects.filter(grid__branch=branch, households__isnull=False)
            .select_related("grid__account_manager")
            .order_by("pk")
            .first()
        )
        am = village.grid.account_manager
        campaign = campaign_create(
            actor=am,
            village=village,
            name=f"{village.name}整村授信",
            project_manager=am,
            product=Product.objects.filter(code="farmer-microcredit").first()
            or Product.objects.order_by("pk").first(),
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + timedelta(days=60),
            tolerance=Decimal("0.20"),
        )
        officers = village.grid.officers.filter(user__isnull=False).select_related("user")
        evaluators = [am, *[o.user for o in officers[:2]]]
        if len(evaluators) == 3:
            campaign_evaluators_set(actor=am, campaign=campaign, evaluators=evaluators)
    campaign_households_add(
        actor=campaign.village.grid.account_manager, campaign=campaign, households=None
    )


def _committee_meeting(branch):
    from risk.models import ApprovalCase, CommitteeMeeting, CommitteePolicy

    if CommitteeMeeting.objects.filter(case__branch__path__startswith=branch.path).exists():
        return
    case = ApprovalCase.objects.filter(branch=branch).order_by("pk").first()
    policy = CommitteePolicy.objects.order_by("pk").first()
    # A meeting convened on an open case (the route to the committee stage is the risk tests'
    # subject; the sweep only needs a meeting that belongs to this branch).
    CommitteeMeeting.objects.create(
        case=case,
        stage=case.state,
        quorum=policy.quorum if policy else 5,
        majority_numerator=policy.majority_numerator if policy else 2,
        majority_denominator=policy.majority_denominator if policy else 3,
        convened_by=case.opened_by,
        convened_at=timezone.now(),
    )


def _holder(users, branch, perm):
    return next(
        u for (role, unit), u in sorted(users.items()) if unit == branch.code and u.has_perm(perm)
    )


def _blacklist_entry(branch, users):
    from customers.models import Customer
    from grid.models import BlacklistEntry
    from grid.services.structure import blacklist_add

    if BlacklistEntry.objects.filter(branch=branch).exists():
        return
    customer = (
        Customer.objects.filter(branch=branch, kind=Customer.Kind.INDIVIDUAL)
        .order_by("-pk")
        .first()
    )
    actor = _holder(users, branch, "grid.add_blacklistentry")
    blacklist_add(actor=actor, reason="多次逾期未还", customer=customer)


def _classification_override(branch, users):
    from loans.models import ClassificationOverride, Loan
    from loans.services.classification import classification_override_propose

    if ClassificationOverride.objects.filter(loan__branch=branch).exists():
        return
    loan = (
        Loan.objects.filter(branch=branch, state__in=[Loan.State.ACTIVE, Loan.State.OVERDUE])
        .order_by("pk")
        .first()
    )
    if loan is None:
        return  # the sweep then names the missing object
    actor = _holder(users, branch, "loans.override_classification")
    to_class = "special_mention" if loan.classification != "special_mention" else "normal"
    classification_override_propose(actor=actor, loan=loan, to_class=to_class, reason="贷后检查")


def _plan_day(branch, users):
    from grid.models import CampaignDayPlan, VillageCreditCampaign
    from grid.services.campaigns import campaign_plan_day_set

    in_branch = {"village__grid__branch": branch}
    if CampaignDayPlan.objects.filter(campaign__village__grid__branch=branch).exists():
        return
    campaign = VillageCreditCampaign.objects.filter(**in_branch).order_by("pk").first()
    campaign_plan_day_set(
        actor=campaign.village.grid.account_manager,
        campaign=campaign,
        day=campaign.starts_on,
        task="入户评议",
        planned_evaluations=10,
    )


def _supplement(branch, users) -> None:
    _grade_change(branch)
    _village_campaign(branch)
    _committee_meeting(branch)
    _blacklist_entry(branch, users)
    _classification_override(branch, users)
    _plan_day(branch, users)


@pytest.fixture(scope="module")
def sweep(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            units = {u.code: u for u in OrgUnit.objects.all()}
            users, clients = {}, {}
            for role in Role.values:
                for unit in (*BRANCHES, "HQ"):
                    code = f"{unit}-01" if role == Role.TELLER and unit != "HQ" else unit
                    user = staff_create(
                        username=f"sweep_{role}_{unit}",
                        name=f"Sweep {role} {unit}",
                        org_unit=units[code],
                        roles=[role],
                        password=None,
                    )
                    users[(role, unit)] = user
                    clients[(role, unit)] = client_for(user)
            for branch in BRANCHES:
                _supplement(units[branch], users)
            # Statistics for the rows just written (visible to this transaction only), as a
            # bank's database has them: planned on the empty tables' statistics, the surveys
            # analysis nests loops over every answer and a fuzzed dashboard takes seconds.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            nobody = staff_create(
                username="sweep_no_role",
                name="Sweep",
                org_unit=units["B01"],
                roles=[],
                password=None,
            )
            yield Sweep(
                units=units,
                clients=clients,
                users=users,
                no_role=client_for(nobody),
                no_role_user=nobody,
                markers=markers_by_branch(units),
            )
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
