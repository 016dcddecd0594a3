"""The HR back office's screens that span the domain apps: the employee admin with its grants,
the dashboard and the reports. It sits above shop, points, catalog, orders and notifications
and nothing below imports it (the layers contract in pyproject.toml)."""

from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "HR back office"
