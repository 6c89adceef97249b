import pytest
from django.conf import settings

from coop.roles import Role


def _login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


@pytest.fixture
def teller(make_staff):
    return make_staff(Role.TELLER, unit="B01-01", username="teller_lock")


def test_failures_below_the_limit_still_allow_the_right_password(client, teller):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "teller_lock", "wrong-password").status_code == 200
    response = _login(client, "teller_lock", "pw-Secret-123")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_reaching_the_limit_locks_the_account_even_for_the_right_password(client, teller):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "teller_lock", "wrong-password")

    response = _login(client, "teller_lock", "pw-Secret-123")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still not signed in


def test_lockout_is_per_account_not_per_address(client, teller, make_staff):
    make_staff(Role.TELLER, unit="B01-01", username="teller_colleague")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "teller_lock", "wrong-password")
    # a colleague at the same outlet (same address) can still sign in
    assert _login(client, "teller_colleague", "pw-Secret-123").status_code == 302
