"""Who sees which grid: account managers their own grids (as owner or officer on duty), branch
staff their branch's, head office all; everything below a grid follows its grid."""

from datetime import date

from coop.roles import Role
from customers.models import Customer, Visit
from grid.models import Grid
from grid.selectors import (
    campaigns_visible,
    entries_visible,
    grid_customers_q,
    grids_visible,
    household_customers,
    households_visible,
    own_grids,
    villages_visible,
)
from grid.services.households import household_create, household_member_add
from grid.services.structure import grid_create, grid_officer_remove, village_create


def test_grid_scope_by_role(world, make_staff):
    b02 = grid_create(
        actor=world.other_manager,
        branch=world.org["B02"],
        code="B02-G01",
        name="谢桥网格",
        account_manager=world.other_am,
    )
    teller = make_staff(Role.TELLER, unit="B01-01")

    assert set(grids_visible(world.am)) == {world.grid}
    assert set(grids_visible(world.am2)) == {world.grid}  # officer on duty
    assert set(grids_visible(world.outsider_am)) == set()
    assert set(grids_visible(world.manager)) == {world.grid}
    assert set(grids_visible(world.other_manager)) == {b02}
    assert set(grids_visible(world.director)) == {world.grid, b02}
    assert set(grids_visible(teller)) == {world.grid}  # branch-wide, but holds no grid page
    assert not teller.has_perm("grid.view_grid")


def test_an_officer_taken_off_duty_loses_the_grid(world):
    officer = world.grid.officers.get(user=world.am2)
    grid_officer_remove(actor=world.manager, officer=officer, reason="调岗")

    assert set(grids_visible(world.am2)) == set()
    assert set(own_grids(world.am2)) == set()


def test_villages_households_and_campaigns_follow_their_grid(world):
    household = world.household("张建国")
    campaign = world.campaign()

    for user, expected in (
        (world.am, 1),
        (world.am3, 1),
        (world.outsider_am, 0),
        (world.other_manager, 0),
        (world.director, 1),
    ):
        assert villages_visible(user).count() == expected, user.username
        assert households_visible(user).count() == expected, user.username
        assert campaigns_visible(user).count() == expected, user.username
        assert entries_visible(user).count() == expected, user.username
    assert households_visible(world.am).get() == household
    assert campaigns_visible(world.am).get() == campaign


def test_grid_customers_are_the_heads_and_members_of_own_grids(world):
    household = world.household("李国强")
    daughter = world.customer("李小芳")
    household_member_add(
        actor=world.am,
        household=household,
        name="李小芳",
        relation="child",
        birth_year=1999,
        customer=daughter,
    )
    elsewhere = world.customer("别的客户", owner=world.outsider_am)

    for officer in (world.am, world.am2):
        visible = set(Customer.objects.filter(grid_customers_q(officer)))
        assert visible == {household.head, daughter}
    assert set(Customer.objects.filter(grid_customers_q(world.outsider_am))) == set()
    assert elsewhere not in Customer.objects.filter(grid_customers_q(world.am))
    # With a prefix, for related lookups (as customer_scope_q is used)
    visit = Visit.objects.create(
        customer=daughter,
        staff=world.am,
        visited_on=date(2026, 3, 2),
        channel="phone",
        outcome="contacted",
    )
    Visit.objects.create(
        customer=elsewhere,
        staff=world.outsider_am,
        visited_on=date(2026, 3, 2),
        channel="phone",
        outcome="contacted",
    )
    assert list(Visit.objects.filter(grid_customers_q(world.am, prefix="customer__"))) == [visit]


def test_household_customers_for_household_wide_exposure(world):
    household = world.household("王春生")
    son = world.customer("王小龙")
    household_member_add(
        actor=world.am,
        household=household,
        name="王小龙",
        relation="child",
        birth_year=2000,
        customer=son,
    )
    loner = world.customer("单身户")

    assert household_customers(son) == [son, household.head]
    assert household_customers(household.head) == [household.head, son]
    assert household_customers(loner) == [loner]


def test_a_second_grid_of_the_same_branch_is_not_an_account_managers(world):
    other = grid_create(
        actor=world.manager,
        branch=world.org["B01"],
        code="B01-G09",
        name="刘集网格",
        account_manager=world.outsider_am,
    )
    village = village_create(actor=world.manager, grid=other, town="城关镇", name="刘集村")
    household_create(actor=world.outsider_am, village=village, head_name="刘集户")

    assert set(grids_visible(world.am)) == {world.grid}
    assert households_visible(world.am).filter(village=village).count() == 0
    assert set(grids_visible(world.manager)) == {world.grid, other}
    assert Grid.objects.count() == 2
