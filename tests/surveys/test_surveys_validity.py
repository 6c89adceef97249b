"""Response validity (complete, straight-lining, duplicates) and the campaign's counts."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from surveys import analysis
from surveys.models import Answer, Invitation, Response
from surveys.services import campaign_close
from tests.surveys.conftest import HAND_RESPONSES, answers_of, make_customers, submit, uniform


@pytest.fixture
def campaign_with(org, sv, small_framework, make_campaign):
    def make(n: int, **kw):
        make_customers(org, sv.am, n)
        campaign = make_campaign(small_framework, **kw)
        return campaign, list(Invitation.objects.filter(campaign=campaign).order_by("reference"))

    return make


def test_complete_response_is_valid_and_audited(sv, campaign_with):
    campaign, (invitation,) = campaign_with(1)
    response = submit(invitation, answers_of(HAND_RESPONSES[0]), actor=sv.am, channel="visit")
    assert (response.is_complete, response.is_straight_line, response.is_valid) == (
        True,
        False,
        True,
    )
    assert Answer.objects.filter(response=response).count() == 5
    assert Invitation.objects.get(pk=invitation.pk).responded_at is not None
    event = AuditEvent.objects.get(action="survey_response.submit", object_id=str(response.pk))
    assert (event.actor, event.to_state) == (sv.am, "valid")


def test_missing_answer_makes_the_response_invalid(campaign_with):
    campaign, (invitation,) = campaign_with(1)
    values = answers_of(HAND_RESPONSES[0])[:4]  # Q3 not answered
    response = submit(invitation, values)
    assert (response.is_complete, response.is_valid) == (False, False)


def test_half_answered_indicator_is_incomplete(campaign_with):
    campaign, (invitation,) = campaign_with(1)
    values = answers_of(HAND_RESPONSES[0])
    values[2]["importance"] = None
    response = submit(invitation, values)
    assert (response.is_complete, response.is_valid) == (False, False)


def test_straight_lining_flagged_and_excluded_by_setting(campaign_with):
    campaign, (first,) = campaign_with(1)
    response = submit(first, uniform(4))
    assert (response.is_straight_line, response.is_valid) == (True, False)


def test_straight_lining_kept_when_the_campaign_allows_it(campaign_with):
    campaign, (first,) = campaign_with(1, exclude_straight_lining=False)
    response = submit(first, uniform(4))
    assert (response.is_straight_line, response.is_valid) == (True, True)


def test_second_response_to_an_invitation_is_refused(campaign_with):
    campaign, (invitation,) = campaign_with(1)
    submit(invitation, answers_of(HAND_RESPONSES[0]))
    with pytest.raises(ConflictError):
        submit(invitation, answers_of(HAND_RESPONSES[1]))
    assert Response.objects.filter(campaign=campaign).count() == 1
    assert (
        Answer.objects.filter(
            response__campaign=campaign, importance=4, indicator__code="P2"
        ).count()
        == 0
    )


@pytest.mark.parametrize(
    "bad",
    [
        [{"indicator": "P1", "importance": 6, "satisfaction": 3}],
        [{"indicator": "P1", "importance": 0, "satisfaction": 3}],
        [{"indicator": "ZZ", "importance": 3, "satisfaction": 3}],
        [
            {"indicator": "P1", "importance": 3, "satisfaction": 3},
            {"indicator": "P1", "importance": 4, "satisfaction": 4},
        ],
        [{"indicator": "P1", "importance": None, "satisfaction": None}],
    ],
)
def test_bad_answers_change_nothing(campaign_with, bad):
    campaign, (invitation,) = campaign_with(1)
    with pytest.raises(DomainError):
        submit(invitation, bad)
    assert Response.objects.count() == 0
    assert Invitation.objects.get(pk=invitation.pk).responded_at is None


def test_closed_campaign_refuses_responses(sv, campaign_with):
    campaign, (invitation,) = campaign_with(1)
    campaign_close(actor=sv.director, campaign=campaign)
    with pytest.raises(ConflictError):
        submit(invitation, answers_of(HAND_RESPONSES[0]))
    assert Response.objects.count() == 0


def test_the_seeds_counts_64_sent_64_returned_8_invalid_56_valid(campaign_with):
    campaign, invitations = campaign_with(64)
    assert len(invitations) == 64
    for n, invitation in enumerate(invitations):
        if n < 5:
            values = answers_of(HAND_RESPONSES[n % 3])[:3]  # incomplete
        elif n < 8:
            values = uniform(n - 3)  # straight-lining
        else:
            values = answers_of(HAND_RESPONSES[n % 3])
        submit(invitation, values)
    counts = analysis.counts(user=campaign.created_by, campaign=campaign)
    assert counts == {
        "sent": 64,
        "returned": 64,
        "valid": 56,
        "invalid": 8,
        "return_rate": D("100.00"),
        "valid_rate": D("87.50"),
    }


def test_response_api_creates_and_refuses_duplicates(client, sv, campaign_with):
    campaign, (invitation,) = campaign_with(1)
    client.force_login(sv.am)
    url = f"/api/v1/surveys/campaigns/{campaign.pk}/responses/"
    body = {"invitation": invitation.pk, "answers": answers_of(HAND_RESPONSES[0])}
    first = client.post(url, body, content_type="application/json")
    assert first.status_code == 201
    assert first.json()["is_valid"] is True
    assert first.json()["respondent"] is None  # an account manager is below the level
    again = client.post(url, body, content_type="application/json")
    assert again.status_code == 409
    assert Response.objects.count() == 1


def test_response_api_for_a_customer_met_on_a_visit(client, org, sv, campaign_with):
    campaign, _invitations = campaign_with(1)
    (walk_in,) = make_customers(org, sv.am, 1)
    client.force_login(sv.am)
    url = f"/api/v1/surveys/campaigns/{campaign.pk}/responses/"
    body = {"customer": walk_in.pk, "answers": answers_of(HAND_RESPONSES[1])}
    assert client.post(url, body, content_type="application/json").status_code == 201
    assert Invitation.objects.get(campaign=campaign, customer=walk_in).responded_at is not None
    bad = {
        "answers": [{"indicator": "P1", "importance": 6, "satisfaction": 1}],
        "customer": walk_in.pk,
    }
    assert client.post(url, bad, content_type="application/json").status_code == 400


def test_staff_cannot_answer_for_a_customer_out_of_scope(org, sv, small_framework, make_campaign):
    from django.core.exceptions import PermissionDenied

    (customer,) = make_customers(org, sv.am, 1)
    campaign = make_campaign(small_framework)
    invitation = Invitation.objects.get(campaign=campaign, customer=customer)
    with pytest.raises(PermissionDenied):
        submit(invitation, answers_of(HAND_RESPONSES[0]), actor=sv.other_am, channel="visit")
    assert Response.objects.count() == 0
