"""Demo data for loan origination: the product catalogue and a few applications.

Idempotent: products are found by code and never overwritten (head office may have edited them
since); demo applications are made only for customers who have none yet. Amounts, terms and rates
are configuration: this is one county's catalogue (seeds 000/001 for Yingshang, 003 for the retail
products), not rules in code.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count

from customers.models import CreditRating, Customer
from loans.models import LoanApplication, Product, RepaymentMethod, RiskRoute
from loans.selectors_origination import eligible_products
from loans.services.origination import (
    loan_application_create,
    loan_application_submit,
    product_create,
)

D = Decimal
ALL_METHODS = [m.value for m in RepaymentMethod]
AMORTIZING = [RepaymentMethod.EQUAL_INSTALLMENT.value, RepaymentMethod.EQUAL_PRINCIPAL.value]
ALL_RATINGS = [r.value for r in CreditRating]

PRODUCTS: list[dict] = [
    {
        # Seed 000/001: farmer microcredit by credit rating, no collateral — one product, three
        # tiers: 一般 up to ¥3,000, 较好 ¥3,001–5,000, 优秀 ¥5,001–10,000.
        "code": "farmer-microcredit",
        "name": "农户小额信用贷款",
        "name_en": "Farmer microcredit",
        "description": "按农户信用等级核定额度，无需担保抵押：一般户3000元以内，较好户3001-5000元，"
        "优秀户5001-10000元。",
        "kind": Product.Kind.CREDIT,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("500.00"),
        "max_amount": D("10000.00"),
        "min_term_months": 1,
        "max_term_months": 36,
        "min_rate": D("0.0435"),
        "max_rate": D("0.0850"),
        "repayment_methods": ALL_METHODS,
        "security": Product.Security.NONE,
        "eligible_ratings": ALL_RATINGS,
        "default_route": RiskRoute.LOW,
        "sort_order": 10,
        "tiers": [
            {"rating": CreditRating.GENERAL, "min_amount": D("500.00"), "max_amount": D("3000.00")},
            {"rating": CreditRating.GOOD, "min_amount": D("3001.00"), "max_amount": D("5000.00")},
            {
                "rating": CreditRating.EXCELLENT,
                "min_amount": D("5001.00"),
                "max_amount": D("10000.00"),
            },
        ],
    },
    {
        # Seed 001: ¥10,000–100,000 after a maximum-amount guarantee contract; a loan certificate
        # is issued and the credit revolves within two years up to the maximum.
        "code": "guaranteed-revolving",
        "name": "农户保证循环贷款",
        "name_en": "Guaranteed revolving credit",
        "description": "签订最高额保证合同后出具贷款证，两年内在最高额度内循环使用。",
        "kind": Product.Kind.GUARANTEED,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("10000.00"),
        "max_amount": D("100000.00"),
        "min_term_months": 3,
        "max_term_months": 24,
        "min_rate": D("0.0500"),
        "max_rate": D("0.0850"),
        "repayment_methods": ALL_METHODS,
        "security": Product.Security.MAX_AMOUNT_GUARANTEE,
        "revolving": True,
        "revolving_years": 2,
        "default_route": RiskRoute.MEDIUM,
        "sort_order": 20,
    },
    {
        # Seed 001: large-scale breeders, with the county financial guarantee company.
        "code": "large-scale-farming",
        "name": "规模养殖户支农贷款",
        "name_en": "Large-scale farming loan",
        "description": "与县域金融担保公司合作，支持规模养殖户。",
        "kind": Product.Kind.GUARANTEED,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("100000.00"),
        "max_amount": D("1000000.00"),
        "min_term_months": 6,
        "max_term_months": 36,
        "min_rate": D("0.0500"),
        "max_rate": D("0.0800"),
        "repayment_methods": [
            RepaymentMethod.EQUAL_INSTALLMENT.value,
            RepaymentMethod.EQUAL_PRINCIPAL.value,
            RepaymentMethod.INTEREST_ONLY.value,
        ],
        "security": Product.Security.GUARANTEE_COMPANY,
        "default_route": RiskRoute.HIGH,
        "sort_order": 30,
    },
    {
        "code": "small-enterprise",
        "name": "小企业贷款",
        "name_en": "Small enterprise loan",
        "description": "支持县域小微企业生产经营，需提供保证人。",
        "kind": Product.Kind.GUARANTEED,
        "customer_kind": Product.CustomerKind.CORPORATE,
        "min_amount": D("100000.00"),
        "max_amount": D("5000000.00"),
        "min_term_months": 6,
        "max_term_months": 36,
        "min_rate": D("0.0480"),
        "max_rate": D("0.0850"),
        "repayment_methods": [
            RepaymentMethod.EQUAL_INSTALLMENT.value,
            RepaymentMethod.EQUAL_PRINCIPAL.value,
            RepaymentMethod.INTEREST_ONLY.value,
        ],
        "security": Product.Security.GUARANTOR,
        "default_route": RiskRoute.HIGH,
        "sort_order": 40,
    },
    {
        "code": "merchant",
        "name": "商户贷款",
        "name_en": "Merchant loan",
        "description": "面向个体工商户和专业市场商户的经营性贷款。",
        "kind": Product.Kind.GUARANTEED,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("20000.00"),
        "max_amount": D("500000.00"),
        "min_term_months": 3,
        "max_term_months": 36,
        "min_rate": D("0.0550"),
        "max_rate": D("0.0850"),
        "repayment_methods": ALL_METHODS,
        "security": Product.Security.GUARANTOR,
        "default_route": RiskRoute.MEDIUM,
        "sort_order": 50,
    },
    {
        "code": "golden-home",
        "name": "新农村金色家园个人住房抵押贷款",
        "name_en": "New Countryside Golden Home mortgage",
        "description": "农户建房、购房的个人住房抵押贷款。",
        "kind": Product.Kind.MORTGAGE,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("50000.00"),
        "max_amount": D("1000000.00"),
        "min_term_months": 12,
        "max_term_months": 360,
        "min_rate": D("0.0410"),
        "max_rate": D("0.0650"),
        "repayment_methods": AMORTIZING,
        "security": Product.Security.COLLATERAL,
        "default_route": RiskRoute.HIGH,
        "sort_order": 60,
    },
    {
        "code": "farm-machinery",
        "name": "农机贷款",
        "name_en": "Farm machinery loan",
        "description": "购置农业机械，以所购农机抵押。",
        "kind": Product.Kind.MORTGAGE,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("10000.00"),
        "max_amount": D("300000.00"),
        "min_term_months": 6,
        "max_term_months": 36,
        "min_rate": D("0.0480"),
        "max_rate": D("0.0750"),
        "repayment_methods": AMORTIZING,
        "security": Product.Security.COLLATERAL,
        "default_route": RiskRoute.MEDIUM,
        "sort_order": 70,
    },
    {
        "code": "car-loan",
        "name": "汽车贷款",
        "name_en": "Car loan",
        "description": "与汽车经销商、担保公司合作的汽车分期贷款，以所购车辆抵押。",
        "kind": Product.Kind.MORTGAGE,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("30000.00"),
        "max_amount": D("500000.00"),
        "min_term_months": 12,
        "max_term_months": 60,
        "min_rate": D("0.0450"),
        "max_rate": D("0.0750"),
        "repayment_methods": AMORTIZING,
        "security": Product.Security.COLLATERAL,
        "default_route": RiskRoute.MEDIUM,
        "sort_order": 80,
    },
    {
        # Seed 003: retail products a branch markets alongside.
        "code": "white-collar",
        "name": "白领贷",
        "name_en": "White-collar loan",
        "description": "面向公职人员、教师和企事业单位在职员工的信用消费贷款。",
        "kind": Product.Kind.CREDIT,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("10000.00"),
        "max_amount": D("300000.00"),
        "min_term_months": 6,
        "max_term_months": 36,
        "min_rate": D("0.0435"),
        "max_rate": D("0.0850"),
        "repayment_methods": [
            RepaymentMethod.EQUAL_INSTALLMENT.value,
            RepaymentMethod.EQUAL_PRINCIPAL.value,
            RepaymentMethod.INTEREST_ONLY.value,
        ],
        "security": Product.Security.NONE,
        "default_route": RiskRoute.MEDIUM,
        "sort_order": 90,
    },
    {
        "code": "women-entrepreneur",
        "name": "巾帼贷",
        "name_en": "Women's loan",
        "description": "支持农村妇女创业就业的信用贷款。",
        "kind": Product.Kind.CREDIT,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("10000.00"),
        "max_amount": D("200000.00"),
        "min_term_months": 6,
        "max_term_months": 36,
        "min_rate": D("0.0435"),
        "max_rate": D("0.0750"),
        "repayment_methods": ALL_METHODS,
        "security": Product.Security.NONE,
        "eligible_ratings": [CreditRating.GOOD.value, CreditRating.EXCELLENT.value],
        "default_route": RiskRoute.LOW,
        "sort_order": 100,
    },
]


def seed_products() -> dict[str, Product]:
    """The catalogue above, created where its code is missing. Returns the products by code."""
    products = {}
    for spec in PRODUCTS:
        existing = Product.objects.filter(code=spec["code"]).first()
        if existing is not None:
            products[spec["code"]] = existing
            continue
        data = {k: v for k, v in spec.items() if k != "tiers"}
        data.setdefault("is_active", True)
        products[spec["code"]] = product_create(actor=None, data=data, tiers=spec.get("tiers", []))
    return products


PURPOSES = {
    "farmer-microcredit": "购买化肥、种子等春耕生产资料",
    "guaranteed-revolving": "扩大大棚蔬菜种植规模",
    "large-scale-farming": "新建标准化生猪养殖圈舍",
    "small-enterprise": "采购原材料，补充流动资金",
    "merchant": "店铺进货周转",
    "white-collar": "家庭装修",
    "women-entrepreneur": "开办农家乐",
}


def _demo_terms(product: Product, min_amount: Decimal, max_amount: Decimal) -> dict:
    # The tier's maximum for microcredit (what the rating allows), the range's low end otherwise:
    # realistic requests that pass validation whatever the customer's rating.
    amount = max_amount if product.code == "farmer-microcredit" else min_amount
    term = max(product.min_term_months, min(12, product.max_term_months))
    return {
        "amount": amount,
        "term_months": term,
        "annual_rate": product.max_rate if product.min_rate < D("0.06") else product.min_rate,
        "repayment_method": product.repayment_methods[0],
    }


def seed(*, per_branch: int = 4) -> str:
    """The product catalogue, then up to ``per_branch`` demo applications per branch for
    customers that have none yet, prepared by each customer's own account manager: individuals
    get farmer microcredit (or another product they qualify for), corporates a small enterprise
    loan with a guarantor; every other one is submitted. Safe to run again."""
    products = seed_products()
    created = submitted = 0
    # Count what each branch already has, so a second run adds nothing.
    counts: dict[int, int] = dict(
        LoanApplication.objects.values_list("branch_id").annotate(n=Count("id"))
    )
    customers = (
        Customer.objects.filter(loan_applications__isnull=True)
        .select_related("branch", "owner")
        .order_by("branch_id", "id")
    )
    for customer in customers:
        if counts.get(customer.branch_id, 0) >= per_branch:
            continue
        if not customer.owner.has_perm("loans.add_loanapplication"):
            continue
        options = {p.code: (p, low, high) for p, low, high in eligible_products(customer)}
        if not options:
            continue
        preferred = [
            "farmer-microcredit",
            "small-enterprise",
            "merchant",
            "women-entrepreneur",
            "white-collar",
        ]
        code = next((c for c in preferred if c in options), None)
        if code is None:
            continue
        product, low, high = options[code]
        guarantors = []
        if product.security == Product.Security.GUARANTOR:
            guarantors = [{"name": "县农业融资担保有限公司", "is_company": True}]
        application = loan_application_create(
            actor=customer.owner,
            customer=customer,
            product=product,
            purpose=PURPOSES.get(code, "生产经营"),
            guarantors=guarantors,
            **_demo_terms(product, low, high),
        )
        created += 1
        if counts.get(customer.branch_id, 0) % 2 == 1:
            loan_application_submit(application=application, actor=customer.owner)
            submitted += 1
        counts[customer.branch_id] = counts.get(customer.branch_id, 0) + 1
    total = LoanApplication.objects.count()
    return (
        f"{len(products)} products, {created} new applications ({submitted} submitted), "
        f"{total} applications in all"
    )
