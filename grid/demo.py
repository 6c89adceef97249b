"""Demo grids, villages, households and whole-village credit campaigns.

Builds on the demo organisation, customers and product catalogue (run after them). Per branch:
one grid per account manager, with the other account managers as staff officers and a village
cadre and a financial liaison officer without a login; the branch's villages shared out among
its grids; a household for each individual demo customer whose address names a village (head =
the customer, with spouse, children, elderly parents and members working away), plus a few
households not yet filed as customers. In 城关支行 three campaigns show the three phases:
五里湖村 in follow-up with signed credit lines, 管仲村 crediting with back-to-back evaluations
half done, 刘集村 in preparation; in 谢桥支行 谢桥村 in follow-up as well, so both branches
have credited households to follow up.

Idempotent: grids are found by code, villages by town and name, households by head customer (or
village and head name), campaigns by village and name; a campaign that exists is left as it is.
Everything is written through the grid services, as staff would; only the timestamps of the
follow-up campaign are spread back over its weeks afterwards, so its progress charts read like
a campaign that took time rather than one afternoon.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coop.models import OrgUnit, User
from coop.roles import Role, sync_roles
from customers.models import Customer, Occupation
from grid.models import (
    CampaignHousehold,
    Grid,
    GridOfficer,
    Household,
    HouseholdMember,
    Village,
    VillageCreditCampaign,
)
from grid.services.campaigns import (
    campaign_create,
    campaign_evaluators_set,
    campaign_household_decide,
    campaign_households_add,
    campaign_plan_day_set,
    campaign_reconcile,
    campaign_start_crediting,
    campaign_start_follow_up,
    evaluation_submit,
)
from grid.services.households import household_card_record, household_create, household_member_add
from grid.services.signing import (
    campaign_household_away,
    campaign_household_refuse,
    campaign_household_sign,
)
from grid.services.structure import blacklist_add, grid_create, grid_officer_add, village_create
from loans.demo_lifecycle import draw_and_disburse

D = Decimal
TOWNS = {
    "B01": ("城关镇", ["五里湖村", "管仲村", "刘集村", "东十八里村", "西三十里村"]),
    "B02": ("谢桥镇", ["谢桥村", "张营村", "毛庄村", "杨湖村"]),
    "B03": ("新集镇", ["新集村", "李桥村", "马店村", "朱寨村"]),
    "B04": ("江店孜镇", ["江店村", "王岗村", "黄桥村", "沈庄村"]),
}
ADDRESS = re.compile(r"(?P<village>[^县镇]+村)(?P<group>\d+组)?$")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
MALE = ["建国", "志强", "永刚", "卫东", "德明", "国庆", "春生", "金山", "大勇", "新民"]
FEMALE = ["秀英", "桂兰", "玉梅", "春燕", "红霞", "凤英", "淑珍", "翠花", "玉兰", "月娥"]
CHILDREN = ["子轩", "浩然", "欣怡", "雨涵", "梦琪", "天佑", "思雨", "家豪"]
CITIES = ["上海", "苏州", "杭州", "合肥", "宁波", "深圳", "南京"]
INCOME = {
    Occupation.FARMER: ["farming"],
    Occupation.BREEDER: ["breeding", "farming"],
    Occupation.MIGRANT_WORKER: ["migrant_work", "farming"],
    Occupation.MERCHANT: ["business"],
    Occupation.SALARIED: ["salary"],
    Occupation.CIVIL_SERVANT: ["salary"],
    Occupation.RETIRED: ["pension", "farming"],
}
# Farmer microcredit tiers (seed 000/001): a suggested limit that fits each rating.
LIMITS = {"general": (2000, 3000), "good": (4000, 5000), "excellent": (7000, 10000)}
GRADES = ["general", "good", "excellent"]


def _staff(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def _branch_staff(branch: OrgUnit, role: str) -> list[User]:
    return list(
        User.objects.filter(
            org_unit__path__startswith=branch.path, groups__name=role, is_active=True
        ).order_by("username")
    )


# --- grids and villages -----------------------------------------------------------------------


def _grids(branch: OrgUnit, rng: random.Random) -> list[tuple[Grid, list[Village]]]:
    managers = _branch_staff(branch, Role.ACCOUNT_MANAGER)
    boss = next(iter(_branch_staff(branch, Role.BRANCH_MANAGER)), None)
    if not managers or boss is None:
        return []
    town, names = TOWNS[branch.code]
    size = -(-len(names) // len(managers))  # neighbouring villages share a grid
    shares = [names[i * size : (i + 1) * size] for i in range(len(managers))]
    result = []
    for number, (manager, share) in enumerate(zip(managers, shares, strict=False), start=1):
        if not share:
            continue
        code = f"{branch.code}-G{number:02d}"
        grid = Grid.objects.filter(code=code).first()
        if grid is None:
            grid = grid_create(
                actor=boss,
                branch=branch,
                code=code,
                name=f"{share[0].removesuffix('村')}网格",
                account_manager=manager,
                area=f"{town}{'、'.join(share)}",
            )
            for colleague in managers:
                if colleague != manager:
                    grid_officer_add(
                        actor=boss,
                        grid=grid,
                        role=GridOfficer.Role.GRID_STAFF,
                        user=colleague,
                        duty="背靠背评议、上门签约",
                    )
            grid_officer_add(
                actor=boss,
                grid=grid,
                role=GridOfficer.Role.VILLAGE_CADRE,
                name=rng.choice(SURNAMES) + rng.choice(MALE),
                mobile=f"139{rng.randrange(10**8):08d}",
                duty="村情介绍、农户走访陪同",
            )
            grid_officer_add(
                actor=boss,
                grid=grid,
                role=GridOfficer.Role.FINANCIAL_LIAISON,
                name=rng.choice(SURNAMES) + rng.choice(FEMALE),
                mobile=f"138{rng.randrange(10**8):08d}",
                duty="信息收集、政策宣传",
            )
        villages = []
        for name in share:
            village = Village.objects.filter(town=town, name=name).first()
            if village is None:
                village = village_create(actor=boss, grid=grid, town=town, name=name)
            villages.append(village)
        result.append((grid, villages))
    return result


# --- households -------------------------------------------------------------------------------


def _members(household: Household, actor: User, head_birth: int, rng: random.Random) -> None:
    surname = household.head_name[0]
    household_member_add(
        actor=actor,
        household=household,
        name=rng.choice(SURNAMES) + rng.choice(FEMALE),
        relation=HouseholdMember.Relation.SPOUSE,
        birth_year=head_birth + rng.randrange(-3, 4),
        occupation=Occupation.FARMER,
    )
    for _ in range(rng.randrange(1, 3)):
        child_birth = head_birth + rng.randrange(22, 32)
        away = child_birth < 2004 and rng.random() < 0.6
        household_member_add(
            actor=actor,
            household=household,
            name=surname + rng.choice(CHILDREN),
            relation=HouseholdMember.Relation.CHILD,
            birth_year=min(child_birth, timezone.localdate().year - 1),
            occupation=Occupation.MIGRANT_WORKER if away else "",
            is_migrant=away,
            works_in=rng.choice(CITIES) if away else "",
        )
    if head_birth > 1965 and rng.random() < 0.4:
        # The elderly: name, relation and birth year are all the file needs (seed 003).
        household_member_add(
            actor=actor,
            household=household,
            name=surname + rng.choice(MALE),
            relation=HouseholdMember.Relation.PARENT,
            birth_year=head_birth - rng.randrange(24, 30),
        )


def _households(village: Village, rng: random.Random) -> int:
    branch = village.grid.branch
    created = 0
    customers = (
        Customer.objects.filter(
            branch=branch,
            kind=Customer.Kind.INDIVIDUAL,
            address__contains=village.name,
            headed_household__isnull=True,
            household_memberships__isnull=True,
        )
        .select_related("owner")
        .order_by("pk")
    )
    for customer in customers:
        match = ADDRESS.search(customer.address)
        if not match or match["village"] != village.name:
            continue
        occupation = customer.occupation or Occupation.FARMER
        household = household_create(
            actor=customer.owner,
            village=village,
            head_name=customer.name,
            head=customer,
            village_group=match["group"] or "",
            address=customer.address,
            income_sources=INCOME.get(occupation, ["other"]),
            annual_income=D(rng.randrange(30, 160) * 1000),
            # One file in eight still lacks the assets: the filing rate is not 100% everywhere.
            assets="" if rng.random() < 0.125 else f"住房一处，耕地{rng.randrange(2, 15)}亩",
            asset_value=D(rng.randrange(10, 60) * 10000),
            labour_count=rng.randrange(1, 4),
        )
        birth = customer.birth_date.year if customer.birth_date else 1975
        _members(household, customer.owner, birth, rng)
        created += 1
    # Households not yet filed as customers: the elderly living alone, families away.
    manager = village.grid.account_manager
    for n in range(village.households.filter(head__isnull=True).count(), 4):
        name = rng.choice(SURNAMES) + rng.choice(MALE)
        household = household_create(
            actor=manager,
            village=village,
            head_name=name,
            village_group=f"{rng.randrange(1, 9)}组",
            address=f"安徽省阜阳市颍上县{village.town}{village.name}",
            income_sources=["farming"] if n % 2 else ["migrant_work"],
        )
        _members(household, manager, 1950 + rng.randrange(0, 30), rng)
        created += 1
    return created


# --- campaigns --------------------------------------------------------------------------------


def _suggestions(rng: random.Random, kind: str) -> list[tuple[str, D]]:
    """Three evaluators' (rating, limit): mostly agreeing, sometimes far apart or split."""
    grade = rng.choice(["general", "good", "good", "excellent"])
    low, high = LIMITS[grade]
    if kind == "apart":
        return [(grade, D(low - 1000)), (grade, D(high)), (grade, D(high * 2))]
    if kind == "split":
        return [(g, D(LIMITS["good"][0])) for g in GRADES]
    base = rng.randrange(low, high + 1, 500)
    return [(grade, D(min(high, max(low, base + rng.choice([-500, 0, 0, 500]))))) for _ in range(3)]


