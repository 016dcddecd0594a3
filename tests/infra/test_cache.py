"""The order rate limit's cache: Valkey in the private subnets, TLS and encryption at rest,
reached from the containers only, and given to them as REDIS_URL."""

from __future__ import annotations

import json

from infra_helpers import Synth


def _group(synth: Synth) -> tuple[str, dict]:
    (item,) = synth.resources("aws_elasticache_replication_group").items()
    return item


def test_cache_settings(dev: Synth) -> None:
    _, cache = _group(dev)
    expected = {
        "replication_group_id": "awsomeshop-cache-dev",
        "engine": "valkey",
        "engine_version": "7.2",
        "node_type": "cache.t4g.micro",
        "port": 6379,
        "at_rest_encryption_enabled": "true",
        "transit_encryption_enabled": True,
        "transit_encryption_mode": "required",
        "snapshot_retention_limit": 0,
        "auto_minor_version_upgrade": "true",
    }
    assert {k: cache.get(k) for k in expected} == expected
    # dev: one node, nothing to fail over to.
    assert (cache["num_cache_clusters"], cache["automatic_failover_enabled"], cache["multi_az_enabled"]) == (
        1,
        False,
        False,
    )


def test_prod_has_a_replica_in_the_other_az_to_fail_over_to(prod: Synth) -> None:
    _, cache = _group(prod)
    assert (cache["num_cache_clusters"], cache["automatic_failover_enabled"], cache["multi_az_enabled"]) == (
        2,
        True,
        True,
    )


def test_cache_lives_in_the_private_subnets(dev: Synth) -> None:
    _, cache = _group(dev)
    name, subnets = dev.named("aws_elasticache_subnet_group", "name", "awsomeshop-cache-dev")
    assert cache["subnet_group_name"] == f"${{aws_elasticache_subnet_group.{name}.name}}"
    private = {
        f"${{aws_subnet.{n}.id}}"
        for n, s in dev.resources("aws_subnet").items()
        if s["tags"]["Tier"] == "private"
    }
    assert set(subnets["subnet_ids"]) == private and len(private) == 2


def test_only_the_containers_reach_the_cache(dev: Synth) -> None:
    _, cache = _group(dev)
    (group_id,) = cache["security_group_ids"]
    cache_sg = dev.ref("aws_security_group", "name", "awsomeshop-cache-sg-dev")
    app_sg = dev.ref("aws_security_group", "name", "awsomeshop-app-sg-dev")
    assert group_id == cache_sg
    into_cache = [
        r
        for r in dev.resources("aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"] == cache_sg
    ]
    assert [
        (r["from_port"], r["to_port"], r.get("referenced_security_group_id"), r.get("cidr_ipv4"))
        for r in into_cache
    ] == [(6379, 6379, app_sg, None)]
    out_of_cache = [
        r
        for r in dev.resources("aws_vpc_security_group_egress_rule").values()
        if r["security_group_id"] == cache_sg
    ]
    assert out_of_cache == []


def test_every_task_gets_the_tls_url_and_no_secret_for_it(dev: Synth) -> None:
    name, _ = _group(dev)
    url = f"rediss://${{aws_elasticache_replication_group.{name}.primary_endpoint_address}}:6379/0"
    tasks = dev.resources("aws_ecs_task_definition")
    assert tasks
    for task in tasks.values():
        for container in json.loads(task["container_definitions"]):
            env = {e["name"]: e["value"] for e in container.get("environment", [])}
            assert env.get("REDIS_URL") == url, container["name"]
    assert dev.doc["output"]["cache_endpoint"]["value"] == (
        f"${{aws_elasticache_replication_group.{name}.primary_endpoint_address}}"
    )
    # No AUTH token is generated (it would land in state); none is configured or passed.
    _, cache = _group(dev)
    assert "auth_token" not in cache
