"""Application metrics: what is emitted, with which values and dimensions, and nothing personal."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import connection, transaction

from orders.services import order_refund
from points.services.grants import points_grant
from shop.auth.local_issuer import get_local_issuer
from shop.observability import metrics
from shop.observability.metrics import MetricsRecorder, cache_active_counter
from tests.support.markers import requires_server_db
from tests.support.tcp_proxy import database_behind_proxy

ENV = "test-env"


@dataclass
class Emitted:
    recorder: MetricsRecorder
    lines: list[str] = field(default_factory=list)

    def flush(self) -> dict[tuple[str, frozenset[tuple[str, str]]], list[float]]:
        """Every data point written so far, by (metric, dimensions), each document validated."""
        self.recorder.flush()
        points: dict[tuple[str, frozenset[tuple[str, str]]], list[float]] = defaultdict(list)
        for line in self.lines:
            doc = json.loads(line)
            directive = doc["_aws"]["CloudWatchMetrics"][0]
            assert directive["Namespace"] == "AWSomeShop"
            assert isinstance(doc["_aws"]["Timestamp"], int)
            for metric in directive["Metrics"]:
                values = doc[metric["Name"]]
                values = values if isinstance(values, list) else [values]
                for dimension_set in directive["Dimensions"]:
                    assert dimension_set[0] == "Environment"
                    assert doc["Environment"] == ENV
                    dims = frozenset((name, doc[name]) for name in dimension_set if name != "Environment")
                    points[(metric["Name"], dims)].extend(values)
        return points

    def total(self, name: str, **dims: str) -> float:
        return sum(self.flush().get((name, frozenset(dims.items())), []))


@pytest.fixture
def emitted(settings: Any) -> Iterator[Emitted]:
    settings.METRICS_ENABLED = True
    lines: list[str] = []
    recorder = MetricsRecorder(
        environment=ENV,
        flush_seconds=3600,
        write=lines.append,
        active_counter=cache_active_counter(secret="test-secret"),
    )
    metrics.reset_recorder(recorder)
    yield Emitted(recorder, lines)
    metrics.reset_recorder(None)


@pytest.fixture
def make_recorder() -> Iterator[Any]:
    """Recorders for unit tests, stopped afterwards so no flush thread or exit hook outlives them."""
    made: list[MetricsRecorder] = []

    def make(**kwargs: Any) -> MetricsRecorder:
        kwargs.setdefault("environment", ENV)
        recorder = MetricsRecorder(**kwargs)
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.stop()


def _order(api: Any, product: Any, key: str) -> Any:
    return api.post(
        "/api/v1/orders/", {"product_id": str(product.pk)}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


# -- the recorder on its own -------------------------------------------------------------------


def test_counters_sum_and_distributions_keep_values_with_an_environment_rollup(make_recorder) -> None:
    lines: list[str] = []
    recorder = make_recorder(write=lines.append)
    recorder.count("Requests", Route="api/v1/me/", StatusClass="2xx")
    recorder.count("Requests", Route="api/v1/me/", StatusClass="2xx")
    recorder.observe("RequestLatency", 12.5, Route="api/v1/me/", StatusClass="2xx")
    recorder.observe("RequestLatency", 7.0, Route="api/v1/me/", StatusClass="2xx")
    recorder.count("OrderPlaced")
    assert recorder.flush() == 2
    docs = [json.loads(line) for line in lines]
    by_route = next(doc for doc in docs if "Route" in doc)
    assert by_route["Requests"] == 2
    assert by_route["RequestLatency"] == [12.5, 7.0]
    directive = by_route["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["Environment", "Route", "StatusClass"], ["Environment"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "Requests": "Count",
        "RequestLatency": "Milliseconds",
    }
    plain = next(doc for doc in docs if "Route" not in doc)
    assert plain["OrderPlaced"] == 1
    assert plain["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Environment"]]
    # A flush empties the aggregates: the next interval starts from nothing.
    assert recorder.flush() == 0


def test_memory_is_bounded_and_what_does_not_fit_is_counted(make_recorder) -> None:
    lines: list[str] = []
    recorder = make_recorder(write=lines.append, max_series=2, max_samples=10)
    for i in range(1000):
        recorder.observe("RequestLatency", float(i))
    recorder.count("A")
    recorder.count("B")  # a third series: refused and counted
    recorder.count("C")
    recorder.flush()
    doc = json.loads(lines[0])
    assert len(doc["RequestLatency"]) == 10
    # The reservoir keeps a sample of the whole interval, not just its first ten values.
    assert max(doc["RequestLatency"]) >= 10
    assert doc["MetricsDropped"] == 2
    assert "B" not in doc and "C" not in doc


def test_more_than_a_hundred_values_are_split_across_documents(make_recorder) -> None:
    lines: list[str] = []
    recorder = make_recorder(write=lines.append, max_samples=250)
    for i in range(250):
        recorder.observe("RequestLatency", float(i))
    recorder.flush()
    values = [v for line in lines for v in json.loads(line)["RequestLatency"]]
    assert len(lines) == 3
    assert sorted(values) == [float(i) for i in range(250)]


def test_a_failing_writer_or_cache_never_raises(make_recorder) -> None:
    def broken_write(line: str) -> None:
        raise BrokenPipeError

    def broken_cache(subjects: Any) -> int:
        raise ConnectionError("cache down")

    recorder = make_recorder(write=broken_write, active_counter=broken_cache)
    recorder.count("Requests")
    recorder.employee_seen("someone")
    assert recorder.flush() == 1


def test_the_background_thread_flushes_on_its_own(make_recorder) -> None:
    lines: list[str] = []
    recorder = make_recorder(write=lines.append, flush_seconds=0.05)
    recorder.count("Requests")
    deadline = time.monotonic() + 5
    while not lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lines, "nothing was flushed within 5 s"
    assert json.loads(lines[0])["Requests"] == 1


# -- through the application --------------------------------------------------------------------


def test_an_api_request_counts_latency_database_time_and_authentication(emitted, api):
    assert api.get("/api/v1/me/").status_code == 200
    points = emitted.flush()
    route = frozenset({("Route", "api/v1/me/"), ("StatusClass", "2xx")})
    assert points[("Requests", route)] == [1]
    assert points[("Requests", frozenset())] == [1]
    (latency,) = points[("RequestLatency", route)]
    assert latency > 0
    (database_ms,) = points[("DatabaseTime", frozenset())]
    assert 0 < database_ms <= latency
    assert points[("AuthSuccess", frozenset())] == [1]
    assert ("AuthFailure", frozenset()) not in points


def test_unknown_paths_share_one_route_and_ids_never_become_dimensions(emitted, api, product):
    api.get("/api/v1/no-such-thing/")
    api.get(f"/api/v1/products/{product.pk}/")
    points = emitted.flush()
    routes = {dict(dims).get("Route") for (name, dims) in points if name == "Requests"}
    assert routes == {None, "unmatched", "api/v1/products/<uuid:pk>/"}


def _expired(user: Any) -> str:
    return get_local_issuer().issue(email=user.email, sub=user.cognito_sub, lifetime_seconds=-3600)


def _bad_signature(user: Any) -> str:
    # The issuer's key id and claims, signed by somebody else's key.
    issuer = get_local_issuer()
    claims = jwt.decode(
        issuer.issue(email=user.email, sub=user.cognito_sub), options={"verify_signature": False}
    )
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, forger, algorithm="RS256", headers={"kid": issuer.kid})


def _wrong_audience(user: Any) -> str:
    issuer = get_local_issuer()
    token = issuer.issue(email=user.email, sub=user.cognito_sub)
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["aud"] = "another-app-client"
    return jwt.encode(claims, issuer.private_key, algorithm="RS256", headers={"kid": issuer.kid})


@pytest.mark.parametrize(
    ("make_header", "reason"),
    [
        (lambda user: f"Bearer {_expired(user)}", "expired"),
        (lambda user: f"Bearer {_bad_signature(user)}", "bad_signature"),
        (lambda user: f"Bearer {_wrong_audience(user)}", "wrong_audience"),
        (lambda user: "Bearer not-a-jwt", "malformed"),
        (lambda user: "Bearer two parts", "malformed"),
    ],
)
def test_authentication_failures_are_counted_by_reason(emitted, anon, employee, make_header, reason):
    response = anon.get("/api/v1/me/", HTTP_AUTHORIZATION=make_header(employee))
    assert response.status_code == 401
    points = emitted.flush()
    assert points[("AuthFailure", frozenset({("Reason", reason)}))] == [1]
    assert points[("AuthFailure", frozenset())] == [1]
    assert ("AuthSuccess", frozenset()) not in points


def test_orders_placed_refused_and_replayed(
    emitted, api, employee, product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert _order(api, product, "first").status_code == 201
        assert _order(api, product, "first").status_code == 201  # a replay: not a second order
        product.points_cost = 10_000
        product.save(update_fields=["points_cost"])
        assert _order(api, product, "second").status_code == 409
    assert emitted.total("OrderPlaced") == 1
    points = emitted.flush()
    assert points[("OrderRefused", frozenset({("Code", "insufficient_points")}))] == [1]
    assert points[("PointsRedeemed", frozenset())] == [300]
    assert points[("Redemptions", frozenset())] == [1]


@pytest.mark.django_db(transaction=True)
def test_points_granted_and_refunded_are_counted_after_commit_only(emitted, api, employee, product):
    emitted.flush()
    emitted.lines.clear()  # the fixtures' own grants
    points_grant(user=employee, amount=250, reason="Welcome")

    def granted_then_rolled_back() -> None:
        with transaction.atomic():
            points_grant(user=employee, amount=999, reason="Rolled back")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        granted_then_rolled_back()
    order_id = _order(api, product, "to-refund").json()["id"]
    order_refund(order_id=order_id, refunded_by=None, reason="Damaged")
    points = emitted.flush()
    assert points[("PointsGranted", frozenset())] == [250]
    assert points[("Grants", frozenset())] == [1]
    assert points[("PointsRefunded", frozenset())] == [300]
    assert points[("Refunds", frozenset())] == [1]


def test_no_personal_data_in_any_metric(emitted, api, anon, employee, product):
    token = _expired(employee)
    api.get("/api/v1/me/")
    api.get(f"/api/v1/products/{product.pk}/")
    order_id = _order(api, product, "private-key-value").json()["id"]
    anon.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    emitted.flush()
    text = "\n".join(emitted.lines)
    assert emitted.lines
    for secret in (
        employee.email,
        employee.email.split("@")[0],
        str(employee.pk),
        employee.cognito_sub,
        str(product.pk),
        order_id,
        "private-key-value",
        token[:20],
    ):
        assert secret not in text


def test_active_employees_are_counted_once_across_tasks(settings, database_cache, make_user, make_recorder):
    settings.METRICS_ENABLED = True
    ana, bo = make_user(), make_user()
    # Two tasks: each has its own recorder; the counter lives in the shared cache.
    task_lines: list[list[str]] = [[], []]
    tasks = [
        make_recorder(write=out.append, active_counter=cache_active_counter(secret="s")) for out in task_lines
    ]
    tasks[0].employee_seen(str(ana.pk))
    tasks[0].employee_seen(str(ana.pk))
    tasks[1].employee_seen(str(ana.pk))
    tasks[1].employee_seen(str(bo.pk))
    tasks[0].flush()
    tasks[1].flush()
    first, second = (json.loads(lines[-1])["ActiveEmployees"] for lines in task_lines)
    assert (first, second) == (1, 2)


def test_metrics_off_records_nothing(settings, api, make_recorder):
    settings.METRICS_ENABLED = False
    lines: list[str] = []
    metrics.reset_recorder(make_recorder(write=lines.append))
    try:
        api.get("/api/v1/me/")
        metrics.get_recorder().flush()
    finally:
        metrics.reset_recorder(None)
    assert lines == []


def test_requests_succeed_when_emitting_fails(settings, api, make_recorder):
    settings.METRICS_ENABLED = True

    def broken(line: str) -> None:
        raise OSError("stdout closed")

    recorder = make_recorder(write=broken, max_series=1)
    metrics.reset_recorder(recorder)
    try:
        for _ in range(3):
            assert api.get("/api/v1/me/").status_code == 200
        recorder.flush()
    finally:
        metrics.reset_recorder(None)


@requires_server_db
@pytest.mark.django_db(transaction=True)
def test_a_database_outage_is_counted_once_per_failure(emitted, api):
    with database_behind_proxy() as proxy:
        assert api.get("/api/v1/me/").status_code == 200
        proxy.stop()
        connection.close()
        assert api.get("/api/v1/me/").status_code == 503
        assert api.get("/api/v1/categories/").status_code == 503
    points = emitted.flush()
    assert points[("DatabaseErrors", frozenset())] == [2]
    assert points[("Requests", frozenset({("Route", "api/v1/me/"), ("StatusClass", "5xx")}))] == [1]


def test_a_token_that_names_nobody_is_counted_as_unregistered(emitted, anon, db):
    token = get_local_issuer().issue(email="nobody@example.com", sub="sub-of-nobody", token_use="access")
    response = anon.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    # An access token carries no email, so nothing can be matched: 401, counted by its reason.
    assert response.status_code == 401
    points = emitted.flush()
    assert points[("AuthFailure", frozenset({("Reason", "unregistered")}))] == [1]
