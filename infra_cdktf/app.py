"""Builds the CDKTF app: one stack per selected environment."""

from __future__ import annotations

from cdktf import App

from infra_cdktf.config import EnvironmentConfig, selected_environments
from infra_cdktf.stack import AwsomeShopStack


def build_app(environments: list[EnvironmentConfig] | None = None, *, outdir: str | None = None) -> App:
    app = App(outdir=outdir) if outdir else App()
    for config in environments if environments is not None else selected_environments():
        AwsomeShopStack(app, config=config)
    return app
