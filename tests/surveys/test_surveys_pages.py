"""Pages and API endpoints: permissions, scoping (404 out of scope), anonymity, exports, and a
fixed number of queries at two data sizes."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.models import Invitation
from surveys.services import feedback_file, improvement_open, invitation_add
from tests.surveys.conftest import HAND_RESPONSES, answers_of, make_customers, submit


@pytest.fixture
def grow(org, sv, small_framework, make_campaign):
    """A B01 campaign with ``n`` answered invitations, improvement items and feedback."""

    def make(n: int, *, campaign=None):
        customers = make_customers(org, sv.am, n)
        if campaign is None:
            campaign = make_campaign(small_framework, actor=sv.manager)
        else:
            for customer in customers:
                invitation_add(actor=sv.am, campaign=campaign, customer=customer)
        for i, invitation in enumerate(
            Invitation.objects.filter(campaign=campaign, responded_at__isnull=True)[:n]
        ):
            submit(invitation, answers_of(HAND_RESPONSES[i % 3]))
            improvement_open(
                actor=sv.manager,
                title=f"问题{invitation.pk}",
                owner=sv.am,
                level="same_level",
                plan="计划",
                due_on=timezone.localdate() + timedelta(days=5),
                campaign=campaign,
                indicator=campaign.framework.indicators.get(code="P2"),
            )
            feedback_file(actor=sv.am, process="续贷流程", source="staff", text="材料重复")
        return campaign

    return make


PAGES = [
    "/surveys/",
    "/surveys/campaigns/{pk}/",
    "/surveys/campaigns/{pk}/analysis/",
    "/surveys/campaigns/{pk}/responses/",
    "/surveys/campaigns/{pk}/export.csv",
    "/surveys/ledger/?state=all",
    "/surveys/feedback/",
    "/surveys/frameworks/",
    "/api/v1/surveys/campaigns/",
    "/api/v1/surveys/campaigns/{pk}/",
    "/api/v1/surveys/campaigns/{pk}/responses/",
    "/api/v1/surveys/campaigns/{pk}/analysis/",
    "/api/v1/surveys/improvements/",
    "/api/v1/surveys/frameworks/",
]


@pytest.mark.parametrize("url", PAGES)
def test_fixed_number_of_queries_at_two_sizes(client, sv, grow, url, django_assert_max_num_queries):
    campaign = grow(2)
    client.force_login(sv.manager)
    target = url.format(pk=campaign.pk)
    client.get(target)  # warm the session and permission caches
    with django_assert_max_num_queries(30) as small:
        assert client.get(target).status_code == 200
    grow(12, campaign=campaign)
    assert Invitation.objects.filter(campaign=campaign, responded_at__isnull=False).count() == 14
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(target).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/surveys/campaigns/{pk}/",
        "/surveys/campaigns/{pk}/analysis/",
        "/surveys/campaigns/{pk}/responses/",
        "/surveys/campaigns/{pk}/export.xlsx",
        "/api/v1/surveys/campaigns/{pk}/",
        "/api/v1/surveys/campaigns/{pk}/analysis/",
    ],
)
def test_another_branchs_campaign_answers_404(client, sv, grow, url):
    campaign = grow(1)
    client.force_login(sv.other_manager)
    assert client.get(url.format(pk=campaign.pk)).status_code == 404


def test_another_branchs_campaign_is_not_listed(client, sv, grow):
    campaign = grow(1)
    client.force_login(sv.other_manager)
    assert campaign.name not in client.get("/surveys/").content.decode()
    assert client.get("/api/v1/surveys/campaigns/").json()["count"] == 0


def test_teller_cannot_see_campaigns(client, sv, grow):
    grow(1)
    client.force_login(sv.teller)
    assert client.get("/surveys/").status_code == 403
    assert client.get("/api/v1/surveys/campaigns/").status_code == 403


def test_anonymity_level_hides_the_respondent_below_it(
    client, org, sv, small_framework, make_campaign
):
    (customer,) = make_customers(org, sv.am, 1)
    campaign = make_campaign(small_framework, anonymity="head_office")
    submit(Invitation.objects.get(campaign=campaign), answers_of(HAND_RESPONSES[0]))
    client.force_login(sv.manager)
    page = client.get(f"/surveys/campaigns/{campaign.pk}/responses/").content.decode()
    assert customer.name not in page
    api = client.get(f"/api/v1/surveys/campaigns/{campaign.pk}/responses/").json()
    assert api["results"][0]["respondent"] is None
    client.force_login(sv.director)
    assert (
        customer.name in client.get(f"/surveys/campaigns/{campaign.pk}/responses/").content.decode()
    )
    api = client.get(f"/api/v1/surveys/campaigns/{campaign.pk}/responses/").json()
    assert api["results"][0]["respondent"] == customer.name


def test_branch_level_anonymity_lets_the_branch_manager_see(
    client, org, sv, small_framework, make_campaign
):
    (customer,) = make_customers(org, sv.am, 1)
    campaign = make_campaign(small_framework, anonymity="branch")
    submit(Invitation.objects.get(campaign=campaign), answers_of(HAND_RESPONSES[0]))
    client.force_login(sv.manager)
    assert (
        customer.name in client.get(f"/surveys/campaigns/{campaign.pk}/responses/").content.decode()
    )
    client.force_login(sv.am)
    assert (
        customer.name
        not in client.get(f"/surveys/campaigns/{campaign.pk}/responses/").content.decode()
    )


def test_csv_and_xlsx_exports(client, sv, grow):
    from openpyxl import load_workbook

    campaign = grow(3)
    client.force_login(sv.manager)
    answer = client.get(f"/surveys/campaigns/{campaign.pk}/export.csv")
    assert answer["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[1][0] == "P1" and rows[1][2:5] == ["4.6667", "4.3333", "-0.3333"]
    answer = client.get(f"/surveys/campaigns/{campaign.pk}/export.xlsx")
    book = load_workbook(io.BytesIO(answer.content))
    sheet = book.worksheets[0]
    assert sheet.cell(row=3, column=1).value == "P1"
    assert sheet.cell(row=3, column=3).value == pytest.approx(4.6667)
    assert client.get(f"/surveys/campaigns/{campaign.pk}/export.pdf").status_code == 404


def test_bank_wide_campaign_shows_each_branch_its_own(
    client, org, sv, small_framework, make_campaign
):
    make_customers(org, sv.am, 2)
    make_customers(org, sv.other_am, 3, branch="B02")
    campaign = make_campaign(small_framework)  # run by head office
    client.force_login(sv.other_manager)
    body = client.get(f"/api/v1/surveys/campaigns/{campaign.pk}/").json()
    assert body["counts"]["sent"] == 3
    client.force_login(sv.director)
    assert client.get(f"/api/v1/surveys/campaigns/{campaign.pk}/").json()["counts"]["sent"] == 5


def test_campaign_create_open_close_via_pages(client, sv, small_framework, org):
    make_customers(org, sv.am, 2)
    client.force_login(sv.manager)
    answer = client.post(
        "/surveys/campaigns/new/",
        {
            "name": "城关支行回访调查",
            "framework": small_framework.pk,
            "period": "monthly",
            "starts_on": "2026-05-01",
            "ends_on": "2026-05-31",
            "loan_stages": [],
            "anonymity": "branch",
            "reminder_after_days": 5,
            "exclude_straight_lining": "on",
        },
    )
    assert answer.status_code == 302
    from surveys.models import Campaign

    campaign = Campaign.objects.get(name="城关支行回访调查")
    assert (campaign.org_unit, campaign.state) == (sv.manager.org_unit, "draft")
    client.post(f"/surveys/campaigns/{campaign.pk}/state/open/")
    assert Campaign.objects.get(pk=campaign.pk).state == "open"
    assert Invitation.objects.filter(campaign=campaign).count() == 2
    client.post(f"/surveys/campaigns/{campaign.pk}/state/close/")
    assert Campaign.objects.get(pk=campaign.pk).state == "closed"


def test_staff_answer_page_on_a_visit(client, sv, grow, org):
    campaign = grow(1)
    (customer,) = make_customers(org, sv.am, 1)
    invitation = invitation_add(actor=sv.am, campaign=campaign, customer=customer)
    client.force_login(sv.am)
    data = {}
    for code, (imp, sat) in HAND_RESPONSES[0].items():
        data[f"imp-{code}"], data[f"sat-{code}"] = str(imp), str(sat)
    answer = client.post(f"/surveys/invitations/{invitation.pk}/answer/", data)
    assert answer.status_code == 302
    stored = Invitation.objects.get(pk=invitation.pk).response
    assert (stored.channel, stored.entered_by, stored.is_valid) == ("visit", sv.am, True)
    client.force_login(sv.other_am)
    assert client.get(f"/surveys/invitations/{invitation.pk}/answer/").status_code == 404


def test_framework_api_create_and_version(client, sv):
    from tests.surveys.conftest import SMALL_INDICATORS

    client.force_login(sv.director)
    body = {"code": "visit-check", "name": "走访回访", "indicators": SMALL_INDICATORS}
    first = client.post("/api/v1/surveys/frameworks/", body, content_type="application/json")
    assert first.status_code == 201, first.content
    assert first.json()["version"] == 1
    assert [i["code"] for i in first.json()["indicators"]][:3] == ["P", "Q", "P1"]
    second = client.post("/api/v1/surveys/frameworks/", body, content_type="application/json")
    assert second.json()["version"] == 2
    orphan = {**body, "indicators": [*SMALL_INDICATORS, {"code": "X1", "name": "x", "parent": "X"}]}
    assert (
        client.post(
            "/api/v1/surveys/frameworks/", orphan, content_type="application/json"
        ).status_code
        == 400
    )
    client.force_login(sv.manager)
    assert (
        client.post(
            "/api/v1/surveys/frameworks/", body, content_type="application/json"
        ).status_code
        == 403
    )


def test_default_framework_has_7_by_26_with_the_seeds_indicators(sv):
    from surveys.defaults import default_indicator_rows
    from surveys.services import framework_create

    framework = framework_create(
        actor=None, code="credit-service", name="信贷服务", indicators=default_indicator_rows()
    )
    firsts = framework.indicators.filter(parent__isnull=True)
    seconds = framework.indicators.filter(parent__isnull=False)
    assert (firsts.count(), seconds.count()) == (7, 26)
    names = set(seconds.values_list("name_en", flat=True))
    for wanted in (
        "Interest-rate standard",
        "Feedback and complaint channels",
        "Openness of service fees",
        "Business expansion",
        "E-banking",
        "Branch network layout",
        "Business-hall environment",
    ):
        assert wanted in names


def test_a_customer_comment_is_filed_as_process_feedback(
    client, org, sv, small_framework, make_campaign
):
    from surveys.models import ProcessFeedback, Response
    from surveys.services import response_submit

    make_customers(org, sv.am, 1)
    campaign = make_campaign(small_framework)
    response = response_submit(
        invitation=Invitation.objects.get(campaign=campaign),
        answers=answers_of(HAND_RESPONSES[0]),
        channel="link",
        comment="续贷时又要交一遍材料",
    )
    client.force_login(sv.am)
    page = client.get(f"/surveys/feedback/?response={response.pk}")
    assert "续贷时又要交一遍材料" in page.content.decode()
    client.post(
        "/surveys/feedback/",
        {
            "response": response.pk,
            "process": "续贷流程",
            "source": "customer",
            "text": "续贷时又要交一遍材料",
        },
    )
    feedback = ProcessFeedback.objects.get()
    assert (feedback.response, feedback.routed_to, feedback.status) == (
        response,
        sv.director,
        "open",
    )
    client.force_login(sv.other_am)
    assert client.get(f"/surveys/feedback/?response={response.pk}").status_code == 404
    assert Response.objects.count() == 1