def _campaign(
    village: Village, name: str, *, days_ago: int, product
) -> VillageCreditCampaign | None:
    existing = VillageCreditCampaign.objects.filter(village=village, name=name).first()
    if existing is not None:
        return None
    grid = village.grid
    today = timezone.localdate()
    return campaign_create(
        actor=grid.account_manager,
        village=village,
        name=name,
        project_manager=grid.account_manager,
        product=product,
        starts_on=today - timedelta(days=days_ago),
        ends_on=today - timedelta(days=days_ago) + timedelta(days=75),
    )


def _evaluators(village: Village) -> list[User]:
    branch = village.grid.branch
    people = [village.grid.account_manager]
    people += [u for u in _branch_staff(branch, Role.ACCOUNT_MANAGER) if u not in people]
    people += _branch_staff(branch, Role.BRANCH_MANAGER)
    return people[:3]


def _plan(campaign: VillageCreditCampaign, actor: User, per_day: int) -> None:
    day = campaign.starts_on
    tasks = ["入户建档", "背靠背评议", "背靠背评议", "结果公示", "上门签约"]
    n = 0
    while day <= min(campaign.ends_on, timezone.localdate() + timedelta(days=14)):
        if day.weekday() < 5:
            task = tasks[min(n // 5, len(tasks) - 1)]
            campaign_plan_day_set(
                actor=actor,
                campaign=campaign,
                day=day,
                task=task,
                planned_evaluations=per_day if "评议" in task else 0,
                planned_signings=per_day if "签约" in task else 0,
            )
            n += 1
        day += timedelta(days=1)


def _run_follow_up(village: Village, product, decider: User, rng: random.Random) -> str:
    campaign = _campaign(village, f"{village.name}整村授信", days_ago=70, product=product)
    if campaign is None:
        return ""
    evaluators = _evaluators(village)
    manager = village.grid.account_manager
    if len(evaluators) < 3:
        return ""
    campaign_evaluators_set(actor=manager, campaign=campaign, evaluators=evaluators)
    # One household on the blacklist: it is screened out quietly when targeted.
    unfiled = village.households.filter(head__isnull=True).order_by("pk").first()
    if unfiled is not None and not unfiled.blacklist_entries.filter(is_active=True).exists():
        blacklist_add(actor=decider, household=unfiled, reason="民间借贷纠纷未结，暂不纳入授信")
    campaign_households_add(actor=manager, campaign=campaign)
    campaign_start_crediting(actor=manager, campaign=campaign)
    entries = list(campaign.entries.filter(excluded_reason="").order_by("pk"))
    for i, entry in enumerate(entries):
        kind = "apart" if i % 9 == 4 else "split" if i % 13 == 7 else "close"
        for evaluator, (rating, limit) in zip(evaluators, _suggestions(rng, kind), strict=True):
            evaluation_submit(actor=evaluator, entry=entry, rating=rating, suggested_limit=limit)
    campaign_reconcile(actor=manager, campaign=campaign)
    for entry in campaign.entries.filter(outcome="compromise", decided_at__isnull=True):
        rating = entry.proposed_rating or "good"
        low, high = LIMITS[rating]
        limit = min(max(entry.proposed_limit or D(low), D(low)), D(high))
        campaign_household_decide(
            actor=decider,
            entry=entry,
            limit=limit,
            rating=rating,
            comment="评议意见分歧，按中位数折中并结合家庭收入核定",
        )
    signed = drawn = 0
    for i, entry in enumerate(
        campaign.entries.filter(pre_credited_at__isnull=False, household__head__isnull=False)
        .select_related("household")
        .order_by("pk")
    ):
        if i % 10 == 3:
            campaign_household_refuse(actor=manager, entry=entry, reason="近期无资金需求")
        elif i % 10 == 7:
            campaign_household_away(
                actor=manager,
                entry=entry,
                note=f"全家在{rng.choice(CITIES)}务工，春节返乡",
                follow_up_on=timezone.localdate() + timedelta(days=rng.randrange(10, 60)),
            )
        else:
            line = campaign_household_sign(actor=manager, entry=entry).credit_line
            signed += 1
            if i % 3 == 1:
                # Some households draw on their new line at once (spring planting).
                amount = (line.limit * D("0.6")).quantize(D("100"))
                drawn += draw_and_disburse(line, amount) is not None
            if i % 3 == 0:
                household_card_record(
                    actor=manager,
                    household=entry.household,
                    issued_on=timezone.localdate() - timedelta(days=rng.randrange(5, 40)),
                )
    campaign_start_follow_up(actor=manager, campaign=campaign)
    _plan(campaign, manager, per_day=max(1, len(entries) // 10))
    _spread_over_the_campaign(campaign, rng)
    return f"{village.name}: {signed} signed, {drawn} drawn"


def _spread_over_the_campaign(campaign: VillageCreditCampaign, rng: random.Random) -> None:
    """Back-date the demo campaign's milestones over its weeks (see the module docstring)."""
    start = timezone.now() - timedelta(days=(timezone.localdate() - campaign.starts_on).days)
    rows = list(campaign.entries.order_by("pk"))
    for i, entry in enumerate(rows):
        evaluated = start + timedelta(
            days=7 + (i * 20) // max(1, len(rows)), hours=rng.randrange(9)
        )
        if entry.evaluated_at:
            entry.evaluated_at = evaluated
        if entry.reconciled_at:
            entry.reconciled_at = evaluated + timedelta(days=1)
        if entry.pre_credited_at:
            entry.pre_credited_at = evaluated + timedelta(days=2)
        if entry.signed_at:
            entry.signed_at = evaluated + timedelta(days=21 + rng.randrange(10))
    CampaignHousehold.objects.bulk_update(
        rows, ["evaluated_at", "reconciled_at", "pre_credited_at", "signed_at"]
    )


def _run_crediting(village: Village, product, rng: random.Random) -> str:
    campaign = _campaign(village, f"{village.name}整村授信", days_ago=12, product=product)
    if campaign is None:
        return ""
    evaluators = _evaluators(village)
    manager = village.grid.account_manager
    if len(evaluators) < 3:
        return ""
    campaign_evaluators_set(actor=manager, campaign=campaign, evaluators=evaluators)
    campaign_households_add(actor=manager, campaign=campaign)
    campaign_start_crediting(actor=manager, campaign=campaign)
    entries = list(campaign.entries.filter(excluded_reason="").order_by("pk"))
    for i, entry in enumerate(entries):
        suggestions = _suggestions(rng, "apart" if i % 7 == 3 else "close")
        # Back-to-back, half done: the first evaluator everywhere, the others on some.
        done = 3 if i < len(entries) // 3 else 2 if i % 2 else 1
        for evaluator, (rating, limit) in list(zip(evaluators, suggestions, strict=True))[:done]:
            evaluation_submit(actor=evaluator, entry=entry, rating=rating, suggested_limit=limit)
    campaign_reconcile(actor=manager, campaign=campaign)
    _plan(campaign, manager, per_day=max(1, len(entries) // 8))
    return f"{village.name}: crediting"


def _run_preparation(village: Village, product) -> str:
    campaign = _campaign(village, f"{village.name}整村授信", days_ago=0, product=product)
    if campaign is None:
        return ""
    evaluators = _evaluators(village)
    manager = village.grid.account_manager
    if len(evaluators) == 3:
        campaign_evaluators_set(actor=manager, campaign=campaign, evaluators=evaluators)
    campaign_households_add(actor=manager, campaign=campaign)
    return f"{village.name}: preparation"


def seed() -> str:
    from loans.demo_origination import seed_products

    # The grid permissions exist only once this app is migrated; make sure the groups hold them.
    sync_roles()
    rng = random.Random(2016)
    grids = households = 0
    campaigns = []
    product = seed_products()["farmer-microcredit"]
    decider = _staff("director")
    for code in TOWNS:
        branch = OrgUnit.objects.filter(code=code, kind=OrgUnit.Kind.BRANCH).first()
        if branch is None:
            continue
        with transaction.atomic():
            for _grid, villages in _grids(branch, rng):
                grids += 1
                for village in villages:
                    households += _households(village, rng)
    b01 = {v.name: v for v in Village.objects.filter(Q(grid__branch__code="B01"))}
    if decider is not None and {"五里湖村", "管仲村", "刘集村"} <= set(b01):
        # Each campaign is built whole or not at all, so a failed run leaves none half-made.
        with transaction.atomic():
            campaigns.append(_run_follow_up(b01["五里湖村"], product, decider, rng))
        with transaction.atomic():
            campaigns.append(_run_crediting(b01["管仲村"], product, rng))
        with transaction.atomic():
            campaigns.append(_run_preparation(b01["刘集村"], product))
    b02 = {v.name: v for v in Village.objects.filter(grid__branch__code="B02")}
    if decider is not None and "谢桥村" in b02:
        with transaction.atomic():
            campaigns.append(_run_follow_up(b02["谢桥村"], product, decider, rng))
    done = [c for c in campaigns if c]
    return f"{grids} grids, {households} new households, campaigns: {'; '.join(done) or 'none new'}"
