"""Pages, workbench panel and API of post-loan inspections and early warnings: scoping (an
account manager sees their own, branch staff their branch, head office all; anything else is
404 and absent from lists and counts), the compliance figures, and fixed query counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from risk.inspections import inspection_complete
from risk.models import EarlyWarning, Inspection
from tests.risk.test_inspection_factories import (
    NORMAL,
    RISK,
    loan_for,
    open_inspection,
    staff_fixture,  # noqa: F401 — the ``staff`` fixture
)

PAGE_QUERIES = 14
API_QUERIES = 10


@pytest.fixture
def book(org, staff):
    """B01: one loan of am, one of am2; B02: one loan of other_am."""
    mine = loan_for(org, staff, on=date(2025, 1, 10))
    colleague = loan_for(org, staff, on=date(2025, 1, 10), owner=staff.am2)
    other_branch = loan_for(org, staff, on=date(2025, 1, 10), branch="B02")
    return {
        "mine": open_inspection(mine),
        "colleague": open_inspection(colleague),
        "other_branch": open_inspection(other_branch),
    }


def _as(client, user):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def _listed(response) -> set[int]:
    return {row.pk for row in response.context["inspections"]}


def test_lists_are_scoped(client, staff, book):
    expected = {
        staff.am: {book["mine"].pk},
        staff.am2: {book["colleague"].pk},
        staff.manager: {book["mine"].pk, book["colleague"].pk},
        staff.other_risk: {book["other_branch"].pk},
        staff.director: {i.pk for i in book.values()},
    }
    for user, pks in expected.items():
        response = _as(client, user).get("/risk/inspections/")
        assert response.status_code == 200
        assert _listed(response) == pks, user.username
        api = client.get("/api/v1/inspections/")
        assert api.status_code == 200
        assert {row["id"] for row in api.json()["results"]} == pks
        assert api.json()["count"] == len(pks)
    assert _as(client, staff.teller).get("/risk/inspections/").status_code == 403
    assert client.get("/api/v1/inspections/").status_code == 403


@pytest.mark.parametrize(
    "path", ["/risk/inspections/{}/", "/risk/inspections/{}/complete/", "/api/v1/inspections/{}/"]
)
def test_out_of_scope_is_404(client, staff, book, path):
    _as(client, staff.am)
    assert client.get(path.format(book["colleague"].pk)).status_code == 404
    assert client.get(path.format(book["other_branch"].pk)).status_code == 404
    assert client.get(path.format(book["mine"].pk)).status_code == 200
    _as(client, staff.manager)
    assert client.get(path.format(book["other_branch"].pk)).status_code in (403, 404)


def test_completing_through_the_page(client, staff, book, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inspection = book["mine"]
    _as(client, staff.am)
    form = client.get(f"/risk/inspections/{inspection.pk}/complete/")
    assert b'accept="image/*"' in form.content and b'capture="environment"' in form.content

    bad = client.post(
        f"/risk/inspections/{inspection.pk}/complete/",
        {"funds_use": "diverted", "operation_note": "正常", "conclusion": "normal"},
    )
    assert bad.status_code == 400
    assert Inspection.objects.get(pk=inspection.pk).status == "due"

    done = client.post(
        f"/risk/inspections/{inspection.pk}/complete/",
        {
            "funds_use": "diverted",
            "funds_use_note": "部分用于建房",
            "operation_note": "经营下滑",
            "signals": ["income_fell", "funds_diverted"],
            "conclusion": "risk",
            "next_action": "提请风险部门复核",
        },
    )
    assert done.status_code == 302
    row = Inspection.objects.get(pk=inspection.pk)
    assert (row.status, row.signals, row.conclusion) == (
        "completed",
        ["income_fell", "funds_diverted"],
        "risk",
    )
    warning = EarlyWarning.objects.get(inspection=inspection)
    # Risk officers of the branch see the warning; another branch's do not.
    assert _as(client, staff.risk).get(f"/risk/warnings/{warning.pk}/").status_code == 200
    assert warning.pk in {w.pk for w in client.get("/risk/warnings/").context["warnings"]}
    assert _as(client, staff.other_risk).get(f"/risk/warnings/{warning.pk}/").status_code == 404
    assert list(client.get("/risk/warnings/").context["warnings"]) == []
    assert client.get(f"/api/v1/early-warnings/{warning.pk}/").status_code == 404
    assert (
        client.post(f"/risk/warnings/{warning.pk}/acknowledge/", {"comment": ""}).status_code == 404
    )
    _as(client, staff.risk)
    response = client.post(f"/risk/warnings/{warning.pk}/acknowledge/", {"comment": "已阅"})
    assert response.status_code == 302
    assert EarlyWarning.objects.get(pk=warning.pk).status == "acknowledged"
    api = client.post(
        f"/api/v1/early-warnings/{warning.pk}/actions/",
        {"action": "close", "comment": ""},
        content_type="application/json",
    )
    assert api.status_code == 400
    api = client.post(
        f"/api/v1/early-warnings/{warning.pk}/actions/",
        {"action": "close", "comment": "已处理"},
        content_type="application/json",
    )
    assert (api.status_code, api.json()["status"]) == (200, "closed")
    again = client.post(
        f"/api/v1/early-warnings/{warning.pk}/actions/",
        {"action": "acknowledge"},
        content_type="application/json",
    )
    assert again.status_code == 409


def test_completing_through_the_api(client, staff, book):
    inspection = book["mine"]
    _as(client, staff.am)
    url = f"/api/v1/inspections/{inspection.pk}/complete/"
    payload = {
        "funds_use": "matches",
        "operation_note": "正常经营",
        "signals": ["income_fell"],
        "conclusion": "attention",
        "next_action": "下月回访",
    }

    assert (
        client.post(
            url, {**payload, "signals": ["bogus"]}, content_type="application/json"
        ).status_code
        == 400
    )
    response = client.post(url, payload, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["signals"]) == ("completed", ["income_fell"])
    assert client.post(url, payload, content_type="application/json").status_code == 409
    other = f"/api/v1/inspections/{book['colleague'].pk}/complete/"
    assert client.post(other, payload, content_type="application/json").status_code == 404
    assert Inspection.objects.get(pk=book["colleague"].pk).status == "due"


def test_compliance_counts_only_the_scope(client, staff, org):
    today = timezone.localdate()
    on_time = loan_for(org, staff, on=today - timedelta(days=3))
    late = loan_for(org, staff, on=date(2025, 1, 10), owner=staff.am2)
    overdue = loan_for(org, staff, on=date(2025, 1, 10))
    elsewhere = loan_for(org, staff, on=date(2025, 1, 10), branch="B02")
    inspection_complete(actor=staff.am, inspection=open_inspection(on_time), findings=NORMAL)
    inspection_complete(actor=staff.am2, inspection=open_inspection(late), findings=NORMAL)
    from risk.inspections import inspections_sweep

    inspections_sweep(today=today)
    assert open_inspection(overdue).status == "overdue"
    assert open_inspection(elsewhere).status == "overdue"
    period = {"date_from": "2025-01-01", "date_to": str(today + timedelta(days=40))}

    figures = (
        _as(client, staff.manager).get("/risk/inspections/compliance/", period).context["figures"]
    )
    b01 = on_time.branch_id
    assert [(r.key, r.on_time, r.late, r.overdue) for r in figures.branches] == [(b01, 1, 1, 1)]
    assert (figures.total.on_time, figures.total.late, figures.total.overdue) == (1, 1, 1)
    assert figures.total.on_time_rate == 33.3
    assert {(r.key, r.on_time, r.late, r.overdue) for r in figures.managers} == {
        (staff.am.pk, 1, 0, 1),
        (staff.am2.pk, 0, 1, 0),
    }
    api = client.get("/api/v1/inspection-compliance/", period).json()
    assert [(r["key"], r["overdue"]) for r in api["branches"]] == [(b01, 1)]

    director = _as(client, staff.director).get("/risk/inspections/compliance/", period)
    assert director.context["figures"].total.overdue == 2
    assert {r.key for r in director.context["figures"].branches} == {b01, elsewhere.branch_id}
    assert _as(client, staff.am).get("/risk/inspections/compliance/").status_code == 403
    assert client.get("/api/v1/inspection-compliance/").status_code == 403


def test_workbench_panel_shows_only_my_due_inspections(client, staff, book):
    response = _as(client, staff.am).get("/")
    html = response.content.decode()
    assert 'data-testid="panel-inspections_due"' in html
    assert f'data-inspection="{book["mine"].pk}"' in html
    assert f'data-inspection="{book["colleague"].pk}"' not in html
    assert book["mine"].due_on.strftime("%Y-%m-%d") in html
    inspection_complete(actor=staff.am, inspection=book["mine"], findings=NORMAL)
    # The next one (six months on) is due: still shown, with its date.
    html = client.get("/").content.decode()
    assert open_inspection(book["mine"].loan).due_on.strftime("%Y-%m-%d") in html
    assert (
        'data-testid="panel-inspections_due"'
        not in _as(client, staff.manager).get("/").content.decode()
    )


@pytest.mark.parametrize("extra", [0, 4])
def test_query_counts_do_not_grow(client, org, staff, book, extra, django_assert_max_num_queries):
    for _ in range(extra):
        loan = loan_for(org, staff, on=date(2025, 1, 10))
        inspection_complete(actor=staff.am, inspection=open_inspection(loan), findings=RISK)
    inspection = book["mine"]
    warning_loan = loan_for(org, staff, on=date(2025, 1, 10))
    inspection_complete(actor=staff.am, inspection=open_inspection(warning_loan), findings=RISK)
    warning = EarlyWarning.objects.filter(loan=warning_loan).get()

    pages = {
        staff.am: [
            "/",
            "/risk/inspections/",
            "/risk/inspections/?status=all",
            f"/risk/inspections/{inspection.pk}/",
            f"/risk/inspections/{inspection.pk}/complete/",
        ],
        staff.risk: [
            "/risk/inspections/",
            "/risk/inspections/compliance/",
            "/risk/warnings/",
            f"/risk/warnings/{warning.pk}/",
        ],
    }
    apis = {
        staff.am: ["/api/v1/inspections/", f"/api/v1/inspections/{inspection.pk}/"],
        staff.risk: [
            "/api/v1/inspection-compliance/",
            "/api/v1/early-warnings/",
            f"/api/v1/early-warnings/{warning.pk}/",
        ],
    }
    for user, urls in pages.items():
        _as(client, user)
        for url in urls:
            with django_assert_max_num_queries(PAGE_QUERIES):
                assert client.get(url).status_code == 200, url
    for user, urls in apis.items():
        _as(client, user)
        for url in urls:
            with django_assert_max_num_queries(API_QUERIES):
                assert client.get(url).status_code == 200, url


def test_customer_page_lists_the_inspections_in_scope(client, staff, book):
    mine = book["mine"]
    html = _as(client, staff.am).get(f"/customers/{mine.customer_id}/").content.decode()
    assert 'data-testid="customer-inspections"' in html
    assert f'data-inspection="{mine.pk}"' in html
    # A teller sees the customer but not inspections.
    teller_page = _as(client, staff.teller).get(f"/customers/{mine.customer_id}/")
    assert teller_page.status_code == 200
    assert 'data-testid="customer-inspections"' not in teller_page.content.decode()
