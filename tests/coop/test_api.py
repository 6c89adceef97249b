import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coop.roles import Role


def test_openapi_schema_and_offline_docs(client, make_staff):
    client.force_login(make_staff(Role.SYSADMIN, unit="HQ"))
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "coop API"

    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()  # served from our own static files


def test_api_requires_authentication(db):
    api = APIClient()
    assert api.get("/api/v1/").status_code in (401, 403)


@pytest.mark.django_db
def test_token_auth_for_api_clients(make_staff):
    user = make_staff(Role.TELLER, unit="B01-01", username="api_teller")
    api = APIClient()
    response = api.post(
        "/api/v1/auth/token/", {"username": "api_teller", "password": "pw-Secret-123"}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=user).key == token

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    root = api.get("/api/v1/")
    assert root.status_code == 200
    assert "no-store" in root["Cache-Control"]


def test_security_headers_on_pages(client, db):
    response = client.get("/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
