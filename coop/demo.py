"""The demo cooperative: a county bank with a head office, branches, outlets and staff.

Idempotent: every object is looked up by its natural key first, so running the seed again changes
nothing. Later apps extend the demo through ``seed_demo``'s steps.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from coop.models import OrgUnit, User
from coop.roles import Role
from coop.services import org_unit_create, staff_create

DEMO_PASSWORD = "coop-demo-2026"  # noqa: S105 — demo only; production gets no password

HEAD_OFFICE = ("HQ", "颍上农商银行总行")
BRANCHES = [
    ("B01", "城关支行", [("B01-01", "城关支行营业部"), ("B01-02", "管仲路分理处")]),
    ("B02", "谢桥支行", [("B02-01", "谢桥支行营业部")]),
    ("B03", "新集支行", [("B03-01", "新集支行营业部")]),
    ("B04", "江店支行", [("B04-01", "江店支行营业部")]),
]

# (username, name, unit code, roles)
STAFF = [
    ("admin", "系统管理员", "HQ", [Role.SYSADMIN]),
    ("director", "周明远", "HQ", [Role.MANAGEMENT]),
    ("risk1", "李慧敏", "HQ", [Role.RISK_OFFICER]),
    ("risk2", "陈志强", "HQ", [Role.RISK_OFFICER]),
    ("committee1", "赵国华", "HQ", [Role.LOAN_COMMITTEE, Role.MANAGEMENT]),
    ("committee2", "钱秀英", "HQ", [Role.LOAN_COMMITTEE]),
    ("committee3", "孙立新", "HQ", [Role.LOAN_COMMITTEE]),
    ("committee4", "吴海燕", "HQ", [Role.LOAN_COMMITTEE]),
    ("committee5", "郑文斌", "HQ", [Role.LOAN_COMMITTEE]),
    ("committee6", "冯玉兰", "HQ", [Role.LOAN_COMMITTEE]),
    ("b1_manager", "王建国", "B01", [Role.BRANCH_MANAGER]),
    ("b1_am1", "刘晓东", "B01", [Role.ACCOUNT_MANAGER]),
    ("b1_am2", "张丽娟", "B01", [Role.ACCOUNT_MANAGER]),
    ("b1_teller", "杨静", "B01-01", [Role.TELLER]),
    ("b1_teller2", "黄小梅", "B01-02", [Role.TELLER]),
    ("b1_risk", "何振华", "B01", [Role.RISK_OFFICER]),
    ("b2_manager", "马永刚", "B02", [Role.BRANCH_MANAGER]),
    ("b2_am1", "朱红梅", "B02", [Role.ACCOUNT_MANAGER]),
    ("b2_am2", "胡志勇", "B02", [Role.ACCOUNT_MANAGER]),
    ("b2_teller", "林芳", "B02-01", [Role.TELLER]),
    ("b3_manager", "郭天明", "B03", [Role.BRANCH_MANAGER]),
    ("b3_am1", "罗春燕", "B03", [Role.ACCOUNT_MANAGER]),
    ("b3_teller", "高雅琴", "B03-01", [Role.TELLER]),
    ("b4_manager", "梁宏伟", "B04", [Role.BRANCH_MANAGER]),
    ("b4_am1", "宋志刚", "B04", [Role.ACCOUNT_MANAGER]),
    ("b4_teller", "唐丽华", "B04-01", [Role.TELLER]),
]


def _unit(code: str, name: str, kind: str, parent: OrgUnit | None) -> OrgUnit:
    existing = OrgUnit.objects.filter(code=code).first()
    if existing:
        return existing
    return org_unit_create(code=code, name=name, kind=kind, parent=parent)


@transaction.atomic
def seed_organisation() -> dict[str, OrgUnit]:
    units = {}
    hq = _unit(*HEAD_OFFICE, OrgUnit.Kind.HEAD_OFFICE, None)
    units[hq.code] = hq
    for code, name, outlets in BRANCHES:
        branch = _unit(code, name, OrgUnit.Kind.BRANCH, hq)
        units[code] = branch
        for outlet_code, outlet_name in outlets:
            units[outlet_code] = _unit(outlet_code, outlet_name, OrgUnit.Kind.OUTLET, branch)
    return units


@transaction.atomic
def seed_staff(units: dict[str, OrgUnit]) -> list[User]:
    # Known passwords only where the settings allow them (local and test, never production).
    password = DEMO_PASSWORD if settings.COOP_DEMO_PASSWORDS else None
    users = []
    for username, name, unit_code, roles in STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = staff_create(
                username=username,
                name=name,
                org_unit=units[unit_code],
                roles=[str(r) for r in roles],
                password=password,
                employee_no=f"E{len(users) + 1:04d}",
            )
        users.append(user)
    return users


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, roles, unit) for the start-up banner."""
    from coop.roles import role_label

    units = dict([HEAD_OFFICE])
    for code, name, outlets in BRANCHES:
        units[code] = name
        units.update(dict(outlets))
    return [
        (username, ", ".join(role_label(r) for r in roles), units[unit])
        for username, _name, unit, roles in STAFF
    ]


def seed_all() -> str:
    units = seed_organisation()
    users = seed_staff(units)
    return f"{len(units)} org units, {len(users)} staff"
