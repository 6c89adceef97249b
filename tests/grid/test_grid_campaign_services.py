"""Campaign services: phases, screening (exclusions), evaluation, batch reconciliation and the
batch-credit group's decisions. Failure paths change nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from grid.models import BlacklistEntry, CampaignHousehold, Evaluation, VillageCreditCampaign
from grid.services.campaigns import (
    campaign_create,
    campaign_evaluators_set,
    campaign_household_decide,
    campaign_household_exclude,
    campaign_households_add,
    campaign_reconcile,
    campaign_screen,
    campaign_start_crediting,
    campaign_start_follow_up,
    evaluation_submit,
)
from grid.services.structure import blacklist_add

D = Decimal
Phase = VillageCreditCampaign.Phase


def entry_of(campaign, household) -> CampaignHousehold:
    return CampaignHousehold.objects.get(campaign=campaign, household=household)


# --- phases -----------------------------------------------------------------------------------


def test_crediting_needs_three_evaluators_and_households(world):
    # Given a campaign in preparation without evaluators
    world.household("张建国")
    campaign = campaign_create(
        actor=world.am,
        village=world.village,
        name="五里湖村整村授信",
        project_manager=world.am,
        product=world.product,
        starts_on=date(2026, 1, 5),
        ends_on=date(2026, 3, 31),
    )

    # When crediting is started, it is refused and nothing changes
    with pytest.raises(ConflictError) as refused:
        campaign_start_crediting(actor=world.am, campaign=campaign)
    assert refused.value.code == "evaluators"
    campaign.refresh_from_db()
    assert campaign.phase == Phase.PREPARATION

    campaign_evaluators_set(actor=world.am, campaign=campaign, evaluators=world.evaluators)
    with pytest.raises(ConflictError) as refused:
        campaign_start_crediting(actor=world.am, campaign=campaign)
    assert refused.value.code == "no_households"

    # Then with households it moves to crediting, with an audit row
    campaign_households_add(actor=world.am, campaign=campaign)
    campaign_start_crediting(actor=world.am, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.phase == Phase.CREDITING
    event = AuditEvent.objects.get(action="campaign.start_crediting", object_id=str(campaign.pk))
    assert (event.from_state, event.to_state, event.actor) == ("preparation", "crediting", world.am)


def test_one_open_campaign_per_village(world):
    world.campaign()
    with pytest.raises(ConflictError):
        world.campaign()
    assert VillageCreditCampaign.objects.count() == 1


def test_evaluators_must_be_three_staff_of_the_grid(world):
    campaign = world.campaign()
    before = list(campaign.evaluator_slots.values_list("user_id", flat=True))

    with pytest.raises(DomainError):
        campaign_evaluators_set(actor=world.am, campaign=campaign, evaluators=[world.am, world.am2])
    with pytest.raises(DomainError):
        campaign_evaluators_set(
            actor=world.am, campaign=campaign, evaluators=[world.am, world.am2, world.am2]
        )
    with pytest.raises(DomainError):  # another branch's account manager cannot see the grid
        campaign_evaluators_set(
            actor=world.am, campaign=campaign, evaluators=[world.am, world.am2, world.other_am]
        )

    assert list(campaign.evaluator_slots.values_list("user_id", flat=True)) == before


def test_follow_up_waits_for_the_batch_credit_group(world):
    household = world.household("李国强")
    campaign = world.crediting()
    world.evaluate(
        entry_of(campaign, household), ("good", "3000"), ("good", "5000"), ("good", "9000")
    )
    campaign_reconcile(actor=world.am, campaign=campaign)

    with pytest.raises(ConflictError) as refused:
        campaign_start_follow_up(actor=world.am, campaign=campaign)
    assert refused.value.code == "pending_decisions"

    campaign_household_decide(
        actor=world.manager,
        entry=entry_of(campaign, household),
        limit=D("5000"),
        rating="good",
        comment="按中位数折中",
    )
    campaign_start_follow_up(actor=world.am, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.phase == Phase.FOLLOW_UP


# --- screening --------------------------------------------------------------------------------


def test_bad_credit_and_blacklisted_households_are_screened_out(world):
    # Given five households: clean, NPL loan, 91 days past due, 90 days past due, blacklisted
    clean = world.household("赵一")
    npl = world.household("钱二")
    world.loan(npl.head, classification="doubtful")
    overdue = world.household("孙三")
    world.loan(overdue.head, classification="special_mention", days_past_due=91)
    borderline = world.household("李四")
    world.loan(borderline.head, classification="special_mention", days_past_due=90)
    listed = world.household("周五", filed=False)
    blacklist_add(actor=world.manager, household=listed, reason="恶意拖欠民间借贷")

    # When the campaign targets the village (screening runs at once)
    campaign = world.campaign()

    # Then exactly the bad records are excluded, each with its reason
    reasons = dict(campaign.entries.values_list("household__head_name", "excluded_reason"))
    assert reasons == {
        "赵一": "",
        "钱二": "bad_credit",
        "孙三": "bad_credit",
        "李四": "",
        "周五": "blacklist",
    }
    assert entry_of(campaign, clean).excluded_at is None
    assert AuditEvent.objects.filter(action="campaign_household.screen").count() == 3


def test_a_blacklisted_family_member_excludes_the_household(world):
    from grid.services.households import household_member_add

    household = world.household("吴建华")
    son = world.customer("吴小龙")
    household_member_add(
        actor=world.am,
        household=household,
        name="吴小龙",
        relation="child",
        birth_year=1998,
        customer=son,
    )
    blacklist_add(actor=world.manager, customer=son, reason="骗贷记录")

    campaign = world.campaign()

    assert entry_of(campaign, household).excluded_reason == "blacklist"


def test_screening_again_catches_new_records_but_leaves_signed_households(world):
    household = world.household("郑六")
    campaign = world.crediting()
    assert entry_of(campaign, household).excluded_reason == ""

    world.loan(household.head, classification="loss")
    excluded = campaign_screen(actor=world.am, campaign=campaign)

    assert excluded == 1
    assert entry_of(campaign, household).excluded_reason == "bad_credit"


def test_manual_exclusion_needs_a_reason(world):
    household = world.household("冯七")
    campaign = world.campaign()
    entry = entry_of(campaign, household)

    with pytest.raises(DomainError):
        campaign_household_exclude(actor=world.am, entry=entry, note="  ")
    assert entry_of(campaign, household).excluded_reason == ""

    campaign_household_exclude(actor=world.am, entry=entry, note="长期在外，联系不上")
    entry.refresh_from_db()
    assert (entry.excluded_reason, entry.exclusion_note) == ("manual", "长期在外，联系不上")


def test_blacklisting_twice_is_refused(world):
    household = world.household("陈八")
    blacklist_add(actor=world.manager, customer=household.head, reason="涉诉")
    with pytest.raises(ConflictError):
        blacklist_add(actor=world.manager, customer=household.head, reason="again")
    assert BlacklistEntry.objects.count() == 1


# --- evaluation -------------------------------------------------------------------------------


def test_evaluations_count_and_close_when_the_third_is_in(world):
    household = world.household("褚九")
    campaign = world.crediting()
    entry = entry_of(campaign, household)

    evaluation_submit(actor=world.am, entry=entry, rating="good", suggested_limit=D("5000"))
    evaluation_submit(actor=world.am, entry=entry, rating="excellent", suggested_limit=D("6000"))
    entry.refresh_from_db()
    assert (entry.submitted_count, entry.evaluated_at) == (1, None)
    assert Evaluation.objects.get(entry=entry, evaluator=world.am).suggested_limit == D("6000")

    evaluation_submit(actor=world.am2, entry=entry, rating="good", suggested_limit=D("5000"))
    evaluation_submit(actor=world.am3, entry=entry, rating="good", suggested_limit=D("5000"))
    entry.refresh_from_db()
    assert entry.submitted_count == 3
    assert entry.evaluated_at is not None

    # Then all three are final
    with pytest.raises(ConflictError):
        evaluation_submit(actor=world.am, entry=entry, rating="general", suggested_limit=D("1"))
    assert Evaluation.objects.get(entry=entry, evaluator=world.am).rating == "excellent"


def test_audit_rows_of_evaluations_carry_no_values(world):
    household = world.household("卫十")
    campaign = world.crediting()
    evaluation_submit(
        actor=world.am,
        entry=entry_of(campaign, household),
        rating="good",
        suggested_limit=D("7300"),
    )
    event = AuditEvent.objects.get(action="evaluation.submit")
    assert "7300" not in str(event.data) + event.comment + event.to_state
    assert event.to_state == "1/3"


@pytest.mark.parametrize(
    ("rating", "limit"), [("gold", "5000"), ("good", "-1"), ("good", "100.005"), ("good", "")]
)
def test_bad_evaluations_are_refused_and_change_nothing(world, rating, limit):
    household = world.household("蒋十一")
    campaign = world.crediting()
    entry = entry_of(campaign, household)
    with pytest.raises(DomainError):
        evaluation_submit(actor=world.am, entry=entry, rating=rating, suggested_limit=limit)
    entry.refresh_from_db()
    assert entry.submitted_count == 0
    assert not Evaluation.objects.exists()


def test_only_the_campaigns_evaluators_evaluate_and_only_while_crediting(world):
    household = world.household("沈十二")
    campaign = world.campaign()
    entry = entry_of(campaign, household)
    with pytest.raises(ConflictError):
        evaluation_submit(actor=world.am, entry=entry, rating="good", suggested_limit=D("5000"))
    campaign_start_crediting(actor=world.am, campaign=campaign)
    with pytest.raises(PermissionDenied):
        evaluation_submit(
            actor=world.outsider_am, entry=entry, rating="good", suggested_limit=D("5000")
        )
    assert not Evaluation.objects.exists()


# --- reconciliation ---------------------------------------------------------------------------


def test_batch_reconciliation_of_a_village(world):
    # Given four households with all evaluations in and one still being evaluated
    close = world.household("韩一", group="1组")
    boundary = world.household("杨二", group="1组")
    apart = world.household("朱三", group="2组")
    no_majority = world.household("秦四", group="2组")
    waiting = world.household("尤五", group="3组")
    campaign = world.crediting()
    world.evaluate(
        entry_of(campaign, close), ("good", "5000"), ("good", "5500"), ("excellent", "5900")
    )
    world.evaluate(
        entry_of(campaign, boundary), ("good", "9000"), ("good", "10000"), ("good", "11000")
    )
    world.evaluate(
        entry_of(campaign, apart), ("good", "9000"), ("good", "10000"), ("good", "11000.01")
    )
    world.evaluate(
        entry_of(campaign, no_majority),
        ("general", "3000"),
        ("good", "3000"),
        ("excellent", "3000"),
    )
    world.evaluate(entry_of(campaign, waiting), ("good", "5000"), ("good", "5000"))

    # When the village is reconciled in one call
    counts = campaign_reconcile(actor=world.am, campaign=campaign)

    # Then close results are pre-credited at once, compromises wait for the group
    assert counts == {"reconciled": 4, "close": 2, "compromise": 2, "pre_credited": 2}
    e = entry_of(campaign, close)
    assert (e.outcome, e.limit_rule, e.rating_rule) == ("close", "mean", "majority")
    assert (e.proposed_limit, e.limit, e.rating) == (D("5000"), D("5000"), "good")
    assert e.pre_credited_at is not None
    assert e.reconcile_inputs["mean"] == "5466.67"
    assert sorted(e.reconcile_inputs["limits"]) == ["5000.00", "5500.00", "5900.00"]
    e = entry_of(campaign, boundary)
    assert (e.outcome, e.limit) == ("close", D("10000"))
    e = entry_of(campaign, apart)
    assert (e.outcome, e.limit_rule, e.proposed_limit, e.limit) == (
        "compromise",
        "median",
        D("10000"),
        None,
    )
    assert e.pre_credited_at is None
    assert e.awaits_decision
    e = entry_of(campaign, no_majority)
    assert (e.outcome, e.rating_rule, e.proposed_rating) == ("compromise", "middle", "good")
    assert entry_of(campaign, waiting).reconciled_at is None
    assert AuditEvent.objects.filter(action="campaign_household.reconcile").count() == 4

    # And reconciling again touches nothing
    assert campaign_reconcile(actor=world.am, campaign=campaign)["reconciled"] == 0


def test_batch_reconciliation_uses_a_fixed_number_of_queries(world):
    households = [world.household(f"批量{i}") for i in range(12)]
    campaign = world.crediting()
    for household in households:
        world.evaluate(
            entry_of(campaign, household), ("good", "5000"), ("good", "5000"), ("good", "5000")
        )
    with CaptureQueriesContext(connection) as queries:
        campaign_reconcile(actor=world.am, campaign=campaign)
    # lock campaign, lock entries, evaluations, bulk update, bulk audit, audit row, savepoints
    assert len(queries) <= 10


def test_the_group_decides_compromises_with_a_comment(world):
    household = world.household("许六")
    campaign = world.crediting()
    world.evaluate(
        entry_of(campaign, household), ("good", "2000"), ("good", "5000"), ("good", "9000")
    )
    campaign_reconcile(actor=world.am, campaign=campaign)
    entry = entry_of(campaign, household)

    # An evaluator may not decide; a decision needs a comment
    with pytest.raises(PermissionDenied):
        campaign_household_decide(
            actor=world.am, entry=entry, limit=D("5000"), rating="good", comment="ok"
        )
    with pytest.raises(DomainError):
        campaign_household_decide(
            actor=world.manager, entry=entry, limit=D("5000"), rating="good", comment=""
        )
    entry.refresh_from_db()
    assert (entry.decided_at, entry.limit) == (None, None)

    campaign_household_decide(
        actor=world.manager, entry=entry, limit=D("4000"), rating="good", comment="收入不稳定"
    )
    entry.refresh_from_db()
    assert (entry.limit, entry.rating, entry.decided_by) == (D("4000"), "good", world.manager)
    assert entry.pre_credited_at is not None
    with pytest.raises(ConflictError):
        campaign_household_decide(
            actor=world.manager, entry=entry, limit=D("1000"), rating="good", comment="again"
        )


def test_the_group_may_decline_credit(world):
    household = world.household("何七")
    campaign = world.crediting()
    world.evaluate(
        entry_of(campaign, household), ("general", "0"), ("good", "3000"), ("good", "9000")
    )
    campaign_reconcile(actor=world.am, campaign=campaign)

    entry = campaign_household_decide(
        actor=world.manager,
        entry=entry_of(campaign, household),
        limit=D("0"),
        rating="",
        comment="评议分歧大，暂不授信",
    )

    assert (entry.limit, entry.pre_credited_at, entry.stage) == (D("0"), None, "not_credited")
