"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis).

Generated requests, valid and invalid, must never produce a 5xx, an undocumented status, a
non-JSON body or a body that breaks the schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from awsomeshop.wsgi import application
from tests.conftest import token_for
from tests.factories import ProductFactory, UserFactory

# The schema view needs no database, so the schema is loaded once, at collection.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def fuzz_token(db) -> str:
    user = UserFactory(points=100_000, cognito_sub="fuzz-sub")
    ProductFactory(points_cost=10, stock=1000)
    return token_for(user)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_never_errors_and_keeps_to_its_schema(case, fuzz_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_token}"},
        checks=[
            schemathesis.checks.not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
