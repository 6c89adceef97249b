"""Fixtures of the surveys tests: staff, a small hand-made framework, campaigns and answers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

import pytest

from coop.models import User
from coop.roles import Role
from customers.models import Customer

_sequence = itertools.count(1)

# A small framework for hand-computed tests: P (P1, P2) and Q (Q1, Q2, Q3).
SMALL_INDICATORS = [
    {"code": "P", "name": "过程", "name_en": "Process", "parent": None},
    {"code": "P1", "name": "手续", "name_en": "Procedure", "parent": "P"},
    {"code": "P2", "name": "时效", "name_en": "Speed", "parent": "P"},
    {"code": "Q", "name": "质量", "name_en": "Quality", "parent": None},
    {"code": "Q1", "name": "态度", "name_en": "Attitude", "parent": "Q"},
    {"code": "Q2", "name": "环境", "name_en": "Environment", "parent": "Q"},
    {"code": "Q3", "name": "收费", "name_en": "Fees", "parent": "Q"},
]
CODES = ["P1", "P2", "Q1", "Q2", "Q3"]

# Three valid responses whose means are worked out by hand in test_surveys_analysis.py.
HAND_RESPONSES = [
    {"P1": (5, 5), "P2": (5, 3), "Q1": (2, 4), "Q2": (3, 2), "Q3": (4, 3)},
    {"P1": (5, 4), "P2": (4, 2), "Q1": (2, 4), "Q2": (2, 2), "Q3": (3, 3)},
    {"P1": (4, 4), "P2": (4, 2), "Q1": (2, 4), "Q2": (2, 2), "Q3": (3, 3)},
]


def answers_of(values: dict) -> list[dict]:
    return [
        {"indicator": code, "importance": imp, "satisfaction": sat}
        for code, (imp, sat) in values.items()
    ]


def uniform(value: int) -> list[dict]:
    return [{"indicator": c, "importance": value, "satisfaction": value} for c in CODES]


@dataclass
class SurveyStaff:
    am: User
    manager: User
    director: User
    teller: User
    other_am: User
    other_manager: User


@pytest.fixture
def sv_roles(db):
    """Every app's permissions on the groups (coop syncs before this app's permissions exist)."""
    from coop.roles import sync_roles

    sync_roles()


@pytest.fixture
def sv(sv_roles, make_staff) -> SurveyStaff:
    return SurveyStaff(
        am=make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="sv_am"),
        manager=make_staff(Role.BRANCH_MANAGER, unit="B01", username="sv_manager"),
        director=make_staff(Role.MANAGEMENT, unit="HQ", username="sv_director"),
        teller=make_staff(Role.TELLER, unit="B01-01", username="sv_teller"),
        other_am=make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="sv_am2"),
        other_manager=make_staff(Role.BRANCH_MANAGER, unit="B02", username="sv_manager2"),
    )


def make_customers(org, owner: User, n: int, *, branch: str = "B01") -> list[Customer]:
    return Customer.objects.bulk_create(
        Customer(
            kind="individual",
            name=f"受访客户{next(_sequence)}",
            branch=org[branch],
            owner=owner,
        )
        for _ in range(n)
    )


@pytest.fixture
def small_framework(sv):
    from surveys.services import framework_create

    return framework_create(
        actor=sv.director, code="small", name="小型指标体系", indicators=SMALL_INDICATORS
    )


@pytest.fixture
def make_campaign(sv, org):
    from surveys.services import campaign_create, campaign_open

    def make(framework, *, actor=None, open_it=True, name=None, starts_on=date(2026, 4, 1), **kw):
        actor = actor or sv.director
        campaign = campaign_create(
            actor=actor,
            name=name or f"调查{next(_sequence)}",
            framework=framework,
            period="quarterly",
            starts_on=starts_on,
            ends_on=date(starts_on.year, starts_on.month, 28),
            **kw,
        )
        if open_it:
            campaign = campaign_open(actor=actor, campaign=campaign)
        return campaign

    return make


def submit(invitation, values: list[dict], actor=None, channel="api"):
    from surveys.services import response_submit

    return response_submit(invitation=invitation, answers=values, channel=channel, actor=actor)
