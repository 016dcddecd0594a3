"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis).

Generated requests, valid and invalid, must never produce a 5xx, an undocumented status, a
non-JSON body or a body that breaks the schema.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
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
def fuzz_token(db) -> Iterator[str]:
    user = UserFactory(points=100_000, cognito_sub="fuzz-sub")
    ProductFactory(points_cost=10, stock=1000)
    # schemathesis calls the WSGI app directly, not through Django's test client, so Django's
    # per-request connection cleanup would run and close the test's open transaction; the test
    # client disconnects these handlers for the same reason.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield token_for(user)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=25,
    # Deterministic examples: CI is reproducible; raise max_examples locally to search harder.
    derandomize=True,
    database=None,
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
