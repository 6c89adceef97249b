"""The customer's personal link: no login, one response, no staff or other customers' data,
CSRF-protected, with the site's security headers."""

from __future__ import annotations

import pytest
from django.test import Client

from surveys.models import Invitation, Response
from surveys.services import campaign_close
from tests.surveys.conftest import CODES, HAND_RESPONSES, make_customers


def form_of(values: dict) -> dict:
    data = {}
    for code, (imp, sat) in values.items():
        data[f"imp-{code}"] = str(imp)
        data[f"sat-{code}"] = str(sat)
    data["comment"] = "放款可以再快一点"
    return data


@pytest.fixture
def link(org, sv, small_framework, make_campaign):
    customers = make_customers(org, sv.am, 2)
    campaign = make_campaign(small_framework, name="二季度满意度调查")
    invitation = Invitation.objects.get(campaign=campaign, customer=customers[0])
    return campaign, invitation, customers


def public_client() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies["django_language"] = "en"
    return client


def csrf_post(client: Client, url: str, data: dict):
    page = client.get(url)
    data = {**data, "csrfmiddlewaretoken": page.context["csrf_token"]}
    return client.post(url, data)


def test_token_is_long_random_and_not_the_pk(link):
    _campaign, invitation, _customers = link
    other = Invitation.objects.exclude(pk=invitation.pk).get()
    assert len(invitation.token) >= 40
    assert invitation.token != other.token
    assert str(invitation.pk) not in invitation.token[:3]


def test_the_page_shows_questions_and_nothing_of_staff_or_customers(link, sv):
    campaign, invitation, customers = link
    client = public_client()
    page = client.get(f"/surveys/r/{invitation.token}/")
    assert page.status_code == 200
    html = page.content.decode()
    for code in CODES:
        assert f'name="imp-{code}"' in html
    assert 'name="viewport"' in html
    for secret in (customers[0].name, customers[1].name, sv.am.username, sv.am.name, "Sign out"):
        assert secret not in html
    other = Invitation.objects.exclude(pk=invitation.pk).get()
    assert other.token not in html and other.reference not in html
    assert page["Content-Security-Policy"].startswith("default-src 'self'")
    assert page["X-Frame-Options"] == "DENY"
    assert "no-store" in page["Cache-Control"]


def test_one_response_then_a_clear_message(link):
    campaign, invitation, _customers = link
    client = public_client()
    url = f"/surveys/r/{invitation.token}/"
    done = csrf_post(client, url, form_of(HAND_RESPONSES[0]))
    assert done.status_code == 200
    assert b"Your answers have been received." in done.content
    response = Response.objects.get(invitation=invitation)
    assert (response.channel, response.entered_by, response.is_valid) == ("link", None, True)
    assert response.comment == "放款可以再快一点"
    again = client.get(url)
    assert b"This questionnaire has already been answered." in again.content
    assert 'name="imp-P1"' not in again.content.decode()
    second = client.post(url, form_of(HAND_RESPONSES[1]))
    assert second.status_code in (200, 403)
    assert Response.objects.filter(invitation=invitation).count() == 1


def test_the_message_is_translated(link):
    _campaign, invitation, _customers = link
    client = Client()
    client.post(f"/surveys/r/{invitation.token}/", form_of(HAND_RESPONSES[0]))
    page = client.get(f"/surveys/r/{invitation.token}/")
    # Chinese by default whatever the phone's language; the text comes from the catalogue.
    assert page["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in page.content.decode()


def test_closed_campaign_refuses_with_a_message(link, sv):
    campaign, invitation, _customers = link
    campaign_close(actor=sv.director, campaign=campaign)
    client = public_client()
    page = client.get(f"/surveys/r/{invitation.token}/")
    assert b"This survey is closed" in page.content
    client.post(f"/surveys/r/{invitation.token}/", form_of(HAND_RESPONSES[0]))
    assert Response.objects.count() == 0


def test_post_without_csrf_token_is_refused(link):
    _campaign, invitation, _customers = link
    client = public_client()
    client.get(f"/surveys/r/{invitation.token}/")
    answer = client.post(f"/surveys/r/{invitation.token}/", form_of(HAND_RESPONSES[0]))
    assert answer.status_code == 403
    assert Response.objects.count() == 0


def test_unknown_token_is_404(link):
    client = public_client()
    assert client.get("/surveys/r/not-a-real-token/").status_code == 404
    assert client.get("/surveys/r/" + "x" * 80 + "/").status_code == 404


def test_half_filled_form_is_kept_as_an_invalid_response(link):
    _campaign, invitation, _customers = link
    client = public_client()
    values = form_of(HAND_RESPONSES[0])
    del values["sat-Q3"]
    csrf_post(client, f"/surveys/r/{invitation.token}/", values)
    response = Response.objects.get(invitation=invitation)
    assert (response.is_complete, response.is_valid) == (False, False)


def test_empty_form_is_refused_and_changes_nothing(link):
    _campaign, invitation, _customers = link
    client = public_client()
    answer = csrf_post(client, f"/surveys/r/{invitation.token}/", {})
    assert answer.status_code == 400
    assert b"Answer at least one question." in answer.content
    assert Response.objects.count() == 0


def test_staff_qr_code_is_an_svg_of_the_link(client, link, sv):
    _campaign, invitation, _customers = link
    client.force_login(sv.am)
    answer = client.get(f"/surveys/invitations/{invitation.pk}/qr.svg")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/svg+xml"
    assert answer.content.startswith(b"<svg")
    client.force_login(sv.other_am)
    assert client.get(f"/surveys/invitations/{invitation.pk}/qr.svg").status_code == 404
