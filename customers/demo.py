"""Demo customers: a few hundred believable individuals and corporates across the branches.

Deterministic (a fixed random seed) and idempotent: customers are keyed by their ID number or
credit code, so a second run adds nothing. Seeding bypasses the per-customer service on purpose:
it is a bulk load of reference data (like ``seed_scale``), not a clerk's action.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from coop.models import OrgUnit, User
from coop.roles import Role
from customers.models import (
    CreditRating,
    Customer,
    CustomerCategory,
    CustomerClass,
    IncomeBand,
    IndustryCategory,
    Occupation,
    Workplace,
)
from customers.validators import credit_code_check_character, id_check_character

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜"
    "叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶"
    "黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_MALE = [
    "建国",
    "志强",
    "永刚",
    "海涛",
    "卫东",
    "文斌",
    "俊杰",
    "春生",
    "德明",
    "国庆",
    "长江",
    "家豪",
    "立新",
    "振华",
    "明亮",
    "宏伟",
    "金山",
    "大勇",
    "小龙",
    "子轩",
    "浩然",
    "天佑",
    "新民",
    "玉林",
    "红军",
]
GIVEN_FEMALE = [
    "秀英",
    "桂兰",
    "玉梅",
    "丽娟",
    "春燕",
    "红霞",
    "小芳",
    "海燕",
    "静怡",
    "雪梅",
    "美玲",
    "晓丽",
    "凤英",
    "淑珍",
    "翠花",
    "丽华",
    "梦琪",
    "欣怡",
    "雨涵",
    "思雨",
    "婷婷",
    "慧敏",
    "玉兰",
    "月娥",
]
TOWNS = {
    "B01": ("城关镇", ["五里湖村", "管仲村", "刘集村", "东十八里村", "西三十里村"]),
    "B02": ("谢桥镇", ["谢桥村", "张营村", "毛庄村", "杨湖村"]),
    "B03": ("新集镇", ["新集村", "李桥村", "马店村", "朱寨村"]),
    "B04": ("江店孜镇", ["江店村", "王岗村", "黄桥村", "沈庄村"]),
}
WORK_CITIES = ["上海", "苏州", "杭州", "合肥", "宁波", "深圳", "南京"]
ENTERPRISES = [
    ("颍上县{v}种植专业合作社", "种植业"),
    ("颍上县{v}养殖专业合作社", "畜牧业"),
    ("颍上县{surname}氏农机服务有限公司", "农机服务"),
    ("颍上县{v}家庭农场", "种植业"),
    ("安徽{surname}记食品有限公司", "农副食品加工"),
    ("颍上县{surname}家建材商行", "批发零售"),
]
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
COUNTY_CODE = "341226"  # 颍上县


def _id_number(rng: random.Random, birth: date, male: bool) -> str:
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    body = f"{COUNTY_CODE}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_character(body)


def _credit_code(rng: random.Random) -> str:
    body = "93" + COUNTY_CODE + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
    return body + credit_code_check_character(body)


def _mobile(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "151", "152", "158", "187", "188", "135", "177"]) + (
        f"{rng.randrange(0, 10**8):08d}"
    )


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100)) / 100


@transaction.atomic
def seed_customers(per_branch: int = 80) -> int:
    rng = random.Random(2026)
    today = date.today()
    created = 0
    for code, (town, villages) in TOWNS.items():
        branch = OrgUnit.objects.get(code=code)
        if Customer.objects.filter(branch=branch).count() >= per_branch:
            continue  # seeded already: a second run adds nothing
        managers = list(
            User.objects.filter(
                org_unit__path__startswith=branch.path, groups__name=Role.ACCOUNT_MANAGER
            ).order_by("username")
        )
        if not managers:
            continue
        rows = []
        for i in range(per_branch):
            owner = managers[i % len(managers)]
            b_manager = managers[(i + 1) % len(managers)] if len(managers) > 1 else None
            village = rng.choice(villages)
            surname = rng.choice(SURNAMES)
            if i % 10 == 9:  # every tenth customer is a small enterprise or cooperative
                pattern, industry = rng.choice(ENTERPRISES)
                name = pattern.format(v=village.removesuffix("村"), surname=surname)
                rows.append(
                    Customer(
                        kind=Customer.Kind.CORPORATE,
                        name=name,
                        branch=branch,
                        owner=owner,
                        b_manager=b_manager,
                        credit_code=_credit_code(rng),
                        legal_representative=surname + rng.choice(GIVEN_MALE),
                        finance_contact=rng.choice(SURNAMES) + rng.choice(GIVEN_FEMALE),
                        industry=industry,
                        mobile=_mobile(rng),
                        address=f"安徽省阜阳市颍上县{town}{village}",
                        deposit_balance=_money(rng, 50_000, 3_000_000),
                        deposit_flow=_money(rng, 20_000, 800_000),
                        profit_contribution=_money(rng, 5_000, 200_000),
                        customer_class=rng.choice(
                            [CustomerClass.STRATEGIC, CustomerClass.PARTNER, CustomerClass.PARTNER]
                        ),
                        industry_category=rng.choice(list(IndustryCategory.values)),
                        customer_category=rng.choice(
                            [
                                CustomerCategory.KEY,
                                CustomerCategory.MODERATE,
                                CustomerCategory.MODERATE,
                                CustomerCategory.CAUTIOUS,
                            ]
                        ),
                    )
                )
                continue
            male = rng.random() < 0.55
            birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 54 * 365))
            age = (today - birth).days // 365
            if age < 36 and rng.random() < 0.6:
                occupation, workplace = Occupation.MIGRANT_WORKER, Workplace.AWAY
            elif age > 62:
                occupation, workplace = (
                    rng.choice([Occupation.FARMER, Occupation.RETIRED]),
                    (Workplace.HOME),
                )
            else:
                occupation = rng.choice(
                    [
                        Occupation.FARMER,
                        Occupation.FARMER,
                        Occupation.BREEDER,
                        Occupation.MERCHANT,
                        Occupation.SALARIED,
                        Occupation.CIVIL_SERVANT,
                    ]
                )
                workplace = Workplace.HOME
            deposit = (
                _money(rng, 500, 80_000) if rng.random() < 0.9 else _money(rng, 200_000, 1_500_000)
            )
            rows.append(
                Customer(
                    kind=Customer.Kind.INDIVIDUAL,
                    name=surname + rng.choice(GIVEN_MALE if male else GIVEN_FEMALE),
                    branch=branch,
                    owner=owner,
                    b_manager=b_manager,
                    id_number=_id_number(rng, birth, male),
                    gender=Customer.Gender.MALE if male else Customer.Gender.FEMALE,
                    birth_date=birth,
                    occupation=occupation,
                    workplace=workplace,
                    work_location=rng.choice(WORK_CITIES) if workplace == Workplace.AWAY else "",
                    income_band=rng.choice(list(IncomeBand.values)[:4]),
                    mobile=_mobile(rng),
                    address=f"安徽省阜阳市颍上县{town}{village}{rng.randrange(1, 12)}组",
                    deposit_balance=deposit,
                    deposit_flow=(deposit * Decimal("0.15")).quantize(Decimal("0.01")),
                    profit_contribution=(deposit * Decimal("0.012")).quantize(Decimal("0.01")),
                    credit_rating=rng.choice(
                        [
                            CreditRating.GENERAL,
                            CreditRating.GOOD,
                            CreditRating.GOOD,
                            CreditRating.EXCELLENT,
                            "",
                        ]
                    ),
                    credit_rated_on=today - timedelta(days=rng.randrange(30, 400)),
                    customer_class=CustomerClass.MAINTENANCE,
                    customer_category=rng.choice(
                        [
                            CustomerCategory.KEY,
                            CustomerCategory.MODERATE,
                            CustomerCategory.MODERATE,
                            CustomerCategory.MODERATE,
                            CustomerCategory.CAUTIOUS,
                        ]
                    ),
                    industry_category=rng.choice(
                        [
                            IndustryCategory.GUARANTEED,
                            IndustryCategory.KEY,
                            IndustryCategory.MODERATE,
                        ]
                    ),
                )
            )
        before = Customer.objects.filter(branch=branch).count()
        Customer.objects.bulk_create(rows, ignore_conflicts=True)
        created += Customer.objects.filter(branch=branch).count() - before
    return created
