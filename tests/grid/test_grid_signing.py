"""Signing: one transaction per household creates the credit line and sets the customer's
rating — all or nothing; refusals, households away, batch signing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils.translation import gettext

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from customers.models import Customer
from grid.models import CampaignHousehold
from grid.services import signing
from grid.services.campaigns import campaign_household_decide, campaign_reconcile
from grid.services.signing import (
    campaign_household_away,
    campaign_household_refuse,
    campaign_household_sign,
    campaign_sign_many,
)
from loans.models import CreditLine

D = Decimal


def pre_credited(world, *households, limits=("5000", "5000", "5000")):
    campaign = world.crediting()
    for household in households:
        entry = CampaignHousehold.objects.get(campaign=campaign, household=household)
        world.evaluate(entry, *[("good", limit) for limit in limits])
    campaign_reconcile(actor=world.am, campaign=campaign)
    return campaign, [
        CampaignHousehold.objects.get(campaign=campaign, household=h) for h in households
    ]


def test_signing_grants_the_credit_line_and_sets_the_rating(world):
    household = world.household("张建国")
    campaign, [entry] = pre_credited(world, household)

    entry = campaign_household_sign(actor=world.am, entry=entry)

    line = entry.credit_line
    today = timezone.localdate()
    assert (entry.signing, entry.channel, entry.signed_by) == ("signed", "door_to_door", world.am)
    assert line.customer == household.head
    assert (line.product, line.limit, line.source) == (world.product, D("5000"), "village_campaign")
    assert line.valid_from == today
    assert line.valid_to == today + relativedelta(months=24) - timedelta(days=1)
    assert line.revolving is False
    customer = Customer.objects.get(pk=household.head_id)
    assert (customer.credit_rating, customer.credit_rated_on) == ("good", today)
    rating_event = AuditEvent.objects.get(action="customer.credit_rating")
    assert (rating_event.from_state, rating_event.to_state) == ("", "good")
    sign_event = AuditEvent.objects.get(action="campaign_household.sign")
    assert (sign_event.from_state, sign_event.to_state) == ("pending", "signed")


def test_signing_twice_is_refused(world):
    household = world.household("李秀英")
    _campaign, [entry] = pre_credited(world, household)
    campaign_household_sign(actor=world.am, entry=entry)

    with pytest.raises(ConflictError):
        campaign_household_sign(actor=world.am, entry=entry)
    assert CreditLine.objects.filter(customer=household.head).count() == 1


def test_a_head_without_a_customer_file_cannot_sign(world):
    household = world.household("王桂兰", filed=False)
    _campaign, [entry] = pre_credited(world, household)

    with pytest.raises(DomainError) as refused:
        campaign_household_sign(actor=world.am, entry=entry)

    assert refused.value.code == "head_not_filed"
    assert str(refused.value) == gettext("File the head of household as a customer first.")
    entry.refresh_from_db()
    assert (entry.signing, entry.credit_line_id) == ("pending", None)
    assert not CreditLine.objects.exists()


def test_a_limit_the_product_refuses_leaves_nothing_behind(world):
    # Given a pre-credit above the product's maximum (the group decided ¥300,000)
    household = world.household("刘德明")
    campaign, [entry] = pre_credited(world, household, limits=("1000", "9000", "50000"))
    campaign_household_decide(
        actor=world.manager, entry=entry, limit=D("300000"), rating="excellent", comment="大户"
    )
    entry.refresh_from_db()

    # When signing fails in the loans service — after the rating was already written
    with pytest.raises(DomainError):
        campaign_household_sign(actor=world.am, entry=entry)

    # Then nothing of the signing remains: no line, no rating, no audit rows, still pending
    customer = Customer.objects.get(pk=household.head_id)
    assert (customer.credit_rating, customer.credit_rated_on) == ("", None)
    assert not CreditLine.objects.exists()
    assert not AuditEvent.objects.filter(
        action__in=["customer.credit_rating", "credit_line.grant", "campaign_household.sign"]
    ).exists()
    entry.refresh_from_db()
    assert (entry.signing, entry.credit_line_id, entry.signed_at) == ("pending", None, None)


def test_a_failure_after_the_credit_line_was_created_rolls_it_back(world, monkeypatch):
    household = world.household("陈春生")
    _campaign, [entry] = pre_credited(world, household)
    real_audit = signing.audit_record

    def failing_audit(**kwargs):
        if kwargs["action"] == "campaign_household.sign":
            raise RuntimeError("disk full")
        return real_audit(**kwargs)

    monkeypatch.setattr(signing, "audit_record", failing_audit)

    with pytest.raises(RuntimeError):
        campaign_household_sign(actor=world.am, entry=entry)

    assert not CreditLine.objects.exists()
    assert Customer.objects.get(pk=household.head_id).credit_rating == ""
    entry.refresh_from_db()
    assert entry.signing == "pending"


def test_batch_signing_signs_each_household_in_its_own_transaction(world):
    filed = [world.household(f"集中签约{i}") for i in range(3)]
    unfiled = world.household("未建档户", filed=False)
    campaign, entries = pre_credited(world, *filed, unfiled)

    result = campaign_sign_many(
        actor=world.am, campaign=campaign, entries=entries, channel="centralized"
    )

    assert [e.household.head_name for e in result.signed] == [h.head_name for h in filed]
    assert [(e.household_id, reason) for e, reason in result.failed] == [
        (unfiled.pk, gettext("File the head of household as a customer first."))
    ]
    assert CreditLine.objects.filter(source="village_campaign").count() == 3
    assert set(
        CampaignHousehold.objects.filter(campaign=campaign).values_list("signing", "channel")
    ) == {("signed", "centralized"), ("pending", "")}


def test_refusal_and_away_from_home(world):
    refusing = world.household("拒签户")
    away = world.household("外出户")
    _campaign, [entry_refusing, entry_away] = pre_credited(world, refusing, away)
    follow_up = timezone.localdate() + timedelta(days=20)

    with pytest.raises(DomainError):
        campaign_household_refuse(actor=world.am, entry=entry_refusing, reason="")
    entry = campaign_household_refuse(actor=world.am, entry=entry_refusing, reason="暂无资金需求")
    assert (entry.signing, entry.refusal_reason) == ("refused", "暂无资金需求")

    with pytest.raises(DomainError):
        campaign_household_away(
            actor=world.am,
            entry=entry_away,
            note="在苏州务工",
            follow_up_on=timezone.localdate() - timedelta(days=1),
        )
    entry = campaign_household_away(
        actor=world.am, entry=entry_away, note="在苏州务工，春节回村", follow_up_on=follow_up
    )
    assert (entry.signing, entry.away_follow_up_on) == ("away", follow_up)

    # A household that refused may still change its mind and sign
    signed = campaign_household_sign(actor=world.am, entry=entry_refusing)
    assert signed.signing == "signed"
    signed_away = campaign_household_sign(actor=world.am, entry=entry_away, channel="counter")
    assert (signed_away.signing, signed_away.channel) == ("signed", "counter")


def test_households_without_pre_credit_cannot_sign(world):
    household = world.household("待评户")
    campaign = world.crediting()
    entry = CampaignHousehold.objects.get(campaign=campaign, household=household)
    with pytest.raises(ConflictError):
        campaign_household_sign(actor=world.am, entry=entry)
    with pytest.raises(ConflictError):
        campaign_household_refuse(actor=world.am, entry=entry, reason="x")
    assert not CreditLine.objects.exists()


def test_signing_under_the_tiered_farmer_microcredit(world):
    """Seed 000/001: the product's tier follows the rating the campaign gives the customer."""
    from loans.demo_origination import seed_products

    world.product = seed_products()["farmer-microcredit"]
    good = world.household("较好户")
    too_high = world.household("超档户")
    campaign = world.crediting()
    world.evaluate(
        CampaignHousehold.objects.get(campaign=campaign, household=good), *[("good", "5000")] * 3
    )
    world.evaluate(
        CampaignHousehold.objects.get(campaign=campaign, household=too_high),
        *[("general", "5000")] * 3,
    )
    campaign_reconcile(actor=world.am, campaign=campaign)

    signed = campaign_household_sign(
        actor=world.am, entry=CampaignHousehold.objects.get(campaign=campaign, household=good)
    )
    assert (signed.credit_line.limit, Customer.objects.get(pk=good.head_id).credit_rating) == (
        D("5000.00"),
        "good",
    )
    # "General" households get at most ¥3,000: the loans service refuses, nothing is kept
    with pytest.raises(DomainError):
        campaign_household_sign(
            actor=world.am,
            entry=CampaignHousehold.objects.get(campaign=campaign, household=too_high),
        )
    assert Customer.objects.get(pk=too_high.head_id).credit_rating == ""
    assert CreditLine.objects.count() == 1
