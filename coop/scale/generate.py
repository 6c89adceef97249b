"""The county-scale generator.

Sizes follow DESIGN.md "Scale": at 100,000 households about 200 villages (~500 households each),
60,000 live loans and 1.5 million schedule rows; everything else is proportional. The org chart
and the staff go through the services (a few hundred rows); the bulk is written with ``COPY``
into id blocks reserved from each table's sequence, so nothing is saved row by row.

Consistency is by construction, and the tests check it:

* schedules come from ``loans.schedules.generate_schedule`` (cached per amount, rate, term and
  method: due dates shift with the disbursement day, the figures do not under 30/360);
* a repayment pays one installment exactly (interest, then principal) on its due date; the
  installments of an overdue loan from its earliest unpaid one on are unpaid, so its days past
  due are ``today − that due date`` and its class follows the loan policy's thresholds;
* outstanding principal = principal − the principal repaid; a credit line's drawn total counts
  its drawdowns;
* every approval case has a log row per transition along its route, with the time in each stage;
* ID numbers carry their GB 11643 check character and agree with birth date and gender.

The same seed and ``today`` give the same rows.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from coop.models import AuditEvent, OrgUnit, User
from coop.roles import Role
from coop.scale.copy import CopyWriter, reserve_ids
from coop.scale.people import IdNumbers, birth_date, mobile, person_name
from coop.services import audit_record, org_unit_create, staff_create
from customers.validators import credit_code_check_character
from loans.models import LoanPolicy, Product
from loans.schedules import generate_schedule

SEED_ACTION = "scale.seed"
TZ = ZoneInfo(settings.TIME_ZONE)
ZERO = Decimal("0.00")
COUNTY = "颍上"
TOWNS = (
    "慎城镇",
    "谢桥镇",
    "江店镇",
    "新集镇",
    "黄桥镇",
    "杨湖镇",
    "半岗镇",
    "古城镇",
    "赛涧乡",
    "垂岗乡",
    "夏桥镇",
    "润河镇",
    "王岗镇",
    "陈桥镇",
    "南照镇",
    "关屯乡",
    "刘集乡",
    "六十铺镇",
)
VILLAGE_WORDS = (
    "东湖",
    "西岗",
    "南庄",
    "北圩",
    "李楼",
    "王营",
    "张庄",
    "陈湾",
    "刘集",
    "杨湖",
    "孙岗",
    "马店",
    "新河",
    "红星",
    "胜利",
    "幸福",
    "和平",
    "前进",
    "团结",
    "光明",
)
PURPOSES = {
    "farmer-microcredit": ("购买化肥、种子等春耕生产资料", "购买农药和地膜", "秋收机械作业费用"),
    "guaranteed-revolving": ("扩大大棚蔬菜种植规模",),
    "large-scale-farming": ("新建标准化生猪养殖圈舍", "扩建养鸡场"),
    "small-enterprise": ("采购原材料，补充流动资金",),
    "merchant": ("店铺进货周转",),
    "farm-machinery": ("购买联合收割机",),
    "white-collar": ("家庭装修",),
    "women-entrepreneur": ("开办农家乐",),
    "golden-home": ("新建自住房",),
}
# Product mix of loans that come through an application (the rest are drawdowns on
# whole-village microcredit lines): (code, weight, amounts, terms, rates).
APPLICATION_PRODUCTS = (
    ("farmer-microcredit", 18, (3000, 5000, 8000, 10000), (12, 24), ("0.0650", "0.0750")),
    ("merchant", 18, (20000, 50000, 80000, 150000), (12, 24, 36), ("0.0550", "0.0700")),
    ("white-collar", 12, (30000, 50000, 100000), (12, 24, 36), ("0.0435", "0.0600")),
    ("women-entrepreneur", 10, (10000, 30000, 50000), (12, 24, 36), ("0.0435", "0.0550")),
    ("farm-machinery", 10, (50000, 100000, 200000), (24, 36), ("0.0480", "0.0600")),
    ("large-scale-farming", 8, (150000, 300000, 600000), (24, 36), ("0.0500", "0.0650")),
    ("golden-home", 4, (150000, 300000), (60, 120), ("0.0410", "0.0490")),
    ("small-enterprise", 20, (200000, 500000, 1000000), (12, 24, 36), ("0.0480", "0.0650")),
)
TRADES = ("农业", "食品", "建材", "商贸")
MICRO_TERMS = (12, 12, 24, 24, 36, 36)
MICRO_RATES = ("0.0435", "0.0550", "0.0650", "0.0750", "0.0850")
LIMITS_BY_RATING = {"general": (3000,), "good": (4000, 5000), "excellent": (8000, 10000)}
STAGE_ROLE = {
    "application": Role.ACCOUNT_MANAGER,
    "review": Role.RISK_OFFICER,
    "credit_granting": Role.RISK_OFFICER,
    "approval": Role.BRANCH_MANAGER,
    "acceptance_review": Role.RISK_OFFICER,
    "investigation": Role.ACCOUNT_MANAGER,
    "credit_review": Role.RISK_OFFICER,
    "loan_approval": Role.RISK_OFFICER,
    "contract_review": Role.RISK_OFFICER,
    "payment_condition_review": Role.RISK_OFFICER,
}
ROUTE_STAGES = {
    "low": ("application", "credit_granting", "approval"),
    "medium": ("application", "review", "credit_granting", "approval"),
    "high": (
        "application",
        "acceptance_review",
        "investigation",
        "credit_review",
        "loan_approval",
        "contract_review",
        "payment_condition_review",
    ),
}
SLA_HOURS = {
    "application": 48,
    "review": 24,
    "credit_granting": 24,
    "approval": 24,
    "acceptance_review": 24,
    "investigation": 72,
    "credit_review": 48,
    "loan_approval": 48,
    "contract_review": 24,
    "payment_condition_review": 24,
}
BRANCH_MANAGER_LIMIT = Decimal("500000.00")


class AlreadySeeded(Exception):
    """The database holds a county dataset already; a second one would duplicate it."""

    def __init__(self, info: dict):
        super().__init__(info)
        self.info = info


def existing_seed() -> dict | None:
    event = AuditEvent.objects.filter(action=SEED_ACTION).order_by("-id").first()
    return event.data if event else None


@dataclass
class Sizes:
    households: int
    branches: int
    villages: int
    grids: int
    corporates: int

    @classmethod
    def for_households(cls, households: int) -> Sizes:
        villages = max(2, -(-households // 500))
        branches = max(2, round(households / 6250))
        grids = max(branches, -(-villages // 2))
        return cls(households, branches, villages, grids, max(2, households // 200))


@dataclass
class Branch:
    unit: OrgUnit
    outlets: list[OrgUnit]
    manager: User
    risk: User
    tellers: list[tuple[User, OrgUnit]] = field(default_factory=list)
    account_managers: list[User] = field(default_factory=list)


def _month_add(day: date, months: int) -> date:
    # Disbursement days are 1..28, so adding months never clamps.
    total = day.month - 1 + months
    return day.replace(year=day.year + total // 12, month=total % 12 + 1)


def _at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, dtime(hour, minute), tzinfo=TZ)


class Builder:
    def __init__(self, *, households: int, seed: int, today: date, log: Callable[[str], None]):
        self.sizes = Sizes.for_households(households)
        self.seed = seed
        self.today = today
        self.rng = random.Random(seed)
        self.log = log
        self.now = _at(today, 8)
        self.counts: dict[str, int] = {}
        self._schedules: dict[tuple, list[tuple[Decimal, Decimal]]] = {}
        self._numbers: dict[str, int] = {}
        self._started = time.monotonic()

    # --- helpers ----------------------------------------------------------------------------

    at = staticmethod(_at)

    def _step(self, name: str) -> None:
        self.log(f"{name} ({time.monotonic() - self._started:.1f} s)")

    def number(self, prefix: str) -> str:
        self._numbers[prefix] = self._numbers.get(prefix, 0) + 1
        return f"{prefix}{self.seed % 100:02d}{self._numbers[prefix]:09d}"

    def schedule(self, amount: int, rate: str, term: int, method: str):
        key = (amount, rate, term, method)
        rows = self._schedules.get(key)
        if rows is None:
            rows = [
                (i.principal, i.interest)
                for i in generate_schedule(
                    amount=Decimal(amount),
                    annual_rate=Decimal(rate),
                    term_months=term,
                    method=method,
                    start_date=date(2000, 1, 1),
                )
            ]
            self._schedules[key] = rows
        return rows

    def classify(self, dpd: int) -> str:
        p = self.policy
        if dpd >= p.loss_from_days:
            return "loss"
        if dpd >= p.doubtful_from_days:
            return "doubtful"
        if dpd >= p.substandard_from_days:
            return "substandard"
        if dpd >= p.special_mention_from_days:
            return "special_mention"
        return "normal"

    # --- the run ----------------------------------------------------------------------------

    def build(self) -> dict[str, int]:
        from loans.services.lifecycle_common import loan_policy

        self.policy: LoanPolicy = loan_policy()
        self.products = self._products()
        self._organisation()
        self._step("organisation and staff")
        self._grid_and_customers()
        self._step("villages, households, members, customers")
        self._credit_and_loans()
        self._step("credit lines, applications, cases, loans, schedules, repayments")
        self._service()
        self._step("visits, counter service, complaints")
        self._segments()
        self._step("segments")
        self._later_apps()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self._step("analyze")
        audit_record(
            actor=None,
            action=SEED_ACTION,
            obj=self.hq,
            comment=f"{self.sizes.households} households, seed {self.seed}",
            data={
                "seed": self.seed,
                "households": self.sizes.households,
                "today": self.today.isoformat(),
                "counts": self.counts,
            },
        )
        return self.counts

    def _products(self) -> dict[str, Product]:
        from loans.demo_origination import seed_products

        return seed_products()

    # --- organisation -----------------------------------------------------------------------

    def _staff(self, username: str, unit: OrgUnit, roles: list[str]) -> User:
        user = staff_create(
            username=username,
            name=person_name(self.rng),
            org_unit=unit,
            roles=[str(r) for r in roles],
            password=None,
            employee_no=f"K{User.objects.count() + 1:05d}",
        )
        self.staff_ids.append(user.pk)
        return user

    @transaction.atomic
    def _organisation(self) -> None:
        self.staff_ids: list[int] = []
        hq = OrgUnit.objects.filter(kind=OrgUnit.Kind.HEAD_OFFICE).first()
        if hq is None:
            hq = org_unit_create(
                code="HQ", name=f"{COUNTY}农商银行总行", kind=OrgUnit.Kind.HEAD_OFFICE
            )
        self.hq = hq
        self.hq_management = self._staff("k_director", hq, [Role.MANAGEMENT])
        self._staff("k_admin", hq, [Role.SYSADMIN])
        self.hq_risk = [self._staff(f"k_risk{i}", hq, [Role.RISK_OFFICER]) for i in (1, 2, 3)]
        self.committee = [
            self._staff(f"k_committee{i}", hq, [Role.LOAN_COMMITTEE]) for i in range(1, 7)
        ]
        self.branches: list[Branch] = []
        for b in range(1, self.sizes.branches + 1):
            town = TOWNS[(b - 1) % len(TOWNS)]
            suffix = "" if b <= len(TOWNS) else str((b - 1) // len(TOWNS) + 1)
            unit = org_unit_create(
                code=f"K{b:02d}", name=f"{town}{suffix}支行", kind=OrgUnit.Kind.BRANCH, parent=hq
            )
            outlets = [
                org_unit_create(
                    code=f"K{b:02d}-{o:02d}",
                    name=f"{town}{suffix}{'营业部' if o == 1 else f'第{o}分理处'}",
                    kind=OrgUnit.Kind.OUTLET,
                    parent=unit,
                )
                for o in range(1, 2 + (b % 2))
            ]
            branch = Branch(
                unit=unit,
                outlets=outlets,
                manager=self._staff(f"k{b:02d}_manager", unit, [Role.BRANCH_MANAGER]),
                risk=self._staff(f"k{b:02d}_risk", unit, [Role.RISK_OFFICER]),
            )
            for o, outlet in enumerate(outlets, 1):
                for t in (1, 2):
                    teller = self._staff(f"k{b:02d}_{o:02d}_teller{t}", outlet, [Role.TELLER])
                    branch.tellers.append((teller, outlet))
            self.branches.append(branch)
        # One account manager per grid (the grid's fixed staff), grids spread over the branches.
        for g in range(self.sizes.grids):
            branch = self.branches[g % len(self.branches)]
            n = len(branch.account_managers) + 1
            branch.account_managers.append(
                self._staff(
                    f"k{self.branches.index(branch) + 1:02d}_am{n}",
                    branch.unit,
                    [Role.ACCOUNT_MANAGER],
                )
            )
        self.counts["staff"] = len(self.staff_ids)
        self.counts["branches"] = len(self.branches)
        self.counts["outlets"] = sum(len(b.outlets) for b in self.branches)

    # --- grids, villages, households, customers ---------------------------------------------

    @transaction.atomic
    def _grid_and_customers(self) -> None:
        from grid.models import FilingRequirement, Household, HouseholdMember
        from grid.services.households import completeness_of

        rng = self.rng
        today = self.today
        requirements = list(FilingRequirement.objects.all())
        sizes = self.sizes
        grid_w = CopyWriter(
            "grid_grid",
            (
                "id",
                "code",
                "name",
                "branch_id",
                "account_manager_id",
                "area",
                "is_active",
                "created_at",
            ),
        )
        village_w = CopyWriter("grid_village", ("id", "grid_id", "town", "name", "created_at"))
        grid0 = reserve_ids("grid_grid", sizes.grids)
        village0 = reserve_ids("grid_village", sizes.villages)
        self.grid_branch: dict[int, Branch] = {}
        self.grid_am: dict[int, User] = {}
        for g in range(sizes.grids):
            branch = self.branches[g % len(self.branches)]
            am = branch.account_managers[g // len(self.branches)]
            gid = grid0 + g
            self.grid_branch[gid] = branch
            self.grid_am[gid] = am
            grid_w.add(
                (
                    gid,
                    f"KG{g + 1:04d}",
                    f"{branch.unit.name}第{g // len(self.branches) + 1}网格",
                    branch.unit.pk,
                    am.pk,
                    "",
                    True,
                    self.now,
                )
            )
        villages: list[tuple[int, int, str, str]] = []
        self.household_village: dict[int, int] = {}
        for v in range(sizes.villages):
            gid = grid0 + v % sizes.grids
            town = TOWNS[self.branches.index(self.grid_branch[gid]) % len(TOWNS)]
            name = f"{VILLAGE_WORDS[v % len(VILLAGE_WORDS)]}{v // len(VILLAGE_WORDS) + 1}村"
            villages.append((village0 + v, gid, town, name))
            village_w.add((village0 + v, gid, town, name, self.now))
        self.villages = villages
        grid_w.flush()
        village_w.flush()

        household0 = reserve_ids("grid_household", sizes.households)
        # Heads (~95 %), spouses filed as customers (~10 %) and corporates: a safe upper bound.
        customer_cap = sizes.households * 2 + sizes.corporates
        customer0 = reserve_ids("customers_customer", customer_cap)
        next_customer = customer0
        ids = IdNumbers(rng)
        customer_w = CopyWriter("customers_customer", CUSTOMER_COLUMNS)
        household_w = CopyWriter("grid_household", HOUSEHOLD_COLUMNS)
        member_w = CopyWriter("grid_householdmember", MEMBER_COLUMNS)
        member_rows: list[tuple] = []
        self.individuals: list[tuple] = []  # (customer id, branch, owner, b, rating, hh id)
        income_choices = ("farming", "breeding", "migrant_work", "business", "salary", "pension")
        per_village = sizes.households / sizes.villages
        members_total = 0
        for h in range(sizes.households):
            village_id, gid, town, village = villages[min(int(h / per_village), sizes.villages - 1)]
            branch = self.grid_branch[gid]
            owner = self.grid_am[gid]
            ams = branch.account_managers
            b_manager = None
            if len(ams) > 1:
                b_manager = ams[(ams.index(owner) + 1) % len(ams)]
            hh_id = household0 + h
            self.household_village[hh_id] = village_id
            head_gender = "M" if rng.random() < 0.82 else "F"
            head_birth = birth_date(rng, today, 26, 75)
            head_name = person_name(rng)
            village_group = f"{rng.randrange(1, 9)}组"
            address = f"{COUNTY}县{town}{village}{village_group}{rng.randrange(1, 120)}号"
            head_id = None
            created = self.now - timedelta(days=rng.randrange(30, 900))
            rating = rng.choices(("general", "good", "excellent"), (3, 5, 2))[0]
            if rng.random() < 0.95:
                head_id = next_customer
                next_customer += 1
                occupation = rng.choices(
                    ("farmer", "breeder", "merchant", "migrant_worker", "other"),
                    (55, 12, 10, 18, 5),
                )[0]
                away = occupation == "migrant_worker"
                deposit = Decimal(rng.randrange(0, 30000000)) / 100
                customer_w.add(
                    (
                        head_id,
                        "individual",
                        head_name,
                        branch.unit.pk,
                        owner.pk,
                        b_manager.pk if b_manager else None,
                        ids.issue(head_birth, head_gender),
                        head_gender,
                        head_birth,
                        occupation,
                        "away" if away else "home",
                        "江苏苏州" if away else "",
                        rng.choice(("lt20k", "20k_50k", "20k_50k", "50k_100k", "100k_300k")),
                        None,
                        "",
                        "",
                        "",
                        mobile(rng),
                        address,
                        deposit,
                        (deposit / 12).quantize(Decimal("0.01")),
                        (deposit / 50).quantize(Decimal("0.01")),
                        rating,
                        today - timedelta(days=rng.randrange(10, 600)),
                        rng.choices(("maintenance", "partner", "strategic"), (90, 9, 1))[0],
                        "branch",
                        rng.choice(("guaranteed", "key", "moderate", "moderate", "cautious")),
                        rng.choices(("key", "moderate", "cautious", "exit"), (20, 70, 8, 2))[0],
                        owner.pk,
                        created,
                        created,
                    )
                )
                self.individuals.append((head_id, branch, owner, b_manager, rating, hh_id))
            # Members: the head, then a family of 1–5 more.
            labour = 0
            migrants = 0
            members = [("head", head_name, head_gender, head_birth.year, head_id, False)]
            if rng.random() < 0.85:
                spouse_birth = birth_date(rng, today, 24, 74)
                spouse_gender = "F" if head_gender == "M" else "M"
                spouse_name = person_name(rng)
                spouse_id = None
                if head_id is not None and rng.random() < 0.1:
                    spouse_id = next_customer
                    next_customer += 1
                    customer_w.add(
                        (
                            spouse_id,
                            "individual",
                            spouse_name,
                            branch.unit.pk,
                            owner.pk,
                            b_manager.pk if b_manager else None,
                            ids.issue(spouse_birth, spouse_gender),
                            spouse_gender,
                            spouse_birth,
                            "farmer",
                            "home",
                            "",
                            "20k_50k",
                            None,
                            "",
                            "",
                            "",
                            mobile(rng),
                            address,
                            ZERO,
                            ZERO,
                            ZERO,
                            "",
                            None,
                            "maintenance",
                            "branch",
                            "moderate",
                            "moderate",
                            owner.pk,
                            created,
                            created,
                        )
                    )
                members.append(
                    ("spouse", spouse_name, spouse_gender, spouse_birth.year, spouse_id, False)
                )
            for _ in range(rng.choices((0, 1, 2, 3), (15, 35, 35, 15))[0]):
                relation = rng.choice(("child", "child", "parent", "grandchild"))
                year = today.year - (
                    rng.randrange(1, 30) if relation != "parent" else rng.randrange(60, 90)
                )
                away = relation == "child" and today.year - year >= 18 and rng.random() < 0.4
                members.append((relation, person_name(rng), rng.choice("MF"), year, None, away))
            model_members = []
            for relation, name, gender, year, cid, away in members:
                works_in = "浙江杭州" if away else ""
                # One file in twenty misses a birth year: the elderly are hard to file (seed 003).
                if relation == "parent" and rng.random() < 0.05:
                    year = None
                if away:
                    migrants += 1
                if year and 18 <= today.year - year <= 65:
                    labour += 1
                member_rows.append(
                    (
                        hh_id,
                        name,
                        relation,
                        gender,
                        year,
                        "migrant_worker" if away else "",
                        away,
                        works_in,
                        cid,
                        "",
                    )
                )
                model_members.append(
                    HouseholdMember(
                        name=name,
                        relation=relation,
                        birth_year=year,
                        is_migrant=away,
                        works_in=works_in,
                    )
                )
            sources = sorted(set(rng.sample(income_choices, rng.randrange(1, 3))))
            assets = (
                ""
                if rng.random() < 0.08
                else rng.choice(("砖混住房一套", "住房一套、农用车一辆", "耕地12亩、住房一套"))
            )
            annual_income = Decimal(rng.randrange(20, 300) * 1000) if rng.random() < 0.7 else None
            household = Household(
                head_id=head_id,
                village_group=village_group,
                address=address,
                income_sources=sources,
                annual_income=annual_income,
                assets=assets,
                labour_count=labour,
            )
            completeness = completeness_of(household, model_members, requirements)
            card = today - timedelta(days=rng.randrange(30, 700)) if rng.random() < 0.6 else None
            household_w.add(
                (
                    hh_id,
                    village_id,
                    village_group,
                    head_name,
                    head_id,
                    address,
                    sources,
                    annual_income,
                    assets,
                    Decimal(rng.randrange(5, 80) * 10000) if assets else None,
                    labour,
                    len(members),
                    migrants,
                    completeness,
                    card,
                    "",
                    owner.pk,
                    created,
                    created,
                )
            )
            members_total += len(members)
            if len(member_rows) >= 20000:
                self._flush_members(member_w, member_rows)
        self._flush_members(member_w, member_rows)

        # Corporates: small enterprises of the branches' towns.
        self.corporates: list[tuple] = []
        codes: set[str] = set()
        for c in range(sizes.corporates):
            branch = self.branches[c % len(self.branches)]
            owner = branch.account_managers[c % len(branch.account_managers)]
            while True:
                body = "".join(rng.choice("0123456789") for _ in range(9))
                first17 = f"91341226{body}"
                code = first17 + credit_code_check_character(first17)
                if code not in codes:
                    codes.add(code)
                    break
            cid = next_customer
            next_customer += 1
            created = self.now - timedelta(days=rng.randrange(30, 900))
            customer_w.add(
                (
                    cid,
                    "corporate",
                    f"{COUNTY}县{person_name(rng)[:2]}{rng.choice(TRADES)}有限公司",
                    branch.unit.pk,
                    owner.pk,
                    None,
                    None,
                    "",
                    None,
                    "",
                    "home",
                    "",
                    "",
                    code,
                    person_name(rng),
                    person_name(rng),
                    rng.choice(("农副食品加工", "批发零售", "建筑材料")),
                    mobile(rng),
                    f"{COUNTY}县{branch.unit.name}工业园",
                    Decimal(rng.randrange(100000, 5000000)),
                    Decimal(rng.randrange(10000, 500000)),
                    Decimal(rng.randrange(5000, 100000)),
                    "",
                    None,
                    rng.choice(("partner", "strategic", "maintenance")),
                    "branch",
                    rng.choice(("key", "moderate", "guaranteed")),
                    "key",
                    owner.pk,
                    created,
                    created,
                )
            )
            self.corporates.append((cid, branch, owner))
        customer_w.flush()
        household_w.flush()
        assert next_customer - customer0 <= customer_cap
        self.counts.update(
            grids=sizes.grids,
            villages=sizes.villages,
            households=sizes.households,
            members=members_total,
            customers=customer_w.count,
        )

    def _flush_members(self, writer: CopyWriter, rows: list[tuple]) -> None:
        # Members have no id reservation: nothing refers to them, the sequence numbers them.
        writer.extend(rows)
        writer.flush()
        rows.clear()

    # --- credit lines, applications, approval cases, loans ----------------------------------

    @transaction.atomic
    def _credit_and_loans(self) -> None:
        rng = self.rng
        today = self.today
        micro = self.products["farmer-microcredit"]
        w = {
            "line": CopyWriter("loans_creditline", LINE_COLUMNS),
            "app": CopyWriter("loans_loanapplication", APPLICATION_COLUMNS),
            "case": CopyWriter("risk_approvalcase", CASE_COLUMNS),
            "log": CopyWriter("risk_approvallog", LOG_COLUMNS),
            "sig": CopyWriter("risk_investigationsignature", SIGNATURE_COLUMNS),
            "contract": CopyWriter("loans_contract", CONTRACT_COLUMNS),
            "notice": CopyWriter("loans_disbursementnotice", NOTICE_COLUMNS),
            "loan": CopyWriter("loans_loan", LOAN_COLUMNS),
            "inst": CopyWriter("loans_installment", INSTALLMENT_COLUMNS),
            "repay": CopyWriter("loans_repayment", REPAYMENT_COLUMNS),
        }
        self.w = w
        from risk.models import RoutingRuleSet

        self.ruleset_id = RoutingRuleSet.objects.order_by("-version").values_list("pk", flat=True)[
            0
        ]
        n_individuals = len(self.individuals)
        n_lines = int(n_individuals * 0.68)
        n_app = int(self.sizes.households * 0.19)
        line0 = reserve_ids("loans_creditline", n_lines)
        # Upper bounds; unused ids are simply skipped.
        loans_cap = n_lines + n_app + 10
        self.ids = {
            "app": reserve_ids("loans_loanapplication", n_app),
            "case": reserve_ids("risk_approvalcase", n_app),
            "contract": reserve_ids("loans_contract", loans_cap),
            "loan": reserve_ids("loans_loan", loans_cap),
            "notice": reserve_ids("loans_disbursementnotice", loans_cap),
        }
        self.next = {"contract": 0, "loan": 0, "notice": 0}
        self.loan_facts: list[tuple] = []
        self.loan_stats = {"live": 0, "settled": 0, "written_off": 0, "contracted": 0}
        # Whole-village microcredit lines, most of them drawn.
        chosen = rng.sample(self.individuals, n_lines)
        chosen.sort(key=lambda row: row[0])
        self.line_of_household: dict[int, tuple] = {}
        for i, (cid, branch, owner, _b, rating, hh) in enumerate(chosen):
            line_id = line0 + i
            limit = rng.choice(LIMITS_BY_RATING[rating])
            valid_from = today - timedelta(days=rng.randrange(20, 700))
            r = rng.random()
            drawn = ZERO
            if r < 0.88:
                amount = limit if rng.random() < 0.6 else max(1000, limit // 2000 * 1000)
                term = rng.choice(MICRO_TERMS)
                method = rng.choices(
                    ("equal_installment", "equal_principal", "interest_only", "bullet"),
                    (40, 20, 25, 15),
                )[0]
                outcome = "settled" if r < 0.14 else "live"
                start = self._loan_start(outcome, term)
                # The line was granted (signed in the village campaign) shortly before the draw.
                valid_from = start - timedelta(days=rng.randrange(3, 60))
                self._loan(
                    customer=cid,
                    branch=branch,
                    owner=owner,
                    product=micro,
                    line_id=line_id,
                    application_id=None,
                    amount=amount,
                    term=term,
                    rate=rng.choice(MICRO_RATES),
                    method=method,
                    outcome=outcome,
                    start=start,
                )
                drawn = Decimal(amount)
            valid_to = _month_add(valid_from.replace(day=min(valid_from.day, 28)), 24)
            status = "active" if valid_to >= today else "closed"
            self.line_of_household[hh] = (line_id, limit, rating, valid_from)
            w["line"].add(
                (
                    line_id,
                    self.number("CL"),
                    cid,
                    branch.unit.pk,
                    micro.pk,
                    Decimal(limit),
                    drawn,
                    valid_from,
                    valid_to,
                    False,
                    None,
                    status,
                    "village_campaign",
                    branch.manager.pk,
                    _at(valid_from, 10),
                )
            )
        self.counts["credit_lines"] = n_lines
        self._campaigns()
        # Applications: most contracted into loans, the rest at every other point of the flow.
        for i in range(n_app):
            self._application(self.ids["app"] + i, self.ids["case"] + i)
        for writer in w.values():
            writer.flush()
        self.counts.update(
            applications=w["app"].count,
            approval_cases=w["case"].count,
            approval_log=w["log"].count,
            loans=w["loan"].count,
            live_loans=self.loan_stats["live"],
            settled_loans=self.loan_stats["settled"],
            installments=w["inst"].count,
            repayments=w["repay"].count,
        )

    def _campaigns(self) -> None:
        """整村授信 in every village: three back-to-back evaluators who agreed on each household
        (so the reconciled limit is theirs), the pre-credit, and signing — the signed households
        are exactly those holding a whole-village credit line."""
        rng = self.rng
        today = self.today
        micro = self.products["farmer-microcredit"]
        by_village: dict[int, list[tuple]] = {}
        for row in self.individuals:
            by_village.setdefault(self.household_village[row[5]], []).append(row)
        campaign0 = reserve_ids("grid_villagecreditcampaign", len(self.villages))
        entry0 = reserve_ids("grid_campaignhousehold", len(self.individuals))
        campaigns = CopyWriter("grid_villagecreditcampaign", CAMPAIGN_COLUMNS)
        slots = CopyWriter("grid_campaignevaluator", ("campaign_id", "user_id", "slot"))
        entries = CopyWriter("grid_campaignhousehold", ENTRY_COLUMNS)
        evaluations = CopyWriter("grid_evaluation", EVALUATION_COLUMNS)
        next_entry = entry0
        for index, (village_id, gid, _town, name) in enumerate(self.villages):
            campaign_id = campaign0 + index
            branch = self.grid_branch[gid]
            manager = self.grid_am[gid]
            evaluators = (manager, branch.risk, branch.manager)
            rows = by_village.get(village_id, [])
            lines = [self.line_of_household[r[5]] for r in rows if r[5] in self.line_of_household]
            first = min((line[3] for line in lines), default=today - timedelta(days=60))
            starts = first - timedelta(days=rng.randrange(10, 40))
            ends = starts + timedelta(days=90)
            crediting = index % 10 == 9  # one village in ten is still being credited
            phase = "crediting" if crediting else "follow_up"
            campaigns.add(
                (
                    campaign_id,
                    f"{name}整村授信",
                    village_id,
                    manager.pk,
                    micro.pk,
                    24,
                    Decimal("0.200"),
                    phase,
                    starts,
                    ends,
                    manager.pk,
                    _at(starts, 9),
                    None if crediting else _at(ends, 17),
                )
            )
            for slot, user in enumerate(evaluators, 1):
                slots.add((campaign_id, user.pk, slot))
            evaluated = _at(starts + timedelta(days=rng.randrange(3, 15)), 16)
            for _cid, _branch, _owner, _b, rating, hh in rows:
                entry_id = next_entry
                next_entry += 1
                line = self.line_of_household.get(hh)
                if line is None and rng.random() < 0.04:
                    entries.add(_entry(entry_id, campaign_id, hh, excluded=evaluated))
                    continue
                limit = Decimal(line[1] if line else rng.choice(LIMITS_BY_RATING[rating]))
                rating = line[2] if line else rating
                for user in evaluators:
                    evaluations.add(
                        (
                            campaign_id,
                            entry_id,
                            user.pk,
                            rating,
                            limit,
                            "",
                            evaluated - timedelta(hours=rng.randrange(1, 48)),
                        )
                    )
                if line is not None:
                    signed_at = _at(line[3], 11)
                    signing = (
                        "signed",
                        "door_to_door",
                        "",
                        "",
                        None,
                        signed_at,
                        manager.pk,
                        line[0],
                    )
                elif crediting and rng.random() < 0.6:
                    signing = ("pending", "", "", "", None, None, None, None)
                elif rng.random() < 0.6:
                    signing = (
                        "refused",
                        "door_to_door",
                        "暂无资金需求",
                        "",
                        None,
                        None,
                        None,
                        None,
                    )
                else:
                    back = today + timedelta(days=rng.randrange(5, 90))
                    signing = ("away", "", "", "在外务工，春节返乡", back, None, None, None)
                entries.add(
                    (
                        entry_id,
                        campaign_id,
                        hh,
                        "",
                        "",
                        None,
                        None,
                        3,
                        evaluated,
                        evaluated,
                        "close",
                        "mean",
                        "majority",
                        {"limits": [str(limit)] * 3, "ratings": [rating] * 3},
                        limit,
                        rating,
                        None,
                        None,
                        "",
                        limit,
                        rating,
                        evaluated,
                        *signing,
                        evaluated,
                    )
                )
        for writer in (campaigns, slots, entries, evaluations):
            writer.flush()
        self.counts.update(
            campaigns=campaigns.count,
            campaign_households=entries.count,
            evaluations=evaluations.count,
        )

    def _take(self, kind: str) -> int:
        value = self.ids[kind] + self.next[kind]
        self.next[kind] += 1
        return value

    def _application(self, app_id: int, case_id: int) -> None:
        rng = self.rng
        code, _w, amounts, terms, rates = rng.choices(
            APPLICATION_PRODUCTS, [p[1] for p in APPLICATION_PRODUCTS]
        )[0]
        product = self.products[code]
        if code == "small-enterprise":
            cid, branch, owner = self.corporates[rng.randrange(len(self.corporates))]
            ams = branch.account_managers
            b_manager = ams[(ams.index(owner) + 1) % len(ams)] if len(ams) > 1 else None
        else:
            cid, branch, owner, b_manager, _r, _hh = self.individuals[
                rng.randrange(len(self.individuals))
            ]
        amount = rng.choice(amounts)
        term = rng.choice(terms)
        rate = rng.choice(rates)
        methods = [m for m in product.repayment_methods if m != "bullet" or term <= 12]
        method = rng.choice(methods)
        route = product.default_route
        if amount > 300000 or code == "small-enterprise":
            route = "high"
        fate = rng.choices(
            ("loan", "in_progress", "rejected", "withdrawn", "approved", "draft"),
            (74, 10, 8, 3, 2, 3),
        )[0]
        number = self.number("AP")
        purpose = PURPOSES[code][rng.randrange(len(PURPOSES[code]))]
        if fate == "draft":
            created = self.now - timedelta(days=rng.randrange(0, 20), hours=rng.randrange(0, 9))
            self.w["app"].add(
                (
                    app_id,
                    number,
                    cid,
                    branch.unit.pk,
                    product.pk,
                    None,
                    Decimal(amount),
                    term,
                    Decimal(rate),
                    method,
                    purpose,
                    "draft",
                    owner.pk,
                    created,
                    None,
                    None,
                    None,
                    "",
                )
            )
            return
        stages = ROUTE_STAGES[route]
        # Which stages the case passed, and how it ends (None: it waits in the last one).
        if fate in ("loan", "approved"):
            passed, end = list(stages), "approved"
        elif fate == "rejected":
            passed, end = list(stages[: rng.randrange(2, len(stages) + 1)]), "rejected"
        elif fate == "withdrawn":
            passed, end = list(stages[: rng.randrange(1, len(stages) + 1)]), "withdrawn"
        else:
            passed, end = list(stages[: rng.randrange(1, len(stages) + 1)]), None
        done = passed if end else passed[:-1]
        seconds = [rng.randrange(3600, SLA_HOURS[s] * 2 * 3600) for s in done]
        total = timedelta(seconds=sum(seconds))
        outcome = start = None
        if fate == "loan":
            outcome = rng.choices(("live", "settled", "written_off", "contracted"), (78, 18, 1, 3))[
                0
            ]
            start = self._loan_start(outcome, term)
            submitted = _at(start, 9) - total - timedelta(days=rng.randrange(1, 5))
        elif end is None:
            waiting = timedelta(seconds=rng.randrange(600, SLA_HOURS[passed[-1]] * 5400))
            submitted = self.now - total - waiting
        elif fate == "approved":
            submitted = self.now - total - timedelta(days=rng.randrange(0, 10), hours=1)
        else:
            submitted = self.now - total - timedelta(days=rng.randrange(1, 700))
        entered = submitted
        previous_by: list[int] = []
        rounds = 0
        for index, stage in enumerate(done):
            actor, role = self._stage_actor(stage, branch, owner, Decimal(amount))
            left = entered + timedelta(seconds=seconds[index])
            if index == len(done) - 1 and end in ("rejected", "withdrawn"):
                to_state = end
                transition = "reject" if end == "rejected" else "withdraw"
                if end == "withdrawn":
                    actor, role = owner, Role.ACCOUNT_MANAGER
            else:
                to_state = stages[index + 1] if index + 1 < len(stages) else "approved"
                transition = "advance"
            previous = [actor.pk]
            if stage == "investigation" and transition == "advance":
                # 双人调查: both signatures of the round precede the advance.
                rounds = 1
                signer_b = b_manager or branch.manager
                for part, signer, before in (("A", owner, 90), ("B", signer_b, 30)):
                    self.w["sig"].add(
                        (
                            case_id,
                            1,
                            part,
                            signer.pk,
                            "实地调查，经营正常，还款来源可靠。",
                            left - timedelta(minutes=before),
                        )
                    )
                previous = [owner.pk, signer_b.pk]
            comment = {"advance": "", "reject": "还款能力不足", "withdraw": "客户暂不需要"}[
                transition
            ]
            self.w["log"].add(
                (
                    case_id,
                    stage,
                    to_state,
                    transition,
                    actor.pk,
                    role,
                    left,
                    comment,
                    "repayment_capacity" if transition == "reject" else "",
                    entered,
                    seconds[index],
                )
            )
            previous_by = previous
            entered = left
        decided = approved_amount = None
        if end is None:
            state_now, closed = passed[-1], None
            due = entered + timedelta(hours=SLA_HOURS[state_now])
            app_state = "submitted"
        else:
            state_now, closed, due, decided = end, entered, None, entered
            app_state = {"approved": "contracted" if fate == "loan" else "approved"}.get(end, end)
            if end == "approved":
                approved_amount = Decimal(amount)
        self.w["case"].add(
            (
                case_id,
                app_id,
                cid,
                branch.unit.pk,
                Decimal(amount),
                route,
                state_now,
                self.ruleset_id,
                None,
                {"amount": str(amount), "product": code},
                owner.pk,
                submitted,
                entered,
                due,
                previous_by,
                rounds,
                closed,
            )
        )
        self.w["app"].add(
            (
                app_id,
                number,
                cid,
                branch.unit.pk,
                product.pk,
                None,
                Decimal(amount),
                term,
                Decimal(rate),
                method,
                purpose,
                app_state,
                owner.pk,
                submitted,
                submitted,
                decided,
                approved_amount,
                "同意" if end == "approved" else "",
            )
        )
        if fate == "loan":
            self._loan(
                customer=cid,
                branch=branch,
                owner=owner,
                product=product,
                line_id=None,
                application_id=app_id,
                amount=amount,
                term=term,
                rate=rate,
                method=method,
                outcome=outcome,
                start=start,
            )

    def _stage_actor(self, stage: str, branch: Branch, owner: User, amount: Decimal):
        if stage in ("application", "investigation"):
            return owner, Role.ACCOUNT_MANAGER
        if stage in ("review", "acceptance_review", "contract_review"):
            return branch.risk, Role.RISK_OFFICER
        if stage == "credit_granting":
            return self.hq_risk[0], Role.RISK_OFFICER
        if stage == "approval":
            if amount <= BRANCH_MANAGER_LIMIT:
                return branch.manager, Role.BRANCH_MANAGER
            return self.hq_risk[1], Role.RISK_OFFICER
        if stage == "credit_review":
            return self.hq_risk[0], Role.RISK_OFFICER
        if stage == "loan_approval":
            return self.hq_risk[1], Role.RISK_OFFICER
        return self.hq_risk[2], Role.RISK_OFFICER  # payment-condition review

    def _loan_start(self, outcome: str, term: int) -> date:
        """The disbursement day (the contract day for a loan not disbursed yet): how much of the
        schedule lies in the past follows from it."""
        rng = self.rng
        today = self.today
        if outcome == "contracted":
            return today - timedelta(days=rng.randrange(0, 6))
        if outcome == "settled":
            elapsed = term + rng.randrange(1, 18)
        elif outcome == "written_off":
            elapsed = term + rng.randrange(6, 30)
        elif rng.random() < 0.09:
            elapsed = rng.randrange(1, term + 14)  # a share runs past maturity unpaid
        else:
            elapsed = rng.randrange(0, term)
        start = _month_add(today.replace(day=1), -elapsed).replace(day=rng.randrange(1, 29))
        if start >= today:
            start = _month_add(start, -1)
        return start

    def _loan(
        self,
        *,
        customer,
        branch: Branch,
        owner: User,
        product: Product,
        line_id,
        application_id,
        amount: int,
        term: int,
        rate: str,
        method: str,
        outcome: str,
        start: date | None = None,
    ) -> None:
        rng = self.rng
        today = self.today
        if start is None:
            start = self._loan_start(outcome, term)
        rows = [] if outcome == "contracted" else self.schedule(amount, rate, term, method)
        count = len(rows)
        due = [_month_add(start, n if method != "bullet" else term) for n in range(1, count + 1)]
        past = sum(1 for d in due if d < today)
        # Installments 1..paid are paid; the rest are open, so an overdue loan's earliest unpaid
        # installment is number paid + 1.
        state = outcome if outcome in ("settled", "contracted", "written_off") else "active"
        paid = past
        if state == "settled":
            paid = count
        elif state == "written_off":
            paid = rng.randrange(0, max(1, past))
        elif state == "active" and past:
            matured = past == count
            if rng.random() < (0.7 if matured else 0.09):
                unpaid = rng.choices((1, 2, 3, 5, 8, 13), (50, 18, 12, 10, 6, 4))[0]
                paid = max(0, past - unpaid)
                state = "overdue"
            elif matured:
                state = "settled"
        dpd = (today - due[paid]).days if state in ("overdue", "written_off") else 0
        loan_id = self._take("loan")
        contract_id = self._take("contract")
        notice_id = self._take("notice")
        disbursed = None if state == "contracted" else start
        repaid_principal = ZERO
        settled_on = None
        paid_rows = paid
        teller, _outlet = branch.tellers[loan_id % len(branch.tellers)]
        inst = self.w["inst"]
        repay = self.w["repay"]
        for n, ((principal, interest), due_date) in enumerate(zip(rows, due, strict=True), 1):
            is_paid = n <= paid_rows
            paid_on = due_date - timedelta(days=rng.randrange(0, 3)) if is_paid else None
            if paid_on is not None and paid_on <= start:
                paid_on = due_date
            if is_paid:
                repaid_principal += principal
                settled_on = paid_on
                repay.add(
                    (
                        loan_id,
                        principal + interest,
                        paid_on,
                        ZERO,
                        interest,
                        principal,
                        f"K{loan_id}-{n}",
                        teller.pk,
                        _at(paid_on, 10),
                    )
                )
            inst.add(
                (
                    loan_id,
                    n,
                    due_date,
                    principal,
                    interest,
                    principal if is_paid else ZERO,
                    interest if is_paid else ZERO,
                    ZERO,
                    paid_on,
                )
            )
        maturity = due[-1] if due else None
        contract_number = self.number("HT")
        self.w["contract"].add(
            (
                contract_id,
                contract_number,
                application_id,
                line_id,
                customer,
                branch.unit.pk,
                Decimal(amount),
                term,
                Decimal(rate),
                method,
                None,
                start,
                owner.pk,
                _at(start, 9),
            )
        )
        self.w["notice"].add(
            (
                notice_id,
                self.number("FK"),
                contract_id,
                Decimal(amount),
                f"6230{customer:012d}",
                "issued" if state == "contracted" else "disbursed",
                branch.risk.pk,
                _at(start, 9, 30),
                None if disbursed is None else teller.pk,
                None if disbursed is None else _at(start, 11),
            )
        )
        outstanding = Decimal(amount) - repaid_principal if state != "contracted" else ZERO
        classification = self.classify(dpd) if state in ("active", "overdue") else "normal"
        if state == "written_off":
            classification = "loss"
        self.w["loan"].add(
            (
                loan_id,
                self.number("LN"),
                contract_id,
                customer,
                branch.unit.pk,
                product.pk,
                line_id,
                owner.pk,
                Decimal(amount),
                Decimal(rate),
                term,
                method,
                "30/360",
                state,
                disbursed,
                maturity,
                outstanding,
                dpd,
                classification,
                False,
                None,
                settled_on if state == "settled" else None,
                _at(start, 9),
            )
        )
        if state != "contracted":
            self.loan_facts.append(
                (
                    loan_id,
                    customer,
                    branch,
                    owner,
                    amount,
                    start,
                    state,
                    dpd,
                    settled_on if state == "settled" else None,
                )
            )
        if state in ("active", "overdue", "contracted"):
            self.loan_stats["live"] += 1
        elif state in self.loan_stats:
            self.loan_stats[state] += 1

    # --- service ----------------------------------------------------------------------------

    @transaction.atomic
    def _service(self) -> None:
        rng = self.rng
        households = self.sizes.households
        visits = CopyWriter("customers_visit", VISIT_COLUMNS)
        for _ in range(int(households * 0.4)):
            cid, _branch, owner, _b, _r, _hh = self.individuals[
                rng.randrange(len(self.individuals))
            ]
            day = self.today - timedelta(days=rng.randrange(0, 365))
            visits.add(
                (
                    cid,
                    owner.pk,
                    day,
                    rng.choice(("visit", "phone", "wechat")),
                    "回访贷款使用情况。",
                    rng.choices(
                        ("contacted", "interested", "signed", "declined", "not_reached"),
                        (50, 20, 10, 10, 10),
                    )[0],
                    "",
                    None,
                    _at(day, 15),
                )
            )
        visits.flush()
        services = CopyWriter("customers_serviceinteraction", SERVICE_COLUMNS)
        for _ in range(int(households * 1.2)):
            cid, branch, _owner, _b, _r, _hh = self.individuals[
                rng.randrange(len(self.individuals))
            ]
            teller, outlet = branch.tellers[rng.randrange(len(branch.tellers))]
            at = self.now - timedelta(days=rng.randrange(0, 365), minutes=rng.randrange(0, 480))
            services.add(
                (
                    teller.pk,
                    outlet.pk,
                    branch.unit.pk,
                    cid if rng.random() < 0.8 else None,
                    rng.choice(
                        ("deposit", "withdrawal", "transfer", "payment", "card", "loan_inquiry")
                    ),
                    rng.randrange(0, 25),
                    rng.randrange(2, 15),
                    rng.random() < 0.9,
                    rng.random() < 0.8,
                    rng.random() < 0.9,
                    rng.choices((None, 3, 4, 5), (30, 5, 25, 40))[0],
                    "",
                    at,
                )
            )
        services.flush()
        complaints = CopyWriter("customers_complaint", COMPLAINT_COLUMNS)
        for _ in range(max(2, households // 100)):
            cid, branch, _owner, _b, _r, _hh = self.individuals[
                rng.randrange(len(self.individuals))
            ]
            teller, _outlet = branch.tellers[rng.randrange(len(branch.tellers))]
            received = self.now - timedelta(days=rng.randrange(0, 365), hours=rng.randrange(0, 8))
            severity = rng.choices(("normal", "complex", "urgent"), (80, 15, 5))[0]
            due = received + timedelta(days={"normal": 15, "complex": 30, "urgent": 5}[severity])
            state = rng.choices(
                ("received", "assigned", "responded", "resolved", "closed"), (5, 10, 5, 20, 60)
            )[0]
            if received > self.now - timedelta(days=10):
                state = rng.choice(("received", "assigned", "responded"))
            handled = state != "received"
            responded = (
                received + timedelta(days=rng.randrange(1, 10))
                if state in ("responded", "resolved", "closed")
                else None
            )
            resolved = (
                responded + timedelta(days=rng.randrange(0, 5))
                if state in ("resolved", "closed")
                else None
            )
            closed = resolved + timedelta(days=1) if state == "closed" else None
            complaints.add(
                (
                    rng.choice(("complaint", "complaint", "suggestion")),
                    rng.choice(("counter", "phone", "visit", "online")),
                    severity,
                    cid,
                    "",
                    branch.unit.pk,
                    rng.choice(
                        ("排队时间过长", "柜台服务态度", "手机银行转账失败", "建议增加自助设备")
                    ),
                    "客户反映的问题已记录。",
                    state,
                    teller.pk,
                    received,
                    branch.manager.pk if handled else None,
                    due,
                    0,
                    None,
                    "已向客户说明。" if responded else "",
                    responded,
                    "问题已解决。" if resolved else "",
                    resolved,
                    closed,
                    0,
                )
            )
        complaints.flush()
        self.counts.update(
            visits=visits.count, service_interactions=services.count, complaints=complaints.count
        )

    def _segments(self) -> None:
        """The demo's management segments, through the service (a handful of rows; each is
        computed set-based on creation)."""
        from customers.demo import SEGMENTS
        from customers.models import Segment
        from customers.services.relationship import segment_create

        for code, name, name_en, rules in SEGMENTS:
            if not Segment.objects.filter(code=code).exists():
                segment_create(
                    actor=self.hq_management, code=code, name=name, name_en=name_en, rules=rules
                )
        self.counts["segments"] = Segment.objects.filter(is_active=True).count()

    # --- inspections and surveys (written by their own apps' generators when present) -------

    def _later_apps(self) -> None:
        from coop.scale import later

        for name, count in later.generate(self).items():
            self.counts[name] = count
            self._step(name)


CUSTOMER_COLUMNS = (
    "id",
    "kind",
    "name",
    "branch_id",
    "owner_id",
    "b_manager_id",
    "id_number",
    "gender",
    "birth_date",
    "occupation",
    "workplace",
    "work_location",
    "income_band",
    "credit_code",
    "legal_representative",
    "finance_contact",
    "industry",
    "mobile",
    "address",
    "deposit_balance",
    "deposit_flow",
    "profit_contribution",
    "credit_rating",
    "credit_rated_on",
    "customer_class",
    "managing_level",
    "industry_category",
    "customer_category",
    "created_by_id",
    "created_at",
    "updated_at",
)
HOUSEHOLD_COLUMNS = (
    "id",
    "village_id",
    "village_group",
    "head_name",
    "head_id",
    "address",
    "income_sources",
    "annual_income",
    "assets",
    "asset_value",
    "labour_count",
    "member_count",
    "migrant_count",
    "completeness",
    "card_issued_on",
    "notes",
    "created_by_id",
    "created_at",
    "updated_at",
)
MEMBER_COLUMNS = (
    "household_id",
    "name",
    "relation",
    "gender",
    "birth_year",
    "occupation",
    "is_migrant",
    "works_in",
    "customer_id",
    "note",
)
LINE_COLUMNS = (
    "id",
    "number",
    "customer_id",
    "branch_id",
    "product_id",
    "limit",
    "drawn_total",
    "valid_from",
    "valid_to",
    "revolving",
    "guarantee_contract_id",
    "status",
    "source",
    "granted_by_id",
    "created_at",
)
APPLICATION_COLUMNS = (
    "id",
    "number",
    "customer_id",
    "branch_id",
    "product_id",
    "credit_line_id",
    "amount",
    "term_months",
    "annual_rate",
    "repayment_method",
    "purpose",
    "state",
    "prepared_by_id",
    "created_at",
    "submitted_at",
    "decided_at",
    "approved_amount",
    "decision_comment",
)
CASE_COLUMNS = (
    "id",
    "application_id",
    "customer_id",
    "branch_id",
    "amount",
    "route",
    "state",
    "ruleset_id",
    "rule_id",
    "routing_facts",
    "opened_by_id",
    "opened_at",
    "stage_entered_at",
    "stage_due_at",
    "previous_stage_by",
    "investigation_round",
    "closed_at",
)
LOG_COLUMNS = (
    "case_id",
    "from_state",
    "to_state",
    "transition",
    "actor_id",
    "role",
    "created_at",
    "comment",
    "reason_code",
    "stage_entered_at",
    "seconds_in_stage",
)
SIGNATURE_COLUMNS = ("case_id", "round", "part", "signer_id", "comment", "signed_at")
CONTRACT_COLUMNS = (
    "id",
    "number",
    "application_id",
    "credit_line_id",
    "customer_id",
    "branch_id",
    "amount",
    "term_months",
    "annual_rate",
    "repayment_method",
    "guarantee_contract_id",
    "signed_on",
    "created_by_id",
    "created_at",
)
NOTICE_COLUMNS = (
    "id",
    "number",
    "contract_id",
    "amount",
    "account_number",
    "status",
    "issued_by_id",
    "issued_at",
    "disbursed_by_id",
    "disbursed_at",
)
LOAN_COLUMNS = (
    "id",
    "number",
    "contract_id",
    "customer_id",
    "branch_id",
    "product_id",
    "credit_line_id",
    "account_manager_id",
    "principal",
    "annual_rate",
    "term_months",
    "repayment_method",
    "day_count",
    "state",
    "disbursed_on",
    "maturity_date",
    "outstanding_principal",
    "days_past_due",
    "classification",
    "classification_locked",
    "disbursement_key",
    "settled_on",
    "created_at",
)
INSTALLMENT_COLUMNS = (
    "loan_id",
    "number",
    "due_date",
    "principal",
    "interest",
    "paid_principal",
    "paid_interest",
    "paid_penalty",
    "settled_on",
)
REPAYMENT_COLUMNS = (
    "loan_id",
    "amount",
    "paid_on",
    "to_penalty",
    "to_interest",
    "to_principal",
    "idempotency_key",
    "recorded_by_id",
    "recorded_at",
)
VISIT_COLUMNS = (
    "customer_id",
    "staff_id",
    "visited_on",
    "channel",
    "notes",
    "outcome",
    "next_step",
    "next_contact_on",
    "created_at",
)
SERVICE_COLUMNS = (
    "teller_id",
    "outlet_id",
    "branch_id",
    "customer_id",
    "business_type",
    "wait_minutes",
    "handling_minutes",
    "smile",
    "standing",
    "standard_wording",
    "rating",
    "note",
    "served_at",
)
COMPLAINT_COLUMNS = (
    "kind",
    "channel",
    "severity",
    "customer_id",
    "contact_name",
    "branch_id",
    "subject",
    "description",
    "state",
    "received_by_id",
    "received_at",
    "assignee_id",
    "due_at",
    "escalation_level",
    "escalated_at",
    "response",
    "responded_at",
    "resolution",
    "resolved_at",
    "closed_at",
    "reopen_count",
)


CAMPAIGN_COLUMNS = (
    "id",
    "name",
    "village_id",
    "project_manager_id",
    "product_id",
    "credit_months",
    "tolerance",
    "phase",
    "starts_on",
    "ends_on",
    "created_by_id",
    "created_at",
    "phase_changed_at",
)
ENTRY_COLUMNS = (
    "id",
    "campaign_id",
    "household_id",
    "excluded_reason",
    "exclusion_note",
    "excluded_at",
    "excluded_by_id",
    "submitted_count",
    "evaluated_at",
    "reconciled_at",
    "outcome",
    "limit_rule",
    "rating_rule",
    "reconcile_inputs",
    "proposed_limit",
    "proposed_rating",
    "decided_by_id",
    "decided_at",
    "decision_comment",
    "limit",
    "rating",
    "pre_credited_at",
    "signing",
    "channel",
    "refusal_reason",
    "away_note",
    "away_follow_up_on",
    "signed_at",
    "signed_by_id",
    "credit_line_id",
    "updated_at",
)
EVALUATION_COLUMNS = (
    "campaign_id",
    "entry_id",
    "evaluator_id",
    "rating",
    "suggested_limit",
    "comment",
    "submitted_at",
)


def _entry(entry_id: int, campaign_id: int, household_id: int, *, excluded: datetime) -> tuple:
    """A household screened out quietly before the evaluation (bad credit record)."""
    return (
        entry_id,
        campaign_id,
        household_id,
        "bad_credit",
        "",
        excluded,
        None,
        0,
        None,
        None,
        "",
        "",
        "",
        {},
        None,
        "",
        None,
        None,
        "",
        None,
        "",
        None,
        "pending",
        "",
        "",
        "",
        None,
        None,
        None,
        None,
        excluded,
    )


def build(*, households: int, seed: int, today: date, log: Callable[[str], None]) -> dict:
    """Generate the county dataset; refuses (``AlreadySeeded``) when one is there already."""
    found = existing_seed()
    if found is not None:
        raise AlreadySeeded(found)
    return Builder(households=households, seed=seed, today=today, log=log).build()
