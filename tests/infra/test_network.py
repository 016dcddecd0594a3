"""Network construct: VPC, subnets in two AZs, gateways and routes."""

from __future__ import annotations

from infra_helpers import Synth


def test_vpc(dev: Synth) -> None:
    assert dev.has(
        "aws_vpc", {"cidr_block": "10.0.0.0/16", "enable_dns_support": True, "enable_dns_hostnames": True}
    )
    assert len(dev.resources("aws_vpc")) == 1


def test_two_public_and_two_private_subnets_in_two_azs(dev: Synth) -> None:
    subnets = dev.resources("aws_subnet").values()
    tiers = {(s["tags"]["Tier"], s["availability_zone"], s["cidr_block"]) for s in subnets}
    assert tiers == {
        ("public", "us-east-2a", "10.0.1.0/24"),
        ("private", "us-east-2a", "10.0.2.0/24"),
        ("public", "us-east-2b", "10.0.3.0/24"),
        ("private", "us-east-2b", "10.0.4.0/24"),
    }
    assert all(s["map_public_ip_on_launch"] is False for s in subnets)


def test_internet_gateway_and_public_route(dev: Synth) -> None:
    (igw,) = dev.resources("aws_internet_gateway")
    public_rt = dev.ref("aws_route_table", "tags", {"Name": "awsomeshop-public-rt-dev"})
    assert dev.has(
        "aws_route",
        {
            "route_table_id": public_rt,
            "destination_cidr_block": "0.0.0.0/0",
            "gateway_id": f"${{aws_internet_gateway.{igw}.id}}",
        },
    )
    public_ids = {
        f"${{aws_subnet.{n}.id}}"
        for n, s in dev.resources("aws_subnet").items()
        if s["tags"]["Tier"] == "public"
    }
    associated = {
        a["subnet_id"]
        for a in dev.resources("aws_route_table_association").values()
        if a["route_table_id"] == public_rt
    }
    assert associated == public_ids


def test_dev_has_one_nat_gateway_shared_by_both_private_subnets(dev: Synth) -> None:
    nats = dev.resources("aws_nat_gateway")
    assert len(nats) == 1
    assert len(dev.resources("aws_eip")) == 1
    (nat_name,) = nats
    private_routes = [r for r in dev.resources("aws_route").values() if "nat_gateway_id" in r]
    assert len(private_routes) == 2
    assert {r["nat_gateway_id"] for r in private_routes} == {f"${{aws_nat_gateway.{nat_name}.id}}"}
    assert all(r["destination_cidr_block"] == "0.0.0.0/0" for r in private_routes)


def test_nat_per_az_option_gives_each_private_subnet_its_own(prod: Synth, options: Synth) -> None:
    for synth in (prod, options):
        assert len(synth.resources("aws_nat_gateway")) == 2
        routes = [r for r in synth.resources("aws_route").values() if "nat_gateway_id" in r]
        assert len({r["nat_gateway_id"] for r in routes}) == 2


def test_default_security_group_is_emptied_and_flow_logs_go_to_s3(dev: Synth) -> None:
    (default_sg,) = dev.resources("aws_default_security_group").values()
    assert "ingress" not in default_sg and "egress" not in default_sg
    assert dev.has("aws_flow_log", {"traffic_type": "ALL", "log_destination_type": "s3"})
