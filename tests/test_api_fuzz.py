"""Bad input never gets a 500: schemathesis generates requests from our own OpenAPI
description and sends them to the app (SQLite; the PostgreSQL run shares the code)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.conftest import make_app

HOST = {"Host": "steinfurt.localhost"}
SEEN: list[int] = []


@pytest.fixture(scope="module")
def fuzz_app(sqlite_url, tmp_path_factory):
    return make_app(sqlite_url, tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app, headers=HOST)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(case):
    response = case.call(headers=HOST)
    SEEN.append(response.status_code)
    case.validate_response(response, checks=[not_a_server_error])


def test_the_fuzzing_reached_the_tenant_api():
    """Guard against fuzzing a wall of 404s: the generated requests got real answers."""
    assert SEEN and any(code in (200, 201) for code in SEEN) and any(code == 422 for code in SEEN), SEEN
