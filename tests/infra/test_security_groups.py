"""Every security-group rule, asserted as an exact set: an extra or missing rule fails."""

from __future__ import annotations

from infra_helpers import Synth

ANY = "0.0.0.0/0"


def _rules(synth: Synth, type_: str) -> set[tuple[str, int, int, str, str]]:
    groups = {
        f"${{aws_security_group.{name}.id}}": res["name"].removeprefix("awsomeshop-").removesuffix("-sg-dev")
        for name, res in synth.resources("aws_security_group").items()
    }
    found = set()
    for rule in synth.resources(type_).values():
        assert rule["ip_protocol"] == "tcp"
        peer = rule.get("cidr_ipv4") or groups[rule["referenced_security_group_id"]]
        assert rule.get("description"), "every rule says why it exists"
        found.add((groups[rule["security_group_id"]], rule["from_port"], rule["to_port"], peer, type_[-12:]))
    return found


def test_groups_have_no_inline_rules(dev: Synth) -> None:
    groups = dev.resources("aws_security_group")
    assert {g["name"] for g in groups.values()} == {
        "awsomeshop-alb-sg-dev",
        "awsomeshop-app-sg-dev",
        "awsomeshop-proxy-sg-dev",
        "awsomeshop-db-sg-dev",
        "awsomeshop-cache-sg-dev",
        # The Session Manager host in front of dev's internal ALB (test_network.py).
        "awsomeshop-access-sg-dev",
    }
    for group in groups.values():
        assert "ingress" not in group and "egress" not in group


def test_ingress_rules(dev: Synth) -> None:
    assert _rules(dev, "aws_vpc_security_group_ingress_rule") == {
        # dev has no domain, so its ALB is internal: HTTP from the VPC only.
        ("alb", 80, 80, "10.0.0.0/16", "ingress_rule"),
        ("app", 8000, 8000, "alb", "ingress_rule"),
        ("proxy", 3306, 3306, "app", "ingress_rule"),
        ("db", 3306, 3306, "app", "ingress_rule"),
        ("db", 3306, 3306, "proxy", "ingress_rule"),
        ("cache", 6379, 6379, "app", "ingress_rule"),
    }


def test_egress_rules(dev: Synth) -> None:
    egress = _rules(dev, "aws_vpc_security_group_egress_rule")
    assert egress == {
        ("alb", 8000, 8000, "app", "_egress_rule"),
        ("app", 443, 443, ANY, "_egress_rule"),
        ("app", 3306, 3306, "proxy", "_egress_rule"),
        ("app", 3306, 3306, "db", "_egress_rule"),
        ("proxy", 3306, 3306, "db", "_egress_rule"),
        ("app", 6379, 6379, "cache", "_egress_rule"),
        # The access host: out to Session Manager, and to the internal ALB only. No ingress.
        ("access", 443, 443, ANY, "_egress_rule"),
        ("access", 80, 80, "alb", "_egress_rule"),
    }
    # The database and the cache initiate nothing.
    assert not [rule for rule in egress if rule[0] in ("db", "cache")]


def test_groups_are_used_where_they_belong(dev: Synth) -> None:
    sg = {
        key: dev.ref("aws_security_group", "name", f"awsomeshop-{key}-sg-dev")
        for key in ("alb", "app", "proxy", "db", "cache")
    }
    (alb,) = dev.resources("aws_lb").values()
    assert alb["security_groups"] == [sg["alb"]]
    _, service = dev.named("aws_ecs_service", "name", "awsomeshop-core-service-dev")
    assert service["network_configuration"]["security_groups"] == [sg["app"]]
    assert service["network_configuration"]["assign_public_ip"] is False
    (proxy,) = dev.resources("aws_db_proxy").values()
    assert proxy["vpc_security_group_ids"] == [sg["proxy"]]
    (db,) = dev.resources("aws_db_instance").values()
    assert db["vpc_security_group_ids"] == [sg["db"]]
    (cache,) = dev.resources("aws_elasticache_replication_group").values()
    assert cache["security_group_ids"] == [sg["cache"]]
