"""The operators' way to an internal ALB: a Session Manager host with no way in (access.py)."""

from __future__ import annotations

import json

from infra_helpers import Synth


def test_an_internal_alb_gets_a_session_manager_host_with_no_inbound_path(dev: Synth) -> None:
    (alb,) = dev.resources("aws_lb").values()
    assert alb["internal"] is True
    (instance,) = dev.resources("aws_instance").values()
    assert instance["instance_type"] == "t4g.nano"
    assert instance["associate_public_ip_address"] is False
    assert "key_name" not in instance
    # In a private subnet, with the access security group only (no ingress: test_security_groups.py).
    assert instance["subnet_id"].startswith("${aws_subnet.network_private_a_")
    assert instance["vpc_security_group_ids"] == [
        dev.ref("aws_security_group", "name", "awsomeshop-access-sg-dev")
    ]
    assert instance["metadata_options"]["http_tokens"] == "required"
    assert instance["root_block_device"]["encrypted"] is True
    (ami,) = dev.data("aws_ssm_parameter").values()
    assert ami["name"] == "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    # The agent's role: the SSM core managed policy and nothing else.
    role_name, role = dev.named("aws_iam_role", "name", "awsomeshop-access-host-role-dev")
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    (attachment,) = dev.resources("aws_iam_role_policy_attachment").values()
    assert attachment["role"] == f"${{aws_iam_role.{role_name}.name}}"
    assert attachment["policy_arn"].endswith(":iam::aws:policy/AmazonSSMManagedInstanceCore")
    assert not [p for p in dev.resources("aws_iam_role_policy").values() if role_name in p["role"]]
    assert dev.doc["output"]["access_instance_id"]["value"].startswith("${aws_instance.")


def test_an_internet_facing_alb_needs_no_access_host(prod: Synth, options: Synth) -> None:
    for synth in (prod, options):
        assert not synth.resources("aws_instance")
        assert "access_instance_id" not in synth.doc["output"]
        assert "awsomeshop-access-sg-prod" not in {
            g["name"] for g in synth.resources("aws_security_group").values()
        }
