"""Household files: completeness from configurable requirements, members with minimal fields
for the elderly and children, linking customers."""

from decimal import Decimal

import pytest

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from grid.models import FilingRequirement, Household, HouseholdMember
from grid.services.households import (
    household_create,
    household_member_add,
    household_member_remove,
    household_member_update,
    household_update,
)
from grid.services.structure import filing_requirement_update

D = Decimal


def test_a_complete_file_scores_100_and_the_head_is_its_first_member(world):
    household = world.household("张建国")

    assert household.completeness == 100
    assert household.is_filed
    [head] = household.members.all()
    assert (head.relation, head.name, head.customer, head.birth_year) == (
        "head",
        "张建国",
        household.head,
        1980,
    )
    assert household.member_count == 1
    event = AuditEvent.objects.get(action="household.create", object_id=str(household.pk))
    assert event.to_state == "completeness:100"


def test_completeness_counts_the_required_items_present(world):
    # Given a household with only its head's name: 7 items required by default, 0 present
    household = household_create(actor=world.am, village=world.village, head_name="李秀英")
    assert household.completeness == 0  # the head member lacks a birth year: members incomplete

    # When the village group, address and income sources are added: 3 of 7
    household = household_update(
        actor=world.am,
        household=household,
        village_group="3组",
        address="五里湖村3组",
        income_sources=["farming", "migrant_work"],
    )
    assert household.completeness == 3 * 100 // 7

    # And the head's birth year: members complete too, 4 of 7
    head = household.members.get(relation="head")
    household_member_update(actor=world.am, member=head, birth_year=1962)
    household.refresh_from_db()
    assert household.completeness == 4 * 100 // 7
    assert not household.is_filed


def test_the_elderly_and_children_need_name_relation_and_birth_year_only(world):
    household = world.household("王德明")
    household_member_add(
        actor=world.am, household=household, name="王奶奶", relation="parent", birth_year=1940
    )
    household_member_add(
        actor=world.am, household=household, name="王小宝", relation="grandchild", birth_year=2019
    )
    household.refresh_from_db()
    assert (household.member_count, household.completeness) == (3, 100)

    # A member working away must say where
    member = household_member_add(
        actor=world.am,
        household=household,
        name="王春生",
        relation="child",
        birth_year=1995,
        is_migrant=True,
    )
    household.refresh_from_db()
    assert household.migrant_count == 1
    assert household.completeness < 100
    household_member_update(actor=world.am, member=member, works_in="苏州")
    household.refresh_from_db()
    assert household.completeness == 100

    household_member_remove(actor=world.am, member=member)
    household.refresh_from_db()
    assert (household.member_count, household.migrant_count) == (3, 0)


def test_the_head_cannot_be_added_twice_or_removed(world):
    household = world.household("赵国庆")
    with pytest.raises(DomainError):
        household_member_add(
            actor=world.am, household=household, name="x", relation="head", birth_year=1970
        )
    with pytest.raises(DomainError):
        household_member_remove(actor=world.am, member=household.members.get(relation="head"))
    assert household.members.count() == 1


def test_changing_the_requirements_recomputes_every_score(world):
    complete = world.household("钱玉梅")
    assert complete.completeness == 100

    # When head office also requires the annual income (weight 2)
    annual = FilingRequirement.objects.get(item="annual_income")
    filing_requirement_update(actor=world.director, requirement=annual, required=True, weight=2)

    # Then the stored score follows: 7 of 9 weight present
    complete.refresh_from_db()
    assert complete.completeness == 7 * 100 // 9
    household_update(actor=world.am, household=complete, annual_income=D("36000"))
    complete.refresh_from_db()
    assert complete.completeness == 100


def test_a_customer_belongs_to_one_household_only(world):
    first = world.household("孙立新")
    other = household_create(actor=world.am, village=world.village, head_name="孙立国")
    with pytest.raises(DomainError):
        household_update(actor=world.am, household=other, head=first.head)
    with pytest.raises(DomainError):
        household_member_add(
            actor=world.am,
            household=other,
            name="孙立新",
            relation="sibling",
            birth_year=1980,
            customer=first.head,
        )
    other.refresh_from_db()
    assert other.head_id is None
    assert other.members.count() == 1


def test_the_head_must_be_a_visible_individual_of_the_grids_branch(world):
    foreign = world.customer("谢桥客户", owner=world.other_am, branch="B02")
    someone_elses = world.customer("别人的客户", owner=world.outsider_am)
    for head in (foreign, someone_elses):
        with pytest.raises(DomainError):
            household_create(actor=world.am, village=world.village, head_name="x", head=head)
    assert not Household.objects.exists()


def test_linking_the_head_later_updates_the_head_member(world):
    household = household_create(actor=world.am, village=world.village, head_name="周文斌")
    customer = world.customer("周文斌")

    household = household_update(actor=world.am, household=household, head=customer)

    head = household.members.get(relation="head")
    assert (head.customer, head.birth_year) == (customer, 1980)
    with pytest.raises(DomainError):
        household_update(actor=world.am, household=household, head=None)


def test_the_member_customer_link_is_unique_in_the_database(world):
    household = world.household("吴海燕")
    son = world.customer("吴小龙")
    household_member_add(
        actor=world.am,
        household=household,
        name="吴小龙",
        relation="child",
        birth_year=2000,
        customer=son,
    )
    assert HouseholdMember.objects.filter(customer=son).count() == 1
    with pytest.raises((DomainError, ConflictError)):
        household_member_add(
            actor=world.am,
            household=household,
            name="吴小龙",
            relation="child",
            birth_year=2000,
            customer=son,
        )
