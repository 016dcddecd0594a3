"""VPC, subnets, gateways, routes, and the security groups that fence each tier."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from infra_cdktf.aws import (
    DataAwsEc2ManagedPrefixList,
    DefaultSecurityGroup,
    Eip,
    FlowLog,
    InternetGateway,
    NatGateway,
    Route,
    RouteTable,
    RouteTableAssociation,
    SecurityGroup,
    Subnet,
    Vpc,
    VpcEndpoint,
    VpcSecurityGroupEgressRule,
    VpcSecurityGroupIngressRule,
)
from infra_cdktf.config import EnvironmentConfig

ANYWHERE = "0.0.0.0/0"
MYSQL_PORT = 3306
# Valkey/Redis, for the cache (infra_cdktf/cache.py).
CACHE_PORT = 6379
# AWS-managed list of the addresses CloudFront uses to reach origins.
CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    config: EnvironmentConfig
    # Where VPC flow logs go (an S3 bucket ARN); None leaves flow logs off.
    flow_log_bucket_arn: str | None = None


class Network(Construct):
    vpc: Vpc
    public_subnets: list[Subnet]
    private_subnets: list[Subnet]
    internet_gateway: InternetGateway
    nat_gateways: list[NatGateway]
    public_route_table: RouteTable
    private_route_tables: list[RouteTable]
    alb_security_group: SecurityGroup
    app_security_group: SecurityGroup
    proxy_security_group: SecurityGroup
    db_security_group: SecurityGroup
    cache_security_group: SecurityGroup
    access_security_group: SecurityGroup | None
    s3_endpoint: VpcEndpoint
    ingress_rules: dict[str, VpcSecurityGroupIngressRule]
    egress_rules: dict[str, VpcSecurityGroupEgressRule]

    def __init__(self, scope: Construct, id_: str, *, props: NetworkProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=cfg.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": cfg.resource_name("vpc")},
        )
        # The default group allows all traffic between its members; emptying it means nothing
        # launched without an explicit group can talk to anything.
        DefaultSecurityGroup(self, "default_sg", vpc_id=self.vpc.id)
        if props.flow_log_bucket_arn is not None:
            FlowLog(
                self,
                "flow_log",
                vpc_id=self.vpc.id,
                traffic_type="ALL",
                log_destination_type="s3",
                log_destination=f"{props.flow_log_bucket_arn}/vpc-flow-logs/",
            )

        self.internet_gateway = InternetGateway(
            self, "igw", vpc_id=self.vpc.id, tags={"Name": cfg.resource_name("igw")}
        )
        self.public_subnets = []
        self.private_subnets = []
        for index, az in enumerate(cfg.availability_zones):
            suffix = az[-1]
            self.public_subnets.append(
                Subnet(
                    self,
                    f"public_{suffix}",
                    vpc_id=self.vpc.id,
                    cidr_block=cfg.public_subnet_cidrs[index],
                    availability_zone=az,
                    # Only the ALB and NAT gateways live here and neither needs auto-assigned IPs.
                    map_public_ip_on_launch=False,
                    tags={"Name": cfg.resource_name(f"public-{suffix}"), "Tier": "public"},
                )
            )
            self.private_subnets.append(
                Subnet(
                    self,
                    f"private_{suffix}",
                    vpc_id=self.vpc.id,
                    cidr_block=cfg.private_subnet_cidrs[index],
                    availability_zone=az,
                    map_public_ip_on_launch=False,
                    tags={"Name": cfg.resource_name(f"private-{suffix}"), "Tier": "private"},
                )
            )

        self.public_route_table = RouteTable(
            self, "public_rt", vpc_id=self.vpc.id, tags={"Name": cfg.resource_name("public-rt")}
        )
        Route(
            self,
            "public_default_route",
            route_table_id=self.public_route_table.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=self.internet_gateway.id,
        )
        for subnet in self.public_subnets:
            RouteTableAssociation(
                self,
                f"{subnet.node.id}_rta",
                subnet_id=subnet.id,
                route_table_id=self.public_route_table.id,
            )

        # One NAT gateway (about $32 a month each) unless the environment asks for one per AZ,
        # which keeps private subnets online when the other AZ fails.
        nat_subnets = self.public_subnets if cfg.nat_gateway_per_az else self.public_subnets[:1]
        self.nat_gateways = []
        for subnet in nat_subnets:
            eip = Eip(
                self,
                f"nat_eip_{subnet.node.id}",
                domain="vpc",
                tags={"Name": cfg.resource_name(f"nat-eip-{subnet.node.id}")},
                depends_on=[self.internet_gateway],
            )
            self.nat_gateways.append(
                NatGateway(
                    self,
                    f"nat_{subnet.node.id}",
                    allocation_id=eip.id,
                    subnet_id=subnet.id,
                    tags={"Name": cfg.resource_name(f"nat-{subnet.node.id}")},
                    depends_on=[self.internet_gateway],
                )
            )
        self.private_route_tables = []
        for index, subnet in enumerate(self.private_subnets):
            table = RouteTable(
                self,
                f"{subnet.node.id}_rt",
                vpc_id=self.vpc.id,
                tags={"Name": cfg.resource_name(f"{subnet.node.id}-rt")},
            )
            nat = self.nat_gateways[index if cfg.nat_gateway_per_az else 0]
            Route(
                self,
                f"{subnet.node.id}_default_route",
                route_table_id=table.id,
                destination_cidr_block=ANYWHERE,
                nat_gateway_id=nat.id,
            )
            RouteTableAssociation(self, f"{subnet.node.id}_rta", subnet_id=subnet.id, route_table_id=table.id)
            self.private_route_tables.append(table)

        # Image reads/writes and ECR layer downloads (ECR keeps layers in S3) go through this free
        # gateway endpoint instead of the NAT gateway's per-GB processing charge.
        self.s3_endpoint = VpcEndpoint(
            self,
            "s3_endpoint",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{cfg.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in self.private_route_tables],
            tags={"Name": cfg.resource_name("s3-endpoint")},
        )

        self._security_groups(cfg)

    def _group(self, cfg: EnvironmentConfig, key: str, description: str) -> SecurityGroup:
        return SecurityGroup(
            self,
            f"{key}_sg",
            name=cfg.resource_name(f"{key}-sg"),
            description=description,
            vpc_id=self.vpc.id,
            tags={"Name": cfg.resource_name(f"{key}-sg")},
        )

    def _security_groups(self, cfg: EnvironmentConfig) -> None:
        self.alb_security_group = self._group(
            cfg, "alb", "AWSomeShop load balancer: HTTP(S) from the internet"
        )
        self.app_security_group = self._group(
            cfg, "app", "AWSomeShop containers: port 8000 from the ALB only"
        )
        sql = "PostgreSQL" if cfg.engine.app_engine == "postgres" else "MySQL"
        self.proxy_security_group = self._group(
            cfg, "proxy", f"AWSomeShop RDS Proxy: {sql} from the app only"
        )
        self.db_security_group = self._group(cfg, "db", f"AWSomeShop database: {sql} from app and proxy only")
        self.cache_security_group = self._group(cfg, "cache", "AWSomeShop cache: Valkey from the app only")
        # The operators' way to an internal ALB (access.py): no inbound rule at all.
        self.access_security_group = (
            self._group(
                cfg, "access", "AWSomeShop access host: Session Manager out, HTTP to the internal ALB"
            )
            if cfg.internal_access_host
            else None
        )
        cache = self.cache_security_group
        alb, app, proxy, db = (
            self.alb_security_group,
            self.app_security_group,
            self.proxy_security_group,
            self.db_security_group,
        )
        port = cfg.container_port
        db_port = cfg.engine.port
        self.ingress_rules = {}
        self.egress_rules = {}

        def ingress(
            name: str,
            group: SecurityGroup,
            port: int,
            description: str,
            *,
            cidr: str | None = None,
            source: SecurityGroup | None = None,
            prefix_list: str | None = None,
        ) -> None:
            self.ingress_rules[name] = VpcSecurityGroupIngressRule(
                self,
                f"ingress_{name}",
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=cidr,
                referenced_security_group_id=source.id if source is not None else None,
                prefix_list_id=prefix_list,
                description=description,
            )

        def egress(
            name: str,
            group: SecurityGroup,
            port: int,
            description: str,
            *,
            cidr: str | None = None,
            target: SecurityGroup | None = None,
        ) -> None:
            self.egress_rules[name] = VpcSecurityGroupEgressRule(
                self,
                f"egress_{name}",
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=cidr,
                referenced_security_group_id=target.id if target is not None else None,
                description=description,
            )

        if cfg.cloudfront_enabled:
            # Only CloudFront may reach the ALB (the listener also checks CloudFront's secret
            # header), so X-Forwarded-For's two trusted hops cannot be forged from outside.
            cloudfront = DataAwsEc2ManagedPrefixList(
                self, "cloudfront_origin_facing", name=CLOUDFRONT_ORIGIN_FACING
            )
            ingress("alb_https", alb, 443, "HTTPS from CloudFront only", prefix_list=cloudfront.id)
        elif cfg.alb_internet_facing:
            ingress("alb_https", alb, 443, "HTTPS from the internet", cidr=ANYWHERE)
            # Port 80 only answers with a redirect to HTTPS.
            ingress("alb_http", alb, 80, "HTTP from the internet, redirected to HTTPS", cidr=ANYWHERE)
        else:
            # No certificate, so the ALB is internal and plain HTTP never leaves the VPC.
            ingress("alb_http", alb, 80, "HTTP from inside the VPC (internal ALB)", cidr=cfg.vpc_cidr)
        egress("alb_to_app", alb, port, "To the containers only", target=app)
        ingress("app_from_alb", app, port, "From the load balancer only", source=alb)
        # Containers call AWS APIs (Secrets Manager, S3, Cognito, CloudWatch) and pull images.
        egress("app_https", app, 443, "AWS APIs over HTTPS through the NAT gateway", cidr=ANYWHERE)
        egress("app_to_proxy", app, db_port, f"{sql} through RDS Proxy", target=proxy)
        egress("app_to_db", app, db_port, f"{sql} directly (break-glass, bypassing the proxy)", target=db)
        ingress("proxy_from_app", proxy, db_port, f"{sql} from the containers", source=app)
        egress("proxy_to_db", proxy, db_port, f"{sql} to the database", target=db)
        ingress("db_from_app", db, db_port, f"{sql} from the containers", source=app)
        ingress("db_from_proxy", db, db_port, f"{sql} from RDS Proxy", source=proxy)
        # The database group has no egress rule at all: the database initiates nothing.
        egress("app_to_cache", app, CACHE_PORT, "Valkey (TLS): the order rate-limit counters", target=cache)
        if self.access_security_group is not None:
            access = self.access_security_group
            egress(
                "access_https",
                access,
                443,
                "Session Manager and SSM over HTTPS through the NAT gateway",
                cidr=ANYWHERE,
            )
            egress("access_to_alb", access, 80, "Forwarded operator traffic to the internal ALB", target=alb)
        ingress("cache_from_app", cache, CACHE_PORT, "Valkey (TLS) from the containers", source=app)
        # Nor does the cache group: the cache initiates nothing.
