"""The grid coverage page over the village rollup: before the first refresh it computes live;
afterwards it shows the rollup's figures (granted and drawn included), equal to the live ones as
of the refresh, says when they are from, keeps to the user's grids, and changes with new data
only once refreshed. A grid's own page stays live."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from coop.dashboard import rollups
from coop.models import DashboardVillageRollup
from grid import metrics
from grid.models import Household
from grid.services.households import household_create
from grid.services.structure import grid_create, village_create
from tests.grid.test_grid_metrics import draw_on, entry_of
from tests.grid.test_grid_metrics import village_figures as grid_village_figures

village_figures = grid_village_figures

D = Decimal


def page_figures(client, user) -> dict:
    """Branch rows, grid rows and the total of the coverage page as ``user`` sees it."""
    client.force_login(user)
    response = client.get(reverse("grid:coverage"))
    assert response.status_code == 200
    context = response.context
    return {
        "branches": {branch.code: figures for branch, figures in context["branch_rows"]},
        "grids": {grid.code: figures for grid, figures in context["rows"]},
        "total": context["total"],
        "as_of": context["as_of"],
        "body": response.content.decode(),
    }


def other_village(world):
    """A second grid of B01 with one household of its own."""
    grid = grid_create(
        actor=world.manager,
        branch=world.org["B01"],
        code="B01-G02",
        name="管仲网格",
        account_manager=world.am2,
    )
    village = village_create(actor=world.manager, grid=grid, town="城关镇", name="管仲村")
    household_create(actor=world.am2, village=village, head_name="外村户")
    return grid, village


def test_the_rollup_holds_each_villages_live_figures_with_amounts(world, village_figures):
    _, other = other_village(world)
    refreshed_at = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 30))

    assert rollups.villages_refresh(now=refreshed_at) == 2

    live = metrics.household_figures(Household.objects.all(), "village")
    rows = {row.village_id: row for row in DashboardVillageRollup.objects.all()}
    assert set(rows) == {world.village.pk, other.pk}
    for village_id, row in rows.items():
        expected = live[village_id]
        assert (
            row.households,
            row.filed,
            row.evaluated,
            row.pre_credited,
            row.signed,
            row.granted,
            row.drawn,
        ) == (
            expected.households,
            expected.filed,
            expected.evaluated,
            expected.pre_credited,
            expected.signed,
            expected.granted,
            expected.drawn,
        ), village_id
    assert (rows[world.village.pk].granted, rows[world.village.pk].drawn) == (
        D("10000.00"),
        D("3000.00"),
    )
    assert (rows[other.pk].households, rows[other.pk].granted) == (1, D("0.00"))
    assert [row[:3] for row in rollups.village_rollup_rows(grid_id__in=[world.grid.pk])] == [
        (world.village.pk, world.grid.pk, world.grid.branch_id)
    ]


def test_the_coverage_page_reads_the_rollup_equal_to_live_and_says_when(
    client, world, village_figures, django_assert_max_num_queries
):
    other_grid, _ = other_village(world)
    live = page_figures(client, world.director)
    assert live["as_of"] is None
    assert 'data-testid="coverage-freshness"' in live["body"]
    assert live["grids"][world.grid.code].granted == D("10000.00")
    assert live["grids"][world.grid.code].drawn == D("3000.00")
    assert live["total"].households == 11

    refreshed_at = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 30))
    rollups.villages_refresh(now=refreshed_at)
    rolled = page_figures(client, world.director)

    assert rolled["as_of"] == refreshed_at
    assert "2026-03-02 09:30" in rolled["body"]
    for key in ("branches", "grids", "total"):
        assert rolled[key] == live[key], key
    assert set(rolled["grids"]) == {world.grid.code, other_grid.code}

    # New data shows only after the next refresh; the grid's own page is live at once.
    campaign = village_figures
    line = entry_of(campaign, Household.objects.get(head_name="建档户1")).credit_line
    draw_on(line, "2000.00", world.am)
    assert page_figures(client, world.director)["total"].drawn == D("3000.00")
    detail = client.get(reverse("grid:detail", args=[world.grid.pk]))
    assert detail.context["total"].drawn == D("5000.00")
    rollups.villages_refresh()
    assert page_figures(client, world.director)["total"].drawn == D("5000.00")

    # The rollup keeps the number of queries fixed: ten more grids, the same count.
    client.force_login(world.director)
    with django_assert_max_num_queries(14) as small:
        client.get(reverse("grid:coverage"))
    for n in range(10):
        grid = grid_create(
            actor=world.manager,
            branch=world.org["B01"],
            code=f"B01-G{n + 10}",
            name=f"网格{n}",
            account_manager=world.am2,
        )
        village = village_create(actor=world.manager, grid=grid, town="城关镇", name=f"村{n}")
        household_create(actor=world.am2, village=village, head_name=f"户{n}")
    rollups.villages_refresh()
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("grid:coverage"))
    assert response.context["total"].households == 21


def test_the_rollup_keeps_to_the_users_grids(client, world, village_figures):
    other_grid, _ = other_village(world)
    rollups.villages_refresh()

    manager = page_figures(client, world.manager)
    assert set(manager["grids"]) == {world.grid.code, other_grid.code}
    assert manager["total"].households == 11

    # An account manager sees the grids they own or serve on, and only those figures.
    am = page_figures(client, world.am)
    assert set(am["grids"]) == {world.grid.code}
    assert am["total"].households == 10
    assert am["total"].granted == D("10000.00")

    other = page_figures(client, world.other_manager)
    assert other["grids"] == {} and other["branches"] == {}
    assert other["total"].households == 0
    assert "五里湖" not in other["body"]
