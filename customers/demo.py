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


SEGMENTS = [
    (
        "young-migrant-workers",
        "青年外出务工人员",
        "Young migrant workers",
        [
            {"attribute": "age", "op": "between", "value": [18, 35]},
            {"attribute": "workplace", "op": "eq", "value": "away"},
        ],
    ),
    (
        "high-value-depositors",
        "高价值存款客户",
        "High-value depositors",
        [{"attribute": "deposit_balance", "op": "gte", "value": "200000"}],
    ),
    (
        "elderly-farmers",
        "老年农户",
        "Elderly farmers",
        [
            {"attribute": "age", "op": "gte", "value": 60},
            {"attribute": "occupation", "op": "in", "value": ["farmer", "retired"]},
        ],
    ),
    (
        "breeders-and-merchants",
        "养殖户与个体工商户",
        "Breeders and merchants",
        [{"attribute": "occupation", "op": "in", "value": ["breeder", "merchant"]}],
    ),
]
CONTACT_PLANS = [
    ("战略合作客户 每月走访", "", CustomerClass.STRATEGIC, 30),
    ("合作伙伴客户 每两月联系", "", CustomerClass.PARTNER, 60),
    ("维护客户 每半年联系", "", CustomerClass.MAINTENANCE, 180),
    ("青年外出务工人员 每季度电话/微信联系", "young-migrant-workers", "", 90),
    ("高价值存款客户 每月联系", "high-value-depositors", "", 30),
]


def seed_relationships() -> str:
    """Segments, contact plans and a few months of visits, through the services."""
    from customers.models import ContactPlan, Segment, Visit
    from customers.services.relationship import (
        contact_plan_create,
        segment_create,
        segments_recompute_all,
        visit_record,
    )

    director = User.objects.get(username="director")
    for code, name, name_en, rules in SEGMENTS:
        if not Segment.objects.filter(code=code).exists():
            segment_create(actor=director, code=code, name=name, name_en=name_en, rules=rules)
    for name, segment_code, customer_class, days in CONTACT_PLANS:
        if not ContactPlan.objects.filter(name=name).exists():
            contact_plan_create(
                actor=director,
                name=name,
                interval_days=days,
                segment=Segment.objects.get(code=segment_code) if segment_code else None,
                customer_class=customer_class,
            )
    segments_recompute_all()

    if not Visit.objects.exists():
        rng = random.Random(7)
        today = date.today()
        notes = [
            "了解春耕资金需求，客户计划扩大种植面积。",
            "介绍手机银行和社保卡激活，客户表示满意。",
            "回访贷款使用情况，资金用于购买化肥种子。",
            "客户在外务工，电话沟通后约定春节返乡时面谈。",
            "宣传整村授信政策，客户愿意参加评议。",
        ]
        for customer in Customer.objects.order_by("id")[::3]:
            visit_record(
                actor=customer.owner,
                customer=customer,
                visited_on=today - timedelta(days=rng.randrange(1, 200)),
                channel=rng.choice(list(Visit.Channel.values)),
                outcome=rng.choice(list(Visit.Outcome.values)),
                notes=rng.choice(notes),
                next_step=rng.choice(["一个月后回访", "推荐惠农e贷", "协助办理社保卡", ""]),
            )
    return f"{Segment.objects.count()} segments, {Visit.objects.count()} visits"


def seed_service() -> str:
    """Counter services over the last 60 days, and complaints in every state."""
    from django.utils import timezone

    from customers.models import BusinessType, Complaint, ServiceInteraction
    from customers.services.service import (
        complaint_assign,
        complaint_close,
        complaint_receive,
        complaint_resolve,
        complaint_respond,
        complaints_escalate_overdue,
    )

    rng = random.Random(11)
    now = timezone.now()
    if not ServiceInteraction.objects.exists():
        rows = []
        tellers = User.objects.filter(groups__name=Role.TELLER).select_related("org_unit")
        for teller in tellers:
            branch = teller.org_unit.branch()
            customers = list(Customer.objects.filter(branch=branch).values_list("id", flat=True))
            for _n in range(120):
                served = now - timedelta(
                    days=rng.randrange(0, 60), hours=rng.randrange(0, 8), minutes=rng.randrange(60)
                )
                rows.append(
                    ServiceInteraction(
                        teller=teller,
                        outlet=teller.org_unit,
                        branch=branch,
                        customer_id=rng.choice(customers) if rng.random() < 0.7 else None,
                        business_type=rng.choice(list(BusinessType.values)),
                        wait_minutes=rng.choice([0, 1, 2, 3, 5, 8, 12, 20]),
                        handling_minutes=rng.choice([2, 3, 4, 5, 8, 10, 15]),
                        smile=rng.random() < 0.9,
                        standing=rng.random() < 0.8,
                        standard_wording=rng.random() < 0.85,
                        rating=rng.choice([5, 5, 5, 4, 4, 3, None]),
                        served_at=served,
                    )
                )
        ServiceInteraction.objects.bulk_create(rows)

    if not Complaint.objects.exists():
        subjects = [
            ("complaint", "排队等候时间过长", "客户反映周一上午办理取款排队超过40分钟。"),
            ("complaint", "贷款利率解释不清", "客户认为客户经理未说明执行利率和还款方式。"),
            ("suggestion", "希望增加助农服务点", "村民建议在村委会设立助农取款服务点。"),
            ("complaint", "手机银行转账失败", "客户转账提示失败但账户已扣款，要求尽快处理。"),
            ("suggestion", "营业厅增加老年人座椅", "老年客户建议在营业厅增加座椅和老花镜。"),
            ("complaint", "服务态度生硬", "客户反映柜员办理业务时未使用规范用语。"),
        ]
        for code in ("B01", "B02", "B03"):
            branch = OrgUnit.objects.get(code=code)
            teller = User.objects.filter(
                groups__name=Role.TELLER, org_unit__path__startswith=branch.path
            ).first()
            manager = User.objects.filter(groups__name=Role.BRANCH_MANAGER, org_unit=branch).first()
            customers = list(Customer.objects.filter(branch=branch)[:6])
            for i, (kind, subject, description) in enumerate(subjects):
                complaint = complaint_receive(
                    actor=teller,
                    kind=kind,
                    channel=rng.choice(list(Complaint.Channel.values)),
                    subject=subject,
                    description=description,
                    severity=rng.choice(["normal", "normal", "complex", "urgent"]),
                    customer=customers[i],
                    received_at=now - timedelta(days=3 + i * 7),
                )
                if i >= 1:
                    complaint = complaint_assign(
                        actor=manager, complaint=complaint, assignee=teller
                    )
                if i >= 2:
                    complaint = complaint_respond(
                        actor=teller, complaint=complaint, text="已致电客户说明情况并致歉。"
                    )
                if i >= 3:
                    complaint = complaint_resolve(
                        actor=manager,
                        complaint=complaint,
                        text="已整改并在晨会通报，客户表示认可。",
                    )
                if i >= 5:
                    complaint_close(actor=manager, complaint=complaint)
        complaints_escalate_overdue()
    services, complaints = ServiceInteraction.objects.count(), Complaint.objects.count()
    return f"{services} counter services, {complaints} complaints"


def seed_all() -> str:
    created = seed_customers()
    return f"{created} customers; {seed_relationships()}; {seed_service()}"
