"""Schemathesis over the API schema, in process, authenticated as each role.

The schema is the one drf-spectacular generates for ``/api/schema/``; every operation gets a
bounded number of generated requests per role (``COOP_FUZZ_EXAMPLES``, default 3) against the
demo dataset of ``tests/security/conftest.py``. Checks: no server error, every response matches
its documented schema, and every status code returned is documented.
"""

from __future__ import annotations

import json
import os

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from coop.roles import Role

pytestmark = pytest.mark.personal_data_fuzz

EXAMPLES = int(os.environ.get("COOP_FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


def _raw_schema() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


SCHEMA = schemathesis.openapi.from_dict(_raw_schema())
SCHEMA.app = WSGIHandler()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture(scope="module")
def tokens(sweep, django_db_blocker) -> dict[str, str]:
    with django_db_blocker.unblock():
        return {
            role: Token.objects.get_or_create(user=sweep.users[(role, "B01")])[0].key
            for role in Role.values
        }


@pytest.fixture
def keep_connection():
    """The WSGI handler closes the database connection after each request (the test client
    switches that off the same way); here it would end the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_api_operation_conforms(operation, role, tokens, db, keep_connection):
    headers = {"Authorization": f"Token {tokens[role]}", "Cookie": "django_language=en"}
    failures: list[str] = []

    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    def run(case):
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as exc:  # collect every failing example, then report them together
            failures.append(f"{case.method} {case.formatted_path}: {exc}")

    run()
    unique = sorted(set(failures))
    assert not unique, f"{operation.label} as {role}:\n" + "\n".join(unique[:10])
