"""The AWSomeShop stack: wires the constructs together, decides nothing on its own."""

from __future__ import annotations

from cdktf import Fn, LocalBackend, S3Backend, TerraformOutput, TerraformStack, Token
from constructs import Construct

from infra_cdktf.access import LOCAL_PORT, AccessHost, AccessHostProps
from infra_cdktf.app_metrics import ApplicationMetrics, ApplicationMetricsProps
from infra_cdktf.app_secrets import CognitoClientSecret, CognitoClientSecretProps
from infra_cdktf.aws import AwsProvider, AwsProviderDefaultTags
from infra_cdktf.cache import Cache, CacheProps
from infra_cdktf.compute import AppService, AppServiceProps, ContainerRegistry, ContainerRegistryProps
from infra_cdktf.config import EnvironmentConfig
from infra_cdktf.data import APP_DB_USER, Data, DataProps
from infra_cdktf.edge import Cdn, CdnProps, LoadBalancer, LoadBalancerProps
from infra_cdktf.identity import UserDirectory, UserDirectoryProps, WorkloadRoles, WorkloadRolesProps
from infra_cdktf.lifecycle import PointsLifecycle, PointsLifecycleProps, lifecycle_environment
from infra_cdktf.mail import Mail, MailProps
from infra_cdktf.monitoring import Monitoring, MonitoringProps
from infra_cdktf.network import Network, NetworkProps
from infra_cdktf.scaling import ServiceScaling, ServiceScalingProps
from infra_cdktf.storage import Storage, StorageProps

AWS_PROVIDER_VERSION = "5.100.0"
TERRAFORM_REQUIRED_VERSION = ">= 1.11.0"


def stack_name(config: EnvironmentConfig) -> str:
    return f"awsomeshop-{config.name}"


