"""Deployment hygiene: API lockout, 401 for anonymous API calls, no-store on personal answers,
secrets only from the environment, and a hash-pinned dependency lock."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from rest_framework.authtoken.models import Token

from coop.roles import Role
from tests.conftest import ROOT

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def teller(make_staff):
    return make_staff(Role.TELLER, unit="B01-01", username="teller_api_lock")


def _token(client, password):
    client.cookies["django_language"] = "en"
    return client.post(
        TOKEN_URL,
        {"username": "teller_api_lock", "password": password},
        content_type="application/json",
    )


def test_the_right_password_gets_a_token(client, teller):
    response = _token(client, "pw-Secret-123")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=teller).key}


def test_failures_on_the_token_endpoint_lock_the_account(client, teller):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = _token(client, "wrong-password")
        assert response.status_code == 400

    response = _token(client, "pw-Secret-123")

    assert response.status_code == 429
    assert response.json() == {
        "detail": "Too many failed sign-in attempts: this account is locked for 30 minutes. "
        "Ask the system administrator to unlock it sooner.",
        "code": "account_locked",
    }
    assert not Token.objects.filter(user=teller).exists()
    attempt = AccessAttempt.objects.get(username="teller_api_lock")
    assert attempt.failures_since_start == settings.AXES_FAILURE_LIMIT
    assert attempt.path_info == TOKEN_URL


def test_the_lock_is_shared_with_the_sign_in_page(client, teller):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _token(client, "wrong-password")
    page = client.post("/login/", {"username": "teller_api_lock", "password": "pw-Secret-123"})
    assert page.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_on_the_sign_in_page_lock_the_token_endpoint_too(client, teller):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "teller_api_lock", "password": "wrong"})
    assert _token(client, "pw-Secret-123").status_code == 429


def test_a_signed_in_browser_cannot_turn_a_wrong_password_into_a_token(client, teller):
    client.force_login(teller)
    assert _token(client, "wrong-password").status_code == 400
    assert not Token.objects.filter(user=teller).exists()


def test_anonymous_api_calls_get_401_with_the_scheme_to_use(client, db):
    response = client.get("/api/v1/customers/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response["Cache-Control"] == "no-store, private"


def test_personal_pages_and_api_answers_are_never_stored(client, make_staff):
    client.force_login(make_staff(Role.BRANCH_MANAGER))
    for path in ("/customers/", "/api/v1/customers/", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
        assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


def test_the_schema_documents_401_wherever_credentials_are_needed(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    missing = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if path != TOKEN_URL and "401" not in operation["responses"]
    ]
    assert missing == []
    assert "401" not in schema["paths"][TOKEN_URL]["post"]["responses"]
    assert set(schema["paths"][TOKEN_URL]["post"]["responses"]) == {"200", "400", "429"}


def _settings_process(env_overrides: dict, code: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRET_KEY")}
    env.update({"DJANGO_SETTINGS_MODULE": "coop.settings.production", **env_overrides})
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


READ_KEY = (
    "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
)


def test_production_takes_the_secret_key_from_a_file(tmp_path):
    key = secrets.token_urlsafe(50)
    (tmp_path / "key").write_text(key + "\n")
    result = _settings_process({"SECRET_KEY_FILE": str(tmp_path / "key")}, READ_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == key


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings_process({}, READ_KEY)
    assert result.returncode == 1
    assert "SECRET_KEY must be set (or SECRET_KEY_FILE) in production." in result.stderr


def test_no_secret_is_written_in_the_settings():
    # Settings read secrets through env()/envsecret(); only the test settings have a fallback key.
    for name in ("base.py", "local.py", "production.py"):
        text = (ROOT / "coop" / "settings" / name).read_text()
        assert not re.search(r"SECRET_KEY\s*=\s*[\"']", text), name
        assert not re.search(r"PASSWORD\s*=\s*[\"'][^\"']+[\"']", text), name


def test_every_dependency_is_pinned_with_hashes():
    text = (ROOT / "requirements.lock").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 5)[-1].strip())
    entries = [e for e in entries if not e.startswith("#")]
    assert len(entries) > 50
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9_.\-]+==[^\s\\]+ \\\n", entry), entry.splitlines()[0]
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), entry.splitlines()[0]
