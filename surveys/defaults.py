"""The default credit-service framework: 7 first-level and 26 second-level indicators.

Seed 002 builds its questionnaire on the ACSI and SERVQUAL gap models with 7 × 26 indicators and
names some of them (interest-rate standard, feedback and complaint channels, openness of service
fees, business expansion, e-banking, branch network layout, business-hall environment); the rest
cover what it says customers care about: convenience of application, speed of funds, staff
service, and the time and cost of borrowing.
"""

from __future__ import annotations

DEFAULT_FRAMEWORK_CODE = "credit-service"
DEFAULT_FRAMEWORK_NAME = ("信贷服务质效评价指标体系", "Credit service quality framework")

# (code, name, English name, [(code, name, English name), ...])
DEFAULT_INDICATORS: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    (
        "A",
        "贷款办理便捷性",
        "Convenience of application",
        [
            ("A01", "申请手续简便", "Simple application procedure"),
            ("A02", "申请材料不重复提交", "No repeated requests for documents"),
            ("A03", "办贷流程清晰透明", "Clear and transparent process"),
            ("A04", "业务咨询方便", "Easy to get advice"),
        ],
    ),
    (
        "B",
        "资金到位时效",
        "Speed of funds",
        [
            ("B01", "审批时效", "Speed of approval"),
            ("B02", "放款到账时效", "Speed of disbursement"),
            ("B03", "续贷和展期办理效率", "Speed of renewals and extensions"),
        ],
    ),
    (
        "C",
        "员工服务",
        "Staff service",
        [
            ("C01", "客户经理专业能力", "Account manager's expertise"),
            ("C02", "服务态度", "Attitude of staff"),
            ("C03", "主动走访和上门服务", "Visits and service at the door"),
            ("C04", "廉洁从业", "Integrity of staff"),
        ],
    ),
    (
        "D",
        "客户时间和费用成本",
        "Time and cost to the customer",
        [
            ("D01", "利率标准", "Interest-rate standard"),
            ("D02", "服务收费的公开性", "Openness of service fees"),
            ("D03", "办贷耗费的时间", "Time spent on a loan"),
            ("D04", "办贷耗费的人力", "Effort spent on a loan"),
        ],
    ),
    (
        "E",
        "产品与业务",
        "Products and business",
        [
            ("E01", "信贷产品种类", "Range of loan products"),
            ("E02", "授信额度满足需求", "Credit limit meets needs"),
            ("E03", "业务扩大", "Business expansion"),
            ("E04", "期限和还款方式灵活", "Flexible terms and repayment"),
        ],
    ),
    (
        "F",
        "服务渠道与设施",
        "Channels and facilities",
        [
            ("F01", "电子银行建设", "E-banking"),
            ("F02", "营业网点布局", "Branch network layout"),
            ("F03", "营业厅环境设施", "Business-hall environment"),
            ("F04", "助农服务点便利", "Village service points"),
        ],
    ),
    (
        "G",
        "沟通与反馈",
        "Communication and feedback",
        [
            ("G01", "客户意见反馈和投诉渠道", "Feedback and complaint channels"),
            ("G02", "信贷政策宣传", "Explaining credit policies"),
            ("G03", "办理进度告知", "Keeping the customer informed"),
        ],
    ),
]


def default_indicator_rows() -> list[dict]:
    """The default framework as the ``indicators`` argument of ``framework_create``."""
    rows = []
    for code, name, name_en, children in DEFAULT_INDICATORS:
        rows.append({"code": code, "name": name, "name_en": name_en, "parent": None})
        for child_code, child_name, child_en in children:
            rows.append(
                {"code": child_code, "name": child_name, "name_en": child_en, "parent": code}
            )
    return rows


# Loans for fixed assets (housing, machinery, vehicles) as against working capital; the product
# catalogue is data, so the mapping names the demo catalogue's codes.
FIXED_ASSET_PRODUCT_CODES = frozenset({"golden-home", "farm-machinery", "car-loan"})
