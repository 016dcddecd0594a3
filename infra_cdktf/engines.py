"""The database engines an environment may choose, and what differs between them.

Default major versions follow AWS's release calendars (RDS MySQL: "Supported MySQL major
versions on Amazon RDS"; RDS PostgreSQL: "Release calendar for Amazon RDS for PostgreSQL";
checked in December 2026): RDS MySQL 8.0 left standard support on 2026-07-31, so new
instances start on 8.4 (standard support to 2029-07-31). PostgreSQL 16 is supported to
2029-02-28 on RDS and on Aurora. `aws rds describe-db-major-engine-versions` prints the dates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class EngineSpec:
    # aws_db_instance.engine / aws_rds_cluster.engine; also the parameter group family's prefix.
    engine: str
    default_version: str
    port: int
    # aws_db_proxy.engine_family.
    proxy_engine_family: str
    # What the app's DB_ENGINE says (awsomeshop/settings/database.py).
    app_engine: str
    # Aurora runs as a cluster (writer and reader instances) instead of one instance.
    cluster: bool
    # RDS log exports, each landing in /aws/rds/{instance|cluster}/<id>/<name>.
    log_exports: tuple[str, ...]
    # The parameter that makes the server refuse plain-text connections.
    tls_parameter: tuple[str, str]
    # Performance Insights (7 days are free); RDS MySQL offers none on db.t3.micro.
    performance_insights: bool

    def family(self, version: str) -> str:
        # mysql8.4, but postgres16 and aurora-postgresql16.
        parts = 2 if self.engine == "mysql" else 1
        major = ".".join(version.split(".")[:parts])
        return f"{self.engine}{major}"

    def parameters(self, *, slow_query_seconds: float) -> dict[str, str]:
        """Server settings: TLS required, slow statements logged (the exported log needs them)."""
        name, value = self.tls_parameter
        if self.app_engine == "mysql":
            return {
                # The app's migrations create a trigger that makes ledger rows append-only. With
                # automated backups RDS turns on binary logging, and then MySQL lets only SUPER
                # create triggers unless this is on; the master user has no SUPER.
                "log_bin_trust_function_creators": "1",
                name: value,
                "slow_query_log": "1",
                "long_query_time": f"{slow_query_seconds:g}",
                # CloudWatch export reads the log files; TABLE output would leave them empty.
                "log_output": "FILE",
            }
        return {name: value, "log_min_duration_statement": str(round(slow_query_seconds * 1000))}


ENGINES: dict[str, EngineSpec] = {
    "mysql": EngineSpec(
        engine="mysql",
        default_version="8.4",
        port=3306,
        proxy_engine_family="MYSQL",
        app_engine="mysql",
        cluster=False,
        log_exports=("error", "slowquery"),
        tls_parameter=("require_secure_transport", "1"),
        performance_insights=False,
    ),
    "postgres": EngineSpec(
        engine="postgres",
        default_version="16",
        port=5432,
        proxy_engine_family="POSTGRESQL",
        app_engine="postgres",
        cluster=False,
        # PostgreSQL writes slow statements into its main log.
        log_exports=("postgresql", "upgrade"),
        tls_parameter=("rds.force_ssl", "1"),
        performance_insights=True,
    ),
    "aurora-postgresql": EngineSpec(
        engine="aurora-postgresql",
        default_version="16.4",
        port=5432,
        proxy_engine_family="POSTGRESQL",
        app_engine="postgres",
        cluster=True,
        log_exports=("postgresql",),
        tls_parameter=("rds.force_ssl", "1"),
        performance_insights=True,
    ),
}