class AwsomeShopStack(TerraformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, stack_name(config))
        cfg = config
        provider = AwsProvider(
            self, "aws", region=cfg.region, default_tags=[AwsProviderDefaultTags(tags=cfg.tags)]
        )
        self.provider = provider
        # The prebuilt bindings pin no version; the provider they were generated for is pinned here.
        self.add_override("terraform.required_providers.aws.version", AWS_PROVIDER_VERSION)
        self.add_override("terraform.required_providers.aws.source", "hashicorp/aws")
        # Ephemeral resources (1.10) and write-only arguments (1.11) keep generated secrets out
        # of plan and state; older Terraform fails on them with a confusing parse error.
        self.add_override("terraform.required_version", TERRAFORM_REQUIRED_VERSION)
        self._backend(cfg)

        self.storage = Storage(self, "storage", props=StorageProps(config=cfg))
        self.network = Network(
            self, "network", props=NetworkProps(config=cfg, flow_log_bucket_arn=self.storage.logs_bucket.arn)
        )
        private_subnet_ids = [s.id for s in self.network.private_subnets]
        self.data = Data(
            self,
            "data",
            props=DataProps(
                config=cfg,
                private_subnet_ids=private_subnet_ids,
                db_security_group_id=self.network.db_security_group.id,
                proxy_security_group_id=self.network.proxy_security_group.id,
            ),
        )
        self.cache = Cache(
            self,
            "cache",
            props=CacheProps(
                config=cfg,
                private_subnet_ids=private_subnet_ids,
                security_group_id=self.network.cache_security_group.id,
            ),
        )
        self.users = UserDirectory(self, "identity", props=UserDirectoryProps(config=cfg))
        self.cognito_secret = CognitoClientSecret(
            self, "cognito_secret", props=CognitoClientSecretProps(config=cfg, client=self.users.client)
        )
        self.registry = ContainerRegistry(self, "registry", props=ContainerRegistryProps(config=cfg))
        master_secret = self.data.master_secret_arn
        app_secret = self.data.app_db_secret.arn
        # What ECS injects into the web, worker and expiry containers (never the master secret).
        self.app_secrets = {
            "DB_USER": f"{app_secret}:username::",
            "DB_PASSWORD": f"{app_secret}:password::",
            "DJANGO_SECRET_KEY": self.data.django_secret.arn,
            **self.users.app_secrets,
        }
        app_secret_arns = [app_secret, self.data.django_secret.arn, *self.users.secret_arns]
        if self.users.hosted_ui_domain is not None:
            # The storefront's OIDC client is the web client; its secret is the copy kept above.
            self.app_secrets["STOREFRONT_OIDC_CLIENT_SECRET"] = self.cognito_secret.secret.arn
            app_secret_arns.append(self.cognito_secret.secret.arn)
        self.roles = WorkloadRoles(
            self,
            "roles",
            props=WorkloadRolesProps(
                config=cfg,
                ecr_repository_arn=self.registry.repository.arn,
                log_group_arn=self.registry.log_group.arn,
                app_secret_arns=app_secret_arns,
                db_secret_arn=master_secret,
                app_db_secret_arn=app_secret,
                images_bucket_arn=self.storage.images_bucket.arn,
                user_pool_arn=self.users.user_pool.arn,
            ),
        )
        # Only the notification worker sends mail.
        self.mail = Mail(
            self, "mail", props=MailProps(config=cfg, task_role_id=self.roles.worker_task_role.id)
        )
        self.storage.limit_images_to(self.roles.task_role.arn)
        self.load_balancer = LoadBalancer(
            self,
            "edge",
            props=LoadBalancerProps(
                config=cfg,
                vpc_id=self.network.vpc.id,
                public_subnet_ids=[s.id for s in self.network.public_subnets],
                private_subnet_ids=private_subnet_ids,
                alb_security_group_id=self.network.alb_security_group.id,
                logs_bucket_name=Token.as_string(self.storage.logs_bucket.bucket),
                logs_bucket_policy=self.storage.logs_policy,
            ),
        )
        self.access_host = None
        if self.network.access_security_group is not None:
            self.access_host = AccessHost(
                self,
                "access",
                props=AccessHostProps(
                    config=cfg,
                    subnet_id=private_subnet_ids[0],
                    security_group_id=self.network.access_security_group.id,
                ),
            )
        self.cdn = (
            Cdn(
                self,
                "cdn",
                props=CdnProps(
                    config=cfg,
                    origin_verify_value=Token.as_string(self.load_balancer.origin_verify_value),
                    zone_id=self.load_balancer.zone.zone_id,  # type: ignore[union-attr]
                    us_east_1=AwsProvider(
                        self,
                        "aws_us_east_1",
                        alias="us_east_1",
                        region="us-east-1",
                        default_tags=[AwsProviderDefaultTags(tags=cfg.tags)],
                    ),
                ),
            )
            if cfg.cloudfront_enabled
            else None
        )
        self.app = AppService(
            self,
            "compute",
            props=AppServiceProps(
                config=cfg,
                image=self.registry.image,
                log_group_name=self.registry.log_group.name,
                execution_role_arn=self.roles.execution_role.arn,
                task_role_arn=self.roles.task_role.arn,
                private_subnet_ids=private_subnet_ids,
                app_security_group_id=self.network.app_security_group.id,
                target_group_arn=self.load_balancer.target_group.arn,
                depends_on=[self.load_balancer.serving_listener],
                environment={
                    "AWS_REGION": cfg.region,
                    "LOG_LEVEL": cfg.log_level,
                    # The Environment dimension of the application metrics (docs/metrics.md).
                    "METRICS_ENVIRONMENT": cfg.name,
                    "COGNITO_USER_POOL_ID": self.users.user_pool.id,
                    "COGNITO_CLIENT_ID": self.users.client.id,
                    "S3_BUCKET_NAME": self.storage.images_bucket_name,
                    "DB_HOST": self.data.proxy_endpoint,
                    "DB_ENGINE": cfg.engine.app_engine,
                    "DB_PORT": str(self.data.port),
                    "DB_NAME": cfg.db_name,
                    "DB_SSL_MODE": "REQUIRED",
                    # The app's own database user (no DDL, the ledger append-only). Read again
                    # after a rotation; DB_USER/DB_PASSWORD are the start-up values.
                    "DB_SECRET_ARN": app_secret,
                    "TRUSTED_PROXY_COUNT": str(cfg.trusted_proxy_count),
                    # The order rate limit counts here (one round trip) instead of in a table.
                    "REDIS_URL": self.cache.url,
                    **self._host_settings(cfg),
                    **self.users.app_environment,
                    **lifecycle_environment(cfg, self.mail),
                    "SESSION_COOKIE_AGE": str(cfg.session_hours * 3600),
                },
                secrets=self.app_secrets,
                # Migrations run as the owner, which then sets up the app user (DB_APP_*).
                migrate_execution_role_arn=self.roles.migrate_execution_role.arn,
                migrate_task_role_arn=self.roles.migrate_task_role.arn,
                migrate_environment={
                    "DB_SECRET_ARN": master_secret,
                    "DB_APP_SECRET_ARN": app_secret,
                    "DB_APP_USER": APP_DB_USER,
                },
                migrate_secrets={
                    "DB_USER": f"{master_secret}:username::",
                    "DB_PASSWORD": f"{master_secret}:password::",
                },
            ),
        )
        self.monitoring = Monitoring(
            self,
            "monitoring",
            props=MonitoringProps(
                config=cfg,
                cluster_name=self.app.cluster.name,
                service_name=self.app.service.name,
                db_dimensions=self.data.alarm_dimensions,
                db_has_storage_limit=not cfg.engine.cluster,
                db_proxy_name=Token.as_string(self.data.proxy.name),
                alb_arn_suffix=self.load_balancer.alb.arn_suffix,
                target_group_arn_suffix=self.load_balancer.target_group.arn_suffix,
                app_log_group_name=self.registry.log_group.name,
            ),
        )
        self.scaling = ServiceScaling(
            self,
            "scaling",
            props=ServiceScalingProps(
                config=cfg,
                target=self.app.scaling_target,
                cluster_name=self.app.cluster.name,
                service_name=self.app.service.name,
                alb_arn_suffix=self.load_balancer.alb.arn_suffix,
                target_group_arn_suffix=self.load_balancer.target_group.arn_suffix,
            ),
        )
        self.application_metrics = ApplicationMetrics(
            self,
            "application_metrics",
            props=ApplicationMetricsProps(
                config=cfg,
                alarm_topic_arn=self.monitoring.topic.arn,
                cluster_name=self.app.cluster.name,
                service_name=self.app.service.name,
                db_dimensions=self.data.alarm_dimensions,
                alb_arn_suffix=self.load_balancer.alb.arn_suffix,
            ),
        )
        self.lifecycle = PointsLifecycle(
            self,
            "lifecycle",
            props=PointsLifecycleProps(
                config=cfg,
                cluster_arn=self.app.cluster.arn,
                cluster_name=self.app.cluster.name,
                capacity_providers=self.app.capacity_providers,
                web_task_definition=self.app.task_definition,
                execution_role_arn=self.roles.execution_role.arn,
                worker_task_role_arn=self.roles.worker_task_role.arn,
                expiry_task_role_arn=self.roles.expiry_task_role.arn,
                private_subnet_ids=private_subnet_ids,
                app_security_group_id=self.network.app_security_group.id,
                alarm_topic_arn=self.monitoring.topic.arn,
            ),
        )
        self._outputs(cfg)

    def _host_settings(self, cfg: EnvironmentConfig) -> dict[str, str]:
        """The host names production serves (it refuses any other; health checks by IP need none)."""
        # With CloudFront the domain points at the distribution, which forwards the viewer's Host
        # header: the app sees the domain either way, and the browser's Origin matches it.
        host = cfg.domain_name if cfg.domain_name is not None else self.load_balancer.alb.dns_name
        settings = {"APP_DOMAIN": host}
        if self.access_host is not None:
            # Operators reach the internal ALB through a port forwarded to their own machine
            # (access.py); the browser then sends Host: localhost.
            settings["ALLOWED_HOSTS"] = "localhost"
        if cfg.domain_name is None:
            # Without a domain the ALB has no certificate and listens on HTTP only; redirecting
            # to HTTPS would loop. `check --deploy` flags such an environment, as it should.
            settings["SECURE_SSL_REDIRECT"] = "false"
        return settings

    def _backend(self, cfg: EnvironmentConfig) -> None:
        state = cfg.remote_state
        if state is None:
            LocalBackend(self, path=f"terraform.{stack_name(cfg)}.tfstate")
            return
        backend = S3Backend(
            self,
            bucket=state.bucket,
            key=f"{state.key_prefix}/{cfg.name}/terraform.tfstate",
            region=state.region,
            encrypt=True,
            dynamodb_table=state.dynamodb_table,
        )
        if state.dynamodb_table is None:
            # cdktf 0.21 predates the S3 backend's native lock file (Terraform >= 1.10).
            backend.add_override("use_lockfile", True)

    def _outputs(self, cfg: EnvironmentConfig) -> None:
        outputs: dict[str, tuple[str, str]] = {
            "alb_dns_name": (self.load_balancer.alb.dns_name, "Load balancer DNS name"),
            "ecr_repository_url": (self.registry.repository.repository_url, "Push images here"),
            "cluster_name": (self.app.cluster.name, "ECS cluster"),
            "service_name": (self.app.service.name, "ECS web service"),
            "migrate_task_definition_arn": (
                self.app.migrate_task_definition.arn,
                "Run once per release: migrate, then db_grant_app_user",
            ),
            "task_definition_family": (
                self.app.task_definition.family,
                "Web task family (overrides reuse it)",
            ),
            "private_subnet_ids": (
                Fn.join(",", [s.id for s in self.network.private_subnets]),
                "Comma-separated, for aws ecs run-task",
            ),
            "app_security_group_id": (self.network.app_security_group.id, "Security group for one-off tasks"),
            "user_pool_id": (self.users.user_pool.id, "Cognito user pool"),
            "user_pool_client_id": (self.users.client.id, "Cognito app client"),
            "images_bucket_name": (self.storage.images_bucket_name, "Product images"),
            "db_proxy_endpoint": (self.data.proxy_endpoint, "Database endpoint the containers use"),
            "cache_endpoint": (
                self.cache.replication_group.primary_endpoint_address,
                "Valkey primary endpoint (TLS) for the order rate limit",
            ),
            "cognito_client_secret_arn": (self.cognito_secret.secret.arn, "Cognito app client secret"),
            "alerts_topic_arn": (self.monitoring.topic.arn, "Subscribe to receive alarms"),
        }
        if cfg.domain_name is not None:
            outputs["url"] = (f"https://{cfg.domain_name}", "Public URL")
        if self.cdn is not None:
            outputs["cloudfront_domain_name"] = (
                self.cdn.distribution.domain_name,
                "CloudFront's own name; the domain's record points at it",
            )
        if self.access_host is not None:
            outputs["access_instance_id"] = (
                self.access_host.instance.id,
                f"Session Manager port forwarding to the internal ALB (local port {LOCAL_PORT}; docs/deploy.md)",
            )
        for key, (value, description) in outputs.items():
            TerraformOutput(self, key, value=value, description=description)
