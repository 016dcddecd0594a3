"""The operators' way to an internal load balancer: Session Manager port forwarding.

An environment without a domain has no certificate, so its ALB is internal (edge.py): nothing
on the internet reaches it, and tokens and passwords never cross the internet in plain text.
To use it from a laptop, an operator forwards a local port through this small instance with
AWS Systems Manager Session Manager (docs/deploy.md, First deploy):

    aws ssm start-session --target <access_instance_id> \\
      --document-name AWS-StartPortForwardingSessionToRemoteHost \\
      --parameters host=<alb_dns_name>,portNumber=80,localPortNumber=8080

The instance accepts no inbound connection (its security group has no ingress rule, it has no
SSH key and no public address); Session Manager reaches it through the agent's own outbound
HTTPS connection, authorised by the operator's IAM permissions (ssm:StartSession). Who opened
which session is in CloudTrail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from infra_cdktf.aws import (
    DataAwsPartition,
    DataAwsSsmParameter,
    IamInstanceProfile,
    IamRole,
    IamRolePolicyAttachment,
    Instance,
)
from infra_cdktf.config import EnvironmentConfig

# Amazon Linux 2023 on Graviton: the SSM agent is preinstalled and updates itself.
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
INSTANCE_TYPE = "t4g.nano"
# The AWS managed policy the SSM agent needs to register and open sessions, nothing more.
SSM_CORE_POLICY = "policy/AmazonSSMManagedInstanceCore"
# The local port the documented command forwards to the ALB (ALLOWED_HOSTS gets localhost).
LOCAL_PORT = 8080


@dataclass(frozen=True, kw_only=True)
class AccessHostProps:
    config: EnvironmentConfig
    subnet_id: str
    security_group_id: str


class AccessHost(Construct):
    role: IamRole
    profile: IamInstanceProfile
    instance: Instance

    def __init__(self, scope: Construct, id_: str, *, props: AccessHostProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        partition = DataAwsPartition(self, "partition")
        self.role = IamRole(
            self,
            "role",
            name=cfg.resource_name("access-host-role"),
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        IamRolePolicyAttachment(
            self,
            "ssm_core",
            role=self.role.name,
            policy_arn=f"arn:{partition.partition}:iam::aws:{SSM_CORE_POLICY}",
        )
        self.profile = IamInstanceProfile(
            self, "profile", name=cfg.resource_name("access-host"), role=self.role.name
        )
        ami = DataAwsSsmParameter(self, "ami", name=AMI_PARAMETER)
        self.instance = Instance(
            self,
            "instance",
            ami=ami.value,
            instance_type=INSTANCE_TYPE,
            subnet_id=props.subnet_id,
            vpc_security_group_ids=[props.security_group_id],
            iam_instance_profile=self.profile.name,
            associate_public_ip_address=False,
            ebs_optimized=True,
            # Instance metadata only with a session token (IMDSv2).
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required"},
            root_block_device={"encrypted": True, "volume_type": "gp3", "volume_size": 8},
            tags={"Name": cfg.resource_name("access-host")},
            # A newer image would replace the instance on every apply; Session Manager needs
            # only the agent, which updates itself. Replace it deliberately to pick up an image.
            lifecycle={"ignore_changes": ["ami"]},
        )
