"""ElastiCache (Valkey) for the order rate limit: one counter shared by every container.

Without it the limit counts in a database table, which costs each order a transaction and a
commit of its own (bench/RESULTS.md); in Valkey it is one round trip (shop/http/throttling.py). The
cache holds nothing that must survive: counters live two minutes, and if the cache is
unreachable the limiter lets orders through and logs a warning. So it is small, keeps no
snapshots, and in production has one replica in the other AZ to fail over to.

Reached only from the containers' security group, over TLS (the app's REDIS_URL is
``rediss://``), encrypted at rest. There is no AUTH token: the provider version pinned here
has no write-only argument for one, so a generated token would sit in Terraform state, which
the project keeps free of generated secrets (tests/infra/test_secrets_in_state.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Token
from constructs import Construct

from infra_cdktf.aws import ElasticacheReplicationGroup, ElasticacheSubnetGroup
from infra_cdktf.config import EnvironmentConfig
from infra_cdktf.network import CACHE_PORT


@dataclass(frozen=True, kw_only=True)
class CacheProps:
    config: EnvironmentConfig
    private_subnet_ids: list[str]
    security_group_id: str


class Cache(Construct):
    subnet_group: ElasticacheSubnetGroup
    replication_group: ElasticacheReplicationGroup

    def __init__(self, scope: Construct, id_: str, *, props: CacheProps) -> None:
        super().__init__(scope, id_)
        cfg = props.config
        self.subnet_group = ElasticacheSubnetGroup(
            self,
            "subnet_group",
            name=cfg.resource_name("cache"),
            description="AWSomeShop cache: private subnets only",
            subnet_ids=props.private_subnet_ids,
        )
        replicas = cfg.cache_replicas
        self.replication_group = ElasticacheReplicationGroup(
            self,
            "replication_group",
            replication_group_id=cfg.resource_name("cache"),
            description="AWSomeShop order rate-limit counters",
            engine="valkey",
            engine_version=cfg.cache_engine_version,
            node_type=cfg.cache_node_type,
            num_cache_clusters=1 + replicas,
            # A replica in the other AZ takes over within about a minute; meanwhile the limiter
            # fails open, so orders keep going through.
            automatic_failover_enabled=replicas > 0,
            multi_az_enabled=replicas > 0,
            port=CACHE_PORT,
            subnet_group_name=self.subnet_group.name,
            security_group_ids=[props.security_group_id],
            # These two are strings ("true") in this provider version's schema.
            at_rest_encryption_enabled="true",
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auto_minor_version_upgrade="true",
            maintenance_window=cfg.cache_maintenance_window,
            # Two-minute counters: nothing worth a snapshot.
            snapshot_retention_limit=0,
            apply_immediately=True,
        )

    @property
    def url(self) -> str:
        """The app's REDIS_URL: TLS to the primary endpoint (replicas take it over on failover)."""
        host = Token.as_string(self.replication_group.primary_endpoint_address)
        return f"rediss://{host}:{CACHE_PORT}/0"
